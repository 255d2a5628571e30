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

from multifloor_slam.maps.alignment import AlignmentResult, IcpParams, align_points
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
    """

    search_radius_m: float = 3.0
    narrow_deg: float = 15.0
    yaw_step_deg: float = 1.0
    coarse_res_m: float = 0.1
    candidates: int = 4
    max_free_conflict: float = 0.05
    ambiguity_margin: float = 0.02


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
) -> list[tuple[float, Pose]]:
    """(score, correction) per heading in ``yaws``, best translation for each.

    The correction rotates ``src`` about ``pivot`` by that heading and shifts it by the best
    translation within ``search_radius_m``.

    The score is the mean likelihood of the shifted source cells (0..1).
    """
    res = params.coarse_res_m
    rad = math.ceil(params.search_radius_m / res)
    reach = float(np.max(np.hypot(src[:, 0] - pivot[0], src[:, 1] - pivot[1]))) + 1.0
    pad = reach + params.search_radius_m + 1.0
    x0, y0 = pivot[0] - pad, pivot[1] - pad
    field = _field(layer, (x0, y0, pivot[0] + pad, pivot[1] + pad), res)
    h, w = field.shape
    out = []
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
        dx, dy = (bc - rad) * res, (br - rad) * res
        out.append((best / n, (corr0[0] + dx, corr0[1] + dy, corr0[2])))
    return out


def _about(pivot: tuple[float, float], yaw: float) -> Pose:
    """The rotation by ``yaw`` about ``pivot`` as an SE(2) transform."""
    c, s = math.cos(yaw), math.sin(yaw)
    px, py = pivot
    return (px - (c * px - s * py), py - (s * px + c * py), yaw)


def free_conflict(layer: OccupancyLayer, hits: FloatArray) -> float:
    """Share of ``hits`` on cells the layer saw free, more than one cell from its walls."""
    if len(hits) == 0 or layer.empty:
        return 0.0
    free = layer.free_mask().astype(np.uint8)
    occ = layer.occupied_mask().astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    deep = (free > 0) & (cv2.dilate(occ, kernel) == 0)
    res = layer.resolution
    row0, col0 = layer.cell_offset
    c = np.floor(hits[:, 0] / res).astype(int) - col0
    r = np.floor(hits[:, 1] / res).astype(int) - row0
    ok = (r >= 0) & (r < deep.shape[0]) & (c >= 0) & (c < deep.shape[1])
    return float(np.sum(deep[r[ok], c[ok]])) / len(hits)


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
    step = math.radians(params.yaw_step_deg)
    half = math.radians(params.narrow_deg)
    narrow = np.arange(-half, half + 1e-9, step)
    wide = np.arange(-math.pi, math.pi, step)
    wide = wide[np.abs(wide) > math.radians(params.narrow_deg)]
    reason = 'no candidate'
    for yaws in (narrow, wide):
        result = _verify_best(src, pivot, layer, icp, params, yaws)
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
) -> AlignmentResult:
    none = (0.0, 0.0, 0.0)
    scored = correlative_search(src, pivot, layer, yaws, params)
    if not scored:
        return AlignmentResult(False, none, 0.0, math.inf, 'search window outside the layer')
    # The best headings, at least 5 deg apart.
    picks: list[tuple[float, Pose]] = []
    for score, corr in sorted(scored, key=lambda s: -s[0]):
        if all(abs(wrap_angle(corr[2] - c[2])) > math.radians(5.0) for _, c in picks):
            picks.append((score, corr))
        if len(picks) >= params.candidates:
            break
    refine = replace(
        icp,
        coarse_corr_m=max(icp.fine_corr_m, min(icp.coarse_corr_m, 3 * params.coarse_res_m)),
        large_fitness=icp.min_fitness,
        max_correction_m=max(icp.max_correction_m, 2 * params.coarse_res_m),
        max_correction_deg=max(icp.max_correction_deg, 2 * params.yaw_step_deg),
    )
    hits_box = src
    verified: list[tuple[float, float, Pose]] = []
    reasons = []
    for _, corr in picks:
        placed = transform_points(hits_box, corr)
        lo, hi = placed.min(axis=0) - 2.0, placed.max(axis=0) + 2.0
        tgt = layer.occupied_points((lo[0], lo[1], hi[0], hi[1]))
        fit = align_points(placed, tgt, refine)
        if not fit.accepted:
            reasons.append(fit.reason)
            continue
        total = se2_compose(fit.correction, corr)
        if math.hypot(total[0], total[1]) > icp.fine_corr_m and fit.fitness < icp.large_fitness:
            # a move onto a partly mapped area: more often a slide along a corridor than a fix
            reasons.append(f'large correction with fitness {fit.fitness:.2f}')
            continue
        conflict = free_conflict(layer, transform_points(src, total))
        if conflict > params.max_free_conflict:
            reasons.append(f'{100 * conflict:.0f} % of hits on free space')
            continue
        verified.append((fit.fitness, fit.rmse, total))
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


__all__ = ['RegistrationParams', 'correlative_search', 'free_conflict', 'register']
