"""The simple camera draws elevator doors where the scene has them, and boxes match."""

from __future__ import annotations

import numpy as np

from multifloor_slam.sim.building import BuildingConfig, Material, make_building
from multifloor_slam.sim.camera import CameraModel, elevator_boxes, render_camera_view
from multifloor_slam.sim.sensors import Scene, camera_scenes
from multifloor_slam.sim.tour import TourConfig, plan_tour


def test_render_and_boxes_follow_the_scene() -> None:
    building = make_building(BuildingConfig(floors=2, seed=1, elevators=1))
    traj = plan_tour(building, TourConfig(visits=2, rooms_per_visit=0), np.random.default_rng(1))
    ride = traj.rides[0]
    model = CameraModel(width=160, height=120)
    rng = np.random.default_rng(0)
    seen_door = seen_none = 0
    for t, scene in camera_scenes(Scene(building), traj, model, 2.0):
        img = render_camera_view(scene, rng)
        assert img.shape == (120, 160, 3) and img.dtype == np.uint8
        boxes = elevator_boxes(scene)
        has_door = bool((scene.material == Material.DOOR).sum() >= 3)
        assert any(b[4] == 'elevator_door' for b in boxes) == has_door
        for x0, y0, x1, y1, _ in boxes:
            assert 0 <= x0 < x1 <= 160 and 0 <= y0 < y1 <= 120
        if abs(t - (ride.t_doors_open_src - 1.0)) < 0.3:
            # Facing the closed door from 1 m: the door box spans most of the image.
            door = next(b for b in boxes if b[4] == 'elevator_door')
            assert (door[2] - door[0]) > 60 and (door[3] - door[1]) > 80
            # The seam between the closed leaves: a dark column inside the door box.
            cols = img[door[1] : door[3], door[0] : door[2]].mean(axis=(0, 2))
            assert cols.min() < 0.9 * np.median(cols)
            assert abs(int(cols.argmin()) - len(cols) / 2) < len(cols) / 10
            seen_door += 1
        if not boxes:
            seen_none += 1
    assert seen_door >= 1
    assert seen_none > 10


def test_shipped_model_sees_the_car_interior_in_simulated_in_car_frames() -> None:
    from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector
    from multifloor_slam.elevators.state import StateParams

    building = make_building(BuildingConfig(floors=3, seed=0))
    traj = plan_tour(building, TourConfig(visits=4, rooms_per_visit=0), np.random.default_rng(0))
    model = CameraModel()
    rng = np.random.default_rng(0)
    frames = []
    for _, scene in camera_scenes(Scene(building), traj, model, 1.0):
        if scene.inside_car:
            frames.append((scene.ride, render_camera_view(scene, rng)))
    rides = {r for r, _ in frames}
    assert len(rides) >= 2
    # A few frames of every ride: each ride has its own car.
    picked = [img for r in sorted(rides) for img in [f for q, f in frames if q == r][:4]]
    det = ElevatorDetector(DetectorParams(device='cpu'))
    min_area = StateParams().inside_area
    seen = [
        any(
            d.class_name == 'elevator_interior' and d.area_fraction(img.shape) >= min_area
            for d in det.detect(img)
        )
        for img in picked
    ]
    assert sum(seen) >= 0.7 * len(picked), f'interior seen in {sum(seen)} of {len(picked)}'
