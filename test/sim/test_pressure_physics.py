"""The independent pressure generator (benchmark only): physics and truth it returns."""

from __future__ import annotations

import numpy as np

from multifloor_slam.sim.pressure_physics import (
    generate_trace,
    make_building,
    parked_trace,
    random_conditions,
    s_curve,
)


def test_s_curve_is_exact_and_within_its_limits() -> None:
    dt = 0.005
    z = s_curve(-12.0, 2.0, 1.0, 2.0, dt)
    assert abs(z[-1] + 12.0) < 1e-9 and z[0] == 0.0
    v = np.diff(z) / dt
    assert np.abs(v).max() <= 2.0 * 1.01
    a = np.diff(v) / dt
    assert np.abs(a).max() <= 1.0 * 1.05


def test_buildings_have_lobbies_mechanical_storeys_and_basements() -> None:
    rng = np.random.default_rng(0)
    seen = {'lobby': 0, 'mech': 0, 'base': 0}
    for _ in range(200):
        b = make_building(rng)
        z = np.array(b.elevations_m)
        assert 3 <= z.size <= 12 and np.all(np.diff(z) > 2.6) and b.z(0) == 0.0
        seen['lobby'] += b.lobby
        seen['mech'] += b.mechanical
        seen['base'] += b.n_basements > 0
    assert all(v > 20 for v in seen.values())


def test_trace_truth_matches_the_pressure() -> None:
    rng = np.random.default_rng(5)
    cond = random_conditions(rng, 6) | {'white': 0.3, 'door_per_h': 0.0, 'spike_rate': 0.0}
    tr = generate_trace(rng, trips=6, conditions=cond)
    assert np.all(np.diff(tr.t) > 0)
    assert tr.trips and tr.trips[-1].t_stop == tr.stops[-1].t_stop
    for s in tr.stops:
        before = np.median(tr.pressure_pa[(tr.t > s.t_start - 3) & (tr.t < s.t_start)])
        after = np.median(tr.pressure_pa[(tr.t > s.t_stop + 0.5) & (tr.t < s.t_stop + 2.5)])
        dz = tr.building.z(s.to_floor) - tr.building.z(s.from_floor)
        assert abs((before - after) / 11.8 - dz) < 0.2 * abs(dz) + 0.6


def test_parked_trace_drifts_and_has_door_steps() -> None:
    tr = parked_trace(np.random.default_rng(1), 1.0, 10.0, 0.5, 200.0)
    assert tr.stops == [] and tr.t.size > 30000
    assert 120.0 < tr.pressure_pa[-600:].mean() - tr.pressure_pa[:600].mean() < 280.0
