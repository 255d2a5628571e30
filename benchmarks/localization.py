"""Localization mode on simulated tours: arrival pose errors, wrong switches, switch latency.

    .venv/bin/python benchmarks/localization.py [--seeds 0 1 2] [--floors 3] [--no-dds]

Part 1 (the full simulator, offline): ``simulate`` a building and tour, ``process`` the bag into
a building, then replay the same tour into :class:`FloorLocalizer` as localization mode sees it:
the floor estimator's real ``floor/current`` and ``floor/riding`` (a :class:`FloorStage` on the
simulated barometer, started with the building's saved floor table), drifting wheel odometry
(the simulator's odometry model) and a stand-in AMCL (the true pose + 3 cm / 0.6 deg noise at
2 Hz, outside the car). For each arrival: the initial pose's position and heading error against
the simulator's truth at its stamp, its sigmas, and the delay from the car stopping to the map
switch (sim time, dominated by the robot driving ``exit_distance_m`` out). A switch to a floor
the robot is not on counts as wrong (an intermediate stop shown, or a wrong floor estimate).

Part 2 (real DDS): the navigation tour of the tests (``test/navigation/localization_tour.py``,
with an intermediate stop) is replayed message by message into the ``floor_localizer`` node;
the switch latency is the wall time from publishing the odometry message that made the switch
final to a stand-in AMCL subscriber receiving the new map (transient local, reliable).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'test' / 'navigation'))
os.environ.setdefault('ROS_DOMAIN_ID', str(random.SystemRandom().randint(101, 200)))
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'

from multifloor_slam.floors.floor_table import FloorTable  # noqa: E402
from multifloor_slam.floors.params import FloorEstimatorParams  # noqa: E402
from multifloor_slam.io.building_files import load_building  # noqa: E402
from multifloor_slam.io.records import BoolRecord, FloorRecord, PressureRecord  # noqa: E402
from multifloor_slam.navigation.localization import FloorLocalizer, Switch  # noqa: E402
from multifloor_slam.pipeline.floor_stage import (  # noqa: E402
    FloorStage,
    FloorStageParams,
    floor_outputs,
)


def _yaw_err(a: float, b: float) -> float:
    return math.degrees(abs((a - b + math.pi) % (2 * math.pi) - math.pi))


def sim_arrivals(seed: int, floors: int) -> list[dict[str, float]]:
    """Part 1 for one seed: one row per map switch after the start."""
    from multifloor_slam.pipeline.process import ProcessOptions, process_bag
    from multifloor_slam.sim.pressure import BarometerNoise
    from multifloor_slam.sim.sensors import OdomModel, barometer, odometry
    from multifloor_slam.sim.simulator import SimConfig, simulate

    cfg = SimConfig(
        floors=floors, seed=seed, camera=False, tf=False, clock_rate_hz=0.0, rooms_per_visit=1
    )
    with tempfile.TemporaryDirectory() as tmp:
        sim = simulate(cfg, Path(tmp) / 'sim')
        process_bag(
            sim.bag_path,
            Path(tmp) / 'building',
            ProcessOptions(detector='off', progress=False),
        )
        building = load_building(Path(tmp) / 'building')
    traj = sim.trajectory
    rng = np.random.default_rng(1000 + seed)
    odo = odometry(traj, OdomModel(), rng)
    noise = BarometerNoise(
        rate_hz=cfg.baro_rate_hz,
        white_pa=cfg.baro_white_pa,
        drift_pa_per_h=cfg.baro_drift_pa_per_h,
        door_steps_per_h=cfg.baro_door_steps_per_h,
    )
    t_p, p = barometer(traj, noise, rng)
    table = FloorTable.from_dict(building.floor_table) if building.floor_table else None
    if table is not None:
        table.current_floor = int(traj.floor[0])
    stage = FloorStage(FloorStageParams(), FloorEstimatorParams(), table)
    inputs: list[tuple[float, int, str, object]] = []
    for kind, rec in floor_outputs(stage.initial()):
        if isinstance(rec, FloorRecord | BoolRecord):
            inputs.append((float(t_p[0]), 0, kind, rec))
    for t, pa in zip(t_p, p, strict=True):
        for kind, rec in floor_outputs(stage.on_pressure(PressureRecord(float(t), float(pa)))):
            if kind in ('floor', 'riding'):
                inputs.append((float(t), 0, kind, rec))
    for k in range(len(odo.t)):
        inputs.append((float(odo.t[k]), 1, 'odom', (odo.x[k], odo.y[k], odo.yaw[k])))
    step = max(1, round(0.5 / float(traj.t[1] - traj.t[0])))
    for k in range(0, len(traj.t), step):
        if traj.inside_car[k] or traj.riding[k]:
            continue
        n = rng.normal(0.0, (0.03, 0.03, 0.01))
        pose = (traj.x[k] + n[0], traj.y[k] + n[1], traj.yaw[k] + n[2])
        inputs.append((float(traj.t[k]) + 1e-4, 2, 'pose', pose))
    inputs.sort(key=lambda it: (it[0], it[1]))
    loc = FloorLocalizer(building)
    switches: list[Switch] = []
    for t, _, kind, value in inputs:
        if kind == 'odom':
            sw = loc.on_odom(t, *value)  # type: ignore[misc]
        elif kind == 'pose':
            loc.on_pose(t, *value, 0.03**2, 0.01**2)  # type: ignore[misc]
            sw = None
        elif kind == 'floor':
            sw = loc.on_floor(t, value.floor)  # type: ignore[attr-defined]
        else:
            sw = loc.on_riding(t, value.value)  # type: ignore[attr-defined]
        if sw is not None:
            switches.append(sw)
    rows = []
    ride_ends = [r.t_end for r in traj.rides]
    for sw in switches[1:]:
        k = int(np.clip(np.searchsorted(traj.t, sw.t), 0, len(traj.t) - 1))
        ends = [e for e in ride_ends if e <= sw.t]
        row = {
            'seed': seed,
            'floor': sw.floor,
            'true_floor': int(traj.floor[k]),
            'delay_s': sw.t - ends[-1] if ends else math.nan,
            'pos_err_m': math.nan,
            'yaw_err_deg': math.nan,
            'sigma_m': math.nan,
            'sigma_deg': math.nan,
        }
        pose = sw.initial_pose
        if pose is not None:
            kp = int(np.clip(np.searchsorted(traj.t, pose.t), 0, len(traj.t) - 1))
            row['pos_err_m'] = math.hypot(pose.x - traj.x[kp], pose.y - traj.y[kp])
            row['yaw_err_deg'] = _yaw_err(pose.yaw, float(traj.yaw[kp]))
            row['sigma_m'] = pose.sigma_xy
            row['sigma_deg'] = math.degrees(pose.sigma_yaw)
        rows.append(row)
    print(
        f'seed {seed}: {len(traj.rides)} rides, {len(switches) - 1} switches',
        file=sys.stderr,
    )
    return rows


def dds_latency() -> list[tuple[int, float]]:
    """Part 2: (floor, wall ms from the deciding odometry message to the map at a subscriber)."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter

    from multifloor_slam.io.building_files import save_building
    from multifloor_slam.nodes.floor_localizer import FloorLocalizerNode

    sys.path.insert(0, str(REPO / 'test' / 'nodes'))
    from localization_tour import make_nav_tour, mapped_building
    from test_floor_localizer import StandIns

    rclpy.init()
    out: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = save_building(mapped_building(), Path(tmp) / 'building')
        tour = make_nav_tour(odom_hz=10.0)
        ex = SingleThreadedExecutor()
        node = FloorLocalizerNode(
            parameter_overrides=[Parameter('building_file', value=str(path))]
        )
        amcl = StandIns()
        ex.add_node(node)
        ex.add_node(amcl)
        received: list[float] = []
        amcl.create_subscription(
            type(node._maps[0]),
            'map',
            lambda m: received.append(time.perf_counter()),
            node._pub_map.qos_profile,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
            p.get_subscription_count() for p in amcl.pubs.values()
        ):
            ex.spin_once(timeout_sec=0.05)
        for _ in range(20):
            ex.spin_once(timeout_sec=0.01)
        for t, kind, value in tour.inputs:
            want = node.received[kind] + 1
            before = len(node.localizer.switches)
            sent = time.perf_counter()
            amcl.publish(t, kind, value)
            while node.received[kind] < want:
                ex.spin_once(timeout_sec=0.05)
            if len(node.localizer.switches) > before:
                n = len(received)
                while len(received) <= n:
                    ex.spin_once(timeout_sec=0.05)
                out.append((node.localizer.shown or 0, (received[-1] - sent) * 1e3))
        ex.shutdown()
        node.destroy_node()
        amcl.destroy_node()
    rclpy.try_shutdown()
    return out


