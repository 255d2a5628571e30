"""``multifloor-slam run``: the nodes of the launch file in one process and one executor.

For machines without ``ros2 launch``: the same nodes, the same parameters file, the same
``use_sim_time`` switch. A node whose module is not installed is skipped (with a warning) when all
nodes are asked for, and is an error when named explicitly.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import logging
from pathlib import Path
from typing import Any

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


def ros_args(params: Path, use_sim_time: bool, namespace: str) -> list[str]:
    """The rclpy command line that applies the parameters file (and sim time) to every node."""
    args = ['--ros-args', '--params-file', str(params)]
    if use_sim_time:
        args += ['-p', 'use_sim_time:=true']
    if namespace:
        args += ['-r', f'__ns:={namespace if namespace.startswith("/") else "/" + namespace}']
    return args


def run(args: argparse.Namespace) -> int:
    """Start the nodes and spin them until Ctrl-C."""
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

    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    rclpy.init(args=ros_args(params, args.use_sim_time, args.namespace))
    nodes: list[Any] = []
    executor = SingleThreadedExecutor()
    try:
        for name, cls in classes.items():
            node = cls()
            nodes.append(node)
            executor.add_node(node)
            log.info('started %s', name)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        for node in reversed(nodes):
            close = getattr(node, 'close', None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.exception('error while closing %s', node.get_name())
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
