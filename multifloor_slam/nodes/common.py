"""Helpers shared by the nodes: parameter declaration from dataclasses, QoS, the main loop.

**Stopping.** :func:`spin_node` (each node's ``main``) and ``multifloor-slam run`` stop the same
way on SIGINT (Ctrl-C), SIGTERM (``kill``, systemd, docker stop) and SIGHUP (the terminal or ssh
session closed): :class:`StopSignals` turns each into a request to leave the spin loop, then every
node's ``close()`` runs (the map manager saves the building, the floor estimator its table) and
the process exits with status 0. rclpy's own SIGINT/SIGTERM handlers are not installed, so all
three signals take the same path; the loop wakes at least every :data:`SPIN_PERIOD_S` to notice.
A second Ctrl-C while saving says so; a third quits at once (exit 130) without waiting.

**Parameter types.** A parameter declared as a float accepts an integer from a parameters file
or ``-p`` (``publish_period_s: 1`` is read as 1.0), an integer one accepts a whole float
(``icp_scans: 10.0``); any other type mismatch is a :class:`ConfigError` naming the parameter,
the node and the type expected, instead of rclpy's traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable, Mapping
from types import FrameType
from typing import Any, TypeVar

import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.exceptions import InvalidParameterTypeException
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

from multifloor_slam.errors import ConfigError, MultifloorError
from multifloor_slam.params import field_descriptions

T = TypeVar('T')

#: Longest time (s) the spin loop blocks before it checks for a stop signal.
SPIN_PERIOD_S = 0.2
#: Signals that stop a node or ``run`` cleanly (saving); those this platform has.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ('SIGINT', 'SIGTERM', 'SIGHUP') if hasattr(signal, name)
)
_TYPE_WORDS = {
    Parameter.Type.BOOL: 'true or false',
    Parameter.Type.INTEGER: 'an integer',
    Parameter.Type.DOUBLE: 'a number',
    Parameter.Type.STRING: 'a string',
    Parameter.Type.INTEGER_ARRAY: 'a list of integers',
    Parameter.Type.DOUBLE_ARRAY: 'a list of numbers',
    Parameter.Type.STRING_ARRAY: 'a list of strings',
    Parameter.Type.BOOL_ARRAY: 'a list of true/false',
}

#: Sensors: best effort, keep last 5 (rclpy's ``qos_profile_sensor_data``).
SENSOR_QOS = qos_profile_sensor_data

#: Maps and floor state: late joiners (RViz, Nav2) get the last message.
LATCHED_QOS = QoSProfile(
    depth=1,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)

#: Ordinary reliable outputs.
RELIABLE_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def sensor_qos(depth: int) -> QoSProfile:
    """Best-effort volatile QoS with the given depth (depth 1 for a newest-frame-only camera)."""
    return QoSProfile(
        depth=depth,
        history=HistoryPolicy.KEEP_LAST,
        reliability=ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.VOLATILE,
    )


def declare_dataclass(
    node: Node,
    cls: type[T],
    descriptions: Mapping[str, str] | None = None,
    prefix: str = '',
) -> T:
    """Declare one ROS parameter per field of a params dataclass and build it from their values.

    The dataclass default is the parameter default, so ``config/multifloor_slam.yaml`` and the
    code can never disagree about what "unset" means. Invalid values raise the dataclass's own
    validation error (``__post_init__``) at start-up, before any message is processed. The
    description of each field comes from ``descriptions`` or else from the dataclass's own
    ``Attributes:`` docstring.
    """
    texts = {**field_descriptions(cls), **(descriptions or {})}
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            raise TypeError(f'{cls.__name__}.{field.name} needs a default to be a parameter')
        if isinstance(default, tuple):
            default = list(default)
        name = f'{prefix}{field.name}'
        descriptor = ParameterDescriptor(description=texts.get(field.name, ''))
        value = declare_parameter(node, name, default, descriptor)
        if isinstance(field.default, tuple) and value is not None:
            value = tuple(value)
        values[field.name] = value
    try:
        return cls(**values)
    except ConfigError as err:
        raise ConfigError(f'{node.get_name()}: {err}') from err


def _coerce(value: Any, default: Any) -> Any:
    """``value`` as the type of ``default`` when that loses nothing, else None."""
    if isinstance(value, bool) or isinstance(default, bool):
        return None
    if isinstance(default, float) and isinstance(value, int):
        return float(value)
    if isinstance(default, int) and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(default, list) and default and isinstance(value, list | tuple):
        items = [_coerce(v, default[0]) if type(v) is not type(default[0]) else v for v in value]
        return None if any(v is None for v in items) else items
    return None


def declare_parameter(
    node: Node, name: str, default: Any, descriptor: ParameterDescriptor | None = None
) -> Any:
    """Declare one parameter and return its value, with the lossless type coercions above.

    Raises:
        ConfigError: the value given for it has another type that cannot be converted.
    """
    descriptor = descriptor or ParameterDescriptor()
    try:
        return node.declare_parameter(name, default, descriptor).value
    except InvalidParameterTypeException as err:
        overrides = getattr(node, '_parameter_overrides', {})
        given = overrides[name].value if name in overrides else None
        coerced = _coerce(given, default)
        if coerced is None:
            expected = _TYPE_WORDS.get(
                Parameter.Type.from_parameter_value(default), 'another type'
            )
            raise ConfigError(
                f'parameter {name!r} of {node.get_name()} must be {expected}, '
                f'not {given!r} ({type(given).__name__})'
            ) from err
        return node.declare_parameter(name, coerced, descriptor, ignore_override=True).value


def _say(text: str) -> None:
    """Write a line to stderr from a signal handler (no logging locks; stderr may be gone)."""
    with contextlib.suppress(OSError):
        os.write(2, (text + '\n').encode())


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP ask the spin loop to stop, so the nodes close and save.

    ``install()`` must run in the main thread (Python delivers signals there). The received
    signal's name is in :attr:`received`; :attr:`event` is set with it.
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self.event = threading.Event()
        self._interrupts = 0
        self._previous: dict[int, Any] = {}

    def install(self) -> StopSignals:
        """Take over the stop signals (the previous handlers come back with :meth:`restore`)."""
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def restore(self) -> None:
        """Put the previous handlers back."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del frame
        name = signal.Signals(signum).name
        if self.received is None:
            self.received = name
            self.event.set()
            _say(f'[multifloor_slam] {name}: stopping, saving what was mapped ...')
            return
        if signum == signal.SIGINT:
            self._interrupts += 1
            if self._interrupts >= 2:
                _say(f'[multifloor_slam] {name} again: quitting without waiting')
                os._exit(130)
            _say('[multifloor_slam] still saving; Ctrl-C once more quits without waiting')

    def __enter__(self) -> StopSignals:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.restore()


