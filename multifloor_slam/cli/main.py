"""Entry point of ``multifloor-slam``.

Every module in this package except ``main`` is a sub-command: it defines ``COMMAND`` (its name),
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``. Sub-commands import their
heavy dependencies (torch, rclpy, open3d) inside ``run`` so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from multifloor_slam import __version__
from multifloor_slam.errors import MultifloorError

_PACKAGE = 'multifloor_slam.cli'


def _commands() -> list:
    import multifloor_slam.cli as pkg

    modules = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith('_') or info.name == 'main':
            continue
        module = importlib.import_module(f'{_PACKAGE}.{info.name}')
        if hasattr(module, 'COMMAND'):
            modules.append(module)
    return modules


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with one sub-parser per command module."""
    parser = argparse.ArgumentParser(
        prog='multifloor-slam',
        description='Multi-floor 2D mapping: floors from the barometer, elevators from a camera.',
    )
    parser.add_argument('--version', action='version', version=f'%(prog)s {__version__}')
    parser.add_argument('-v', '--verbose', action='store_true', help='debug logging')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    for module in _commands():
        p = sub.add_parser(module.COMMAND, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format='%(levelname)s %(name)s: %(message)s',
        stream=sys.stderr,
    )
    if not getattr(args, '_run', None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except MultifloorError as err:
        print(f'multifloor-slam {args.command}: error: {err}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == '__main__':
    raise SystemExit(main())
