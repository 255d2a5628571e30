"""``multifloor-slam run``: the nodes of the launch file in one process and one executor.

For machines without ``ros2 launch``: the same nodes, the same parameters file, the same
``use_sim_time`` switch. A node whose module is not installed is skipped (with a warning) when all
nodes are asked for, and is an error when named explicitly.

- **Stopping**: SIGINT (Ctrl-C), SIGTERM and SIGHUP all stop the nodes the same way: each node's
  ``close()`` runs (the map manager saves the building into ``output_dir``, the floor estimator
  its table) and the exit status is 0 (see :mod:`multifloor_slam.nodes.common`).
- **Continuing a building**: ``--building PATH`` (a building.yaml or its folder) sets
  ``building_file`` for every node, and ``output_dir`` to the building's folder when the
  parameters file gives none, so the run continues that building on the floor it was saved on
  and saves back into it. A ``building_file`` given only in the ``floor_map_manager`` section is
  passed on to ``floor_estimator`` too (unless its own section sets one): the floor table and
  the last floor live in that building.
- **Errors**: a parameters file that is not valid YAML or not shaped like a ROS 2 one, a value
  of the wrong type, or a value a node refuses is one line naming the file or the parameter,
  exit status 2. Integers are accepted for float parameters (``publish_period_s: 1``).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

from multifloor_slam.cli._output import silence_stdout
from multifloor_slam.errors import ConfigError

COMMAND = 'run'
HELP = 'start the nodes in one process with one parameters file (no ros2 launch needed)'
NODES = ('floor_estimator', 'elevator_detector', 'floor_map_manager')

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``run``."""
    parser.add_argument(
        '--params', type=Path, default=None, help='parameters file (default: the package one)'
    )
    parser.add_argument('--use-sim-time', action='store_true', help='use /clock (bag replay)')
    parser.add_argument(
        '--nodes', nargs='+', default=None, metavar='NODE', help=f'subset of {", ".join(NODES)}'
    )
    parser.add_argument('--namespace', default='', help='namespace of all nodes')
    parser.add_argument(
        '--building',
        type=Path,
        default=None,
        metavar='PATH',
        help='continue this saved building (building.yaml or its folder) and save into it',
    )


def default_params_file() -> Path:
    """The installed ``config/multifloor_slam.yaml``, else the one of the source tree."""
    try:
        from ament_index_python.packages import get_package_share_directory

        share = Path(get_package_share_directory('multifloor_slam'))
        if (share / 'config' / 'multifloor_slam.yaml').is_file():
            return share / 'config' / 'multifloor_slam.yaml'
    except Exception:  # not installed with colcon, or no ament_index: use the source tree
        pass
    return Path(__file__).resolve().parents[2] / 'config' / 'multifloor_slam.yaml'


def node_class(name: str) -> type | None:
    """The Node subclass defined in ``multifloor_slam.nodes.<name>`` (None: not installed)."""
    if name not in NODES:
        raise ConfigError(f'unknown node {name!r}; choose from {", ".join(NODES)}')
    module_name = f'multifloor_slam.nodes.{name}'
    if importlib.util.find_spec(module_name) is None:
        return None
    from rclpy.node import Node

    module = importlib.import_module(module_name)
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Node) and obj.__module__ == module_name
    ]
    if len(classes) != 1:
        raise ConfigError(f'{module_name} must define exactly one Node class, found {classes}')
    return classes[0]


def read_params_file(path: Path) -> dict[str, dict[str, Any]]:
    """The parameters per node section of a ROS 2 parameters file (checked, not applied).

    Sections may be nested under namespaces (``/ns: node: ros__parameters: ...``) and use
    wildcards (``/**``); the result maps each section's last name to its parameters.

    Raises:
        ConfigError: the file cannot be read, is not YAML, or is not shaped like a parameters
            file; the message names the file (and the line for YAML errors).
    """
    import yaml

    try:
        text = path.read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f'cannot read parameters file {path}: {err}') from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, 'problem_mark', None)
        where = f' (line {mark.line + 1}, column {mark.column + 1})' if mark else ''
        problem = getattr(err, 'problem', None) or str(err).splitlines()[0]
        raise ConfigError(f'parameters file {path} is not valid YAML{where}: {problem}') from err
    if data is None:
        return {}
    sections: dict[str, dict[str, Any]] = {}

    def walk(node: Any, name: str) -> None:
        if not isinstance(node, dict):
            raise ConfigError(
                f'parameters file {path}: {name or "the top level"} must be a mapping of node '
                f'names to "ros__parameters:", not {type(node).__name__}'
            )
        for key, value in node.items():
            if key == 'ros__parameters':
                if not isinstance(value, dict):
                    raise ConfigError(
                        f'parameters file {path}: {name}: ros__parameters must be a mapping'
                    )
                sections.setdefault(name.rsplit('/', 1)[-1] or name, {}).update(value)
            else:
                walk(value, f'{name}/{key}'.lstrip('/') if name else str(key))

    walk(data, '')
    if not sections:
        raise ConfigError(f'parameters file {path} has no "ros__parameters" section')
    return sections


