"""Score a building's layers against the simulator's ground truth (tests and benchmarks)."""

from __future__ import annotations

import cv2
import numpy as np
import yaml

from multifloor_slam.io.building_files import decode_pgm
from multifloor_slam.maps.building import Building
from multifloor_slam.sim.ground_truth import GroundTruth

KERNEL = np.ones((3, 3), np.uint8)


def _dilate(mask: np.ndarray) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), KERNEL).astype(bool)


def place(
    mask: np.ndarray,
    offset: tuple[int, int],
    dst_off: tuple[int, int],
    dst_shape: tuple[int, int],
) -> np.ndarray:
    """``mask`` whose cell (0, 0) has global (row, col) ``offset``, cut onto another grid."""
    out = np.zeros(dst_shape, bool)
    dr, dc = offset[0] - dst_off[0], offset[1] - dst_off[1]
    h, w = mask.shape
    r0, c0 = max(0, dr), max(0, dc)
    r1, c1 = min(dst_shape[0], dr + h), min(dst_shape[1], dc + w)
    if r1 > r0 and c1 > c0:
        out[r0:r1, c0:c1] = mask[r0 - dr : r1 - dr, c0 - dc : c1 - dc]
    return out


def score_building(
    building: Building, gt: GroundTruth, truth_floor: dict[int, int] | None = None
) -> dict[str, dict[str, float]]:
    """Score a building's layers against the simulator's ground truth, per floor label.

    ``building`` is a loaded building or a mapper's ``.building``.

    occupied IoU: a layer's occupied cell is right within one cell of a true wall cell; misses
    are true wall cells next to space the layer saw free (the visible wall surface) with no
    occupied cell within one cell. free IoU: free cells of layer and truth (away from walls)
    inside the area the layer observed. spurious: occupied cells more than one cell from any true
    wall of that floor (pose-noise smear included). contamination: the spurious cells that lie on
    another floor's walls or inside an elevator car. link error: distance from each link's car
    position on the floor to the nearest true elevator centre.

    ``truth_floor`` maps an estimated floor index to the true one (see
    :func:`multifloor_slam.sim.evaluate.floor_accuracy`); by default they are the same. A layer
    with no true floor is reported with ``nan`` scores.
    """
    out: dict[str, dict[str, float]] = {}
    shafts = [(e['x'], e['y']) for e in gt.elevators]
    true_label = {int(f['index']): f['label'] for f in gt.floors}
    labels = set(true_label.values())
    for index, fl in sorted(building.floors.items()):
        label = true_label.get((truth_floor or {}).get(index, index))
        if label is None:
            out[fl.label] = dict.fromkeys(
                ('occupied_iou', 'free_iou', 'spurious', 'contamination', 'link_error_m'),
                float('nan'),
            )
            continue
        layer = fl.layer
        meta = yaml.safe_load(gt.map_yaml(label).read_text())
        img = decode_pgm((gt.map_yaml(label).parent / meta['image']).read_bytes())[::-1]
        res = float(meta['resolution'])
        if abs(res - layer.resolution) > 1e-9:
            raise ValueError('score at the simulator resolution (MapperParams.resolution)')
        g_off = (round(meta['origin'][1] / res), round(meta['origin'][0] / res))
        off, shape = layer.cell_offset, layer.shape
        g_occ = place(img == 0, g_off, off, shape)
        g_free = place(img == 254, g_off, off, shape)
        occ, free = layer.occupied_mask(), layer.free_mask()
        g_occ_d = _dilate(g_occ)
        other = np.zeros(shape, bool)
        for lab in labels - {label}:
            om = yaml.safe_load(gt.map_yaml(lab).read_text())
            oimg = decode_pgm((gt.map_yaml(lab).parent / om['image']).read_bytes())[::-1]
            o_off = (round(om['origin'][1] / res), round(om['origin'][0] / res))
            other |= place(oimg == 0, o_off, off, shape)
        car = np.zeros(shape, bool)
        for e in gt.elevators:
            c0 = int((e['x'] - e['width'] / 2) / res) - off[1]
            c1 = int((e['x'] + e['width'] / 2) / res) - off[1]
            r0 = int((e['y'] - e['depth'] / 2) / res) - off[0]
            r1 = int((e['y'] + e['depth'] / 2) / res) - off[0]
            car[max(r0, 0) : max(r1, 0), max(c0, 0) : max(c1, 0)] = True
        foreign = _dilate(other) | car
        surface = g_occ & _dilate(free)
        tp = int((occ & g_occ_d).sum())
        fp = int((occ & ~g_occ_d).sum())
        fn = int((surface & ~_dilate(occ)).sum())
        seen = _dilate(occ | free) & ~g_occ_d
        union = int(((free | g_free) & seen).sum())
        errs = [
            min(
                np.hypot(link.positions[index][0] - x, link.positions[index][1] - y)
                for x, y in shafts
            )
            for link in building.links
            if index in link.positions
        ]
        out[fl.label] = {
            'occupied_iou': tp / max(1, tp + fp + fn),
            'free_iou': int((free & g_free & seen).sum()) / max(1, union),
            'spurious': fp / max(1, int(occ.sum())),
            'contamination': int((occ & ~g_occ_d & foreign).sum()) / max(1, int(occ.sum())),
            'link_error_m': max(errs) if errs else float('nan'),
            'occupied_cells': int(occ.sum()),
        }
    return out


__all__ = ['place', 'score_building']
