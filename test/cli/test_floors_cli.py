"""``multifloor-slam floors`` on CSV logs and real rosbag2 (MCAP) files, good, bad and partial."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_helpers import cli, corrupt_middle

from multifloor_slam.cli.main import main
from multifloor_slam.sim.pressure import BarometerNoise, ElevatorKinematics
from multifloor_slam.sim.rides import Building, Scenario, simulate_rides

BUILDING = Building.from_storeys([3.0, 3.3, 3.6, 3.1], n_basements=1)  # B1 -3 m .. L3 10 m
# Floors are numbered by what was seen: the first ride goes 6.3 m straight to L2, which fits one
# (tall) storey, and L1 is never visited to show otherwise, so L2 and L3 come out as L1 and L2.
SEEN = {'L0': 'L0', 'B1': 'B1', 'L2': 'L1', 'L3': 'L2'}


def _scenario(seed: int = 1) -> Scenario:
    return simulate_rides(
        BUILDING,
        [0, 2, -1, 3, 0],
        [20.0, 25.0, 15.0, 30.0, 20.0],
        ElevatorKinematics(v_max=2.5),
        BarometerNoise(rate_hz=10.0, white_pa=0.8, drift_pa_per_h=150.0),
        np.random.default_rng(seed),
    )


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict], str]:
    rc = main(['floors', *argv])
    out = capsys.readouterr()
    return rc, [json.loads(line) for line in out.out.splitlines() if line.strip()], out.err


def _write_bag(path: Path, topics: dict[str, Scenario | None], offset_s: float = 1.7e9) -> None:
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    ts = get_typestore(Stores.ROS2_KILTED)
    fluid = ts.types['sensor_msgs/msg/FluidPressure']
    header = ts.types['std_msgs/msg/Header']
    stamp = ts.types['builtin_interfaces/msg/Time']
    string = ts.types['std_msgs/msg/String']
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        for topic, sc in topics.items():
            if sc is None:
                conn = writer.add_connection(topic, string.__msgtype__, typestore=ts)
                writer.write(conn, 1, ts.serialize_cdr(string(data='x'), string.__msgtype__))
                continue
            conn = writer.add_connection(topic, fluid.__msgtype__, typestore=ts)
            for t, p in zip(sc.t + offset_s, sc.pressure_pa, strict=True):
                sec = int(t)
                msg = fluid(
                    header=header(
                        stamp=stamp(sec=sec, nanosec=int((t - sec) * 1e9)), frame_id='baro'
                    ),
                    fluid_pressure=float(p),
                    variance=0.0,
                )
                writer.write(conn, int(t * 1e9), ts.serialize_cdr(msg, fluid.__msgtype__))


def _check_rides(lines: list[dict], start: float = 0.0) -> None:
    rides = [r for r in lines[:-1] if r['source'] == 'ride']
    assert [(r['from_label'], r['to_label']) for r in rides] == [
        (SEEN[a], SEEN[b]) for a, b in (('L0', 'L2'), ('L2', 'B1'), ('B1', 'L3'), ('L3', 'L0'))
    ]
    assert abs(rides[0]['dz_m'] - 6.9) < 0.5
    assert all(0.0 < r['confidence'] <= 1.0 and r['t_start'] >= start for r in rides)
    summary = lines[-1]
    assert summary['summary'] is True
    assert summary['floors_visited'] == [SEEN[f] for f in ('L0', 'L2', 'B1', 'L3', 'L0')]
    assert [f['label'] for f in summary['floor_table']] == ['B1', 'L0', 'L1', 'L2']
    z = {f['label']: f['elevation_m'] for f in summary['floor_table']}
    assert abs(z['B1'] + 3.0) < 0.5 and abs(z[SEEN['L3']] - 10.0) < 0.8


def test_floors_on_a_csv_log_prints_rides_and_a_summary(capsys, tmp_path: Path) -> None:
    sc = _scenario()
    log = tmp_path / 'log.csv'
    rows = [f'{t:.4f},{p:.3f},22.0' for t, p in zip(sc.t, sc.pressure_pa, strict=True)]
    rows.insert(100, 'nan-stamp,oops,22')  # a broken line is counted, not fatal
    log.write_text('t,pressure,temperature\n' + '\n'.join(rows) + '\n')
    table_file = tmp_path / 'table.yaml'
    rc, lines, _ = _run(capsys, str(log), '--save-table', str(table_file))
    assert rc == 0
    _check_rides(lines)
    assert lines[-1]['rejected']['bad_stamp'] == 1
    assert table_file.exists()

    # Second pass starting from the learned table: the same floors, none discovered anew.
    rc, lines, _ = _run(capsys, str(log), '--table', str(table_file))
    assert rc == 0
    assert not any(r['new_floor'] for r in lines[:-1])
    assert lines[-1]['floors_visited'] == [SEEN[f] for f in ('L0', 'L2', 'B1', 'L3', 'L0')]


def test_floors_csv_without_the_needed_columns_names_what_it_found(capsys, tmp_path) -> None:
    log = tmp_path / 'bad.csv'
    log.write_text('time,p\n0,101325\n')
    rc, _, err = _run(capsys, str(log))
    assert rc == 2
    assert '"t"' in err and "['time', 'p']" in err


def test_floors_on_a_rosbag2_mcap_picks_the_only_pressure_topic(capsys, tmp_path) -> None:
    bag = tmp_path / 'ride_bag'
    _write_bag(bag, {'/baro/pressure': _scenario(), '/chatter': None})
    rc, lines, _ = _run(capsys, str(bag))
    assert rc == 0
    _check_rides(lines, start=1.7e9)


def test_floors_bag_with_two_pressure_topics_needs_topic(capsys, tmp_path) -> None:
    bag = tmp_path / 'two'
    _write_bag(bag, {'/a/pressure': _scenario(2), '/b/pressure': _scenario(3)})
    rc, _, err = _run(capsys, str(bag))
    assert rc == 2
    assert '/a/pressure' in err and '/b/pressure' in err and '--topic' in err
    rc, lines, _ = _run(capsys, str(bag), '--topic', '/b/pressure')
    assert rc == 0
    _check_rides(lines, start=1.7e9)


# The real command line (a subprocess), on bad and partial input.


@pytest.fixture(scope='module')
def sim_bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated 3-floor bag (MCAP, 286 s, 2 rides, several 1 MiB chunks)."""
    from multifloor_slam.sim.simulator import SimConfig, simulate

    cfg = SimConfig(
        floors=3, seed=3, visits=3, rooms_per_visit=1, camera=False, tf=False, clock_rate_hz=0.0
    )
    return simulate(cfg, tmp_path_factory.mktemp('floors_sim')).bag_path


