"""Engines: start transient, throttle floor, faults, solid motor, flameout."""
import math

import pytest

from host.plant import Plant, load_faults, load_scenario, load_vehicle

G0 = 9.80665
CALM = {"w20_mps": 0.0, "turbulence": False}
HIGH = {"alt_m": 20000.0, "vz_mps": 0.0}   # far from the ground, thin air
VACUUM = {"environment": {"atmosphere": "vacuum"}}


def _fly(plant, t_end_s, cmd, dt_s=0.001):
    rows = []
    while plant.t_s < t_end_s - 1e-9:
        plant.command(*cmd)
        plant.advance(dt_s)
        rows.append(plant.truth())
    return rows


def _event_time(plant, text):
    times = [t for t, s in plant.events if s == text]
    return times[0] if times else None


@pytest.mark.timeout(180)
def test_ignition_dead_time_and_spool_up_then_thrust_confirmed():
    veh = load_vehicle("falcon9", overrides=VACUUM)
    plant = Plant(veh, seed=1, wind=CALM, initial=HIGH)
    rows = _fly(plant, 2.5, (0.8, 0.0, 0.0, 0.0, True, False))
    e = veh.config["engine"]
    dead, tau = e["ignition_dead_time_s"], e["spool_time_constant_s"]
    assert _event_time(plant, "ignition commanded") == 0.0
    assert _event_time(plant, "ignition (thrust rising)") == pytest.approx(dead, abs=1e-9)
    assert all(r["thrust_n"] == 0.0 for r in rows if r["t_s"] < dead - 1e-9)
    # first-order spool-up to 90 % of the command: dead + tau ln 10 (to one step)
    t_conf = _event_time(plant, "thrust confirmed")
    assert t_conf == pytest.approx(dead + tau * math.log(10.0), abs=2e-3)
    # thrust after the dead time follows 1 - exp(-(t - dead) / tau)
    full = veh.engine_thrust_n * veh.isp_vac_s / veh.isp_s
    r = next(r for r in rows if r["t_s"] >= dead + 0.5)
    frac = 1.0 - math.exp(-(r["t_s"] - dead) / tau)
    assert r["thrust_n"] == pytest.approx(0.8 * full * frac, rel=5e-3)


@pytest.mark.timeout(180)
def test_throttle_below_the_floor_gives_minimum_thrust():
    veh = load_vehicle("falcon9", overrides=VACUUM)
    plant = Plant(veh, seed=1, wind=CALM, initial=HIGH)
    rows = _fly(plant, 4.0, (0.05, 0.0, 0.0, 0.0, True, False), dt_s=0.01)
    full = veh.engine_thrust_n * veh.isp_vac_s / veh.isp_s
    assert rows[-1]["thrust_n"] == pytest.approx(veh.min_throttle_frac * full, rel=1e-4)
    assert rows[-1]["throttle_frac"] == pytest.approx(veh.min_throttle_frac, rel=1e-4)
    # the floor is what a booster cannot go below: T/W > 1 even there
    assert veh.min_throttle_frac * veh.max_thrust_n > (veh.dry_mass_kg + veh.propellant_kg) * G0


@pytest.mark.timeout(180)
def test_no_ignition_fault_gives_no_thrust_and_no_thrust_flag():
    plant = Plant(load_vehicle("falcon9"), seed=1, wind=CALM, initial=HIGH,
                  faults=[{"kind": "no_ignition"}])
    rows = _fly(plant, 3.0, (0.8, 0.0, 0.0, 0.0, True, False), dt_s=0.01)
    assert max(r["thrust_n"] for r in rows) == 0.0
    assert ("ignition commanded" in [s for _, s in plant.engine_events])
    assert _event_time(plant, "no ignition") == pytest.approx(0.3, abs=1e-9)
    assert not plant.sensors(0)["flags"] & 4   # SF_THRUST_SENSED


@pytest.mark.timeout(180)
def test_late_ignition_fault_delays_first_thrust_by_delay_s():
    veh = load_vehicle("falcon9")
    plant = Plant(veh, seed=1, wind=CALM, initial=HIGH,
                  faults=load_faults([{"kind": "late_ignition", "delay_s": 0.25}]))
    _fly(plant, 1.0, (0.8, 0.0, 0.0, 0.0, True, False), dt_s=0.01)
    lit = _event_time(plant, "ignition (thrust rising)")
    assert lit == pytest.approx(veh.config["engine"]["ignition_dead_time_s"] + 0.25, abs=1e-9)


@pytest.mark.timeout(180)
def test_thrust_shortfall_fault_scales_the_thrust():
    veh = load_vehicle("falcon9", overrides=VACUUM)
    nominal = Plant(veh, seed=1, wind=CALM, initial=HIGH)
    short = Plant(veh, seed=1, wind=CALM, initial=HIGH,
                  faults=[{"kind": "thrust_shortfall", "frac": 0.3}])
    cmd = (0.9, 0.0, 0.0, 0.0, True, False)
    a = _fly(nominal, 5.0, cmd, dt_s=0.01)[-1]["thrust_n"]
    b = _fly(short, 5.0, cmd, dt_s=0.01)[-1]["thrust_n"]
    assert b == pytest.approx(0.7 * a, rel=1e-9)


