"""Test set-up shared by every test.

The environment is fixed before anything imports rclpy: a per-run ROS domain and localhost-only
discovery, so two test runs on one machine never hear each other, and no network for Ultralytics.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator

import pytest

os.environ.setdefault('ROS_DOMAIN_ID', str(random.SystemRandom().randint(1, 100)))
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.setdefault('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')
os.environ['YOLO_OFFLINE'] = '1'


@pytest.fixture(scope='session')
def rclpy_session() -> Iterator[None]:
    """rclpy initialised once for the session (nodes are created and destroyed per test)."""
    import rclpy

    rclpy.init()
    yield
    rclpy.try_shutdown()


@pytest.fixture
def executor(rclpy_session: None) -> Iterator[object]:
    """A fresh single-threaded executor; every node added to it is destroyed after the test."""
    from rclpy.executors import SingleThreadedExecutor

    ex = SingleThreadedExecutor()
    yield ex
    for node in list(ex.get_nodes()):
        ex.remove_node(node)
        close = getattr(node, 'close', None)
        if close is not None:
            close()
        node.destroy_node()
    ex.shutdown()


def spin_until(executor: object, predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Spin ``executor`` until ``predicate()`` holds or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.05)  # type: ignore[attr-defined]
    return predicate()


@pytest.fixture
def spin() -> Callable[..., bool]:
    """The :func:`spin_until` helper as a fixture."""
    return spin_until
