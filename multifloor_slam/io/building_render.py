"""Pictures of a building: all floors on one pixel grid, and the floors side by side with links."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.errors import MapFileError
from multifloor_slam.io.nav2_map import PIXEL_UNKNOWN, trinary_image
from multifloor_slam.maps.building import Building
from multifloor_slam.maps.occupancy_layer import OccupancyLayer

if TYPE_CHECKING:  # the route planner (scipy) is imported only to draw a route
    from multifloor_slam.navigation.routes import Route

Color = tuple[int, int, int]

_PALETTE: list[Color] = [
    (0, 0, 220),
    (0, 160, 0),
    (220, 0, 0),
    (0, 140, 220),
    (160, 0, 160),
    (0, 160, 160),
]


def encode_png(img: NDArray[np.uint8], name: str = 'PNG') -> bytes:
    """PNG bytes of an image.

    Raises:
        MapFileError: OpenCV cannot encode it (for example far too large); ``name`` is named.
    """
    try:
        ok, buf = cv2.imencode('.png', img)
    except cv2.error as err:
        raise MapFileError(
            f'PNG encoding of {name} failed ({img.shape[1]} x {img.shape[0]} px)'
        ) from err
    if not ok:
        raise MapFileError(f'PNG encoding of {name} failed ({img.shape[1]} x {img.shape[0]} px)')
    return buf.tobytes()


class Canvas:
    """All floors on one pixel grid (one pixel = one cell, row 0 = top)."""

    def __init__(self, building: Building) -> None:
        boxes = []
        for fl in building.floors.values():
            if fl.layer.shape[0]:
                r0, c0 = fl.layer.cell_offset
                h, w = fl.layer.shape
                boxes.append((r0, c0, r0 + h, c0 + w))
        self.res = building.resolution
        if boxes:
            self.r0 = min(b[0] for b in boxes)
            self.c0 = min(b[1] for b in boxes)
            self.r1 = max(b[2] for b in boxes)
            self.c1 = max(b[3] for b in boxes)
        else:
            self.r0 = self.c0 = 0
            self.r1 = self.c1 = 1

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the common grid."""
        return self.r1 - self.r0, self.c1 - self.c0

    def image(self, layer: OccupancyLayer) -> NDArray[np.uint8]:
        """The layer's trinary image placed on the common grid."""
        out = np.full(self.shape, PIXEL_UNKNOWN, np.uint8)
        if layer.shape[0]:
            r0, c0 = layer.cell_offset
            h, w = layer.shape
            top = self.r1 - (r0 + h)
            out[top : top + h, c0 - self.c0 : c0 - self.c0 + w] = trinary_image(layer)
        return out

    def pixel(self, x: float, y: float) -> tuple[float, float]:
        """Continuous pixel coordinates (u right, v down) of a floor-frame point."""
        return x / self.res - self.c0, self.r1 - y / self.res


@dataclass(frozen=True)
class Layout:
    """Where each floor's panel lies in a picture: canvas, scale, panel corner per floor index.

    ``crop`` (u0, v0) is the canvas pixel at each panel's top-left corner (0, 0 when uncropped).
    """

    canvas: Canvas
    scale: float
    corners: dict[int, tuple[int, int]]
    crop: tuple[int, int] = (0, 0)

    def point(self, floor: int, x: float, y: float) -> tuple[int, int]:
        """Picture pixel of a floor-frame point on that floor's panel."""
        u, v = self.canvas.pixel(x, y)
        x0, y0 = self.corners[floor]
        u0, v0 = self.crop
        return x0 + round((u - u0) * self.scale), y0 + round((v - v0) * self.scale)


def _known_box(canvas: Canvas, images: list[NDArray[np.uint8]], margin: int) -> tuple[int, ...]:
    """(v0, v1, u0, u1): the canvas window holding every floor's known cells, plus a margin."""
    known = np.zeros(canvas.shape, bool)
    for im in images:
        known |= im != PIXEL_UNKNOWN
    rows, cols = np.nonzero(known)
    h, w = canvas.shape
    if not len(rows):
        return 0, h, 0, w
    return (
        max(0, int(rows.min()) - margin),
        min(h, int(rows.max()) + 1 + margin),
        max(0, int(cols.min()) - margin),
        min(w, int(cols.max()) + 1 + margin),
    )


