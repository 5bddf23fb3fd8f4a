"""The naive numpy step of the bench is the same model as the compiled step."""
import math

import numpy as np
import pytest

from host.plant import Plant, load_vehicle
from host.plant import layout as L
from host.plant.naive import NaivePlant


@pytest.mark.timeout(180)
def test_naive_numpy_step_matches_the_compiled_step_with_all_effects_on():
    # three engines with an engine-out, TVC and roll commands, default wind with
    # turbulence, a gust, legs deploying and touching down: every module runs
    plant = Plant(load_vehicle("zhuque3"), seed=5,
                  initial={"alt_m": 12.0, "vz_mps": -6.0, "vx_mps": 0.4, "tilt_x_rad": 0.02},
                  faults=[{"kind": "engine_out", "trigger": "ignition+dt_s", "dt_s": 0.5,
                           "engine": 1},
                          {"kind": "gust", "t_s": 0.2, "speed_mps": 4.0, "duration_s": 1.0}])
    naive = NaivePlant(plant)
    touched = False
    for k in range(250):
        cmd = (0.45, 0.01 * math.sin(k / 15), -0.005, 0.2, k < 150, True)
        plant.command(*cmd)
        naive.command(*cmd)
        plant.advance(0.01)
        naive.advance_steps(10)
        np.testing.assert_allclose(naive.x, plant._x, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(naive.d, plant._d, rtol=1e-9, atol=1e-9)
        touched = touched or plant._d[L.D_TD] > 0.5
    assert touched
    assert any("engine-out" in text for _, text in plant.events)