def _summary(res: Any) -> dict:
    return json.loads(res.out.splitlines()[-1])


def test_floors_refuses_what_is_not_a_bag_in_one_line(tmp_path: Path, sim_bag: Path) -> None:
    folder = tmp_path / 'photos'
    folder.mkdir()
    (folder / 'a.jpg').write_bytes(b'x')
    assert 'not a rosbag2 directory' in cli('floors', folder).one_line_error('floors')
    # A sqlite3 bag without metadata.yaml cannot be repaired: say so.
    sqlite = tmp_path / 'sqlite'
    sqlite.mkdir()
    (sqlite / 'sqlite.db3').write_bytes(b'SQLite format 3\x00' + b'\x00' * 100)
    assert 'metadata.yaml' in cli('floors', sqlite).one_line_error('floors')
    assert 'metadata.yaml' in cli('floors', sqlite / 'sqlite.db3').one_line_error('floors')
    # A garbled MCAP file (with or without its metadata).
    garbled = tmp_path / 'garbled'
    shutil.copytree(sim_bag, garbled)
    (garbled / 'bag.mcap').write_bytes(b'\x00garbage' * 1000)
    assert 'not an MCAP file' in cli('floors', garbled).one_line_error('floors')
    (garbled / 'metadata.yaml').unlink()
    assert 'not an MCAP file' in cli('floors', garbled).one_line_error('floors')
    for name in ('random.bag', 'random.mcap'):  # a ROS 1 bag / an MCAP that are noise
        (tmp_path / name).write_bytes(bytes(range(256)) * 20)
        line = cli('floors', tmp_path / name).one_line_error('floors')
        assert name in line


