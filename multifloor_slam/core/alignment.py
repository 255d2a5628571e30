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

import numpy as np
from numpy.typing import NDArray

from multifloor_slam.core.scan_geometry import transform_points
from multifloor_slam.errors import ConfigError

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
        max_rmse_m: largest inlier RMS distance.
        max_correction_m: largest accepted translation.
        max_correction_deg: largest accepted rotation.
    """

    coarse_corr_m: float = 0.6
    fine_corr_m: float = 0.15
    iterations: int = 40
    voxel_m: float = 0.05
    min_points: int = 50
    min_fitness: float = 0.5
    max_rmse_m: float = 0.08
    max_correction_m: float = 1.5
    max_correction_deg: float = 20.0

    def __post_init__(self) -> None:
        if not 0 < self.fine_corr_m <= self.coarse_corr_m:
            raise ConfigError('need 0 < fine_corr_m <= coarse_corr_m')
        if self.iterations < 1 or self.min_points < 3:
            raise ConfigError('iterations must be >= 1 and min_points >= 3')
        if not 0.0 <= self.min_fitness <= 1.0:
            raise ConfigError(f'min_fitness must be in [0, 1], got {self.min_fitness}')
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
    tgt = _cloud(np.asarray(target_xy, dtype=np.float64), params.voxel_m)
    none = (0.0, 0.0, 0.0)
    n_src, n_tgt = len(src.points), len(tgt.points)
    if min(n_src, n_tgt) < params.min_points:
        return AlignmentResult(False, none, 0.0, math.inf, f'too few points ({n_src}/{n_tgt})')
    criteria = reg.ICPConvergenceCriteria(max_iteration=params.iterations)
    estimation = reg.TransformationEstimationPointToPoint()
    init = np.eye(4)
    for corr in (params.coarse_corr_m, params.fine_corr_m):
        init = reg.registration_icp(src, tgt, corr, init, estimation, criteria).transformation
    final = reg.evaluate_registration(src, tgt, params.fine_corr_m, init)
    m = np.asarray(init)
    yaw = math.atan2(m[1, 0], m[0, 0])
    corr_pose = (float(m[0, 3]), float(m[1, 3]), yaw)
    fitness, rmse = float(final.fitness), float(final.inlier_rmse)
    reason = ''
    if m[2, 2] < 0.999 or abs(m[2, 3]) > 0.05:
        reason = 'left the plane'
    elif fitness < params.min_fitness:
        reason = f'fitness {fitness:.2f} < {params.min_fitness}'
    elif rmse > params.max_rmse_m:
        reason = f'rmse {rmse:.3f} m > {params.max_rmse_m}'
    elif math.hypot(corr_pose[0], corr_pose[1]) > params.max_correction_m:
        reason = f'correction {math.hypot(corr_pose[0], corr_pose[1]):.2f} m too large'
    elif abs(math.degrees(yaw)) > params.max_correction_deg:
        reason = f'correction {math.degrees(yaw):.1f} deg too large'
    return AlignmentResult(not reason, corr_pose if not reason else none, fitness, rmse, reason)


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


__all__ = ['AlignmentResult', 'IcpParams', 'align_points', 'residual_fitness']
