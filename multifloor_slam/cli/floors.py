"""``multifloor-slam floors LOG``: floors and elevator rides from a barometer log.

LOG is a CSV file with a header and the columns ``t`` (s) and ``pressure`` (Pa), optionally
``temperature`` (C), or a rosbag2 (sqlite3 or MCAP) / ROS 1 bag with a
sensor_msgs/FluidPressure topic. Prints one JSON line per ride and a last summary line.

A bag is read through :class:`~multifloor_slam.io.bag_reader.BagReader`, with the repair
``process`` has (an MCAP file cut short or without ``metadata.yaml``). A bag that ends early or
is corrupt is used as far as it can be read: the summary's ``bag_used`` says how much, a
``partial input`` warning goes to stderr and the exit status is 3. A log where no sample is
usable (all NaN, all rejected) is refused with exit status 2 and a line saying what was found.
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

from multifloor_slam.errors import (
    EXIT_OK,
    EXIT_PARTIAL,
    BagError,
    ConfigError,
    InputDataError,
    MultifloorError,
)
from multifloor_slam.io.bag_stats import Coverage
from multifloor_slam.io.records import PressureRecord, Record

COMMAND = 'floors'
HELP = 'estimate floors and elevator rides from a barometer log (CSV or bag)'

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
        '--pressure-unit',
        default='auto',
        choices=('auto', 'Pa', 'hPa', 'kPa'),
        help="unit of the pressure column or topic ('auto': from the first plausible sample)",
    )
    parser.add_argument(
        '--time-unit',
        default='auto',
        choices=('auto', *TIME_UNITS),
        help="unit of a numeric CSV time column ('auto': from its size and sample interval; "
        'ISO 8601 text is always read)',
    )


#: Time units of a numeric ``t`` column, to seconds.
TIME_UNITS: dict[str, float] = {'s': 1.0, 'ms': 1e-3, 'us': 1e-6, 'ns': 1e-9}


def _number(cell: str) -> float:
    """A CSV cell as a float; a decimal comma (``101325,5``) is read as a point."""
    text = cell.strip()
    if text.count(',') == 1 and '.' not in text:
        text = text.replace(',', '.')
    return float(text)


def _iso_seconds(cell: str) -> float:
    """An ISO 8601 date-time as POSIX seconds (naive stamps are read as UTC)."""
    from datetime import datetime, timezone

    stamp = datetime.fromisoformat(cell.strip())
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)  # datetime.UTC is 3.11+
    return stamp.timestamp()


def time_unit_of(values: np.ndarray) -> str | None:
    """The unit of a numeric time column from its magnitude and its sample interval.

    Epoch stamps tell their unit by size (seconds about 1.7e9, ms 1.7e12, us 1.7e15, ns
    1.7e18); relative stamps by the median interval, read as a barometer rate of 1/60-1000 Hz.
    None when no reading gives a plausible rate.
    """
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return 's'
    steps = np.abs(np.diff(finite))
    steps = steps[steps > 0]
    dt = float(np.median(steps)) if steps.size else 0.0
    big = float(np.median(np.abs(finite)))
    for unit, lo in (('ns', 1e17), ('us', 1e14), ('ms', 1e11), ('s', 1e8)):
        if big >= lo:
            return unit if dt * TIME_UNITS[unit] <= 600.0 else None
    if steps.size == 0:
        return 's'
    for unit, factor in TIME_UNITS.items():
        if 1e-3 <= dt * factor <= 60.0:
            return unit
    return None


def read_csv(
    path: Path, time_unit: str = 'auto', info: dict[str, Any] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(t in s, pressure, temperature or None) from a CSV log; unparsable cells become NaN.

    Time stamps may be seconds, ms, us or ns (``time_unit``, or ``auto`` from their size and
    interval) or ISO 8601 text; decimal commas are read; rows are sorted by time (the count
    of rows that were out of order goes to ``info['reordered']``, the unit to
    ``info['time_unit']``). A time column that cannot be read is refused with a line saying
    what was found.
    """
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
    cols: dict[str, int] = {
        name: header.index(name) for name in ('t', 'pressure', 'temperature') if name in header
    }

    def cells(name: str) -> list[str]:
        i = cols[name]
        return [row[i] if i < len(row) else '' for row in rows]

    def column(name: str, parse: Any = _number) -> np.ndarray:
        out = np.full(len(rows), math.nan)
        for k, cell in enumerate(cells(name)):
            with contextlib.suppress(ValueError, OverflowError, OSError):
                out[k] = parse(cell)
        return out

    if not rows:
        raise InputDataError(f'{path}: no data rows after the header')
    info = {} if info is None else info
    t = column('t')
    if not np.isfinite(t).any():
        text = next((c.strip() for c in cells('t') if c.strip()), '')
        try:
            _iso_seconds(text)
        except ValueError:
            raise InputDataError(
                f'{path}: the "t" column holds no time stamp (found {text[:40]!r}); give '
                'seconds, ms, us or ns as numbers, or ISO 8601 date-times'
            ) from None
        t = column('t', _iso_seconds)
        info['time_unit'] = 'iso'
    else:
        unit = time_unit if time_unit != 'auto' else time_unit_of(t)
        if unit is None:
            finite = t[np.isfinite(t)]
            dt = float(np.median(np.abs(np.diff(finite)))) if finite.size > 1 else 0.0
            raise InputDataError(
                f'{path}: cannot tell the unit of the "t" column (median interval {dt:g}, '
                f'values {finite[0]:g} .. {finite[-1]:g}); say it with --time-unit s, ms, us or ns'
            )
        t = t * TIME_UNITS[unit]
        info['time_unit'] = unit
    pressure = column('pressure')
    temperature = column('temperature') if 'temperature' in cols else None
    order = np.argsort(np.where(np.isfinite(t), t, np.inf), kind='stable')
    reordered = int(np.count_nonzero(order != np.arange(order.size)))
    info['reordered'] = reordered
    if reordered:
        t, pressure = t[order], pressure[order]
        temperature = None if temperature is None else temperature[order]
    return t, pressure, temperature


