"""``multifloor-slam floors LOG``: floors and elevator rides from a barometer log.

LOG is a CSV file with a header and the columns ``t`` (s) and ``pressure`` (Pa), optionally
``temperature`` (C), or a rosbag2 (sqlite3 or MCAP) / ROS 1 bag with a
sensor_msgs/FluidPressure topic. Prints one JSON line per ride and a last summary line.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from multifloor_slam.errors import BagError, InputDataError

COMMAND = 'floors'
HELP = 'estimate floors and elevator rides from a barometer log (CSV or bag)'

_PRESSURE_TYPE = 'sensor_msgs/msg/FluidPressure'
_TEMPERATURE_TYPE = 'sensor_msgs/msg/Temperature'
_CSV_SUFFIXES = ('.csv', '.txt', '.tsv')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument('log', type=Path, help='CSV (t, pressure[, temperature]) or bag')
    parser.add_argument('--topic', help='FluidPressure topic in a bag with several')
    parser.add_argument('--table', type=Path, help='floor table YAML to start from')
    parser.add_argument('--save-table', type=Path, help='write the learned floor table here')
    parser.add_argument(
        '--initial-floor', type=int, default=None, help='floor index the log starts on'
    )
    parser.add_argument(
        '--pressure-scale', type=float, default=1.0, help='factor to Pa (100 for hPa logs)'
    )


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(t, pressure, temperature or None) from a CSV log; unparsable cells become NaN."""
    try:
        with path.open(newline='', encoding='utf-8-sig') as fh:
            sample = fh.read(4096)
            fh.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(sample, delimiters=',;\t ')
            except csv.Error:
                dialect = csv.excel
            reader = csv.reader(fh, dialect)
            header = [h.strip().lower() for h in next(reader, [])]
            rows = list(reader)
    except OSError as err:
        raise InputDataError(f'cannot read {path}: {err}') from err
    except UnicodeDecodeError as err:
        raise InputDataError(f'{path} is not a text CSV file ({err})') from err
    if 't' not in header or 'pressure' not in header:
        raise InputDataError(
            f'{path}: the CSV header needs columns "t" (s) and "pressure" (Pa), optionally '
            f'"temperature" (C); found {header}'
        )
    cols = {
        name: header.index(name) for name in ('t', 'pressure', 'temperature') if name in header
    }

    def column(name: str) -> np.ndarray:
        i = cols[name]
        out = np.full(len(rows), math.nan)
        for k, row in enumerate(rows):
            with contextlib.suppress(IndexError, ValueError):
                out[k] = float(row[i])
        return out

    if not rows:
        raise InputDataError(f'{path}: no data rows after the header')
    temperature = column('temperature') if 'temperature' in cols else None
    return column('t'), column('pressure'), temperature


def read_bag(
    path: Path, topic: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """(t, pressure, temperature or None, topic) from a rosbag2 or ROS 1 bag."""
    from rosbags.highlevel import AnyReader, AnyReaderError
    from rosbags.typesys import Stores, get_typestore

    try:
        with AnyReader([path], default_typestore=get_typestore(Stores.ROS2_KILTED)) as reader:
            pressure_topics = sorted(
                c.topic for c in reader.connections if c.msgtype == _PRESSURE_TYPE
            )
            if topic is None:
                if len(pressure_topics) != 1:
                    all_topics = sorted({f'{c.topic} ({c.msgtype})' for c in reader.connections})
                    raise BagError(
                        f'{path}: {len(pressure_topics)} FluidPressure topics; choose one with '
                        f'--topic. Topics: {all_topics}'
                    )
                topic = pressure_topics[0]
            elif topic not in pressure_topics:
                raise BagError(
                    f'{path}: no {_PRESSURE_TYPE} topic {topic!r}; FluidPressure topics: '
                    f'{pressure_topics}'
                )
            temp_topics = [c for c in reader.connections if c.msgtype == _TEMPERATURE_TYPE]
            t, p, tt, tv = [], [], [], []
            conns = [c for c in reader.connections if c.topic == topic]
            if len(temp_topics) == 1:
                conns += temp_topics
            for conn, stamp_ns, raw in reader.messages(connections=conns):
                msg = reader.deserialize(raw, conn.msgtype)
                st = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
                st = st if st > 0 else stamp_ns * 1e-9
                if conn.msgtype == _PRESSURE_TYPE:
                    t.append(st)
                    p.append(msg.fluid_pressure)
                else:
                    tt.append(st)
                    tv.append(msg.temperature)
    except AnyReaderError as err:
        raise BagError(f'cannot read bag {path}: {err}') from err
    if not t:
        raise BagError(f'{path}: topic {topic} has no messages')
    t_arr, p_arr = np.asarray(t, float), np.asarray(p, float)
    temperature = None
    if tt:
        order = np.argsort(tt)
        tt_arr, tv_arr = np.asarray(tt)[order], np.asarray(tv, float)[order]
        idx = np.clip(np.searchsorted(tt_arr, t_arr, side='right') - 1, 0, len(tt_arr) - 1)
        temperature = tv_arr[idx]
    return t_arr, p_arr, temperature, topic


def run(args: argparse.Namespace) -> int:
    """Run the estimator over the log and print rides and a summary as JSON lines."""
    from multifloor_slam.floors.estimator import FloorEstimatorParams, estimate_floors
    from multifloor_slam.floors.floor_table import FloorTable
    from multifloor_slam.floors.pressure_filter import REJECTION_KEYS

    path: Path = args.log
    if not path.exists():
        raise InputDataError(f'{path} does not exist')
    if path.is_file() and path.suffix.lower() in _CSV_SUFFIXES:
        t, p, temperature = read_csv(path)
    else:
        t, p, temperature, _topic = read_bag(path, args.topic)
    params = FloorEstimatorParams()
    table = FloorTable.load(args.table, params.table_max_observations) if args.table else None
    initial = args.initial_floor
    if initial is None:
        # A log usually starts where the table's elevations start: the reference floor.
        initial = table.reference_index if table is not None and len(table) else 0
    trace, events, table = estimate_floors(
        t, p * args.pressure_scale, temperature, params=params, table=table, initial_floor=initial
    )
    visited = [table.label(initial)]
    for event in events:
        print(event.to_json(), flush=True)
        if event.to_label != visited[-1]:
            visited.append(event.to_label)
    summary = {
        'summary': True,
        'samples': int(t.size),
        'rides': len([e for e in events if e.source != 'refined']),
        'floors_visited': visited,
        'floor_table': [
            {'index': f.index, 'label': f.label, 'elevation_m': round(f.elevation_m, 3)}
            for f in table
        ],
        'rejected': {k: v for k, v in trace.stats.items() if k in REJECTION_KEYS},
    }
    print(json.dumps(summary, separators=(',', ':')), flush=True)
    if args.save_table:
        table.save(args.save_table)
    return 0


__all__ = ['COMMAND', 'HELP', 'add_arguments', 'read_bag', 'read_csv', 'run']
