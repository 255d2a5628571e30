"""Pictures of a building: all floors on one pixel grid, and the floors side by side with links."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.errors import MapFileError
from multifloor_slam.io.nav2_map import PIXEL_UNKNOWN, trinary_image
from multifloor_slam.maps.building import Building
from multifloor_slam.maps.occupancy_layer import OccupancyLayer

_PALETTE = [(0, 0, 220), (0, 160, 0), (220, 0, 0), (0, 140, 220), (160, 0, 160), (0, 160, 160)]


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


def render_building(building: Building, max_panel_px: int = 900) -> NDArray[np.uint8]:
    """A BGR picture: the floors side by side (lowest left) on one scale, links drawn."""
    canvas = Canvas(building)
    h, w = canvas.shape
    scale = min(1.0, max_panel_px / max(h, w))
    ph, pw = max(1, round(h * scale)), max(1, round(w * scale))
    head, gap = 40, 12
    floors = sorted(building.floors.items())
    n = max(1, len(floors))
    img = np.full((ph + head + gap, n * (pw + gap) + gap, 3), 255, np.uint8)
    anchors: dict[int, list[tuple[int, int]]] = {}
    for k, (_, fl) in enumerate(floors):
        x0 = gap + k * (pw + gap)
        panel = cv2.resize(canvas.image(fl.layer), (pw, ph), interpolation=cv2.INTER_AREA)
        img[head : head + ph, x0 : x0 + pw] = panel[:, :, None]
        cv2.rectangle(img, (x0 - 1, head - 1), (x0 + pw, head + ph), (120, 120, 120), 1)
        text = f'{fl.label}  z={fl.elevation_m:.2f} m'
        cv2.putText(img, text, (x0 + 4, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2)
        for link in building.links:
            pos = link.positions.get(fl.index)
            if pos is None:
                continue
            u, v = canvas.pixel(*pos)
            pt = (x0 + round(u * scale), head + round(v * scale))
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
    return img


__all__ = ['Canvas', 'encode_png', 'render_building']
