"""The small simulated building the ``process`` tests share: 3 floors, 2 rides, no camera.

A few seconds to simulate; each test module simulates it once (module-scoped fixture).
"""

from __future__ import annotations

from multifloor_slam.sim.simulator import SimConfig

SMALL_SIM = SimConfig(
    floors=3,
    seed=3,
    visits=3,
    rooms_per_visit=1,
    camera=False,
    tf=False,
    clock_rate_hz=0.0,
    scan_rate_hz=5.0,
    scan_beams=180,
    odom_rate_hz=5.0,
)
