"""Salvage a rosbag2 MCAP file that was cut short (robot powered off, recorder killed).

Such a file lacks its summary and footer, and often the bag's ``metadata.yaml`` (rosbag2 writes
it when the recording closes). :func:`salvage_mcap` copies every complete record into a new
file, appends a footer without summary (readers then scan the data section) and writes a fresh
``metadata.yaml``: the equivalent of ``mcap recover`` + ``ros2 bag reindex``, in pure Python.
"""

from __future__ import annotations

import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import yaml

from multifloor_slam.errors import BagError

MAGIC = b'\x89MCAP0\r\n'
_OP_FOOTER = 0x02
_OP_DATA_END = 0x0F


@dataclass(frozen=True)
class SalvageReport:
    """What :func:`salvage_mcap` kept.

    Attributes:
        bag_dir: the repaired rosbag2 directory.
        kept_bytes: bytes of complete records copied.
        dropped_bytes: bytes of the source after the last complete record.
        messages: messages in the repaired file.
        clean_end: the data section ended with its proper end record, so no message was lost
            (only the summary/index after it, which the repaired copy rebuilds); False when
            the file was cut short or garbled and the bytes after the last complete record
            were dropped.
    """

    bag_dir: Path
    kept_bytes: int
    dropped_bytes: int
    messages: int
    clean_end: bool = False


def _complete_prefix(path: Path) -> tuple[int, bool]:
    """Where the complete records of an MCAP file end, and whether the data ended cleanly.

    Returns the byte offset just after the last complete data-section record, and True when
    the data section ended there with its end record (nothing lost).
    """
    size = path.stat().st_size
    clean = False
    with open(path, 'rb') as fh:
        if fh.read(8) != MAGIC:
            raise BagError(f'{path} is not an MCAP file (bad magic)')
        pos = 8
        while pos + 9 <= size:
            fh.seek(pos)
            op, length = struct.unpack('<BQ', fh.read(9))
            end = pos + 9 + length
            if op in (_OP_FOOTER, _OP_DATA_END) and end <= size:
                clean = True
                break
            if end > size or op == 0:
                break
            pos = end
    if pos <= 8:
        raise BagError(f'{path} holds no complete MCAP record')
    return pos, clean


def _metadata(mcap: Path) -> tuple[dict, int]:
    from rosbags.interfaces import ConnectionExtRosbag2
    from rosbags.rosbag2.metadata import dump_qos_v9
    from rosbags.rosbag2.storage_mcap import McapReader

    reader = McapReader(mcap)
    reader.open()
    try:
        stats = reader.statistics
        assert stats is not None
        counts = stats.channel_message_counts
        exts = {
            c.topic: c.ext for c in reader.connections if isinstance(c.ext, ConnectionExtRosbag2)
        }
        topics = [
            {
                'topic_metadata': {
                    'name': c.topic,
                    'type': c.msgtype,
                    'serialization_format': exts[c.topic].serialization_format,
                    # The reader matches storage and metadata connections on their QoS.
                    'offered_qos_profiles': dump_qos_v9(list(exts[c.topic].offered_qos_profiles)),
                    'type_description_hash': '',
                },
                'message_count': int(counts.get(c.id, 0)),
            }
            for c in reader.connections
        ]
        n = int(stats.message_count)
        start = int(stats.start_time) if n else 0
        duration = int(stats.end_time - stats.start_time) if n else 0
    finally:
        reader.close()
    info = {
        'version': 9,
        'storage_identifier': 'mcap',
        'duration': {'nanoseconds': duration},
        'starting_time': {'nanoseconds_since_epoch': start},
        'message_count': n,
        'topics_with_message_count': topics,
        'compression_format': '',
        'compression_mode': '',
        'relative_file_paths': [mcap.name],
        'files': [
            {
                'path': mcap.name,
                'starting_time': {'nanoseconds_since_epoch': start},
                'duration': {'nanoseconds': duration},
                'message_count': n,
            }
        ],
        'custom_data': {'salvaged_by': 'multifloor_slam'},
        'ros_distro': 'unknown',
    }
    return {'rosbag2_bagfile_information': info}, n


def salvage_mcap(src: Path, dst_dir: Path) -> SalvageReport:
    """Copy the complete records of MCAP file ``src`` into a new bag directory ``dst_dir``.

    Raises:
        BagError: ``src`` is not an MCAP file or holds no complete record, or what is left
            cannot be read.
    """
    src = Path(src)
    dst_dir = Path(dst_dir)
    end, clean = _complete_prefix(src)
    dst_dir.mkdir(parents=True, exist_ok=True)
    out = dst_dir / f'{dst_dir.name}.mcap'
    with open(src, 'rb') as fin, open(out, 'wb') as fout:
        remaining = end
        while remaining:
            block = fin.read(min(remaining, 1 << 22))
            if not block:
                break
            fout.write(block)
            remaining -= len(block)
        # DataEnd (crc 0 = not computed), then a footer without summary.
        fout.write(struct.pack('<BQI', _OP_DATA_END, 4, 0))
        fout.write(struct.pack('<BQQQI', _OP_FOOTER, 20, 0, 0, 0))
        fout.write(MAGIC)
    try:
        meta, n = _metadata(out)
    except Exception as err:  # what is left is not readable either
        shutil.rmtree(dst_dir, ignore_errors=True)
        raise BagError(f'cannot salvage {src}: {err}') from err
    (dst_dir / 'metadata.yaml').write_text(yaml.safe_dump(meta, sort_keys=False))
    return SalvageReport(dst_dir, end, src.stat().st_size - end, n, clean)


__all__ = ['SalvageReport', 'salvage_mcap']