def main() -> None:
    """Print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--floors', type=int, default=3)
    ap.add_argument('--no-dds', action='store_true', help='skip the DDS latency part')
    args = ap.parse_args()
    rows = [r for s in args.seeds for r in sim_arrivals(s, args.floors)]
    print(f'\n## Arrivals on simulated tours ({args.floors} floors, seeds {args.seeds})\n')
    print('| seed | floor | true | delay s | pos err m | yaw err deg | sigma m | sigma deg |')
    print('|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(
            f'| {r["seed"]} | {r["floor"]} | {r["true_floor"]} | {r["delay_s"]:.1f} | '
            f'{r["pos_err_m"]:.3f} | {r["yaw_err_deg"]:.2f} | {r["sigma_m"]:.2f} | '
            f'{r["sigma_deg"]:.1f} |'
        )
    pos = np.array([r['pos_err_m'] for r in rows])
    yaw = np.array([r['yaw_err_deg'] for r in rows])
    wrong = sum(r['floor'] != r['true_floor'] for r in rows)
    print(
        f'\n{len(rows)} arrivals: position error max {np.nanmax(pos):.3f} m '
        f'(median {np.nanmedian(pos):.3f}), heading error max {np.nanmax(yaw):.2f} deg '
        f'(median {np.nanmedian(yaw):.2f}); within 0.3 m and 5 deg: '
        f'{int(((pos < 0.3) & (yaw < 5.0)).sum())}/{len(rows)}; wrong-floor switches: {wrong}'
    )
    if args.no_dds:
        return
    lat = dds_latency()
    print('\n## Switch latency over DDS (deciding odometry message -> map at a subscriber)\n')
    print('| floor shown (first: the start floor) | latency ms |')
    print('|---|---|')
    for floor, ms in lat:
        print(f'| {floor} | {ms:.1f} |')
    if lat:
        print(f'\nmax {max(ms for _, ms in lat):.1f} ms over {len(lat)} switches')


if __name__ == '__main__':
    main()
