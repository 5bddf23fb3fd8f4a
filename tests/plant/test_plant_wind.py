"""Wind: mean profile, Dryden turbulence statistics, gusts."""
import math

import numpy as np
import pytest

from host.plant import Plant, load_vehicle
from host.plant import layout as L
from host.plant.rng import seed_streams
from host.plant.wind import FT_M, dryden_scales, mean_wind_speed, turbulence_series


@pytest.mark.timeout(60)
def test_mean_wind_follows_the_log_profile_through_w20():
    w20 = 6.0
    assert mean_wind_speed(20 * FT_M, w20) == pytest.approx(w20, rel=1e-12)
    z0 = 0.15 * FT_M
    for h in (1.0, 50.0, 200.0):
        assert mean_wind_speed(h, w20) == pytest.approx(
            w20 * math.log(h / z0) / math.log(20 * FT_M / z0), rel=1e-12)
    assert mean_wind_speed(0.01, w20) == 0.0
    assert mean_wind_speed(2000.0, w20) == mean_wind_speed(1000 * FT_M, w20)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("h_m", [10.0, 100.0])
def test_dryden_turbulence_has_the_specified_sigma_and_length_scale(h_m):
    w20, v, dt, n = 8.0, 50.0, 0.01, 400_000      # 4000 s at the plant's 100 Hz update
    d = np.zeros(L.ND)
    out = turbulence_series(h_m, v, w20, dt, n, seed_streams(5), d)
    l_u, l_v, l_w, s_u, s_v, s_w = dryden_scales(h_m, w20)
    assert s_w == pytest.approx(0.1 * w20)                       # MIL-F-8785C low altitude
    assert l_w == pytest.approx(max(h_m, 10 * FT_M))
    for k, (sigma, scale) in enumerate(((s_u, l_u), (s_v, l_v), (s_w, l_w))):
        assert out[:, k].std() == pytest.approx(sigma, rel=0.06)
        assert abs(out[:, k].mean()) < 0.1 * sigma
    # u is first-order Gauss-Markov: correlation exp(-1) after L_u / V
    lag = int(round(l_u / v / dt))
    u = out[:, 0] - out[:, 0].mean()
    rho = float(u[:-lag] @ u[lag:]) / float(u @ u)
    assert rho == pytest.approx(math.exp(-1.0), abs=0.05)


@pytest.mark.timeout(180)
def test_gust_fault_adds_a_one_cosine_pulse_from_its_direction():
    plant = Plant(load_vehicle("falcon9"), seed=1, wind={"w20_mps": 0.0, "turbulence": False},
                  initial={"alt_m": 3000.0, "vz_mps": 0.0},
                  faults=[{"kind": "gust", "trigger": "t_s", "t_s": 1.0, "speed_mps": 10.0,
                           "from_deg": 90.0, "duration_s": 2.0}])
    seen = {}
    while plant.t_s < 3.5:
        plant.advance(0.25)
        tr = plant.truth()
        seen[round(plant.t_s, 2)] = (tr["wind_x_mps"], tr["wind_y_mps"])
    # the last evaluation is at the start of the step ending at t: 1 ms earlier
    assert seen[0.75] == (0.0, 0.0)
    assert seen[2.0][0] == pytest.approx(-10.0, rel=1e-4)      # from the east -> toward -x
    assert seen[2.0][1] == pytest.approx(0.0, abs=1e-9)
    t = 1.5 - 0.001 - 1.0
    assert seen[1.5][0] == pytest.approx(-5.0 * (1.0 - math.cos(2 * math.pi * t / 2.0)), rel=1e-9)
    assert seen[3.5] == (0.0, 0.0)


@pytest.mark.timeout(180)
def test_mean_wind_blows_from_from_deg_and_drifts_a_falling_vehicle():
    plant = Plant(load_vehicle("hobby_f15"), seed=1,
                  wind={"w20_mps": 4.0, "from_deg": 270.0, "turbulence": False})
    tr = plant.truth()
    assert tr["wind_x_mps"] > 0.0 and abs(tr["wind_y_mps"]) < 1e-9   # from the west
    for _ in range(300):
        plant.advance(0.01)
    assert plant.truth()["vx_mps"] > 0.5
