"""Play a bag through rclpy with /clock, a rate factor, topic filtering, remapping and looping.

For machines without ``ros2 bag``: messages are published as the recorded CDR bytes
(``Publisher.publish(bytes)``), so no per-field conversion is needed; ROS 1 bags are converted
to CDR by ``rosbags``. rclpy is imported lazily, so this module loads without ROS.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multifloor_slam.errors import BagError, ConfigError
from multifloor_slam.io.bag_reader import BagReader
from multifloor_slam.io.topics import normalize_topic

log = logging.getLogger(__name__)


def parse_remaps(items: list[str]) -> dict[str, str]:
    """``['scan:=/robot/scan', ...]`` -> ``{'/scan': '/robot/scan'}`` (names made absolute)."""
    out = {}
    for item in items:
        src, sep, dst = item.partition(':=')
        if not sep or not src.strip() or not dst.strip():
            raise ConfigError(f'remap {item!r} must look like from:=to')
        out[normalize_topic(src)] = normalize_topic(dst)
    return out


def message_class(msgtype: str) -> Any:
    """The rclpy message class of a ROS 2 type name (``pkg/msg/Name``); None if not installed."""
    pkg, _, name = msgtype.rpartition('/')
    module = pkg.replace('/', '.')
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


@dataclass
class PlayStats:
    """What a play published and skipped."""

    published: dict[str, int] = field(default_factory=dict)
    clock_ticks: int = 0
    skipped_topics: dict[str, str] = field(default_factory=dict)
    loops: int = 0


@dataclass(frozen=True)
class PlayOptions:
    """Options of :class:`BagPlayer`.

    Attributes:
        rate: playback speed factor (2.0 plays twice as fast).
        loop: start again at the end.
        topics: play only these topics (None: all).
        remap: bag topic -> published topic.
        clock: publish /clock (and drop the bag's own /clock topic).
        clock_hz: /clock messages per wall-clock second.
        delay_s: wait this long after creating publishers (lets subscribers discover them).
        start_s: skip this much of the bag's beginning.
        duration_s: play only this much bag time (None: to the end).
    """

    rate: float = 1.0
    loop: bool = False
    topics: tuple[str, ...] | None = None
    remap: dict[str, str] = field(default_factory=dict)
    clock: bool = True
    clock_hz: float = 50.0
    delay_s: float = 0.0
    start_s: float = 0.0
    duration_s: float | None = None

    def __post_init__(self) -> None:
        if not 0.01 <= self.rate <= 1000.0:
            raise ConfigError(f'rate must be 0.01-1000, got {self.rate}')
        if not 1.0 <= self.clock_hz <= 1000.0:
            raise ConfigError(f'clock_hz must be 1-1000, got {self.clock_hz}')
        if self.delay_s < 0 or self.start_s < 0:
            raise ConfigError('delay and start must be >= 0')
        if self.duration_s is not None and self.duration_s <= 0:
            raise ConfigError('duration must be > 0')


class BagPlayer:
    """Publishes a bag on an rclpy node, paced by the bag's log times divided by ``rate``."""

    def __init__(self, path: Path | str, node: Any, options: PlayOptions | None = None) -> None:
        self.path = Path(path)
        self.node = node
        self.opts = options or PlayOptions()
        self.stats = PlayStats()
        self._pubs: dict[str, Any] = {}
        self._clock_pub: Any = None

    def _qos(self, bag: BagReader, topic: str) -> Any:
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

        latched = any(
            getattr(q.durability, 'name', '') == 'TRANSIENT_LOCAL' for q in bag.offered_qos(topic)
        )
        return QoSProfile(
            depth=1 if latched else 10,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE,
        )

    def _setup(self, bag: BagReader) -> list[str]:
        topics = bag.topics
        wanted = list(topics) if self.opts.topics is None else list(self.opts.topics)
        names = [normalize_topic(t) for t in wanted]
        if missing := [t for t in names if t not in topics]:
            raise BagError(
                f'bag {self.path} has no topic {", ".join(missing)} (--topics); it has:\n'
                f'{bag.describe_topics()}'
            )
        if self.opts.clock:
            names = [t for t in names if t != '/clock']
            from rosgraph_msgs.msg import Clock

            self._clock_pub = self.node.create_publisher(Clock, '/clock', 10)
        play = []
        for topic in names:
            cls = message_class(topics[topic])
            if cls is None:
                self.stats.skipped_topics[topic] = f'type {topics[topic]} not installed'
                log.warning(
                    'not playing %s: message type %s is not installed', topic, topics[topic]
                )
                continue
            out = self.opts.remap.get(topic, topic)
            self._pubs[topic] = self.node.create_publisher(cls, out, self._qos(bag, topic))
            self.stats.published[topic] = 0
            play.append(topic)
        return play

    def _publish_clock(self, t_ns: int) -> None:
        from builtin_interfaces.msg import Time
        from rosgraph_msgs.msg import Clock

        msg = Clock(clock=Time(sec=t_ns // 1_000_000_000, nanosec=t_ns % 1_000_000_000))
        self._clock_pub.publish(msg)
        self.stats.clock_ticks += 1

    def play(self, stop: threading.Event | None = None) -> PlayStats:
        """Play until the end (or forever when looping) or until ``stop`` is set."""
        stop = stop or threading.Event()
        with BagReader(self.path) as bag:
            topics = self._setup(bag)
            if not topics and self._clock_pub is None:
                raise BagError(f'nothing to play in {self.path}: {self.stats.skipped_topics}')
            if self.opts.delay_s:
                stop.wait(self.opts.delay_s)
            bag_start = round((bag.start_time + self.opts.start_s) * 1e9)
            bag_stop = None
            if self.opts.duration_s is not None:
                bag_stop = bag_start + round(self.opts.duration_s * 1e9)
            while not stop.is_set():
                self._play_once(bag, topics, bag_start, bag_stop, stop)
                if not self.opts.loop:
                    break
                self.stats.loops += 1
        return self.stats

    def _play_once(
        self,
        bag: BagReader,
        topics: list[str],
        bag_start: int,
        bag_stop: int | None,
        stop: threading.Event,
    ) -> None:
        rate = self.opts.rate
        clock_period = 1.0 / self.opts.clock_hz
        wall0 = time.monotonic()
        next_clock = wall0

        def sim_ns(now: float) -> int:
            return bag_start + round((now - wall0) * rate * 1e9)

        def wait_until(target: float) -> None:
            nonlocal next_clock
            while not stop.is_set():
                now = time.monotonic()
                if self._clock_pub is not None and now >= next_clock:
                    self._publish_clock(sim_ns(now))
                    next_clock += clock_period
                    if next_clock < now:
                        next_clock = now + clock_period
                    continue
                if now >= target:
                    return
                wake = min(target, next_clock) if self._clock_pub is not None else target
                time.sleep(max(0.0, min(wake - now, 0.05)))

        for topic, _, t_ns, raw in bag.raw_messages(topics or None):
            if t_ns < bag_start:
                continue
            if bag_stop is not None and t_ns >= bag_stop:
                break
            wait_until(wall0 + (t_ns - bag_start) * 1e-9 / rate)
            if stop.is_set():
                return
            pub = self._pubs.get(topic)
            if pub is None:
                continue
            pub.publish(raw)
            self.stats.published[topic] += 1


__all__ = ['BagPlayer', 'PlayOptions', 'PlayStats', 'message_class', 'parse_remaps']
