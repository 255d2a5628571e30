"""Align a floor revisit's first scans to the floor's existing layer (Open3D ICP on 2D points).

The elevator anchor puts a revisit within a few decimetres and degrees of the truth; ICP removes
the rest. Points are 2D with z = 0, registration is point-to-point (a plane of points has no usable
normals for point-to-plane), coarse then fine, and the result is projected back onto SE(2). A fit
is rejected - never merged - when too few points match, the residual is large, or the correction
is larger than the anchor could plausibly be wrong (then ICP locked onto a wrong wall).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.errors import ConfigError
from multifloor_slam.maps.scan_geometry import transform_points

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class IcpParams:
    """ICP settings and acceptance thresholds.

    Attributes:
        coarse_corr_m: correspondence distance of the first ICP stage.
        fine_corr_m: correspondence distance of the second stage (and of the fitness).
        iterations: ICP iterations per stage.
        voxel_m: both clouds are voxel-downsampled to this size first.
        min_points: fewer source or target points than this: no fit.
        min_fitness: lowest share of source points with a target within ``fine_corr_m``.
        large_fitness: a correction larger than ``fine_corr_m`` must reach this fitness: a big
            move onto a partly mapped area is more often a slide along a corridor than a fix.
        max_rmse_m: largest inlier RMS distance.
        max_correction_m: largest accepted translation.
        max_correction_deg: largest accepted rotation.
    """

    coarse_corr_m: float = 0.6
    fine_corr_m: float = 0.15
    iterations: int = 40
    voxel_m: float = 0.05
    min_points: int = 50
    min_fitness: float = 0.6
    large_fitness: float = 0.9
    max_rmse_m: float = 0.08
    max_correction_m: float = 1.5
    max_correction_deg: float = 20.0

    def __post_init__(self) -> None:
        if not 0 < self.fine_corr_m <= self.coarse_corr_m:
            raise ConfigError('need 0 < fine_corr_m <= coarse_corr_m')
        if self.iterations < 1 or self.min_points < 3:
            raise ConfigError('iterations must be >= 1 and min_points >= 3')
        if not (0.0 <= self.min_fitness <= 1.0 and 0.0 <= self.large_fitness <= 1.0):
            raise ConfigError('min_fitness and large_fitness must be in [0, 1]')
        if self.voxel_m < 0 or self.max_rmse_m <= 0:
            raise ConfigError('voxel_m must be >= 0 and max_rmse_m > 0')
        if self.max_correction_m < 0 or not 0 <= self.max_correction_deg <= 180:
            raise ConfigError('max_correction_m must be >= 0, max_correction_deg in [0, 180]')


@dataclass(frozen=True)
class AlignmentResult:
    """Outcome of :func:`align_points`.

    Attributes:
        accepted: the correction may be applied.
        correction: (x, y, yaw) to compose on the left of the source's transform.
        fitness: share of source points matched within ``fine_corr_m``.
        rmse: inlier RMS distance (m).
        reason: why it was rejected ('' when accepted).
    """

    accepted: bool
    correction: tuple[float, float, float]
    fitness: float
    rmse: float
    reason: str = ''


def _cloud(xy: FloatArray, voxel: float):
    import open3d as o3d

    pts = np.zeros((xy.shape[0], 3))
    pts[:, :2] = xy
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts))
    return cloud.voxel_down_sample(voxel) if voxel > 0 else cloud


def align_points(
    source_xy: FloatArray, target_xy: FloatArray, params: IcpParams = IcpParams()
) -> AlignmentResult:
    """Find the rigid 2D correction that moves ``source_xy`` onto ``target_xy``."""
    import open3d as o3d

    reg = o3d.pipelines.registration
    src = _cloud(np.asarray(source_xy, dtype=np.float64), params.voxel_m)
    # The target is usually occupied-cell centres, already a lattice: downsampling it again
    # would merge neighbouring centres at voxel borders and shift walls by half a cell.
    tgt = _cloud(np.asarray(target_xy, dtype=np.float64), 0.0)
    none = (0.0, 0.0, 0.0)
    n_src, n_tgt = len(src.points), len(tgt.points)
    if min(n_src, n_tgt) < params.min_points:
        return AlignmentResult(False, none, 0.0, math.inf, f'too few points ({n_src}/{n_tgt})')
    criteria = reg.ICPConvergenceCriteria(max_iteration=params.iterations)
    estimation = reg.TransformationEstimationPointToPoint()
    init = np.eye(4)
    for corr in (params.coarse_corr_m, params.fine_corr_m):
        init = reg.registration_icp(src, tgt, corr, init, estimation, criteria).transformation
    m = np.asarray(init)
    if m[2, 2] < 0.999 or abs(m[2, 3]) > 0.05:
        return AlignmentResult(False, none, 0.0, math.inf, 'left the plane')
    coarse = (float(m[0, 3]), float(m[1, 3]), math.atan2(m[1, 0], m[0, 0]))
    src_xy = np.asarray(src.points)[:, :2]
    tgt_xy = np.asarray(tgt.points)[:, :2]
    corr_pose = refine_point_to_line(src_xy, tgt_xy, coarse, params.fine_corr_m)
    yaw = corr_pose[2]
    final = reg.evaluate_registration(src, tgt, params.fine_corr_m, se2_matrix4(corr_pose))
    fitness, rmse = float(final.fitness), float(final.inlier_rmse)
    reason = ''
    if fitness < params.min_fitness:
        reason = f'fitness {fitness:.2f} < {params.min_fitness}'
    elif (
        math.hypot(corr_pose[0], corr_pose[1]) > params.fine_corr_m
        and fitness < params.large_fitness
    ):
        reason = f'large correction with fitness {fitness:.2f} < {params.large_fitness}'
    elif rmse > params.max_rmse_m:
        reason = f'rmse {rmse:.3f} m > {params.max_rmse_m}'
    elif math.hypot(corr_pose[0], corr_pose[1]) > params.max_correction_m:
        reason = f'correction {math.hypot(corr_pose[0], corr_pose[1]):.2f} m too large'
    elif abs(math.degrees(yaw)) > params.max_correction_deg:
        reason = f'correction {math.degrees(yaw):.1f} deg too large'
    return AlignmentResult(not reason, corr_pose if not reason else none, fitness, rmse, reason)


def se2_matrix4(pose: tuple[float, float, float]) -> FloatArray:
    """4x4 homogeneous matrix of a planar pose (for Open3D)."""
    c, s = math.cos(pose[2]), math.sin(pose[2])
    m = np.eye(4)
    m[:2, :2] = [[c, -s], [s, c]]
    m[0, 3], m[1, 3] = pose[0], pose[1]
    return m


def refine_point_to_line(
    source_xy: FloatArray,
    target_xy: FloatArray,
    init: tuple[float, float, float],
    max_dist: float,
    iterations: int = 15,
    neighbours: int = 8,
) -> tuple[float, float, float]:
    """Sub-cell refinement: Gauss-Newton on point-to-line distances to local wall lines.

    Point-to-point ICP against occupied-cell centres is biased by the cell lattice: a wall two
    cells thick pulls the scan onto one of its columns (half a cell off). Here every target point
    gets the line through the centroid of its neighbours (PCA), so a thick wall acts as its
    centre line and the optimum is unbiased.
    """
    if len(source_xy) < 3 or len(target_xy) < neighbours:
        return init
    tree, centroid, normal = _line_features(target_xy, neighbours)
    x, y, yaw = init
    for _ in range(iterations):
        c, s = math.cos(yaw), math.sin(yaw)
        p = source_xy @ np.array([[c, s], [-s, c]]) + (x, y)
        dist, j = tree.query(p, distance_upper_bound=max_dist)
        ok = np.isfinite(dist)
        if ok.sum() < 3:
            break
        n, q, ps = normal[j[ok]], centroid[j[ok]], source_xy[ok]
        r = np.einsum('mi,mi->m', n, p[ok] - q)
        # d p / d yaw = R' ps = (-s px - c py, c px - s py)
        dpx = -s * ps[:, 0] - c * ps[:, 1]
        dpy = c * ps[:, 0] - s * ps[:, 1]
        jac = np.column_stack([n[:, 0], n[:, 1], n[:, 0] * dpx + n[:, 1] * dpy])
        h = jac.T @ jac + 1e-9 * np.eye(3)
        step = -np.linalg.solve(h, jac.T @ r)
        x, y, yaw = x + step[0], y + step[1], yaw + step[2]
        if abs(step[0]) + abs(step[1]) < 1e-5 and abs(step[2]) < 1e-6:
            break
    return float(x), float(y), float(yaw)


def _line_features(target_xy: FloatArray, neighbours: int) -> tuple[Any, FloatArray, FloatArray]:
    """KD-tree, local centroids and wall normals (PCA of each point's neighbours)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(target_xy)
    _, nn = tree.query(target_xy, k=neighbours)
    local = target_xy[nn]  # (M, k, 2)
    centroid = local.mean(axis=1)
    d = local - centroid[:, None, :]
    _, vecs = np.linalg.eigh(np.einsum('mki,mkj->mij', d, d))
    return tree, centroid, vecs[:, :, 0]  # normal: eigenvector of the smallest eigenvalue


def wall_constraint(
    source_xy: FloatArray,
    target_xy: FloatArray,
    correction: tuple[float, float, float],
    max_dist: float,
    neighbours: int = 8,
) -> float:
    """How well the matched walls pin a fit in translation (0: a corridor; 0.5: a room corner).

    The smallest eigenvalue of the mean outer product of the wall normals that the corrected
    source points match within ``max_dist``: near 0 when every matched wall is parallel, so the
    fit could slide along them unnoticed by fitness or residual.
    """
    if len(source_xy) == 0 or len(target_xy) < neighbours:
        return 0.0
    tree, _, normal = _line_features(target_xy, neighbours)
    dist, j = tree.query(transform_points(source_xy, correction), distance_upper_bound=max_dist)
    ok = np.isfinite(dist)
    if ok.sum() < 3:
        return 0.0
    n = normal[j[ok]]
    return float(np.linalg.eigvalsh(n.T @ n / len(n))[0])


def residual_fitness(
    source_xy: FloatArray,
    target_xy: FloatArray,
    correction: tuple[float, float, float],
    max_dist: float,
) -> float:
    """Share of corrected source points within ``max_dist`` of a target point (for checks)."""
    from scipy.spatial import cKDTree

    if len(source_xy) == 0 or len(target_xy) == 0:
        return 0.0
    d, _ = cKDTree(target_xy).query(transform_points(source_xy, correction))
    return float(np.mean(d <= max_dist))


__all__ = ['AlignmentResult', 'IcpParams', 'align_points', 'residual_fitness', 'wall_constraint']