@pytest.mark.timeout(180)
def test_zq3_replay_loses_engine_1_three_seconds_after_ignition():
    sc = load_scenario("zq3_y1_replay")
    veh = load_vehicle(sc.vehicle, overrides=VACUUM)
    plant = Plant(veh, seed=1, faults=sc.faults, initial={**sc.initial, "vz_mps": 0.0},
                  wind=CALM)
    cmd = (0.6, 0.0, 0.0, 0.0, True, False)
    rows = _fly(plant, 5.0, cmd)
    t_lit = _event_time(plant, "engine 0 lit")
    t_out = _event_time(plant, "engine-out (engine 1)")
    assert t_out == pytest.approx(t_lit + 3.0, abs=1e-9)
    before = next(r for r in rows if r["t_s"] >= t_out - 1e-9)
    after = rows[-1]                       # 1.6 s later: the failed engine has decayed
    assert after["thrust_n"] == pytest.approx(before["thrust_n"] * 2.0 / 3.0, rel=1e-3)
    # the surviving outer engine at x = -1.6 m now pushes the nose toward +x: +w_y,
    # at d(w_y)/dt = T_engine * 1.6 m / I_xx (no gimbal correction)
    r0 = next(r for r in rows if r["t_s"] >= t_out + 0.5 - 1e-9)
    r1 = next(r for r in rows if r["t_s"] >= t_out + 0.6 - 1e-9)
    _, _, ixx, _ = veh.mass_properties(0.5 * (r0["propellant_kg"] + r1["propellant_kg"]))
    alpha = (r1["wy_radps"] - r0["wy_radps"]) / (r1["t_s"] - r0["t_s"])
    assert alpha == pytest.approx((after["thrust_n"] / 2.0) * 1.6 / ixx, rel=0.01)
    assert abs(r1["wx_radps"]) < 1e-9


@pytest.mark.timeout(180)
def test_solid_motor_delivers_the_curve_impulse_and_burns_all_propellant():
    veh = load_vehicle("hobby_f15", overrides={**VACUUM, "engine": {"ignition_jitter_s": 0.0}})
    plant = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 500.0})
    rows = _fly(plant, 4.0, (1.0, 0.0, 0.0, 0.0, True, False))
    impulse = sum(r["thrust_n"] for r in rows) * 0.001
    assert impulse == pytest.approx(veh.motor.impulse_ns, rel=2e-3)
    assert rows[-1]["propellant_kg"] == pytest.approx(0.0, abs=1e-6)  # 60 g to 1 mg
    assert _event_time(plant, "motor burnout") == pytest.approx(
        veh.config["engine"]["ignition_delay_s"] + veh.motor.burn_s, abs=1.5e-3)
    # thrust from the tabulated curve
    r = next(r for r in rows if r["t_s"] >= 0.05 + 0.4 - 1e-9)   # the 25.3 N peak
    assert r["thrust_n"] == pytest.approx(25.3, rel=1e-9)
    # a second ignition command does nothing on a solid motor
    rows = _fly(plant, 4.5, (1.0, 0.0, 0.0, 0.0, False, False), dt_s=0.01)
    rows = _fly(plant, 5.0, (1.0, 0.0, 0.0, 0.0, True, False), dt_s=0.01)
    assert max(r["thrust_n"] for r in rows) == 0.0
    assert [s for _, s in plant.events].count("ignition commanded") == 1


@pytest.mark.timeout(180)
def test_solid_motor_ignition_delay_is_random_but_seeded():
    veh = load_vehicle("hobby_f15")

    def lit(seed):
        plant = Plant(veh, seed=seed, wind=CALM, initial={"alt_m": 500.0})
        _fly(plant, 0.3, (1.0, 0.0, 0.0, 0.0, True, False))
        return _event_time(plant, "ignition (thrust rising)")

    times = [lit(s) for s in range(1, 9)]
    assert lit(1) == times[0]
    assert len(set(times)) > 4
    e = veh.config["engine"]
    assert all(abs(t - e["ignition_delay_s"]) < 5 * e["ignition_jitter_s"] + 1e-3 for t in times)


@pytest.mark.timeout(180)
def test_running_out_of_propellant_is_a_flameout():
    plant = Plant(load_vehicle("falcon9"), seed=1, wind=CALM,
                  initial={**HIGH, "propellant_kg": 100.0})
    rows = _fly(plant, 3.0, (1.0, 0.0, 0.0, 0.0, True, False), dt_s=0.01)
    assert _event_time(plant, "flameout: propellant depleted") is not None
    assert rows[-1]["thrust_n"] == 0.0 and rows[-1]["propellant_kg"] == 0.0
