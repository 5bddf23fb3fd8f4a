"""TVC actuator: position and rate limits, quantisation, zero-order hold, lag, faults."""
import math

import pytest

from host.plant import Plant, load_vehicle

CALM = {"w20_mps": 0.0, "turbulence": False}
HIGH = {"alt_m": 5000.0, "vz_mps": 0.0}
VACUUM = {"environment": {"atmosphere": "vacuum"}}


def _gimbal_trace(plant, t_end_s, pitch, yaw=0.0, dt_s=0.001):
    rows = []
    while plant.t_s < t_end_s - 1e-9:
        plant.command(0.0, pitch, yaw, 0.0, False, False)
        plant.advance(dt_s)
        tr = plant.truth()
        rows.append((tr["t_s"], tr["gimbal_pitch_rad"], tr["gimbal_yaw_rad"]))
    return rows


@pytest.mark.timeout(180)
def test_gimbal_saturates_at_max_and_moves_no_faster_than_the_rate_limit():
    veh = load_vehicle("falcon9", overrides=VACUUM)
    plant = Plant(veh, seed=1, wind=CALM, initial=HIGH)
    rows = _gimbal_trace(plant, 1.0, math.radians(20.0))
    rates = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(rows, rows[1:])]
    assert max(rates) <= veh.gimbal_rate_radps * (1 + 1e-9)
    assert max(rates) > 0.9 * veh.gimbal_rate_radps
    assert rows[-1][1] == pytest.approx(veh.gimbal_max_rad, rel=1e-6)
    assert max(r[1] for r in rows) <= veh.gimbal_max_rad * (1 + 1e-12)
    # 6 deg at 30 deg/s: 0.2 s of slewing, plus the 20 ms lag and < 10 ms of hold
    t90 = next(t for t, p, _ in rows if p >= 0.9 * veh.gimbal_max_rad)
    assert 0.18 + 0.02 <= t90 <= 0.18 + 0.02 + 0.05 + 0.01


@pytest.mark.timeout(180)
def test_servo_holds_the_command_between_updates_and_quantises_it():
    veh = load_vehicle("hobby_f15", overrides=VACUUM)   # 50 Hz servo, 0.075 deg steps
    plant = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 500.0})
    plant.advance(0.005)                               # command arrives between updates
    rows = _gimbal_trace(plant, 0.6, math.radians(1.03))
    assert all(p == 0.0 for t, p, _ in rows if t <= 0.020 + 1e-9)   # latched at t = 20 ms
    assert next(p for t, p, _ in rows if t > 0.020 + 1e-9) > 0.0
    res = math.radians(veh.config["tvc"]["resolution_deg"])
    assert rows[-1][1] == pytest.approx(round(math.radians(1.03) / res) * res, rel=1e-6)
    assert abs(rows[-1][1] - math.radians(1.03)) > 1e-4   # 1.05 deg, not 1.03


@pytest.mark.timeout(180)
def test_sg90_60_degree_step_takes_about_0p1_s():
    # vehicles.md check 7: SG90 60 deg step in ~0.1 s unloaded (servo horn: no gear)
    veh = load_vehicle("hobby_f15", overrides={**VACUUM, "tvc": {
        "max_deg": 80.0, "rate_dps": 600.0, "resolution_deg": 0.0}})
    plant = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 500.0})
    rows = _gimbal_trace(plant, 0.3, math.radians(60.0))
    t90 = next(t for t, p, _ in rows if p >= math.radians(54.0))
    t98 = next(t for t, p, _ in rows if p >= math.radians(58.8))
    assert 0.08 <= t90 <= 0.14
    assert t98 <= 0.2


@pytest.mark.timeout(180)
def test_gimbal_stuck_fault_freezes_one_axis():
    veh = load_vehicle("falcon9", overrides=VACUUM)
    plant = Plant(veh, seed=1, wind=CALM, initial=HIGH,
                  faults=[{"kind": "gimbal_stuck", "trigger": "t_s", "t_s": 0.1, "axis": "pitch"}])
    rows = _gimbal_trace(plant, 0.5, math.radians(3.0), math.radians(3.0))
    stuck = [p for t, p, _ in rows if t >= 0.1 + 1e-9]
    assert max(stuck) == min(stuck) and 0.0 < stuck[0] < math.radians(3.0)
    assert rows[-1][2] == pytest.approx(math.radians(3.0), rel=1e-3)


@pytest.mark.timeout(180)
def test_gimbal_slow_fault_scales_the_rate_limit():
    veh = load_vehicle("falcon9", overrides=VACUUM)
    plant = Plant(veh, seed=1, wind=CALM, initial=HIGH,
                  faults=[{"kind": "gimbal_slow", "rate_scale": 0.25}])
    rows = _gimbal_trace(plant, 0.5, math.radians(6.0))
    rates = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(rows, rows[1:])]
    assert max(rates) == pytest.approx(0.25 * veh.gimbal_rate_radps, rel=0.02)
