"""``process_bag`` on a small simulated bag: the report, the files, errors and determinism."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rosbags.rosbag2 import Reader
from small_sim import SMALL_SIM

from multifloor_slam.cli.floors import bag_records
from multifloor_slam.errors import BagError
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.io.bag_writer import BagWriter, kilted_typestore
from multifloor_slam.pipeline.floor_stage import FloorStage
from multifloor_slam.pipeline.map_stage import RESUME_KEY
from multifloor_slam.pipeline.process import ProcessOptions, ProcessReport, process_bag
from multifloor_slam.sim.simulator import SimResult, simulate

CONFIG = SMALL_SIM
OPTIONS = ProcessOptions(progress=False)


def copy_bag(
    src: Path,
    dst: Path,
    keep: Callable[[str], bool] = lambda _: True,
    pressure_scale: float = 1.0,
    scan_range_max: float | None = None,
) -> Path:
    """Copy a bag topic by topic: skip topics, rewrite the barometer in another unit, or give
    every scan another ``range_max``."""
    with Reader(src) as reader, BagWriter(dst) as writer:
        conns = [c for c in reader.connections if keep(c.topic)]
        for c in conns:
            writer.add_topic(c.topic, c.msgtype)
        for conn, t_ns, raw in reader.messages(connections=conns):
            if conn.msgtype == 'sensor_msgs/msg/FluidPressure' and pressure_scale != 1.0:
                msg = writer.typestore.deserialize_cdr(raw, conn.msgtype)
                msg.fluid_pressure *= pressure_scale
                writer.write(conn.topic, t_ns, msg)
            elif conn.msgtype == 'sensor_msgs/msg/LaserScan' and scan_range_max is not None:
                msg = writer.typestore.deserialize_cdr(raw, conn.msgtype)
                msg.range_max = scan_range_max
                writer.write(conn.topic, t_ns, msg)
            else:
                writer.write_raw(conn.topic, t_ns, raw)
    return dst


@pytest.fixture(scope='module')
def sim(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    return simulate(CONFIG, tmp_path_factory.mktemp('sim'))


@pytest.fixture(scope='module')
def processed(sim: SimResult, tmp_path_factory: pytest.TempPathFactory) -> ProcessReport:
    return process_bag(sim.bag_path, tmp_path_factory.mktemp('out') / 'building', OPTIONS)


def _ride_floors(rides: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(r['from_floor'], r['to_floor']) for r in rides]


def test_report_describes_the_building(sim: SimResult, processed: ProcessReport) -> None:
    rep = processed
    truth = [(r.from_floor, r.to_floor) for r in sim.trajectory.rides]
    assert len(truth) == sim.rides == 2
    assert rep.detector == 'off'  # no camera topic: auto runs no detector
    assert _ride_floors(rep.rides) == truth
    assert all(r['source'] == 'ride' and r['confidence'] > 0.5 for r in rep.rides)
    assert [f['label'] for f in rep.floors] == sim.floors == ['L0', 'L1', 'L2']
    for f, true_floor in zip(rep.floors, sim.building.floors, strict=True):
        assert f['elevation_m'] == pytest.approx(true_floor.elevation, abs=0.5)
        assert f['occupied_cells'] > 1000
    assert rep.bag_start_s == pytest.approx(CONFIG.start_time_s, abs=0.2)
    assert rep.bag_duration_s == pytest.approx(sim.duration_s, abs=0.2)
    assert len(rep.links) >= 1
    # floor_trace: the start floor, then every change of floor or riding, in time order.
    trace = rep.floor_trace
    assert trace[0][1:] == (0, False)
    times = [t for t, _, _ in trace[1:]]
    assert times == sorted(times) and times[0] >= rep.bag_start_s
    steady = [fl for _, fl, riding in trace if not riding]
    assert steady == [0, *(to for _, to in truth)]
    assert sum(riding for _, _, riding in trace) == len(truth)
    # Trips: the robot drives out after every ride here; odometry says so, no stop stayed in.
    assert [(t['from_floor'], t['to_floor']) for t in rep.trips] == truth
    assert [t['evidence'] for t in rep.trips[:-1]] == ['odometry'] * (len(truth) - 1)
    assert all(t['stops'] == [] and t['t_exit'] > t['t_start'] for t in rep.trips)
    # What was read and what the stages made of it.
    counts = sim.message_counts
    expected = {'pressure': counts['barometer/pressure'], 'scan': counts['scan']}
    expected['pose'], expected['odom'] = counts['pose'], counts['odom']  # odom: the ride heading
    assert rep.counts == {**expected, 'images_skipped_rate': 0}
    assert rep.read_stats['records'] == expected
    assert rep.read_stats['corrupt'] == rep.read_stats['out_of_order'] == 0
    assert rep.read_stats['read_error'] == rep.read_stats['repaired'] == ''
    # All of the bag was used: no partial-input line.
    assert rep.bag_used['complete'] and not rep.partial and rep.partial_line() == ''
    assert (
        rep.bag_used['messages_read']
        == rep.bag_used['messages_expected']
        == sum(expected.values())
    )
    assert rep.bag_used['used_s'] == rep.bag_used['span_s'] == rep.bag_duration_s
    stats = rep.map_stats
    assert stats['scans_before_floor'] == 0  # the start floor is handed over first
    assert stats['bad_poses'] == 0
    assert stats['scans_in'] == counts['scan']
    assert stats['scans_integrated'] > 0.8 * counts['scan']
    assert stats['rides'] == stats['reanchors'] == len(truth)
    assert rep.floor_stats['rides'] == len(truth)
    assert rep.floor_stats['accepted'] > 0.99 * counts['barometer/pressure']
    assert rep.realtime_factor > 1.0
    assert 'floors: 3, rides: 2' in rep.summary()


def test_report_json_and_building_yaml_are_written(
    sim: SimResult, processed: ProcessReport
) -> None:
    out = Path(processed.out_dir)
    data = json.loads((out / 'report.json').read_text())
    assert data == json.loads(json.dumps(processed.to_dict(), default=float))
    assert data['floors'] == processed.floors and data['rides'] == processed.rides
    assert Path(processed.building_yaml) == out / 'building.yaml'
    assert Path(processed.picture).is_file()
    building = yaml.safe_load((out / 'building.yaml').read_text())
    table = FloorTable.from_dict(building['floor_table'])
    assert table.indices == [f['index'] for f in processed.floors]
    assert table.current_floor == processed.rides[-1]['to_floor']
    # The table is the floor estimator's at the end of the bag (refinements after a ride
    # included): the same as the floor stage alone gives on the bag's barometer.
    stage = FloorStage()
    records, _ = bag_records(sim.bag_path, None)
    for rec in records:
        stage.feed('', rec)
    want = stage.table.to_dict()
    got = {k: v for k, v in building['floor_table'].items() if k != RESUME_KEY}
    assert got == want
    for f in processed.floors:
        assert table.label(f['index']) == f['label']
        nav2 = yaml.safe_load((out / f'{f["label"]}.yaml').read_text())  # a Nav2 map
        assert (out / nav2['image']).is_file() and nav2['image'].endswith('.pgm')


def test_processing_twice_gives_byte_identical_building_files(
    sim: SimResult, processed: ProcessReport, tmp_path: Path
) -> None:
    first = Path(processed.out_dir)
    again = process_bag(sim.bag_path, tmp_path / 'again', OPTIONS)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in Path(again.out_dir).iterdir())
    compared = 0
    for name in names:
        if name == 'report.json':  # holds wall times
            continue
        assert (first / name).read_bytes() == (tmp_path / 'again' / name).read_bytes(), name
        compared += 1
    assert compared >= 10  # building.yaml, per-floor maps, Open-RMF, pictures
    assert again.floor_trace == processed.floor_trace and again.rides == processed.rides


def test_a_bag_in_hpa_gives_the_same_floors(
    sim: SimResult, processed: ProcessReport, tmp_path: Path
) -> None:
    hpa = copy_bag(sim.bag_path, tmp_path / 'hpa', pressure_scale=0.01)
    with Reader(hpa) as reader:  # really written in hPa
        conn = next(c for c in reader.connections if c.topic == '/barometer/pressure')
        _, _, raw = next(reader.messages(connections=[conn]))
        p = kilted_typestore().deserialize_cdr(raw, conn.msgtype).fluid_pressure
        assert 900.0 < p < 1100.0
    rep = process_bag(hpa, tmp_path / 'out', OPTIONS)
    assert _ride_floors(rep.rides) == _ride_floors(processed.rides)
    assert [r['t_end'] for r in rep.rides] == [r['t_end'] for r in processed.rides]
    assert [r['dz_m'] for r in rep.rides] == pytest.approx(
        [r['dz_m'] for r in processed.rides], abs=1e-3
    )
    assert [f['index'] for f in rep.floors] == [f['index'] for f in processed.floors]
    assert [f['elevation_m'] for f in rep.floors] == pytest.approx(
        [f['elevation_m'] for f in processed.floors], abs=1e-6
    )
    assert rep.floor_trace == processed.floor_trace
    assert rep.floor_stats['out_of_range'] == processed.floor_stats['out_of_range'] == 0


def test_unknown_detector_mode_raises_bag_error(sim: SimResult, tmp_path: Path) -> None:
    options = ProcessOptions(detector='bogus', progress=False)
    with pytest.raises(BagError, match='bogus'):
        process_bag(sim.bag_path, tmp_path / 'out', options)
    assert not (tmp_path / 'out').exists()


def test_a_bag_without_scans_names_the_flag(sim: SimResult, tmp_path: Path) -> None:
    no_scan = copy_bag(sim.bag_path, tmp_path / 'no_scan', keep=lambda topic: topic != '/scan')
    with pytest.raises(BagError) as err:
        process_bag(no_scan, tmp_path / 'out', OPTIONS)
    text = str(err.value)
    assert '--scan-topic' in text
    assert '/barometer/pressure' in text  # it lists what the bag has
    assert not (tmp_path / 'out').exists()
    # The flag's topic is what is looked for.
    options = ProcessOptions(topics={'scan': 'front/scan'}, progress=False)
    with pytest.raises(BagError, match='--scan-topic'):
        process_bag(sim.bag_path, tmp_path / 'out2', options)


@pytest.mark.parametrize('range_max', [math.inf, math.nan])
def test_scans_with_unbounded_range_max_are_mapped_not_fatal(
    sim: SimResult, processed: ProcessReport, tmp_path: Path, range_max: float
) -> None:
    """``pointcloud_to_laserscan`` publishes range_max = +inf by default (once an IndexError)."""
    bag = copy_bag(sim.bag_path, tmp_path / 'inf', scan_range_max=range_max)
    rep = process_bag(bag, tmp_path / 'out', OPTIONS)
    assert [f['label'] for f in rep.floors] == [f['label'] for f in processed.floors]
    for got, want in zip(rep.floors, processed.floors, strict=True):
        # The simulated laser's no-return beams now clear up to max_free_range_m, not 12 m:
        # the same walls, within a few per cent.
        assert got['occupied_cells'] == pytest.approx(want['occupied_cells'], rel=0.05)
    assert rep.map_stats['scans_integrated'] == processed.map_stats['scans_integrated']