def test_floors_repairs_a_bag_without_metadata_like_process(tmp_path: Path, sim_bag: Path) -> None:
    whole = cli('floors', sim_bag)
    assert whole.rc == 0, whole.err
    bag = tmp_path / 'no_meta'
    shutil.copytree(sim_bag, bag)
    (bag / 'metadata.yaml').unlink()
    res = cli('floors', bag)
    assert res.rc == 0, res.err  # nothing was lost: only the index is rebuilt
    assert 'repaired copy' in res.err and 'data section is complete' in res.err
    assert res.out.splitlines()[:-1] == whole.out.splitlines()[:-1]  # the same rides
    repaired, summary = _summary(res), _summary(whole)
    assert repaired.pop('bag_used')['complete'] is True
    summary.pop('bag_used')
    assert repaired == summary


def test_floors_on_a_bag_damaged_in_the_middle_says_how_much_it_used(
    tmp_path: Path, sim_bag: Path
) -> None:
    bag = tmp_path / 'damaged'
    shutil.copytree(sim_bag, bag)
    corrupt_middle(bag / 'bag.mcap', at=0.7)
    res = cli('floors', bag)
    assert res.rc == 3, res.err
    used = _summary(res)['bag_used']
    assert used['complete'] is False and 'corrupt' in used['read_error']
    assert 0.3 * used['span_s'] < used['used_s'] < 0.9 * used['span_s']
    assert used['messages_read'] < used['messages_expected']
    warning = [x for x in res.err.splitlines() if x.startswith('multifloor-slam floors: warning')]
    assert len(warning) == 1 and 'partial input: used' in warning[0]
    # Cut short (the recorder killed): the tail is lost, and that is said too.
    cut = tmp_path / 'cut'
    shutil.copytree(sim_bag, cut)
    os.truncate(cut / 'bag.mcap', (cut / 'bag.mcap').stat().st_size // 2)
    res = cli('floors', cut)
    assert res.rc == 3, res.err
    used = _summary(res)['bag_used']
    assert 'cut short' in used['repaired'] and used['complete'] is False
    assert used['messages_read'] < used['messages_expected']  # against the original metadata


def test_floors_refuses_a_log_with_nothing_usable(tmp_path: Path) -> None:
    nan_t = tmp_path / 'nan_stamps.csv'
    nan_t.write_text('t,pressure\nnan,101325\nx,101325\n')
    line = cli('floors', nan_t).one_line_error('floors')
    assert 'the "t" column holds no time stamp' in line
    nan_p = tmp_path / 'nan_pressure.csv'
    nan_p.write_text('t,pressure\n' + ''.join(f'{k * 0.1:.1f},nan\n' for k in range(50)))
    assert 'not_finite 50' in cli('floors', nan_p).one_line_error('floors')
    absurd = tmp_path / 'absurd.csv'
    absurd.write_text('t,pressure\n' + ''.join(f'{k * 0.1:.1f},7\n' for k in range(50)))
    line = cli('floors', absurd).one_line_error('floors')
    assert 'out_of_range 50' in line and 'Pa, hPa or kPa' in line
    # The wrong unit named on purpose: the line suggests the others.
    sc = _scenario()
    pa = tmp_path / 'pa.csv'
    pa.write_text(
        't,pressure\n'
        + ''.join(f'{t:.3f},{p:.2f}\n' for t, p in zip(sc.t, sc.pressure_pa, strict=True))
    )
    line = cli('floors', pa, '--pressure-unit', 'kPa').one_line_error('floors')
    assert 'pressure unit kPa' in line and '--pressure-unit auto' in line


@pytest.mark.parametrize(('unit', 'scale'), [('hPa', 0.01), ('kPa', 0.001)])
def test_floors_reads_hpa_and_kpa_logs_like_pa(tmp_path: Path, unit: str, scale: float) -> None:
    sc = _scenario()
    log = tmp_path / f'{unit}.csv'
    rows = (f'{t:.4f},{p * scale:.6f}' for t, p in zip(sc.t, sc.pressure_pa, strict=True))
    log.write_text('t,pressure\n' + '\n'.join(rows) + '\n')
    for flag in ('auto', unit):
        res = cli('floors', log, '--pressure-unit', flag)
        assert res.rc == 0, res.err
        lines = [json.loads(x) for x in res.out.splitlines()]
        _check_rides(lines)
        assert lines[-1]['pressure_unit'] == unit


def test_floors_checks_its_table_paths_before_reading(tmp_path: Path) -> None:
    log = tmp_path / 'log.csv'
    log.write_text('t,pressure\n0,101325\n')
    a_file = tmp_path / 'a_file'
    a_file.write_text('x')
    line = cli('floors', log, '--save-table', a_file / 'table.yaml').one_line_error('floors')
    assert '--save-table' in line and 'is a file' in line
    line = cli('floors', log, '--save-table', tmp_path).one_line_error('floors')
    assert '--save-table' in line and 'is a folder' in line
    line = cli('floors', log, '--table', a_file).one_line_error('floors')
    assert f'--table {a_file}' in line


def _iso(t: float) -> str:
    from datetime import datetime, timedelta

    return (datetime(2024, 5, 1, 12, 0, 0) + timedelta(seconds=t)).isoformat()


@pytest.mark.parametrize(
    ('name', 'fmt'),
    [
        ('ms', lambda t, p: f'{t * 1e3:.1f},{p:.2f}'),
        ('ns_epoch', lambda t, p: f'{int((t + 1.7e9) * 1e9)},{p:.2f}'),
        ('iso', lambda t, p: f'{_iso(t)},{p:.2f}'),
        ('comma', lambda t, p: f'{t:.3f};{p:.2f}'.replace('.', ',')),
    ],
)
def test_floors_reads_ms_ns_iso_stamps_and_decimal_commas(tmp_path: Path, name: str, fmt) -> None:
    sc = _scenario()
    log = tmp_path / f'{name}.csv'
    sep = ';' if name == 'comma' else ','
    log.write_text(
        f't{sep}pressure\n'
        + '\n'.join(fmt(t, p) for t, p in zip(sc.t, sc.pressure_pa, strict=True))
        + '\n'
    )
    res = cli('floors', log)
    assert res.rc == 0, res.err
    lines = [json.loads(x) for x in res.out.splitlines()]
    rides = [r for r in lines[:-1] if r['source'] == 'ride']
    assert [(r['from_label'], r['to_label']) for r in rides] == [
        (SEEN[a], SEEN[b]) for a, b in (('L0', 'L2'), ('L2', 'B1'), ('B1', 'L3'), ('L3', 'L0'))
    ]
    assert lines[-1]['time_unit'] == {'ms': 'ms', 'ns_epoch': 'ns', 'iso': 'iso'}.get(name, 's')


def test_floors_sorts_shuffled_rows_and_says_so(tmp_path: Path) -> None:
    sc = _scenario()
    rows = [f'{t:.4f},{p:.3f}' for t, p in zip(sc.t, sc.pressure_pa, strict=True)]
    order = np.random.default_rng(3).permutation(len(rows))
    for name, lines_in in (('reversed', rows[::-1]), ('shuffled', [rows[i] for i in order])):
        log = tmp_path / f'{name}.csv'
        log.write_text('t,pressure\n' + '\n'.join(lines_in) + '\n')
        res = cli('floors', log)
        assert res.rc == 0, res.err
        lines = [json.loads(x) for x in res.out.splitlines()]
        _check_rides(lines)
        assert lines[-1]['reordered_rows'] > 0
        assert 'out of time order' in res.err


def test_floors_refuses_unreadable_stamps_in_one_line(tmp_path: Path) -> None:
    text = tmp_path / 'text.csv'
    text.write_text('t,pressure\nmonday,101325\ntuesday,101325\n')
    line = cli('floors', text).one_line_error('floors')
    assert "'monday'" in line and 'ISO 8601' in line
    odd = tmp_path / 'odd.csv'
    odd.write_text('t,pressure\n' + ''.join(f'{k * 1e9:.0f},101325\n' for k in range(1, 20)))
    line = cli('floors', odd).one_line_error('floors')
    assert 'unit of the "t" column' in line and '--time-unit' in line
    nan_cols = tmp_path / 'nan_cols.csv'
    nan_cols.write_text('t,pressure\n' + ''.join(f'{k},nan\n' for k in range(30)))
    assert 'not_finite 30' in cli('floors', nan_cols).one_line_error('floors')
