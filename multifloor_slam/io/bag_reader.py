"""One reader for rosbag2 (sqlite3, MCAP) and ROS 1 bags that yields plain records in time order.

``rosbags.highlevel.AnyReader`` does the file formats; this module picks topics by stream kind
(``pressure``, ``scan``, ``pose``...), converts messages into the records of
:mod:`multifloor_slam.io.records` and survives bad input: a corrupt message is skipped and
counted, a truncated file ends the stream with a warning (or a :class:`BagError` when strict),
and a missing topic raises a :class:`BagError` that lists what the bag has and which command
line flag picks another topic.

Example::

    with BagReader(path) as bag:
        for kind, rec in bag.read({'pressure': None, 'scan': None}):
            ...
        print(bag.stats)
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from multifloor_slam.errors import BagError
from multifloor_slam.io.bag_stats import Coverage, ReadStats
from multifloor_slam.io.records import Record
from multifloor_slam.io.ros1 import ros1_to_ros2
from multifloor_slam.io.ros_adapter import header_stamp, to_record
from multifloor_slam.io.topics import (
    DEFAULT_TOPICS,
    KIND_TYPES,
    TOPIC_FLAGS,
    normalize_topic,
)

log = logging.getLogger(__name__)


class BagReader:
    """Reads one bag (rosbag2 directory, or ROS 1 ``.bag`` file); a context manager.

    Args:
        path: rosbag2 directory (or a file inside it), or a ROS 1 ``.bag`` file.
        reorder_window_s: records are re-sorted by stamp within this much log time; older
            stragglers are skipped and counted.
        strict: raise :class:`BagError` when the file ends early instead of stopping with a
            warning.
        salvage: an MCAP bag that cannot be opened (cut short, or without metadata.yaml) is
            repaired into a temporary copy and read from there; ``repaired`` then says what
            happened. False raises :class:`BagError` instead.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        reorder_window_s: float = 1.0,
        strict: bool = False,
        salvage: bool = True,
    ) -> None:
        self.salvage = salvage
        self.repaired = ''
        self.salvage_report: Any = None
        self._salvage_src: Path | None = None
        self._salvage_why = ''
        self._tmp: Path | None = None
        self.path = self._resolve(Path(path))
        self.reorder_window_s = float(reorder_window_s)
        self.strict = strict
        self.stats = ReadStats()
        self._reader: Any = None

    def _resolve(self, path: Path) -> Path:
        if not path.exists():
            raise BagError(f'bag {path} does not exist')
        if path.is_file() and path.suffix != '.bag':
            if (path.parent / 'metadata.yaml').exists():
                return path.parent
            if self.salvage and path.suffix == '.mcap':
                self._salvage_src, self._salvage_why = path, 'no metadata.yaml beside it'
                return path.parent
            raise BagError(
                f'{path} is a storage file without metadata.yaml beside it; pass the bag '
                'directory, or rebuild the metadata with `ros2 bag reindex <dir>`'
            )
        if path.is_dir() and not (path / 'metadata.yaml').exists():
            mcaps = sorted(path.glob('*.mcap'))
            if self.salvage and len(mcaps) == 1:
                self._salvage_src, self._salvage_why = mcaps[0], 'no metadata.yaml'
                return path
            raise BagError(
                f'{path} has no metadata.yaml, so it is not a rosbag2 directory (missing or '
                'deleted metadata can be rebuilt with `ros2 bag reindex <dir>`)'
            )
        return path

    def _salvaged(self, why: str) -> Path:
        """Repair the single MCAP file of this bag into a temporary bag; returns its path."""
        import tempfile

        from multifloor_slam.io.salvage import salvage_mcap

        src = self._salvage_src
        if src is None:
            mcaps = sorted(self.path.glob('*.mcap')) if self.path.is_dir() else []
            if len(mcaps) != 1:
                raise BagError(f'cannot open bag {self.path}: {why}')
            src = mcaps[0]
        self._tmp = Path(tempfile.mkdtemp(prefix='multifloor_salvage_'))
        report = salvage_mcap(src, self._tmp / 'bag')
        self.salvage_report = report
        why = ' '.join(why.split())  # one line, whatever the error's own layout
        if report.clean_end:
            self.repaired = (
                f'{src}: {why}; read {report.messages} messages from a repaired copy (the '
                'data section is complete, its index was rebuilt)'
            )
        else:
            self.repaired = (
                f'{src}: {why}; read {report.messages} messages from a repaired copy (the '
                f'file is cut short or garbled: {report.dropped_bytes} bytes after the last '
                'complete record dropped)'
            )
        log.warning('bag %s', self.repaired)
        return report.bag_dir

    def __enter__(self) -> BagReader:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        """Open the bag (translating every rosbags/OS error into a :class:`BagError`)."""
        from rosbags.highlevel import AnyReader

        from multifloor_slam.io.bag_writer import kilted_typestore

        def attempt(path: Path) -> Any:
            reader = AnyReader([path], default_typestore=kilted_typestore())
            reader.open()
            return reader

        try:
            if self._salvage_src is not None:
                self._reader = attempt(self._salvaged(self._salvage_why))
                return
            try:
                self._reader = attempt(self.path)
                return
            except PermissionError:
                raise
            except Exception as err:  # rosbags raises many types for broken files
                first = err
            if not (self.salvage and self.path.is_dir() and any(self.path.glob('*.mcap'))):
                raise first
            self._reader = attempt(self._salvaged(f'{type(first).__name__}: {first}'))
        except PermissionError:
            raise
        except Exception as err:
            self._cleanup()
            raise BagError(
                f'cannot open bag {self.path}: {err} (a truncated or corrupt file? a recording '
                'cut short can often be repaired with `mcap recover` or `ros2 bag reindex`)'
            ) from err

    def _cleanup(self) -> None:
        if self._tmp is not None:
            import shutil

            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def close(self) -> None:
        """Close the bag."""
        if self._reader is not None:
            reader, self._reader = self._reader, None
            try:
                reader.close()
            except Exception as err:  # closing a damaged bag must not mask the real error
                log.debug('closing %s: %s', self.path, err)
        self._cleanup()

    @property
    def _r(self) -> Any:
        if self._reader is None:
            raise BagError(f'bag {self.path} is not open')
        return self._reader

    @property
    def topics(self) -> dict[str, str]:
        """Topic name -> message type of every connection in the bag."""
        return {c.topic: c.msgtype for c in self._r.connections}

    @property
    def message_counts(self) -> dict[str, int]:
        """Topic name -> message count (from the bag's index)."""
        counts: dict[str, int] = {}
        for c in self._r.connections:
            counts[c.topic] = counts.get(c.topic, 0) + int(c.msgcount)
        return counts

    @property
    def start_time(self) -> float:
        """First log time (s)."""
        return self._r.start_time * 1e-9

    @property
    def end_time(self) -> float:
        """Last log time (s)."""
        return self._r.end_time * 1e-9

    def _original_metadata(self) -> tuple[dict[str, int], float, float] | None:
        """(counts, start, end) from the ``metadata.yaml`` of a bag read from a repaired copy."""
        if not self.repaired or not self.path.is_dir():
            return None
        try:
            import yaml

            info = yaml.safe_load((self.path / 'metadata.yaml').read_text())
            info = info['rosbag2_bagfile_information']
            counts: dict[str, int] = {}
            for entry in info['topics_with_message_count']:
                name = str(entry['topic_metadata']['name'])
                counts[name] = counts.get(name, 0) + int(entry['message_count'])
            start = int(info['starting_time']['nanoseconds_since_epoch']) * 1e-9
            end = start + int(info['duration']['nanoseconds']) * 1e-9
        except Exception:  # missing or garbled: the repaired copy's own metadata stands
            return None
        return counts, start, end

    @property
    def expected_counts(self) -> dict[str, int]:
        """Topic -> message count the bag promises.

        That is the original metadata of a bag read from a repaired copy when it had a readable
        one, else the index of what was opened.
        """
        original = self._original_metadata()
        counts = self.message_counts
        if original is None:
            return counts
        return {t: max(n, original[0].get(t, 0)) for t, n in counts.items()}

    def coverage(self, topics: list[str] | None = None) -> Coverage:
        """How much of the bag the last read used, for ``topics`` (default: those read)."""
        stats = self.stats
        names = sorted(set(topics) if topics is not None else set(stats.messages))
        expected = self.expected_counts
        by_topic = {t: [stats.messages.get(t, 0), expected.get(t, 0)] for t in names}
        n_read = sum(r for r, _ in by_topic.values())
        n_expected = sum(e for _, e in by_topic.values())
        original = self._original_metadata()
        start, end = (original[1], original[2]) if original else (self.start_time, self.end_time)
        if original and self.end_time > end:  # a metadata.yaml older than the file
            end = self.end_time
        lossy_repair = self.salvage_report is not None and not self.salvage_report.clean_end
        complete = not stats.read_error and not lossy_repair and n_read >= n_expected
        span = max(0.0, end - start)
        if complete:
            used = span
        elif stats.last_log_time > 0:
            used = min(span, max(0.0, stats.last_log_time - start))
        else:
            used = 0.0
        return Coverage(
            span_s=span,
            used_s=used,
            messages_read=n_read,
            messages_expected=n_expected,
            by_topic=by_topic,
            read_error=stats.read_error,
            repaired=self.repaired,
            complete=complete,
        )

    def has_topic(self, name: str) -> bool:
        """The bag has a topic of this name (with or without the leading '/')."""
        return normalize_topic(name) in self.topics

    def describe_topics(self) -> str:
        """One line per topic: ``/name [type] (count)``."""
        counts = self.message_counts
        lines = [
            f'  {t} [{ty}] ({counts.get(t, 0)} msgs)' for t, ty in sorted(self.topics.items())
        ]
        return '\n'.join(lines) if lines else '  (no topics)'

    def resolve(self, kind: str, topic: str | None = None) -> str:
        """The bag topic for stream ``kind`` (``topic`` or the default), checked for its type.

        Raises:
            BagError: unknown kind, missing topic or wrong type; the message lists the bag's
                topics and the flag that picks another one.
        """
        if kind not in KIND_TYPES:
            raise BagError(f'unknown stream kind {kind!r}; known: {sorted(KIND_TYPES)}')
        name = normalize_topic(topic or DEFAULT_TOPICS[kind])
        topics = self.topics
        flag = TOPIC_FLAGS[kind]
        if name not in topics and kind == 'image' and f'{name}/compressed' in topics:
            name = f'{name}/compressed'
        if name not in topics:
            candidates = [t for t, ty in topics.items() if ty in KIND_TYPES[kind]]
            hint = f' ({", ".join(sorted(candidates))} would fit)' if candidates else ''
            raise BagError(
                f'bag {self.path} has no topic {name} for {kind}; pick one with {flag}{hint}. '
                f'The bag has:\n{self.describe_topics()}'
            )
        if topics[name] not in KIND_TYPES[kind]:
            raise BagError(
                f'topic {name} in {self.path} has type {topics[name]}, but {kind} needs one of '
                f'{", ".join(KIND_TYPES[kind])}; pick another topic with {flag}. The bag has:\n'
                f'{self.describe_topics()}'
            )
        return name

    def read(
        self,
        streams: Mapping[str, str | None],
        *,
        start: float | None = None,
        stop: float | None = None,
    ) -> Iterator[tuple[str, Record]]:
        """Yield ``(kind, record)`` for the requested streams, in stamp order.

        Args:
            streams: kind -> topic (None: the default topic of that kind).
            start: skip messages logged before this time (s).
            stop: stop at messages logged at or after this time (s).
        """
        for kind, rec, _ in self.read_messages(streams, start=start, stop=stop):
            yield kind, rec

    def read_messages(
        self,
        streams: Mapping[str, str | None],
        *,
        start: float | None = None,
        stop: float | None = None,
    ) -> Iterator[tuple[str, Record, Any]]:
        """Like :meth:`read`, with each record's deserialised message (to replay it in order)."""
        r = self._r
        by_topic = {self.resolve(kind, topic): kind for kind, topic in streams.items()}
        conns = [c for c in r.connections if c.topic in by_topic]
        self.stats = stats = ReadStats(records={k: 0 for k in streams})
        heap: list[tuple[float, int, str, Record, Any]] = []
        last_out = -math.inf
        seq = 0

        def release(until: float) -> Iterator[tuple[str, Record, Any]]:
            nonlocal last_out
            while heap and heap[0][0] <= until:
                t, _, kind, rec, msg_obj = heapq.heappop(heap)
                if t < last_out:
                    stats.out_of_order += 1
                    continue
                last_out = t
                stats.records[kind] += 1
                yield kind, rec, msg_obj

        start_ns = None if start is None else int(start * 1e9)
        stop_ns = None if stop is None else int(stop * 1e9)
        it = r.messages(connections=conns, start=start_ns, stop=stop_ns) if conns else iter(())
        while True:
            try:
                conn, t_ns, raw = next(it)
            except StopIteration:
                break
            except Exception as err:  # truncated/corrupt storage: rosbags raises many types
                msg = f'bag {self.path} ends early or is corrupt: {type(err).__name__}: {err}'
                stats.read_error = msg
                if self.strict:
                    raise BagError(msg) from err
                log.warning(
                    '%s; keeping the %d records read so far', msg, sum(stats.records.values())
                )
                break
            kind = by_topic[conn.topic]
            t_log = t_ns * 1e-9
            stats.took(conn.topic, t_log)
            try:
                msg_obj = r.deserialize(raw, conn.msgtype)
                if header_stamp(msg_obj) == 0.0:
                    stats.zero_stamps += 1
                rec = to_record(kind, msg_obj, t_log)
            except Exception as err:  # corrupt payload: skip it, count it, go on
                stats.corrupt += 1
                if stats.corrupt <= 3 or stats.corrupt % 1000 == 0:
                    log.warning(
                        'skipping corrupt %s message (%d so far): %s',
                        conn.topic,
                        stats.corrupt,
                        err,
                    )
                continue
            heapq.heappush(heap, (rec.t, seq, kind, rec, msg_obj))
            seq += 1
            yield from release(t_log - self.reorder_window_s)
        yield from release(math.inf)

    def raw_messages(
        self, topics: list[str] | None = None
    ) -> Iterator[tuple[str, str, int, bytes]]:
        """Yield ``(topic, msgtype, log_time_ns, cdr_bytes)`` in log-time order (for replay).

        ROS 1 messages are converted to CDR. ``topics`` (with or without the leading '/')
        filters; an unknown name raises :class:`BagError`. A file that ends early stops the
        stream with a warning (``stats.read_error``), or raises when ``strict``.
        """
        r = self._r
        have = self.topics
        wanted = None
        if topics:
            wanted = {normalize_topic(t) for t in topics}
            if missing := sorted(wanted - set(have)):
                raise BagError(
                    f'bag {self.path} has no topic {", ".join(missing)}; the bag has:\n'
                    f'{self.describe_topics()}'
                )
        conns = [c for c in r.connections if wanted is None or c.topic in wanted]
        self.stats = stats = ReadStats()
        is_ros1 = not getattr(r, 'is2', True)
        if is_ros1:
            from multifloor_slam.io.bag_writer import kilted_typestore

            kilted = kilted_typestore()
        it = r.messages(connections=conns) if conns else iter(())
        while True:
            try:
                conn, t_ns, raw = next(it)
            except StopIteration:
                return
            except Exception as err:  # truncated/corrupt storage
                msg = f'bag {self.path} ends early or is corrupt: {type(err).__name__}: {err}'
                stats.read_error = msg
                if self.strict:
                    raise BagError(msg) from err
                log.warning(msg)
                return
            stats.took(conn.topic, t_ns * 1e-9)
            if is_ros1:
                try:
                    msg1 = r.typestore.deserialize_ros1(raw, conn.msgtype)
                    msg2 = ros1_to_ros2(msg1, kilted)
                    raw = kilted.serialize_cdr(msg2, msg2.__msgtype__)
                except Exception as err:  # corrupt payload, or a type ROS 2 does not know
                    stats.corrupt += 1
                    log.debug('skipping corrupt %s message: %s', conn.topic, err)
                    continue
            yield conn.topic, conn.msgtype, int(t_ns), bytes(raw)

    def offered_qos(self, topic: str) -> list[Any]:
        """The QoS profiles recorded for ``topic`` (rosbag2 only; empty otherwise)."""
        name = normalize_topic(topic)
        out: list[Any] = []
        for c in self._r.connections:
            if c.topic == name:
                out += list(getattr(c.ext, 'offered_qos_profiles', []) or [])
        return out

    def iter_kind(self, kind: str, topic: str | None = None) -> Iterator[Record]:
        """Records of one stream kind, in stamp order."""
        for _, rec in self.read({kind: topic}):
            yield rec


def read_bag(
    path: Path | str, streams: Mapping[str, str | None], **kwargs: Any
) -> Iterator[tuple[str, Record]]:
    """Open ``path``, yield ``(kind, record)`` for ``streams``, close (a one-shot helper)."""
    with BagReader(path, **kwargs) as bag:
        yield from bag.read(streams)


__all__ = ['BagReader', 'read_bag']
