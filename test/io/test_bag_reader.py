"""The bag reader reads rosbag2 (sqlite3, MCAP) and ROS 1 bags and survives bad input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from rosbags.rosbag1 import Writer as Writer1
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.msg import get_types_from_msg

from multifloor_slam.errors import BagError
from multifloor_slam.io.bag_reader import BagReader
from multifloor_slam.io.bag_writer import BagWriter
from multifloor_slam.io.records import ImageRecord, PoseRecord, PressureRecord, ScanRecord
from multifloor_slam.sim.simulator import SimConfig, SimResult, simulate

SMALL = dict(floors=2, seed=5, elevators=1, visits=2, rooms_per_visit=0, camera=False)


@pytest.fixture(scope='module')
def bags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SimResult]:
    root = tmp_path_factory.mktemp('bags')
    return {
        storage: simulate(SimConfig(storage=storage, **SMALL), root / storage)
        for storage in ('mcap', 'sqlite3')
    }


def _stamp(ts, t: float):
    ns = round(t * 1e9)
    return ts.types['builtin_interfaces/msg/Time'](sec=ns // 10**9, nanosec=ns % 10**9)


def _header(ts, t: float, frame: str = 'f'):
    return ts.types['std_msgs/msg/Header'](stamp=_stamp(ts, t), frame_id=frame)


def _pressure(w: BagWriter, t: float, p: float):
    return w.msg(
        'sensor_msgs/msg/FluidPressure',
        header=_header(w.typestore, t),
        fluid_pressure=p,
        variance=0.0,
    )


def test_sqlite3_and_mcap_bags_give_the_same_records(bags: dict[str, SimResult]) -> None:
    streams = {'pressure': None, 'scan': 'scan', 'pose': '/pose', 'odom': 'odom'}
    out = {}
    for storage, res in bags.items():
        with BagReader(res.bag_path) as bag:
            assert bag.has_topic('scan') and bag.has_topic('/scan')
            out[storage] = list(bag.read(streams))
            assert bag.stats.skipped == 0 and not bag.stats.read_error
            assert bag.stats.records['scan'] == res.message_counts['scan']
    a, b = out['mcap'], out['sqlite3']
    assert len(a) == len(b) > 1000
    t = np.array([rec.t for _, rec in a])
    assert np.all(np.diff(t) >= 0)  # merged in stamp order
    for (ka, ra), (kb, rb) in zip(a[::97], b[::97], strict=True):
        assert ka == kb and ra.t == rb.t
        if isinstance(ra, ScanRecord):
            assert np.array_equal(ra.ranges, rb.ranges, equal_nan=True)
    kinds = {k: type(r) for k, r in a}
    assert kinds == {
        'pressure': PressureRecord,
        'scan': ScanRecord,
        'pose': PoseRecord,
        'odom': PoseRecord,
    }


def test_missing_topic_lists_the_bag_topics_and_the_flag(bags: dict[str, SimResult]) -> None:
    with BagReader(bags['mcap'].bag_path) as bag:
        with pytest.raises(BagError) as err:
            list(bag.read({'image': None}))
        text = str(err.value)
        assert '--image-topic' in text
        assert '/scan [sensor_msgs/msg/LaserScan]' in text
        assert '/barometer/pressure [sensor_msgs/msg/FluidPressure]' in text
        with pytest.raises(BagError, match='needs one of'):
            bag.resolve('pressure', 'scan')
        with pytest.raises(BagError, match='/barometer/pressure would fit'):
            bag.resolve('pressure', 'baro')


def test_missing_metadata_truncated_and_corrupt_bags_give_clear_errors(
    bags: dict[str, SimResult], tmp_path: Path
) -> None:
    with pytest.raises(BagError, match='does not exist'):
        BagReader(tmp_path / 'nothing')
    no_meta = tmp_path / 'no_meta'
    shutil.copytree(bags['sqlite3'].bag_path, no_meta)
    (no_meta / 'metadata.yaml').unlink()
    with pytest.raises(BagError, match=r'metadata\.yaml'):
        BagReader(no_meta)
    with pytest.raises(BagError, match=r'metadata\.yaml'):
        BagReader(no_meta / 'bag.db3')
    cut = tmp_path / 'cut_sqlite3'
    shutil.copytree(bags['sqlite3'].bag_path, cut)
    os.truncate(cut / 'bag.db3', (cut / 'bag.db3').stat().st_size // 2)
    with pytest.raises(BagError, match='truncated or corrupt'):
        BagReader(cut).open()
    garbage = tmp_path / 'garbage'
    shutil.copytree(bags['sqlite3'].bag_path, garbage)
    (garbage / 'metadata.yaml').write_text('rosbag2_bagfile_information: [1, 2\n')
    with pytest.raises(BagError, match='cannot open'):
        BagReader(garbage).open()
    not_mcap = tmp_path / 'not_mcap'
    not_mcap.mkdir()
    (not_mcap / 'x.mcap').write_bytes(b'this is no bag at all')
    with pytest.raises(BagError, match='not an MCAP file'):
        BagReader(not_mcap).open()


def test_mcap_cut_short_or_without_metadata_is_salvaged(
    bags: dict[str, SimResult], tmp_path: Path
) -> None:
    full = bags['mcap']
    with BagReader(full.bag_path) as bag:
        scans = list(bag.iter_kind('scan'))
    assert len(scans) == full.message_counts['scan']
    cut = tmp_path / 'cut'
    shutil.copytree(full.bag_path, cut)
    os.truncate(cut / 'bag.mcap', (cut / 'bag.mcap').stat().st_size // 2)
    with pytest.raises(BagError, match='truncated or corrupt'):
        BagReader(cut, salvage=False).open()
    with BagReader(cut) as bag:
        assert 'repaired copy' in bag.repaired and 'cut short' in bag.repaired
        part = list(bag.iter_kind('scan'))
        tmp = bag._tmp
        cov = bag.coverage(['/scan'])
    # What was used, against the original metadata (the repaired copy only knows its half).
    assert not cov.complete and cov.repaired == bag.repaired
    assert cov.by_topic == {'/scan': [len(part), len(scans)]}
    assert cov.span_s == pytest.approx(full.duration_s, abs=0.2)
    assert 0.3 < cov.used_fraction < 0.7
    assert tmp is not None and not tmp.exists()  # the repaired copy is removed on close
    # The first half of the recording survives, message for message.
    assert 0.3 * len(scans) < len(part) < 0.7 * len(scans)
    for a, b in zip(part[::50], scans[::50], strict=False):
        assert a.t == b.t and np.array_equal(a.ranges, b.ranges, equal_nan=True)
    lost = tmp_path / 'lost_meta'
    shutil.copytree(full.bag_path, lost)
    (lost / 'metadata.yaml').unlink()
    with BagReader(lost / 'bag.mcap') as bag:
        assert 'no metadata.yaml' in bag.repaired and 'data section is complete' in bag.repaired
        assert bag.topics['/scan'] == 'sensor_msgs/msg/LaserScan'
        assert len(list(bag.iter_kind('scan'))) == len(scans)
        assert bag.coverage().complete  # only the index was lost
    with pytest.raises(BagError, match=r'metadata\.yaml'):
        BagReader(lost, salvage=False)


def test_a_bag_damaged_in_the_middle_is_read_up_to_the_damage_and_says_so(
    bags: dict[str, SimResult], tmp_path: Path
) -> None:
    full = bags['mcap']
    damaged = tmp_path / 'damaged'
    shutil.copytree(full.bag_path, damaged)
    mcap = damaged / 'bag.mcap'
    with open(mcap, 'r+b') as fh:
        fh.seek(mcap.stat().st_size // 2)
        fh.write(b'\xff' * 16384)
    streams = {'scan': None, 'pressure': None}
    with BagReader(full.bag_path) as bag:
        whole = list(bag.read(streams))
        assert bag.coverage().complete and bag.coverage().used_fraction == 1.0
    with BagReader(damaged) as bag:
        part = list(bag.read(streams))
        cov = bag.coverage()
        start = bag.start_time
        assert bag.stats.read_error and bag.stats.read_error == cov.read_error
    with BagReader(damaged, strict=True) as bag, pytest.raises(BagError, match='ends early'):
        list(bag.read(streams))
    assert 0 < len(part) < len(whole)
    assert [r.t for _, r in part] == [r.t for _, r in whole[: len(part)]]  # a clean prefix
    assert not cov.complete
    assert cov.messages_read == len(part) < cov.messages_expected == len(whole)
    assert cov.span_s == pytest.approx(full.duration_s, abs=0.2)
    last = max(r.t for _, r in part)
    assert cov.used_s == pytest.approx(last - start, abs=1.1)
    assert cov.describe().startswith(f'used {cov.used_s:.0f} s of the bag')


def test_corrupt_messages_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / 'corrupt'
    with BagWriter(path) as w:
        w.add_topic('barometer/pressure', 'sensor_msgs/msg/FluidPressure')
        for k in range(50):
            t_ns = round((100 + 0.1 * k) * 1e9)
            if k % 10 == 3:
                w.write_raw('barometer/pressure', t_ns, b'\x00\x01\x00\x00garbage')
            else:
                w.write('barometer/pressure', t_ns, _pressure(w, 100 + 0.1 * k, 1e5 + k))
    with BagReader(path) as bag:
        recs = list(bag.iter_kind('pressure'))
        assert bag.stats.corrupt == 5
    assert len(recs) == 45
    assert [r.pressure_pa for r in recs[:4]] == [1e5, 1e5 + 1, 1e5 + 2, 1e5 + 4]


def test_out_of_order_stamps_are_sorted_or_skipped_and_zero_stamps_use_log_time(
    tmp_path: Path,
) -> None:
    path = tmp_path / 'order'
    with BagWriter(path, storage='sqlite3') as w:
        w.add_topic('barometer/pressure', 'sensor_msgs/msg/FluidPressure')
        stamps = [10.0, 10.2, 10.1, 10.3, 10.5, 10.4, 10.6, 0.0, 10.8, 5.0] + [
            11.0 + 0.1 * k for k in range(40)
        ]
        for k, st in enumerate(stamps):
            log_t = 10.0 + 0.1 * k + 0.05
            w.write('barometer/pressure', round(log_t * 1e9), _pressure(w, st, 1000.0 + k))
    with BagReader(path, reorder_window_s=0.5) as bag:
        recs = list(bag.iter_kind('pressure', '/barometer/pressure'))
        stats = bag.stats
    t = [r.t for r in recs]
    assert t == sorted(t)
    assert stats.out_of_order == 1  # the 5 s straggler
    assert stats.zero_stamps == 1
    assert 10.75 in [round(x, 2) for x in t]  # zero stamp replaced by its log time
    assert len(recs) == len(stamps) - 1
    # Records carry the value as recorded: the floor stage decides the unit (hPa here).
    assert recs[0].pressure_pa == pytest.approx(1000.0)


def test_images_in_every_common_encoding_and_corrupt_jpeg(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    path = tmp_path / 'images'
    with BagWriter(path) as w:
        w.add_topic('camera/image_raw', 'sensor_msgs/msg/Image')
        w.add_topic('cam2/image_raw/compressed', 'sensor_msgs/msg/CompressedImage')
        variants = [
            ('bgr8', bgr, 24),
            ('rgb8', bgr[..., ::-1], 24),
            ('mono8', bgr[..., 0], 8),
            ('bgr8', np.pad(bgr.reshape(6, 24), ((0, 0), (0, 8))), 32),  # padded rows
        ]
        for k, (enc, arr, step) in enumerate(variants):
            msg = w.msg(
                'sensor_msgs/msg/Image',
                header=_header(w.typestore, 1.0 + k),
                height=6,
                width=8,
                encoding=enc,
                is_bigendian=0,
                step=step,
                data=np.ascontiguousarray(arr).reshape(-1),
            )
            w.write('camera/image_raw', round((1.0 + k) * 1e9), msg)
        bad = w.msg(
            'sensor_msgs/msg/Image',
            header=_header(w.typestore, 6.0),
            height=60,
            width=80,
            encoding='bgr8',
            is_bigendian=0,
            step=240,
            data=np.zeros(10, np.uint8),
        )
        w.write('camera/image_raw', round(6.0 * 1e9), bad)
        _, jpg = cv2.imencode('.png', bgr)
        for k, data in enumerate((jpg.ravel(), np.frombuffer(b'not a jpeg', np.uint8))):
            msg = w.msg(
                'sensor_msgs/msg/CompressedImage',
                header=_header(w.typestore, 7.0 + k),
                format='png',
                data=data,
            )
            w.write('cam2/image_raw/compressed', round((7.0 + k) * 1e9), msg)
    with BagReader(path) as bag:
        imgs = list(bag.iter_kind('image'))
        assert bag.stats.corrupt == 1
        assert len(imgs) == 4
        for rec in imgs[:2] + imgs[3:]:
            assert isinstance(rec, ImageRecord)
            assert np.array_equal(rec.image, bgr)
        assert np.array_equal(imgs[2].image[..., 1], bgr[..., 0])
        # A topic name without '/compressed' finds the compressed variant.
        comp = list(bag.iter_kind('image', 'cam2/image_raw'))
        assert len(comp) == 1 and np.array_equal(comp[0].image, bgr)
        assert bag.stats.corrupt == 1


def test_unknown_message_types_are_listed_and_refused(tmp_path: Path) -> None:
    ts = get_typestore(Stores.ROS2_KILTED)
    ts.register(get_types_from_msg('float64 level\nstring note\n', 'acme_msgs/msg/Gauge'))
    path = tmp_path / 'custom'
    with BagWriter(path, typestore=ts) as w:
        w.add_topic('barometer/pressure', 'acme_msgs/msg/Gauge')
        for k in range(5):
            msg = w.msg('acme_msgs/msg/Gauge', level=float(k), note='x')
            w.write('barometer/pressure', (k + 1) * 10**9, msg)
    with BagReader(path) as bag:
        assert bag.topics == {'/barometer/pressure': 'acme_msgs/msg/Gauge'}
        with pytest.raises(BagError, match='acme_msgs/msg/Gauge'):
            list(bag.iter_kind('pressure'))
        raw = list(bag.raw_messages())
        assert len(raw) == 5


def test_ros1_bags_are_read_too(tmp_path: Path) -> None:
    ts = get_typestore(Stores.ROS1_NOETIC)
    path = tmp_path / 'old.bag'
    with Writer1(path) as w:
        conn = w.add_connection(
            '/barometer/pressure', 'sensor_msgs/msg/FluidPressure', typestore=ts
        )
        scan_conn = w.add_connection('/scan', 'sensor_msgs/msg/LaserScan', typestore=ts)
        header = ts.types['std_msgs/msg/Header']
        time_t = ts.types['builtin_interfaces/msg/Time']
        for k in range(20):
            stamp = time_t(sec=100 + k, nanosec=0)
            msg = ts.types['sensor_msgs/msg/FluidPressure'](
                header=header(seq=k, stamp=stamp, frame_id='b'),
                fluid_pressure=101000.0 - k,
                variance=0.0,
            )
            w.write(conn, (100 + k) * 10**9, ts.serialize_ros1(msg, conn.msgtype))
            scan = ts.types['sensor_msgs/msg/LaserScan'](
                header=header(seq=k, stamp=stamp, frame_id='laser'),
                angle_min=-1.0,
                angle_max=1.0,
                angle_increment=0.5,
                time_increment=0.0,
                scan_time=0.1,
                range_min=0.1,
                range_max=10.0,
                ranges=np.arange(5, dtype=np.float32),
                intensities=np.zeros(0, np.float32),
            )
            w.write(scan_conn, (100 + k) * 10**9, ts.serialize_ros1(scan, scan_conn.msgtype))
    with BagReader(path) as bag:
        recs = list(bag.read({'pressure': None, 'scan': None}))
        raw = list(bag.raw_messages(['scan']))
    assert len(recs) == 40
    p = [r for k, r in recs if k == 'pressure']
    assert p[0].t == 100.0 and p[-1].pressure_pa == 101000.0 - 19
    s = [r for k, r in recs if k == 'scan']
    assert np.array_equal(s[0].ranges, np.arange(5, dtype=np.float32))
    # Raw access converts ROS 1 payloads to CDR that the ROS 2 type store reads.
    cdr = get_typestore(Stores.ROS2_KILTED).deserialize_cdr(raw[0][3], 'sensor_msgs/msg/LaserScan')
    assert cdr.header.frame_id == 'laser'
