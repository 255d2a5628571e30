"""Global registration of a revisit against its floor's layer, verified before anything is merged.

The elevator anchor's heading may be wrong (no odometry, a SLAM reset, another elevator), so a
revisit is not registered by ICP from the anchor alone:

1. **Correlative search.** The revisit's hits are rasterised at ``coarse_res_m`` and matched to a
   likelihood field of the layer's walls (``exp(-d^2 / 2 sigma^2)`` of the distance to the nearest
   occupied cell) for every heading in a window about the anchor's, each heading's best
   translation within ``search_radius_m`` found at once by ``cv2.matchTemplate``. First a narrow
   window (``narrow_deg``: the anchor's heading is usually right, from odometry), then, if nothing
   there verifies, every heading.
2. **ICP** (:func:`multifloor_slam.maps.alignment.align_points`) refines the best few candidates.
0. **An anchor that already fits** (``icp.large_fitness`` of the hits the layer saw lie on its
   walls) is kept, refined only by ICP within its own limits: the search is for anchors that
   are off (a car stand 0.5 m from the last one, a heading from drifting odometry).
3. **Verification.** A candidate is accepted only when enough of the revisit's hits lie on the
   layer's walls (fitness), the residual is small (RMSE), few hits land on cells the layer has
   seen free well away from any wall (``max_free_conflict``: a revisit must not put walls where
   the layer saw free space), and no clearly different candidate verifies nearly as well (a
   symmetric corridor is ambiguous, not a match).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from multifloor_slam.maps.alignment import (
    AlignmentResult,
    IcpParams,
    align_points,
    wall_constraint,
)
from multifloor_slam.maps.occupancy_layer import OccupancyLayer
from multifloor_slam.maps.scan_geometry import Pose, se2_compose, transform_points, wrap_angle

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class RegistrationParams:
    """Settings of :func:`register`.

    Attributes:
        search_radius_m: translations searched about the anchor (m).
        narrow_deg: the first search covers the anchor heading +- this (deg).
        yaw_step_deg: heading step of the search (deg).
        coarse_res_m: cell size of the correlative search (m).
        candidates: this many best headings are refined by ICP and verified.
        max_free_conflict: largest share of the revisit's hits that may land on cells the layer
            saw free (more than one cell from any of its walls).
        ambiguity_margin: a second candidate further than 0.5 m / 5 deg that verifies with a
            fitness within this of the best makes the match ambiguous (refused).
        peak_margin: a heading's second peak (further than ``distinct_m`` from its best) scoring
            within this share of the best is refined and verified too (a corridor, a repeated
            structure): the ambiguity check then decides between them on the refined fitness.
        distinct_m: poses closer than this (m) to the best one are the same peak.
        min_constraint: a correction larger than the ICP's fine distance must be pinned in every
            direction: the smallest eigenvalue of the matched hits' mean wall-normal outer
            product (0: all walls parallel, a corridor; 0.5: walls in all directions).
        match_range_m: only hits this close (m) to their laser are matched (far ones add
            angle noise, and time).
        car_clear_m: hits this close (m) to where the robot stood in the car are not matched
            (the car's walls; the last visit may have seen the empty shaft instead).
    """

    search_radius_m: float = 3.0
    narrow_deg: float = 15.0
    yaw_step_deg: float = 1.0
    coarse_res_m: float = 0.1
    candidates: int = 4
    max_free_conflict: float = 0.05
    ambiguity_margin: float = 0.03
    peak_margin: float = 0.15
    distinct_m: float = 0.5
    min_constraint: float = 0.08
    match_range_m: float = 20.0
    car_clear_m: float = 2.2


def _field(layer: OccupancyLayer, bbox: tuple[float, float, float, float], res: float):
    """Likelihood field of the layer's walls over ``bbox`` at ``res`` (rows = y up)."""
    xmin, ymin, xmax, ymax = bbox
    w = math.ceil((xmax - xmin) / res) + 1
    h = math.ceil((ymax - ymin) / res) + 1
    img = np.zeros((h, w), np.uint8)
    pts = layer.occupied_points(bbox)
    if len(pts):
        c = ((pts[:, 0] - xmin) / res).astype(int)
        r = ((pts[:, 1] - ymin) / res).astype(int)
        ok = (c >= 0) & (c < w) & (r >= 0) & (r < h)
        img[r[ok], c[ok]] = 1
    d = cv2.distanceTransform((1 - img).astype(np.uint8), cv2.DIST_L2, 3)
    return np.exp(-0.5 * d**2).astype(np.float32)  # sigma: one coarse cell


def correlative_search(
    src: FloatArray,
    pivot: tuple[float, float],
    layer: OccupancyLayer,
    yaws: FloatArray,
    params: RegistrationParams,
) -> list[tuple[float, Pose, float, Pose]]:
    """(score, correction, second, its correction) per heading in ``yaws``.

    The correction rotates ``src`` about ``pivot`` by that heading and shifts it by the best
    translation within ``search_radius_m``.

    The score is the mean likelihood of the shifted source cells (0..1); ``second`` is the best
    score at that heading further than ``distinct_m`` from the best translation (a corridor's
    or a repeated structure's other peak).
    """
    res = params.coarse_res_m
    rad = math.ceil(params.search_radius_m / res)
    reach = float(np.max(np.hypot(src[:, 0] - pivot[0], src[:, 1] - pivot[1]))) + 1.0
    pad = reach + params.search_radius_m + 1.0
    x0, y0 = pivot[0] - pad, pivot[1] - pad
    field = _field(layer, (x0, y0, pivot[0] + pad, pivot[1] + pad), res)
    h, w = field.shape
    out = []
    gap = max(1, math.ceil(params.distinct_m / res))
    for yaw in yaws:
        corr0 = _about(pivot, float(yaw))
        p = transform_points(src, corr0)
        c = np.floor((p[:, 0] - x0) / res).astype(int)
        r = np.floor((p[:, 1] - y0) / res).astype(int)
        c0, r0 = int(c.min()), int(r.min())
        tw, th = int(c.max()) - c0 + 1, int(r.max()) - r0 + 1
        tmpl = np.zeros((th, tw), np.float32)
        tmpl[r - r0, c - c0] = 1.0
        n = float(tmpl.sum())
        ra, ca = r0 - rad, c0 - rad
        if ra < 0 or ca < 0 or ra + th + 2 * rad > h or ca + tw + 2 * rad > w:
            continue
        win = field[ra : ra + th + 2 * rad, ca : ca + tw + 2 * rad]
        resp = cv2.matchTemplate(win, tmpl, cv2.TM_CCORR)
        _, best, _, (bc, br) = cv2.minMaxLoc(resp)
        rr, cc = np.ogrid[: resp.shape[0], : resp.shape[1]]
        others = np.where((rr - br) ** 2 + (cc - bc) ** 2 > gap**2, resp, -1.0)
        _, second, _, (sc, sr) = cv2.minMaxLoc(others)
        dx, dy = (bc - rad) * res, (br - rad) * res
        dx2, dy2 = (sc - rad) * res, (sr - rad) * res
        out.append(
            (
                best / n,
                (corr0[0] + dx, corr0[1] + dy, corr0[2]),
                max(second, 0.0) / n,
                (corr0[0] + dx2, corr0[1] + dy2, corr0[2]),
            )
        )
    return out


def _about(pivot: tuple[float, float], yaw: float) -> Pose:
    """The rotation by ``yaw`` about ``pivot`` as an SE(2) transform."""
    c, s = math.cos(yaw), math.sin(yaw)
    px, py = pivot
    return (px - (c * px - s * py), py - (s * px + c * py), yaw)


def _on_mask(layer: OccupancyLayer, mask: NDArray[np.bool_], pts: FloatArray) -> NDArray[np.bool_]:
    """Which of ``pts`` fall on a True cell of ``mask`` (a mask the shape of the layer)."""
    res = layer.resolution
    row0, col0 = layer.cell_offset
    c = np.floor(pts[:, 0] / res).astype(int) - col0
    r = np.floor(pts[:, 1] / res).astype(int) - row0
    ok = (r >= 0) & (r < mask.shape[0]) & (c >= 0) & (c < mask.shape[1])
    out = np.zeros(len(pts), bool)
    out[ok] = mask[r[ok], c[ok]]
    return out


def free_conflict(layer: OccupancyLayer, hits: FloatArray) -> float:
    """Share of ``hits`` on cells the layer saw free, more than one cell from its walls."""
    if len(hits) == 0 or layer.empty:
        return 0.0
    occ = layer.occupied_mask().astype(np.uint8)
    deep = layer.free_mask() & (cv2.dilate(occ, np.ones((3, 3), np.uint8)) == 0)
    return float(np.sum(_on_mask(layer, deep, hits))) / len(hits)


def overlap_fitness(
    layer: OccupancyLayer, hits: FloatArray, walls: FloatArray, max_dist: float
) -> tuple[float, int]:
    """(share of the hits the layer has seen that lie within ``max_dist`` of ``walls``, count).

    Hits in space the layer never saw (a new room entered on the revisit) neither confirm nor
    refute a pose (``free_conflict`` covers hits on seen free space): they are left out, so
    a revisit that soon leaves the mapped part of the floor still verifies on what overlaps.
    """
    if len(hits) == 0 or len(walls) == 0:
        return 0.0, 0
    from scipy.spatial import cKDTree

    seen = (layer.free_mask() | layer.occupied_mask()).astype(np.uint8)
    grown = cv2.dilate(seen, np.ones((5, 5), np.uint8)) > 0  # a wall's far face too
    known = hits[_on_mask(layer, grown, hits)]
    if len(known) == 0:
        return 0.0, 0
    d, _ = cKDTree(walls).query(known, distance_upper_bound=max_dist)
    return float(np.mean(np.isfinite(d))), len(known)


def register(
    src: FloatArray,
    pivot: tuple[float, float],
    layer: OccupancyLayer,
    icp: IcpParams,
    params: RegistrationParams = RegistrationParams(),
) -> AlignmentResult:
    """Register the revisit's hits ``src`` (floor frame, placed by the anchor) onto ``layer``.

    ``pivot`` is where the robot arrived (the rotation centre of the heading search). The
    correction, composed on the left of the anchor, is accepted only when verified.
    """
    none = (0.0, 0.0, 0.0)
    if len(src) < icp.min_points:
        return AlignmentResult(False, none, 0.0, math.inf, f'too few points ({len(src)})')
    lo, hi = src.min(axis=0) - 2.0, src.max(axis=0) + 2.0
    tgt = layer.occupied_points((lo[0], lo[1], hi[0], hi[1]))
    at_anchor, n_known = overlap_fitness(layer, src, tgt, icp.fine_corr_m)
    if n_known >= icp.min_points and at_anchor >= icp.large_fitness:
        # The anchor already fits: only ICP's small, well-supported corrections. A search
        # would trade the odometry's heading for a fit of a few metres of walls (seen
        # turning a good anchor by 0.7 deg in the simulator).
        local = align_points(src, tgt, icp)
        return local if local.accepted else AlignmentResult(True, none, at_anchor, 0.0)
    step = math.radians(params.yaw_step_deg)
    half = math.radians(params.narrow_deg)
    narrow = np.arange(-half, half + 1e-9, step)
    wide = np.arange(-math.pi, math.pi, step)
    wide = wide[np.abs(wide) > math.radians(params.narrow_deg)]
    reason = 'no candidate'
    for yaws, strict in ((narrow, False), (wide, True)):
        result = _verify_best(src, pivot, layer, icp, params, yaws, strict)
        if result.accepted:
            return result
        reason = result.reason
    return AlignmentResult(False, none, 0.0, math.inf, reason)


def _verify_best(
    src: FloatArray,
    pivot: tuple[float, float],
    layer: OccupancyLayer,
    icp: IcpParams,
    params: RegistrationParams,
    yaws: FloatArray,
    strict: bool,
) -> AlignmentResult:
    """The best verified candidate of one window of headings.

    ``strict`` (no heading prior): a correction beyond ``fine_corr_m`` also needs
    ``icp.large_fitness`` of all the hits.
    """
    none = (0.0, 0.0, 0.0)
    scored = correlative_search(src, pivot, layer, yaws, params)
    if not scored:
        return AlignmentResult(False, none, 0.0, math.inf, 'search window outside the layer')
    # The best headings, at least 5 deg apart, each with its best and its second peak: a
    # corridor or a repeated structure has two, and only ICP and fitness tell them apart.
    picks: list[tuple[float, Pose]] = []
    heads: list[Pose] = []
    for score, corr, second, corr2 in sorted(scored, key=lambda s: -s[0]):
        if all(abs(wrap_angle(corr[2] - c[2])) > math.radians(5.0) for c in heads):
            heads.append(corr)
            picks.append((score, corr))
            if second >= (1.0 - params.peak_margin) * score:
                picks.append((second, corr2))
        if len(heads) >= params.candidates:
            break
    refine = replace(
        icp,
        coarse_corr_m=max(icp.fine_corr_m, min(icp.coarse_corr_m, 3 * params.coarse_res_m)),
        min_fitness=0.0,  # judged below on the overlap with what the layer saw
        large_fitness=0.0,
        max_correction_m=max(icp.max_correction_m, 2 * params.coarse_res_m),
        max_correction_deg=max(icp.max_correction_deg, 2 * params.yaw_step_deg),
    )
    verified: list[tuple[float, float, Pose]] = []
    reasons = []
    for _, corr in picks:
        placed = transform_points(src, corr)
        lo, hi = placed.min(axis=0) - 2.0, placed.max(axis=0) + 2.0
        tgt = layer.occupied_points((lo[0], lo[1], hi[0], hi[1]))
        fit = align_points(placed, tgt, refine)
        if not fit.accepted:
            reasons.append(fit.reason)
            continue
        total = se2_compose(fit.correction, corr)
        fitness, n_known = overlap_fitness(
            layer, transform_points(src, total), tgt, icp.fine_corr_m
        )
        if n_known < icp.min_points or fitness < icp.min_fitness:
            reasons.append(f'fitness {fitness:.2f} on {n_known} seen hits')
            continue
        if math.hypot(total[0], total[1]) > icp.fine_corr_m:
            if strict and fit.fitness < icp.large_fitness:
                # no heading prior: the whole revisit must fit, new rooms included
                reasons.append(f'large correction with fitness {fit.fitness:.2f}')
                continue
            pinned = wall_constraint(placed, tgt, fit.correction, icp.fine_corr_m)
            if pinned < params.min_constraint:
                # every matched wall parallel: a slide along a corridor, not a fix
                reasons.append(f'walls do not pin the fit ({pinned:.2f})')
                continue
        conflict = free_conflict(layer, transform_points(src, total))
        if conflict > params.max_free_conflict:
            reasons.append(f'{100 * conflict:.0f} % of hits on free space')
            continue
        verified.append((fitness, fit.rmse, total))
    if not verified:
        return AlignmentResult(False, none, 0.0, math.inf, '; '.join(reasons[:2]) or 'no fit')
    verified.sort(key=lambda v: -v[0])
    best_fit, best_rmse, best = verified[0]
    for fit_b, _, other in verified[1:]:
        far = math.hypot(other[0] - best[0], other[1] - best[1]) > 0.5 or abs(
            wrap_angle(other[2] - best[2])
        ) > math.radians(5.0)
        if far and fit_b >= best_fit - params.ambiguity_margin:
            return AlignmentResult(False, none, best_fit, math.inf, 'ambiguous')
    return AlignmentResult(True, best, best_fit, best_rmse)


__all__ = [
    'RegistrationParams',
    'correlative_search',
    'free_conflict',
    'overlap_fitness',
    'register',
]