def spin_until_stopped(executor: Executor, stop: StopSignals) -> None:
    """Spin until a stop signal, an rclpy shutdown or Ctrl-C (KeyboardInterrupt)."""
    context = executor.context
    try:
        while not stop.event.is_set() and context.ok():
            executor.spin_once(timeout_sec=SPIN_PERIOD_S)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


def close_nodes(nodes: Iterable[Node], log: logging.Logger | None = None) -> None:
    """``close()`` (save) then destroy every node, in reverse start order; errors are logged."""
    log = log or logging.getLogger(__name__)
    for node in reversed(list(nodes)):
        close = getattr(node, 'close', None)
        if close is not None:
            try:
                close()
            except Exception:
                log.exception('error while closing %s', node.get_name())
        try:
            node.destroy_node()
        except Exception:
            log.exception('error while destroying %s', node.get_name())


def spin_node(factory: Callable[..., Node], args: list[str] | None = None) -> None:
    """Init rclpy, spin one node until SIGINT/SIGTERM/SIGHUP or shutdown; always close it.

    A configuration error (bad parameter, missing model file, unreadable building) is one line
    on stderr and exit status 2 (``ros2 run`` shows it).
    """
    from rclpy.signals import SignalHandlerOptions

    stop = StopSignals().install()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    nodes: list[Node] = []
    try:
        nodes.append(factory())
        executor = SingleThreadedExecutor()
        executor.add_node(nodes[0])
        spin_until_stopped(executor, stop)
    except MultifloorError as err:  # bad parameters, a missing model, an unreadable building
        _say(f'error: {err}')
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass
    finally:
        close_nodes(nodes)
        rclpy.try_shutdown()
        stop.restore()