def bag_records(path: Path, topic: str | None) -> tuple[list[Record], Coverage]:
    """Pressure (and temperature) records from a bag, and how much of the bag was used.

    Without ``topic``, the bag's only FluidPressure topic is used; temperature is read when the
    bag has exactly one Temperature topic.
    """
    from multifloor_slam.io.bag_reader import BagReader
    from multifloor_slam.io.topics import KIND_TYPES

    with BagReader(path) as bag:
        pressure_topics = sorted(t for t, ty in bag.topics.items() if ty in KIND_TYPES['pressure'])
        if topic is None and len(pressure_topics) != 1:
            raise BagError(
                f'{path}: {len(pressure_topics)} FluidPressure topics {pressure_topics}; choose '
                f'one with --topic. The bag has:\n{bag.describe_topics()}'
            )
        streams: dict[str, str | None] = {'pressure': topic or pressure_topics[0]}
        temps = [t for t, ty in bag.topics.items() if ty in KIND_TYPES['temperature']]
        if len(temps) == 1:
            streams['temperature'] = temps[0]
        resolved = sorted(bag.resolve(kind, name) for kind, name in streams.items())
        records = [rec for _, rec in bag.read(streams)]
        coverage = bag.coverage(resolved)
    if not any(isinstance(r, PressureRecord) for r in records):
        raise BagError(f'{path}: topic {streams["pressure"]} has no readable messages')
    return records, coverage


def csv_records(
    path: Path, time_unit: str = 'auto', info: dict[str, Any] | None = None
) -> list[Record]:
    """Pressure records (temperature carried in each) from a CSV log (see :func:`read_csv`)."""
    t, p, temperature = read_csv(path, time_unit, info)
    temps: list[float | None] = (
        [None] * t.size if temperature is None else [float(v) for v in temperature]
    )
    return [
        PressureRecord(float(ti), float(pi), tc)
        for ti, pi, tc in zip(t.tolist(), p.tolist(), temps, strict=True)
    ]


def _check_arguments(args: argparse.Namespace) -> None:
    from multifloor_slam.cli._paths import check_input_file

    if not args.log.exists():
        raise InputDataError(f'{args.log} does not exist')
    if args.table is not None:
        check_input_file(args.table, '--table')
    if args.save_table is not None:
        _check_save_path(args.save_table)


def _check_save_path(path: Path) -> None:
    from multifloor_slam.cli._paths import check_output_dir

    if path.is_dir():
        raise ConfigError(f'--save-table {path} is a folder; give the YAML file to write')
    check_output_dir(path.parent, f'--save-table {path}: folder')


def _load_table(path: Path, max_observations: int) -> Any:
    from multifloor_slam.floors.floor_table import FloorTable

    try:
        return FloorTable.load(path, max_observations)
    except MultifloorError as err:
        if str(path) in str(err):
            raise
        raise ConfigError(f'--table {path}: {err}') from err


def _nothing_usable(path: Path, records: list[Record], stats: dict[str, int], unit: str) -> str:
    """The error line for a log in which no pressure sample was usable."""
    from multifloor_slam.floors.pressure_filter import REJECTION_KEYS

    n = sum(isinstance(r, PressureRecord) for r in records)
    if n == 0:
        return f'{path}: no pressure samples'
    why = ', '.join(f'{k} {stats[k]}' for k in REJECTION_KEYS if stats.get(k))
    hint = ''
    if stats.get('out_of_range'):
        hint = (
            f' (pressure unit {unit}: try --pressure-unit auto, Pa, hPa or kPa)'
            if unit != 'auto'
            else ' (no sample is a plausible pressure in Pa, hPa or kPa)'
        )
    return f'{path}: nothing usable: all {n} pressure samples were rejected ({why}){hint}'


