"""Entry point of ``multifloor-slam``.

Every module in this package except ``main`` is a sub-command: it defines ``COMMAND`` (its name),
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``. Sub-commands import their
heavy dependencies (torch, rclpy, open3d) inside ``run`` so ``--help`` stays instant.

Errors are handled here, the same way for every command: a :class:`MultifloorError` (bad input,
a missing or unreadable file, a bag without the topic asked for) and an ``OSError`` (a path that
cannot be read or written) become one line on stderr, ``multifloor-slam COMMAND: error: ...``
(a bag's topic list may follow it, indented), and exit status 2 (``EXIT_BAD_INPUT``). Any other
exception is a bug: it keeps its traceback (exit status 1). ``-v`` also prints the traceback of
a handled error. A command that used only part of its input returns 3 (``EXIT_PARTIAL``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from multifloor_slam import __version__
from multifloor_slam.cli._output import silence_stdout
from multifloor_slam.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    MultifloorError,
)

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
    except BrokenPipeError:  # `multifloor-slam detect DIR | head`: the reader left, not an error
        silence_stdout()
        return 0
    except (MultifloorError, OSError) as err:
        print(error_line(args.command, err), file=sys.stderr)
        if args.verbose:
            import traceback

            traceback.print_exception(err, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def error_line(command: str, err: BaseException) -> str:
    """``multifloor-slam COMMAND: error: ...``: one line (detail lines, if any, indented after it).

    An ``OSError`` names its file(s): ``cannot use PATH: No such file or directory``.
    """
    if isinstance(err, OSError) and not isinstance(err, MultifloorError):
        what = err.strerror or str(err) or type(err).__name__
        files = [str(f) for f in (err.filename, err.filename2) if f is not None]
        text = f'cannot use {" -> ".join(files)}: {what}' if files else what
    else:
        text = str(err) or type(err).__name__
    first, *rest = [line.rstrip() for line in text.strip().splitlines()] or ['']
    detail = ['  ' + line if line[:1] not in (' ', '\t') else line for line in rest if line]
    return '\n'.join([f'multifloor-slam {command}: error: {first}', *detail])


if __name__ == '__main__':
    raise SystemExit(main())
