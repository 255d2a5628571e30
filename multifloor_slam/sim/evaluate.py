"""Score a processed building against the simulator's ground truth.

Used by the demo, the end-to-end test and ``benchmarks/end_to_end.py``. Map layers are compared
with a reference built from the same scans at the TRUE poses, so a wall the robot never saw is
not counted as missed; contamination is checked against the full floor plan.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.core.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.core.scan_geometry import scan_points, transform_points
from multifloor_slam.io.records import ScanRecord
from multifloor_slam.sim.ground_truth import GroundTruth

_KERNEL = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class FloorScore:
    """Map quality of one floor."""

    label: str
    occupied_iou: float
    free_iou: float
    contamination: float
    link_error_m: float
    elevation_error_m: float


@dataclass(frozen=True)
class FloorAccuracy:
    """How well the floor estimate followed the truth."""

    parked_time_correct: float
    rides_true: int
    rides_found: int
    rides_correct: int
    false_rides: int

    @property
    def ride_accuracy(self) -> float:
        """Correct rides (right from/to floor) over true rides."""
        return self.rides_correct / self.rides_true if self.rides_true else 1.0


def floor_accuracy(
    trace: Sequence[tuple[float, int, bool]],
    rides: Sequence[dict[str, Any]],
    truth: GroundTruth,
    match_window_s: float = 20.0,
) -> FloorAccuracy:
    """Compare the published floor (``trace``: t, floor, riding) and ride events with the truth."""
    t_est = np.array([s[0] for s in trace])
    f_est = np.array([s[1] for s in trace])
    parked = ~(truth.riding | truth.inside_car)
    k = np.clip(np.searchsorted(t_est, truth.t, side='right') - 1, 0, len(t_est) - 1)
    correct = f_est[k][parked] == truth.floor[parked]
    true_rides = truth.rides
    used: set[int] = set()
    n_correct = 0
    for r in true_rides:
        for j, e in enumerate(rides):
            if j in used or abs(e['t_end'] - r['t_end']) > match_window_s:
                continue
            used.add(j)
            n_correct += int(e['from_floor'] == r['from'] and e['to_floor'] == r['to'])
            break
    return FloorAccuracy(
        parked_time_correct=float(correct.mean()) if correct.size else 0.0,
        rides_true=len(true_rides),
        rides_found=len(used),
        rides_correct=n_correct,
        false_rides=len(rides) - len(used),
    )


def reference_layers(
    scans: Iterable[ScanRecord], truth: GroundTruth, params: LayerParams
) -> dict[int, OccupancyLayer]:
    """Occupancy layers from the recorded scans at the true poses (not in a car)."""
    layers: dict[int, OccupancyLayer] = {}
    for s in scans:
        i = int(np.clip(np.searchsorted(truth.t, s.t), 0, len(truth.t) - 1))
        if truth.inside_car[i] or truth.riding[i]:
            continue
        x, y, yaw = truth.x[i], truth.y[i], truth.yaw[i]
        pts = scan_points(s.ranges, s.angle_min, s.angle_increment, s.range_min, s.range_max)
        if pts.free_xy.shape[0] < 2:
            continue
        free = transform_points(pts.free_xy, (x, y, yaw))
        layer = layers.setdefault(int(truth.floor[i]), OccupancyLayer(params))
        layer.integrate((x, y), free, pts.hit, pts.full_circle)
    return layers


def _on_grid(
    mask: NDArray[np.bool_],
    src_off: tuple[int, int],
    dst_off: tuple[int, int],
    dst_shape: tuple[int, int],
) -> NDArray[np.bool_]:
    """``mask`` (cell (row, col) offset ``src_off``) cut onto another grid."""
    out = np.zeros(dst_shape, bool)
    dr, dc = src_off[0] - dst_off[0], src_off[1] - dst_off[1]
    h, w = mask.shape
    r0, c0 = max(0, dr), max(0, dc)
    r1, c1 = min(dst_shape[0], dr + h), min(dst_shape[1], dc + w)
    if r1 > r0 and c1 > c0:
        out[r0:r1, c0:c1] = mask[r0 - dr : r1 - dr, c0 - dc : c1 - dc]
    return out


def _plan_walls(
    truth: GroundTruth, label: str, res: float, off: tuple[int, int], shape: tuple[int, int]
) -> NDArray[np.bool_]:
    """The floor plan's occupied cells on the layer's grid (plan origin at 0, 0)."""
    import yaml

    meta = yaml.safe_load(truth.map_yaml(label).read_text())
    img = cv2.imread(str(truth.folder / meta['image']), cv2.IMREAD_GRAYSCALE)
    occ = np.flipud(img == 0)  # image row 0 is the top
    if abs(meta['resolution'] - res) > 1e-9:
        size = (
            round(occ.shape[1] * meta['resolution'] / res),
            round(occ.shape[0] * meta['resolution'] / res),
        )
        occ = cv2.resize(occ.view(np.uint8), size, interpolation=cv2.INTER_NEAREST).view(bool)
    ox, oy = meta['origin'][0], meta['origin'][1]
    return _on_grid(occ, (round(oy / res), round(ox / res)), off, shape)


def _car_cells(
    truth: GroundTruth, res: float, off: tuple[int, int], shape: tuple[int, int]
) -> NDArray[np.bool_]:
    """Cells inside the elevator cars (inner 80 % of each shaft footprint)."""
    mask = np.zeros(shape, bool)
    for e in truth.elevators:
        hw, hd = 0.4 * e['width'], 0.4 * e['depth']
        c0, c1 = round((e['x'] - hw) / res) - off[1], round((e['x'] + hw) / res) - off[1]
        r0, r1 = round((e['y'] - hd) / res) - off[0], round((e['y'] + hd) / res) - off[0]
        mask[max(0, r0) : max(0, r1), max(0, c0) : max(0, c1)] = True
    return mask


def map_quality(
    mapper: Any, truth: GroundTruth, refs: dict[int, OccupancyLayer]
) -> list[FloorScore]:
    """Per-floor map scores against the truth.

    * occupied IoU: occupied cells within one cell of a wall seen from the true poses are hits,
      the others false positives; seen wall cells with no occupied cell within one cell are misses;
    * free IoU: free cells against those of the true-pose reference, away from walls;
    * contamination: share of occupied cells that lie on another floor's walls or inside a car
      and more than two cells from any wall of this floor;
    * link error: the largest distance from a link's car position on this floor to the nearest
      true shaft centre; elevation error against the true floor elevation.
    """
    scores = []
    shafts = [(e['x'], e['y']) for e in truth.elevators]
    elevations = {f['index']: f['elevation'] for f in truth.floors}
    labels = {f['index']: f['label'] for f in truth.floors}
    for index, fl in sorted(mapper.floors.items()):
        layer = fl.layer
        res, off, shape = layer.resolution, layer.cell_offset, layer.shape
        occ = layer.occupied_mask()
        walls = _plan_walls(truth, labels.get(index, fl.label), res, off, shape)
        walls_d = cv2.dilate(walls.view(np.uint8), _KERNEL).view(bool)
        walls_far = ~cv2.dilate(walls.view(np.uint8), _KERNEL, iterations=2).view(bool)
        foreign = _car_cells(truth, res, off, shape)
        for other, label in labels.items():
            if other != index:
                w = _plan_walls(truth, label, res, off, shape)
                foreign |= cv2.dilate(w.view(np.uint8), _KERNEL).view(bool)
        occ_d = cv2.dilate(occ.view(np.uint8), _KERNEL).view(bool)
        ref = refs.get(index)
        occ_iou = free_iou = 0.0
        if ref is not None:
            seen = _on_grid(ref.occupied_mask(), ref.cell_offset, off, shape)
            seen_d = cv2.dilate(seen.view(np.uint8), _KERNEL).view(bool)
            tp = int((occ & seen_d).sum())
            fp = int((occ & ~seen_d).sum())
            fn = int((seen & ~occ_d).sum())
            occ_iou = tp / max(1, tp + fp + fn)
            ref_free = _on_grid(ref.free_mask(), ref.cell_offset, off, shape) & ~walls_d
            free = layer.free_mask() & ~walls_d
            union = int((ref_free | free).sum())
            free_iou = int((ref_free & free).sum()) / union if union else 0.0
        errs = [
            min(
                math.hypot(link.positions[index][0] - x, link.positions[index][1] - y)
                for x, y in shafts
            )
            for link in mapper.links
            if index in link.positions
        ]
        scores.append(
            FloorScore(
                label=fl.label,
                occupied_iou=occ_iou,
                free_iou=free_iou,
                contamination=int((occ & foreign & walls_far).sum()) / max(1, int(occ.sum())),
                link_error_m=max(errs) if errs else float('nan'),
                elevation_error_m=abs(float(fl.elevation_m) - elevations.get(index, math.nan)),
            )
        )
    return scores
