"""The mapper's counters: every input it took, skipped or refused, by reason."""

from __future__ import annotations

from multifloor_slam.maps.occupancy_layer import Placement

#: The counters of :attr:`BuildingMapper.stats`.
STAT_KEYS = (
    'scans_in',
    'scans_integrated',
    'scans_skipped_elevator',
    'scans_skipped_no_pose',
    'scans_skipped_visit',
    'scans_skipped_still',
    'scans_skipped_map_source',
    'scans_bad',
    'scans_bad_angles',
    'scans_out_of_extent',
    'scans_out_of_layer',
    'scans_clipped_extent',
    'scans_clipped_layer',
    'poses_bad',
    'poses_out_of_extent',
    'odom_in',
    'odom_bad',
    'rides',
    'reanchors',
    'anchors_odom_yaw',
    'icp_accepted',
    'icp_rejected',
    'revisit_attempts',
    'revisit_fragments',
    'scans_into_fragments',
    'slam_maps_in',
    'slam_maps_used',
    'slam_maps_bad',
    'slam_maps_out_of_extent',
    'slam_maps_out_of_layer',
    'slam_maps_clipped',
)

#: The counter each outcome of a layer update other than ``ok`` adds to, for scans and SLAM maps.
SCAN_PLACEMENT: dict[Placement, str] = {
    'refused_extent': 'scans_out_of_extent',
    'refused_size': 'scans_out_of_layer',
    'clipped_extent': 'scans_clipped_extent',
    'clipped_size': 'scans_clipped_layer',
}
MAP_PLACEMENT: dict[Placement, str] = {
    'refused_extent': 'slam_maps_out_of_extent',
    'refused_size': 'slam_maps_out_of_layer',
    'clipped_extent': 'slam_maps_clipped',
    'clipped_size': 'slam_maps_clipped',
}


__all__ = ['MAP_PLACEMENT', 'SCAN_PLACEMENT', 'STAT_KEYS']
