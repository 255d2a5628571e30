"""``multifloor-slam floors`` on a CSV log and on real rosbag2 (MCAP) files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from multifloor_slam.cli.main import main
from multifloor_slam.sim.pressure import BarometerNoise, ElevatorKinematics
from multifloor_slam.sim.rides import Building, Scenario, simulate_rides

BUILDING = Building.from_storeys([3.0, 3.3, 3.6, 3.1], n_basements=1)  # B1 -3 m .. L3 10 m


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
        ('L0', 'L2'),
        ('L2', 'B1'),
        ('B1', 'L3'),
        ('L3', 'L0'),
    ]
    assert abs(rides[0]['dz_m'] - 6.9) < 0.5
    assert all(0.0 < r['confidence'] <= 1.0 and r['t_start'] >= start for r in rides)
    summary = lines[-1]
    assert summary['summary'] is True
    assert summary['floors_visited'] == ['L0', 'L2', 'B1', 'L3', 'L0']
    assert [f['label'] for f in summary['floor_table']] == ['B1', 'L0', 'L2', 'L3']
    z = {f['label']: f['elevation_m'] for f in summary['floor_table']}
    assert abs(z['B1'] + 3.0) < 0.5 and abs(z['L3'] - 10.0) < 0.8


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
    assert lines[-1]['floors_visited'] == ['L0', 'L2', 'B1', 'L3', 'L0']


def test_floors_csv_without_the_needed_columns_names_what_it_found(capsys, tmp_path) -> None:
    log = tmp_path / 'bad.csv'
    log.write_text('time,p\n0,101325\n')
    rc, _, err = _run(capsys, str(log))
    assert rc == 1
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
    assert rc == 1
    assert '/a/pressure' in err and '/b/pressure' in err and '--topic' in err
    rc, lines, _ = _run(capsys, str(bag), '--topic', '/b/pressure')
    assert rc == 0
    _check_rides(lines, start=1.7e9)