def run(args: argparse.Namespace) -> int:
    """Run the floor stage over the log and print rides and a summary as JSON lines.

    Returns 0, or 3 when the bag could be read only in part.
    """
    import sys

    from multifloor_slam.floors.params import FloorEstimatorParams
    from multifloor_slam.floors.pressure_filter import REJECTION_KEYS
    from multifloor_slam.pipeline.floor_stage import FloorStage, FloorStageParams

    _check_arguments(args)
    path: Path = args.log
    params = FloorEstimatorParams()
    table = _load_table(args.table, params.table_max_observations) if args.table else None
    coverage: Coverage | None = None
    csv_info: dict[str, Any] = {}
    if path.is_file() and path.suffix.lower() in _CSV_SUFFIXES:
        records = csv_records(path, getattr(args, 'time_unit', 'auto'), csv_info)
        if csv_info.get('reordered'):
            print(
                f'multifloor-slam floors: warning: {csv_info["reordered"]} rows were out of '
                'time order; the log was sorted by time',
                file=sys.stderr,
            )
    else:
        records, coverage = bag_records(path, args.topic)
    # A log starts where the table's elevations start (the reference floor), unless told.
    stage_params = FloorStageParams(pressure_unit=args.pressure_unit, resume_floor=False)
    initial = args.initial_floor
    if initial is None and table is not None and len(table):
        initial = table.start_floor(None, resume=False)
    stage = FloorStage(stage_params, params, table, initial)
    visited = [stage.table.label(stage.estimator.floor)]
    samples = 0
    for rec in records:
        out = stage.feed('', rec)
        samples += out is not None
        if out is not None and out.event is not None:  # a ride needs accepted samples
            print(out.event.to_json(), flush=True)
            if out.event.to_label != visited[-1]:
                visited.append(out.event.to_label)
    if not stage.stats.get('accepted'):
        raise InputDataError(_nothing_usable(path, records, stage.stats, args.pressure_unit))
    summary: dict[str, Any] = {
        'summary': True,
        'samples': samples,
        'accepted': stage.stats['accepted'],
        'pressure_unit': stage.unit_guess or args.pressure_unit,
        'rides': len([e for e in stage.rides if e.source != 'refined']),
        'floors_visited': visited,
        'floor_table': [
            {'index': f.index, 'label': f.label, 'elevation_m': round(f.elevation_m, 3)}
            for f in stage.table
        ],
        'rejected': {k: v for k, v in stage.stats.items() if k in REJECTION_KEYS},
    }
    est = stage.estimator
    if stage.stats.get('unknown_floor'):
        # After a sensor gap that could hide a ride the floor was unknown (published as
        # riding, so nothing was mapped) until the next ride or a re-identification.
        summary['floor_unknown'] = {
            'periods': stage.stats['unknown_floor'],
            'seconds': round(est.unknown_s, 1),
            'at_end': est.unknown,
        }
        print(
            f'multifloor-slam floors: warning: the floor was unknown after '
            f'{stage.stats["unknown_floor"]} sensor gap(s) that could hide a ride '
            f'({est.unknown_s:.0f} s in all{", still at the end" if est.unknown else ""})',
            file=sys.stderr,
        )
    if csv_info:
        summary['time_unit'] = csv_info['time_unit']
        summary['reordered_rows'] = csv_info['reordered']
    rejected = {k: v for k, v in summary['rejected'].items() if v and k != 'gaps'}
    if rejected:
        print(
            f'multifloor-slam floors: warning: {sum(rejected.values())} of {len(records)} '
            f'samples rejected ({", ".join(f"{k} {v}" for k, v in rejected.items())})',
            file=sys.stderr,
        )
    if coverage is not None:
        summary['bag_used'] = coverage.to_dict()
    print(json.dumps(summary, separators=(',', ':')), flush=True)
    if args.save_table:
        stage.table.save(args.save_table)
    if coverage is not None and not coverage.complete:
        print(
            f'multifloor-slam floors: warning: partial input: {coverage.describe()}',
            file=sys.stderr,
        )
        return EXIT_PARTIAL
    return EXIT_OK


__all__ = [
    'COMMAND',
    'HELP',
    'TIME_UNITS',
    'add_arguments',
    'bag_records',
    'csv_records',
    'read_csv',
    'run',
    'time_unit_of',
]
