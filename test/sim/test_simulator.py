"""The simulator writes a real rosbag2 whose contents agree with its ground truth."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

from multifloor_slam.errors import ConfigError
from multifloor_slam.floors.barometric import pressure_to_altitude
from multifloor_slam.io.bag_reader import BagReader
from multifloor_slam.sim.simulator import SimConfig, SimResult, simulate

pytestmark = pytest.mark.slow

CFG = SimConfig(
    floors=3,
    seed=7,
    elevators=2,
    visits=4,
    rooms_per_visit=1,
    rooms_per_revisit=0,
    camera_rate_hz=2.0,
)


@pytest.fixture(scope='module')
def sim(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    return simulate(CFG, tmp_path_factory.mktemp('sim'))


@pytest.fixture(scope='module')
def truth(sim: SimResult) -> dict:
    return yaml.safe_load(sim.ground_truth_yaml.read_text())


def _rows(path: Path) -> np.ndarray:
    with open(path) as fh:
        rows = list(csv.reader(fh))
    return np.array(rows[1:], float)


def test_bag_has_standard_ros2_types_read_by_rosbags(sim: SimResult) -> None:
    with AnyReader([sim.bag_path], default_typestore=get_typestore(Stores.ROS2_KILTED)) as r:
        types = {c.topic: c.msgtype for c in r.connections}
        counts = {c.topic: c.msgcount for c in r.connections}
        conn = next(c for c in r.connections if c.topic == '/scan')
        _, _, raw = next(r.messages(connections=[conn]))
        scan = r.deserialize(raw, conn.msgtype)
    assert types == {
        '/scan': 'sensor_msgs/msg/LaserScan',
        '/odom': 'nav_msgs/msg/Odometry',
        '/pose': 'geometry_msgs/msg/PoseWithCovarianceStamped',
        '/barometer/pressure': 'sensor_msgs/msg/FluidPressure',
        '/camera/image_raw': 'sensor_msgs/msg/Image',
        '/camera/camera_info': 'sensor_msgs/msg/CameraInfo',
        '/clock': 'rosgraph_msgs/msg/Clock',
        '/tf': 'tf2_msgs/msg/TFMessage',
        '/tf_static': 'tf2_msgs/msg/TFMessage',
    }
    assert len(scan.ranges) == 360
    assert scan.range_max == pytest.approx(12.0)
    meta = yaml.safe_load((sim.bag_path / 'metadata.yaml').read_text())
    info = meta['rosbag2_bagfile_information']
    assert info['version'] == 9
    assert info['storage_identifier'] == 'mcap'
    # Every topic keeps its configured rate over the whole tour.
    rates = {
        '/scan': 10.0,
        '/odom': 20.0,
        '/pose': 10.0,
        '/barometer/pressure': 20.0,
        '/camera/image_raw': 2.0,
        '/clock': 10.0,
    }
    for topic, hz in rates.items():
        assert counts[topic] / sim.duration_s == pytest.approx(hz, rel=0.02), topic
    assert sim.message_counts['scan'] == counts['/scan']


def test_tour_visits_every_floor_and_rides_both_elevators(sim: SimResult, truth: dict) -> None:
    labels = [f['label'] for f in truth['floors']]
    assert labels == ['L0', 'L1', 'L2']
    elevations = [f['elevation'] for f in truth['floors']]
    storeys = np.diff(elevations)
    assert np.all(storeys >= 2.8) and np.all(storeys <= 7.0)
    assert len(set(np.round(storeys, 2))) == len(storeys)  # non-uniform
    assert set(truth['visits']) == {0, 1, 2}
    assert {r['elevator'] for r in truth['rides']} == {'A', 'B'}
    for e in truth['elevators']:
        assert set(e['floors']) <= {0, 1, 2}
    floor_truth = _rows(sim.ground_truth_dir / 'floor_truth.csv')
    visited = [
        int(f) for i, f in enumerate(floor_truth[:, 1]) if i == 0 or f != floor_truth[i - 1, 1]
    ]
    assert visited == truth['visits']
    assert floor_truth[:, 2].any()  # riding flagged during rides


def test_nav2_maps_are_trinary_and_scans_hit_their_walls(sim: SimResult, truth: dict) -> None:
    traj = sim.trajectory
    t0 = truth['start_time']
    maps = {}
    for f in truth['floors']:
        meta = yaml.safe_load((sim.ground_truth_dir / f['map']).read_text())
        img = cv2.imread(str(sim.ground_truth_dir / meta['image']), cv2.IMREAD_UNCHANGED)
        assert meta['mode'] == 'trinary' and len(meta['origin']) == 3
        assert set(np.unique(img)) == {0, 205, 254}
        occupied = img[::-1] == 0  # row 0 of the image is the top (y max)
        dist = cv2.distanceTransform((~occupied).astype(np.uint8), cv2.DIST_L2, 5)
        maps[f['index']] = (dist * meta['resolution'], meta['resolution'], meta['origin'])
    errors = []
    with BagReader(sim.bag_path) as bag:
        for k, rec in enumerate(bag.iter_kind('scan')):
            if k % 7:
                continue
            i = int(traj.index_at(np.array([rec.t - t0]))[0])
            dist, res, origin = maps[int(traj.floor[i])]
            ang = rec.angle_min + rec.angle_increment * np.arange(len(rec.ranges))
            ok = np.isfinite(rec.ranges)
            r = rec.ranges[ok]
            x = traj.x[i] + r * np.cos(traj.yaw[i] + ang[ok]) - origin[0]
            y = traj.y[i] + r * np.sin(traj.yaw[i] + ang[ok]) - origin[1]
            rows = np.clip((y / res).astype(int), 0, dist.shape[0] - 1)
            cols = np.clip((x / res).astype(int), 0, dist.shape[1] - 1)
            errors.append(dist[rows, cols])
    err = np.concatenate(errors)
    assert len(err) > 10000
    assert np.mean(err < 0.1) > 0.97
    assert np.median(err) < 0.05


def test_slam_pose_jumps_by_the_recorded_offset_after_each_ride(
    sim: SimResult, truth: dict
) -> None:
    traj = sim.trajectory
    t0 = truth['start_time']
    offsets = truth['slam_offsets']
    assert len(offsets) == len(truth['rides']) + 1
    assert offsets[0]['dx'] == offsets[0]['dy'] == offsets[0]['dyaw'] == 0.0
    assert all(abs(o['dx']) + abs(o['dy']) + abs(o['dyaw']) > 0.05 for o in offsets[1:])
    with BagReader(sim.bag_path) as bag:
        poses = list(bag.iter_kind('pose'))
    t = np.array([p.t for p in poses])
    seg = np.searchsorted([o['t_start'] for o in offsets], t, side='right') - 1
    i = traj.index_at(t - t0)
    resid = []
    for k, p in enumerate(poses):
        o = offsets[seg[k]]
        c, s = np.cos(o['dyaw']), np.sin(o['dyaw'])
        x = c * traj.x[i[k]] - s * traj.y[i[k]] + o['dx']
        y = s * traj.x[i[k]] + c * traj.y[i[k]] + o['dy']
        resid.append(np.hypot(p.x - x, p.y - y))
    assert np.max(resid) < 0.15
    # Right after each ride the pose moved although the robot stood still in the car.
    for ride in truth['rides']:
        before = np.flatnonzero(t < ride['t_end'])[-1]
        after = np.flatnonzero(t >= ride['t_end'])[0]
        jump = np.hypot(poses[after].x - poses[before].x, poses[after].y - poses[before].y)
        expected = np.hypot(
            *np.subtract(
                traj_xy_map(offsets, seg[after], traj, i[after]),
                traj_xy_map(offsets, seg[before], traj, i[before]),
            )
        )
        assert jump == pytest.approx(expected, abs=0.1)


def traj_xy_map(offsets: list, seg: int, traj: object, i: int) -> tuple[float, float]:
    o = offsets[seg]
    c, s = np.cos(o['dyaw']), np.sin(o['dyaw'])
    x, y = traj.x[i], traj.y[i]  # type: ignore[attr-defined]
    return (c * x - s * y + o['dx'], s * x + c * y + o['dy'])


def test_pressure_steps_match_floor_elevations(sim: SimResult, truth: dict) -> None:
    with BagReader(sim.bag_path) as bag:
        recs = list(bag.iter_kind('pressure'))
    t = np.array([r.t for r in recs])
    p = np.array([r.pressure_pa for r in recs])
    elev = {f['index']: f['elevation'] for f in truth['floors']}
    for ride in truth['rides']:
        before = np.median(p[(t > ride['t_start'] - 4) & (t < ride['t_start'])])
        after = np.median(p[(t > ride['t_end'] + 0.5) & (t < ride['t_end'] + 4.5)])
        dz = float(pressure_to_altitude(after, before))
        assert dz == pytest.approx(elev[ride['to']] - elev[ride['from']], abs=0.8)


def test_camera_sees_the_elevator_door_while_waiting(sim: SimResult, truth: dict) -> None:
    with BagReader(sim.bag_path) as bag:
        frames = list(bag.iter_kind('image'))
    t = np.array([f.t for f in frames])
    assert frames[0].image.shape == (240, 320, 3)
    for ride in truth['rides']:
        k = int(np.argmin(np.abs(t - (ride['t_doors_open_src'] - 1.0))))
        img = frames[k].image.astype(float)
        # The closed door fills the view: its seam is a dark vertical line in the middle.
        cols = img.mean(axis=(0, 2))
        centre = cols[120:200]
        assert centre.min() < 0.9 * np.median(cols), ride
        assert 140 <= 120 + int(centre.argmin()) <= 180, ride


def test_same_seed_same_building_and_tour_and_existing_output_is_refused(
    sim: SimResult,
) -> None:
    from multifloor_slam.sim.building import make_building
    from multifloor_slam.sim.tour import plan_tour

    again = make_building(CFG.building)
    for a, b in zip(again.floors, sim.building.floors, strict=True):
        assert np.array_equal(a.labels, b.labels)
    rng = np.random.default_rng(np.random.SeedSequence(CFG.seed).spawn(6)[0])
    traj = plan_tour(again, CFG.tour, rng)
    assert np.array_equal(traj.x, sim.trajectory.x)
    other = make_building(SimConfig(floors=3, seed=8).building)
    assert not np.array_equal(other.floors[1].labels, sim.building.floors[1].labels)
    # Near-copy floors share the partition but not the furniture.
    l1, l2 = sim.building.floors[1].labels, sim.building.floors[2].labels
    walls = (l1 == 1) | (l2 == 1)
    assert np.mean((l1 == 1)[walls] == (l2 == 1)[walls]) > 0.9
    assert not np.array_equal(l1, l2)
    with pytest.raises(ConfigError, match='exists'):
        simulate(CFG, sim.bag_path.parent)
    with pytest.raises(ConfigError):
        SimConfig(floors=13)
    with pytest.raises(ConfigError):
        SimConfig(storage='zip')


def test_tf_chains_map_odom_base_link_to_the_slam_pose(sim: SimResult) -> None:
    store = get_typestore(Stores.ROS2_KILTED)
    with AnyReader([sim.bag_path], default_typestore=store) as r:
        conns = [c for c in r.connections if c.topic in ('/tf', '/tf_static')]
        tfs = {}
        static = []
        for conn, _, raw in r.messages(connections=conns):
            msg = r.deserialize(raw, conn.msgtype)
            for tf in msg.transforms:
                if conn.topic == '/tf_static':
                    static.append(tf.child_frame_id)
                    continue
                st = tf.header.stamp
                key = (st.sec, st.nanosec, tf.header.frame_id)
                q = tf.transform.rotation
                yaw = 2 * np.arctan2(q.z, q.w)
                tfs[key] = (tf.transform.translation.x, tf.transform.translation.y, yaw)
    assert set(static) >= {'laser', 'camera_link', 'camera_optical_frame', 'barometer'}
    with BagReader(sim.bag_path) as bag:
        poses = list(bag.iter_kind('pose'))
    checked = 0
    for p in poses[::25]:
        sec, nsec = divmod(round(p.t * 1e9), 10**9)
        if (sec, nsec, 'map') not in tfs or (sec, nsec, 'odom') not in tfs:
            continue
        mx, my, myaw = tfs[(sec, nsec, 'map')]
        ox, oy, oyaw = tfs[(sec, nsec, 'odom')]
        x = mx + np.cos(myaw) * ox - np.sin(myaw) * oy
        y = my + np.sin(myaw) * ox + np.cos(myaw) * oy
        assert (x, y) == pytest.approx((p.x, p.y), abs=1e-6)
        assert np.cos(myaw + oyaw - p.yaw) == pytest.approx(1.0, abs=1e-9)
        checked += 1
    assert checked > 20


def test_elevator_truth_marks_approach_open_doors_and_inside(sim: SimResult, truth: dict) -> None:
    with open(sim.ground_truth_dir / 'elevator_truth.csv') as fh:
        rows = list(csv.DictReader(fh))
    t = np.array([float(r['t']) for r in rows])
    state = np.array([r['state'] for r in rows])
    assert set(state) == {'none', 'approaching', 'doors_open', 'inside'}
    for ride in truth['rides']:
        during = (t > ride['t_start']) & (t < ride['t_end'])
        assert np.all(state[during] == 'inside')
        waiting = np.abs(t - (ride['t_doors_open_src'] - 1.0)) < 0.05
        assert np.all(state[waiting] == 'approaching')
        opening = np.abs(t - (ride['t_doors_open_src'] + 1.0)) < 0.05
        assert np.all(state[opening] == 'doors_open')
        ids = {r['elevator'] for r, d in zip(rows, during, strict=True) if d}
        assert ids == {ride['elevator']}
    assert np.mean(state == 'none') > 0.5


def test_ground_truth_loads_back(sim: SimResult, truth: dict) -> None:
    from multifloor_slam.sim.ground_truth import load_ground_truth

    gt = load_ground_truth(sim.ground_truth_dir)
    assert [f['label'] for f in gt.floors] == ['L0', 'L1', 'L2']
    assert gt.map_yaml('L1').exists()
    ride = gt.rides[0]
    assert gt.floor_at(ride['t_start'] - 1.0) == ride['from']
    assert gt.floor_at(ride['t_end'] + 1.0) == ride['to']
    assert gt.riding[(gt.t > ride['t_start'] + 0.5) & (gt.t < ride['t_end'] - 0.5)].all()
    x, y, _ = gt.pose_at(ride['t_start'])
    car = next(e for e in gt.elevators if e['id'] == ride['elevator'])
    assert (x, y) == pytest.approx((car['x'], car['y']), abs=0.05)
    assert len(gt.elevator_state) == len(gt.t)


def test_tour_cut_short_keeps_rides_segments_and_visits_consistent(sim: SimResult) -> None:
    import dataclasses

    from multifloor_slam.sim.tour import plan_tour

    ride = sim.trajectory.rides[0]
    for cut in (ride.t_start + 1.0, ride.t_end + 0.5, ride.t_exit + 5.0):
        cfg = dataclasses.replace(CFG.tour, max_duration=cut)
        rng = np.random.default_rng(np.random.SeedSequence(CFG.seed).spawn(6)[0])
        traj = plan_tour(sim.building, cfg, rng)
        assert traj.duration == pytest.approx(cut, abs=0.05)
        assert int(traj.segment.max()) == len(traj.rides)
        assert len(traj.visits) == len(traj.rides) + 1
        assert set(np.unique(traj.floor)) == set(traj.visits)
    # Each car rides with its own limits: the ride lasts at least |dz| / v_max.
    for r in sim.trajectory.rides:
        car = sim.building.elevator(r.elevator)
        dz = abs(
            sim.building.floor(r.to_floor).elevation - sim.building.floor(r.from_floor).elevation
        )
        assert r.t_end - r.t_start >= dz / car.v_max
