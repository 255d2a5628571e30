"""MapperParams: every field described (the ROS node's descriptions), shares handed on intact."""

from __future__ import annotations

from dataclasses import fields

import pytest

from multifloor_slam.errors import ConfigError
from multifloor_slam.maps.alignment import IcpParams
from multifloor_slam.maps.occupancy_layer import LayerParams
from multifloor_slam.maps.params import MapperParams
from multifloor_slam.params import field_descriptions, missing_descriptions


def test_every_field_has_a_description_of_its_own() -> None:
    assert missing_descriptions(MapperParams) == []
    described = field_descriptions(MapperParams)
    assert set(described) == {f.name for f in fields(MapperParams)}
    for name, text in described.items():
        assert not text.lower().startswith('see '), (name, text)  # say it, do not refer
        assert len(text) >= 10, (name, text)
    # Continuation lines are part of the description.
    assert 'corridor' in described['icp_large_fitness']


def test_the_layer_and_icp_shares_carry_the_fields() -> None:
    p = MapperParams(resolution=0.1, l_hit=1.0, icp_fine_corr_m=0.2, icp_max_correction_deg=5.0)
    layer = p.layer_params()
    assert layer == LayerParams(resolution=0.1, l_hit=1.0)
    icp = p.icp_params()
    assert icp.fine_corr_m == 0.2 and icp.max_correction_deg == 5.0
    assert icp.voxel_m == 0.1  # ICP downsamples to the map's cells
    assert MapperParams().icp_params() == IcpParams()  # the defaults agree


def test_replace_validates_again() -> None:
    p = MapperParams()
    assert p.replace(building_name='hq').building_name == 'hq'
    with pytest.raises(ConfigError):
        p.replace(icp_reject='never')
    with pytest.raises(ConfigError):
        p.replace(icp_fine_corr_m=1.0)  # above the coarse stage's distance


def test_stand_limits_carry_the_arrival_and_jump_fields() -> None:
    p = MapperParams(arrival_motion_m=0.4, arrival_motion_deg=9.0, max_robot_speed_mps=1.0)
    limits = p.stand_limits()
    assert (limits.motion_m, limits.motion_deg) == (0.4, 9.0)
    assert (limits.max_speed_mps, limits.max_yaw_rate) == (1.0, p.max_robot_yaw_rate)


def test_a_saved_building_keeps_its_resolution_and_its_name_unless_named() -> None:
    p = MapperParams(l_hit=1.1)
    resumed = p.for_building(0.1, 'hq')
    assert (resumed.resolution, resumed.building_name, resumed.l_hit) == (0.1, 'hq', 1.1)
    named = MapperParams(building_name='lab').for_building(0.05, 'hq')
    assert named.building_name == 'lab'
    assert p.for_building(None, None) is p  # nothing known about the building: unchanged
    assert p.for_building(0.05, '') is p
