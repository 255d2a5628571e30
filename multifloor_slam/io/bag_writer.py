"""Write rosbag2 bags (MCAP or sqlite3) with ``rosbags``, readable by ``ros2 bag info/play``.

Bags use format version 9, the standard ROS 2 type names and definitions from the Kilted type
store, and record the offered QoS of each topic (sensor data best effort, latched topics
transient local) so ``ros2 bag play`` republishes them the way they were recorded.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from rosbags.interfaces import (
    Connection,
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.rosbag2.errors import WriterError
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.store import Typestore

from multifloor_slam.errors import BagError

_ZERO = QosTime(0, 0)


def _qos(reliable: bool, latched: bool) -> Qos:
    return Qos(
        history=QosHistory.KEEP_LAST,
        depth=1 if latched else 10,
        reliability=QosReliability.RELIABLE if reliable else QosReliability.BEST_EFFORT,
        durability=QosDurability.TRANSIENT_LOCAL if latched else QosDurability.VOLATILE,
        deadline=_ZERO,
        lifespan=_ZERO,
        liveliness=QosLiveliness.AUTOMATIC,
        liveliness_lease_duration=_ZERO,
        avoid_ros_namespace_conventions=False,
    )


#: Offered QoS profiles by kind.
QOS_PROFILES = {
    'sensor': _qos(reliable=False, latched=False),
    'reliable': _qos(reliable=True, latched=False),
    'latched': _qos(reliable=True, latched=True),
}

STORAGES = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}


def kilted_typestore() -> Typestore:
    """The ROS 2 Kilted type store (standard message definitions and hashes)."""
    return get_typestore(Stores.ROS2_KILTED)


class BagWriter:
    """A rosbag2 writer (context manager) with topics registered by name.

    Args:
        path: bag directory to create (must not exist).
        storage: 'mcap' (default) or 'sqlite3'.
        typestore: type store for message classes and definitions (Kilted by default).
    """

    def __init__(
        self, path: Path | str, *, storage: str = 'mcap', typestore: Typestore | None = None
    ) -> None:
        if storage not in STORAGES:
            raise BagError(f'unknown storage {storage!r}; choose one of {sorted(STORAGES)}')
        self.path = Path(path)
        self.storage = storage
        self.typestore = typestore or kilted_typestore()
        self._writer = Writer(self.path, version=9, storage_plugin=STORAGES[storage])
        self._conns: dict[str, Connection] = {}
        self.counts: dict[str, int] = {}

    def __enter__(self) -> BagWriter:
        try:
            self._writer.open()
        except (WriterError, OSError) as err:
            raise BagError(f'cannot create bag {self.path}: {err}') from err
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._writer.close()

    def add_topic(self, topic: str, msgtype: str, qos: str = 'sensor') -> None:
        """Register ``topic`` (absolute name added if relative) with a ROS 2 type name."""
        name = topic if topic.startswith('/') else f'/{topic}'
        self._conns[topic] = self._writer.add_connection(
            name, msgtype, typestore=self.typestore, offered_qos_profiles=[QOS_PROFILES[qos]]
        )
        self.counts[topic] = 0

    def msg(self, msgtype: str, **fields: Any) -> Any:
        """Build a message of ``msgtype`` from the type store."""
        return self.typestore.types[msgtype](**fields)

    def write(self, topic: str, t_ns: int, message: Any) -> None:
        """Serialise ``message`` and write it on ``topic`` at log time ``t_ns``."""
        conn = self._conns[topic]
        self._writer.write(conn, t_ns, self.typestore.serialize_cdr(message, conn.msgtype))
        self.counts[topic] += 1

    def write_raw(self, topic: str, t_ns: int, data: bytes | memoryview) -> None:
        """Write already serialised CDR bytes."""
        self._writer.write(self._conns[topic], t_ns, data)
        self.counts[topic] += 1


__all__ = ['QOS_PROFILES', 'STORAGES', 'BagWriter', 'kilted_typestore']