def _panels(
    building: Building, max_panel_px: int, crop: bool = False
) -> tuple[NDArray[np.uint8], Layout]:
    """The floors side by side (lowest left) on one scale, with their titles.

    ``crop`` cuts every panel to the window of known cells over all floors (plus 1 m).
    """
    canvas = Canvas(building)
    floors = sorted(building.floors.items())
    images = [canvas.image(fl.layer) for _, fl in floors]
    v0, v1, u0, u1 = 0, canvas.shape[0], 0, canvas.shape[1]
    if crop:
        v0, v1, u0, u1 = _known_box(canvas, images, round(1.0 / canvas.res))
    h, w = v1 - v0, u1 - u0
    scale = min(1.0, max_panel_px / max(h, w))
    ph, pw = max(1, round(h * scale)), max(1, round(w * scale))
    head, gap = 40, 12
    n = max(1, len(floors))
    img = np.full((ph + head + gap, n * (pw + gap) + gap, 3), 255, np.uint8)
    corners: dict[int, tuple[int, int]] = {}
    for k, ((index, fl), image) in enumerate(zip(floors, images, strict=True)):
        x0 = gap + k * (pw + gap)
        corners[index] = (x0, head)
        window = image[v0:v1, u0:u1]
        panel = cv2.resize(window, (pw, ph), interpolation=cv2.INTER_AREA)
        img[head : head + ph, x0 : x0 + pw] = panel[:, :, None]
        cv2.rectangle(img, (x0 - 1, head - 1), (x0 + pw, head + ph), (120, 120, 120), 1)
        text = f'{fl.label}  z={fl.elevation_m:.2f} m'
        cv2.putText(img, text, (x0 + 4, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2)
    return img, Layout(canvas, scale, corners, (u0, v0))


def render_building(building: Building, max_panel_px: int = 900) -> NDArray[np.uint8]:
    """A BGR picture: the floors side by side (lowest left) on one scale, links drawn."""
    img, layout = _panels(building, max_panel_px)
    _draw_links(img, building, layout)
    return img


def _draw_links(img: NDArray[np.uint8], building: Building, layout: Layout) -> None:
    anchors: dict[int, list[tuple[int, int]]] = {}
    for index in sorted(building.floors):
        for link in building.links:
            pos = link.positions.get(index)
            if pos is None:
                continue
            pt = layout.point(index, *pos)
            color = _PALETTE[link.id % len(_PALETTE)]
            cv2.circle(img, pt, 7, color, 2)
            cv2.putText(
                img, f'E{link.id}', (pt[0] + 9, pt[1] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1
            )
            anchors.setdefault(link.id, []).append(pt)
    for link_id, pts in anchors.items():
        color = _PALETTE[link_id % len(_PALETTE)]
        for a, b in itertools.pairwise(pts):
            cv2.line(img, a, b, color, 1, cv2.LINE_AA)


_ROUTE = (0, 110, 255)  # orange (BGR): drive legs
_RIDE = (200, 0, 200)  # magenta: rides


def render_route(building: Building, route: Route, max_panel_px: int = 900) -> NDArray[np.uint8]:
    """The building picture with a route over it: drive legs on their floors, rides between them.

    The start is a green disc, the goal a red one; each ride is an arc from the boarding pose on
    one panel to the leaving pose on another, labelled with the elevator and floors.

    Raises:
        MapFileError: the route names a floor the building does not have.
    """
    from multifloor_slam.navigation.routes import DriveLeg

    img, layout = _panels(building, max_panel_px, crop=True)
    _draw_links(img, building, layout)
    for leg in route.legs:
        floors = [leg.floor] if isinstance(leg, DriveLeg) else [leg.from_floor, leg.to_floor]
        missing = [f for f in floors if f not in layout.corners]
        if missing:
            raise MapFileError(f'the route uses floor {missing[0]}, which the building lacks')
    for leg in route.legs:
        if isinstance(leg, DriveLeg):
            pts = np.array([layout.point(leg.floor, x, y) for x, y in leg.waypoints], np.int32)
            cv2.polylines(img, [pts.reshape(-1, 1, 2)], False, _ROUTE, 3, cv2.LINE_AA)
            for p in pts[1:-1]:
                cv2.circle(img, (int(p[0]), int(p[1])), 3, _ROUTE, -1, cv2.LINE_AA)
        else:
            a = layout.point(leg.from_floor, *leg.board_pose[:2])
            b = layout.point(leg.to_floor, *leg.leave_pose[:2])
            _arc(img, a, b, _RIDE)
            for p, yaw in ((a, leg.board_pose[2]), (b, leg.leave_pose[2])):
                tip = (p[0] + round(14 * np.cos(yaw)), p[1] - round(14 * np.sin(yaw)))
                cv2.arrowedLine(img, p, tip, _RIDE, 2, cv2.LINE_AA, tipLength=0.4)
            top = min(a[1], b[1]) - round(_lift(a, b)) - 8
            mid = ((a[0] + b[0]) // 2 - 45, max(top, 14))
            text = f'E{leg.elevator} {leg.from_label}->{leg.to_label}'
            cv2.putText(img, text, mid, cv2.FONT_HERSHEY_SIMPLEX, 0.55, _RIDE, 2, cv2.LINE_AA)
    s = layout.point(route.start[0], route.start[1], route.start[2])
    g = layout.point(route.goal[0], route.goal[1], route.goal[2])
    cv2.circle(img, s, 8, (0, 170, 0), -1, cv2.LINE_AA)
    cv2.circle(img, g, 8, (0, 0, 230), -1, cv2.LINE_AA)
    cv2.putText(
        img, 'start', (s[0] + 10, s[1] + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 120, 0), 2
    )
    cv2.putText(img, 'goal', (g[0] + 10, g[1] + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 200), 2)
    return img


def _lift(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Height (px) of a ride's arc above its higher end."""
    return 25.0 + 0.1 * abs(b[0] - a[0])


def _arc(img: NDArray[np.uint8], a: tuple[int, int], b: tuple[int, int], color: Color) -> None:
    """A dashed arc over the panels from a to b (a ride between two floors)."""
    t = np.linspace(0.0, 1.0, 41)
    lift = _lift(a, b)
    x = a[0] + (b[0] - a[0]) * t
    y = a[1] + (b[1] - a[1]) * t - lift * 4.0 * t * (1.0 - t)
    pts = np.stack([x, y], axis=1).round().astype(np.int32)
    for k in range(0, len(pts) - 1, 2):
        p, q = pts[k], pts[k + 1]
        cv2.line(img, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), color, 2, cv2.LINE_AA)


__all__ = ['Canvas', 'Layout', 'encode_png', 'render_building', 'render_route']
