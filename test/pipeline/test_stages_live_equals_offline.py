"""Live equals offline, exactly: one bag's messages through the real nodes and through ``process``.

The live path is the real ``floor_estimator`` and ``floor_map_manager`` node objects (rclpy,
parameters at their defaults), fed each bag message through their own subscription callbacks
in the order ``process`` reads them. DDS is replaced by a relay that hands every message the
floor estimator publishes to the map manager's subscription of that topic, so the test is
exact and takes seconds; ``test/test_live_equals_offline.py`` does the same over real DDS.
The saved buildings must be byte-identical.
"""

from __future__ import annotations

import filecmp
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rclpy.parameter import Parameter

from multifloor_slam.io.bag_reader import BagReader
from multifloor_slam.nodes.floor_estimator import FloorEstimatorNode
from multifloor_slam.nodes.floor_map_manager import FloorMapManagerNode
from multifloor_slam.pipeline.process import ProcessOptions, process_bag, stream_topics
from multifloor_slam.sim.simulator import SimConfig, simulate

pytestmark = pytest.mark.ros


class Relay:
    """Stands in for DDS between two nodes in one thread: publish() calls the subscriber."""

    def __init__(self, callback: Callable[[Any], None]) -> None:
        self.callback = callback
        self.published = 0

    def publish(self, msg: Any) -> None:
        self.published += 1
        self.callback(msg)


def _callbacks(node: Any) -> dict[str, Callable[[Any], None]]:
    return {sub.topic_name.lstrip('/'): sub.callback for sub in node.subscriptions}


@pytest.fixture(scope='module')
def bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp('sim')
    simulate(SimConfig(floors=3, seed=5, visits=4, rooms_per_visit=1, camera=False), out)
    return out / 'bag'


def _live(bag: Path, out_dir: Path) -> dict[str, int]:
    floor_node = FloorEstimatorNode()
    map_node = FloorMapManagerNode(
        parameter_overrides=[Parameter('output_dir', value=str(out_dir))]
    )
    try:
        floor_in, map_in = _callbacks(floor_node), _callbacks(map_node)
        topics = {'floor_table': 'floor/table', 'floor': 'floor/current'}
        topics |= {'riding': 'floor/riding', 'altitude': 'floor/altitude'}
        relays = {kind: Relay(map_in[topic]) for kind, topic in topics.items()}
        floor_node._pubs = relays  # DDS between the two nodes
        floor_node._publish(floor_node.stage.initial())  # the latched start floor
        with BagReader(bag) as reader:
            streams, _ = stream_topics(reader, ProcessOptions(detector='off'))
            topic_of = {kind: reader.resolve(kind, topic) for kind, topic in streams.items()}
            for kind, _rec, msg in reader.read_messages(streams):
                topic = topic_of[kind].lstrip('/')
                targets = [cb[topic] for cb in (floor_in, map_in) if topic in cb]
                assert targets, f'no node subscribes {topic}'
                for callback in targets:  # both nodes subscribe odom
                    callback(msg)
        map_node.close()  # flushes and saves, as on shutdown
        return {kind: relay.published for kind, relay in relays.items()}
    finally:
        floor_node.destroy_node()
        map_node.destroy_node()


def test_nodes_and_process_save_identical_buildings(
    bag: Path, tmp_path: Path, rclpy_session: None
) -> None:
    offline = tmp_path / 'offline'
    live = tmp_path / 'live'
    report = process_bag(bag, offline, ProcessOptions(detector='off', progress=False))
    published = _live(bag, live)

    assert len(report.floors) == 3 and len(report.rides) >= 3, report.summary()
    assert published['floor'] >= 4 and published['floor_table'] >= 4, published
    names = sorted(p.name for p in offline.iterdir() if p.name != 'report.json')
    assert sorted(p.name for p in live.iterdir()) == names
    match, mismatch, errors = filecmp.cmpfiles(offline, live, names, shallow=False)
    assert not mismatch and not errors, (mismatch, errors)
    assert 'building.yaml' in match and 'L2.yaml' in match
