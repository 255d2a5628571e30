"""``render_route``: the route's legs drawn on their floors' panels, a ride arc between them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from route_building import make_building

from multifloor_slam.errors import MapFileError
from multifloor_slam.io.building_render import encode_png, render_building, render_route
from multifloor_slam.navigation.routes import DriveLeg, plan_route

ORANGE = np.array([0, 110, 255])  # drive legs (BGR)
MAGENTA = np.array([200, 0, 200])  # rides


def _has(img: np.ndarray, color: np.ndarray) -> np.ndarray:
    return np.all(img == color, axis=2)


def test_drive_legs_land_on_their_floor_panels_and_a_ride_joins_them() -> None:
    b = make_building({0: (3.0, (0, 1))})
    route = plan_route(b, 0, (10.0, 2.0), 1, (15.0, 2.0))
    img = render_route(b, route, max_panel_px=400)
    half = img.shape[1] // 2
    orange = _has(img, ORANGE)
    assert orange[:, :half].sum() > 20 and orange[:, half:].sum() > 20  # a leg on each floor
    assert _has(img, MAGENTA).sum() > 20
    # The L0 leg runs from x = 10 m towards the car at x = 3 m: left part of the left panel.
    cols = np.nonzero(orange[:, :half].any(axis=0))[0]
    assert cols.max() < 0.6 * half
    png = encode_png(img)
    assert cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).shape == img.shape


def test_a_same_floor_route_leaves_the_other_panel_clean() -> None:
    b = make_building({0: (3.0, (0, 1))})
    route = plan_route(b, 1, (6.0, 2.0), 1, (20.0, 2.0))
    img = render_route(b, route, max_panel_px=400)
    half = img.shape[1] // 2
    assert not _has(img, ORANGE)[:, :half].any() and _has(img, ORANGE)[:, half:].any()
    assert not _has(img, MAGENTA).any()


def test_the_building_picture_is_unchanged_by_the_route_code() -> None:
    b = make_building({0: (3.0, (0, 1))})
    img = render_building(b, max_panel_px=400)
    assert img.shape == (80 + 40 + 12, 2 * (240 + 12) + 12, 3)  # full canvas, one cell a pixel


def test_a_route_on_a_floor_the_building_lacks_is_refused() -> None:
    b = make_building({0: (3.0, (0, 1))})
    route = plan_route(b, 0, (6.0, 2.0), 0, (20.0, 2.0))
    leg = route.legs[0]
    assert isinstance(leg, DriveLeg)
    route.legs[0] = DriveLeg(5, 'L5', leg.waypoints, leg.length_m)
    with pytest.raises(MapFileError, match='floor 5'):
        render_route(b, route)
