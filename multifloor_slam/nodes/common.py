"""Helpers shared by the nodes: parameter declaration from dataclasses, QoS, the main loop."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

from multifloor_slam.params import field_descriptions

T = TypeVar('T')

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
        value = node.declare_parameter(name, default, descriptor).value
        if isinstance(field.default, tuple) and value is not None:
            value = tuple(value)
        values[field.name] = value
    return cls(**values)


def spin_node(factory: Callable[..., Node], args: list[str] | None = None) -> None:
    """Init rclpy, spin one node until Ctrl-C or shutdown, and always clean up."""
    rclpy.init(args=args)
    node = None
    try:
        node = factory()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            close = getattr(node, 'close', None)
            if close is not None:
                try:
                    close()
                except Exception:
                    logging.getLogger(__name__).exception('error while closing %s', node)
            node.destroy_node()
        rclpy.try_shutdown()