def ros_args(
    params: Path,
    use_sim_time: bool,
    namespace: str,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> list[str]:
    """The rclpy command line that applies the parameters file (and sim time) to every node.

    ``overrides`` maps a node name ('' = every node) to parameters set with ``-p``.
    """
    args = ['--ros-args', '--params-file', str(params)]
    if use_sim_time:
        args += ['-p', 'use_sim_time:=true']
    for node, values in (overrides or {}).items():
        for key, value in values.items():
            target = f'{node}:{key}' if node else key
            args += ['-p', f'{target}:={json.dumps(value)}']  # JSON is YAML: quoted strings
    if namespace:
        args += ['-r', f'__ns:={namespace if namespace.startswith("/") else "/" + namespace}']
    return args


def building_overrides(
    sections: dict[str, dict[str, Any]], building: Path | None
) -> dict[str, dict[str, Any]]:
    """``-p`` overrides that make every node continue the same building (see the module doc)."""
    out: dict[str, dict[str, Any]] = {}
    if building is not None:
        path = str(building.expanduser().resolve())
        out[''] = {'building_file': path}
        manager = sections.get('floor_map_manager', {})
        if not manager.get('output_dir'):
            folder = Path(path) if not path.endswith('.yaml') else Path(path).parent
            out['floor_map_manager'] = {'output_dir': str(folder)}
        return out
    shared = sections.get('floor_map_manager', {}).get('building_file')
    if shared and not sections.get('floor_estimator', {}).get('building_file'):
        out['floor_estimator'] = {'building_file': str(shared)}
    return out


def _rcl_message(err: Exception) -> str:
    """The error text of rcl without its source locations (``, at /project/src/...``)."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return re.sub(r',? at /\S+:\d+', '', text).strip()


def _unknown_parameters(name: str, node: Any, given: dict[str, Any]) -> list[str]:
    declared = set(getattr(node, '_parameters', {}))
    flat: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f'{prefix}.{k}' if prefix else str(k), v)
        else:
            flat.append(prefix)

    walk('', given)
    return sorted(p for p in flat if p not in declared)


def run(args: argparse.Namespace) -> int:
    """Start the nodes and spin them until SIGINT, SIGTERM or SIGHUP; every node saves."""
    names = list(dict.fromkeys(args.nodes or NODES))
    classes: dict[str, Any] = {}
    for name in names:
        cls = node_class(name)
        if cls is None:
            if args.nodes:
                raise ConfigError(f'node {name} is not available in this installation')
            log.warning('node %s is not available in this installation: skipped', name)
            continue
        classes[name] = cls
    if not classes:
        raise ConfigError('no node to run')
    params = args.params or default_params_file()
    if not params.is_file():
        raise ConfigError(f'parameters file {params} does not exist')
    sections = read_params_file(params)
    overrides = building_overrides(sections, getattr(args, 'building', None))

    import rclpy
    from rclpy.exceptions import ParameterException
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    from multifloor_slam.nodes.common import StopSignals, close_nodes, spin_until_stopped

    stop = StopSignals().install()
    try:
        try:
            rclpy.init(
                args=ros_args(params, args.use_sim_time, args.namespace, overrides),
                signal_handler_options=SignalHandlerOptions.NO,
            )
        except RuntimeError as err:  # rclpy's RCLError: the file passed our check, not rcl's
            raise ConfigError(f'parameters file {params}: {_rcl_message(err)}') from err
        nodes: list[Any] = []
        executor = SingleThreadedExecutor()
        try:
            for name, cls in classes.items():
                try:
                    node = cls()
                except ParameterException as err:
                    raise ConfigError(f'{name}: {err} (parameters file {params})') from err
                except ConfigError as err:
                    raise ConfigError(f'{err} (parameters file {params})') from err
                nodes.append(node)
                executor.add_node(node)
                for unknown in _unknown_parameters(name, node, sections.get(name, {})):
                    log.warning(
                        '%s: parameter %r in %s is not one of its parameters (ignored)',
                        name,
                        unknown,
                        params,
                    )
                log.info('started %s', name)
            spin_until_stopped(executor, stop)
        finally:
            close_nodes(nodes, log)
            rclpy.try_shutdown()
    finally:
        stop.restore()
    if stop.received:
        log.info('stopped by %s', stop.received)
    _flush_stdout()
    return 0


def _flush_stdout() -> None:
    """Flush stdout now; after SIGHUP the terminal may be gone, and that is not an error."""
    try:
        sys.stdout.flush()
    except OSError:
        silence_stdout()
