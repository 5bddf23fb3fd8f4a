"""The 6-DOF plant against physics computable by hand, each to a stated tolerance."""
import math

import numpy as np
import pytest

from host.plant import Plant, load_vehicle

G0 = 9.80665
CALM = {"w20_mps": 0.0, "turbulence": False}
VACUUM = {"environment": {"atmosphere": "vacuum"}}
# engine with no start transient: thrust follows the throttle within the first step
INSTANT_ENGINE = {"ignition_dead_time_s": 0.0, "spool_time_constant_s": 0.0,
                  "throttle_time_constant_s": 0.0}


def _run(plant, t_end_s, cmd=None, every_s=0.01):
    """Advance to t_end_s, returning the truth at every `every_s`."""
    out = [plant.truth()]
    while plant.t_s < t_end_s - 1e-9:
        if cmd is not None:
            plant.command(*cmd)
        plant.advance(every_s)
        out.append(plant.truth())
    return out


@pytest.mark.timeout(180)
def test_free_fall_in_vacuum_matches_analytic():
    veh = load_vehicle("falcon9", overrides=VACUUM)
    z0, vz0, vx0, vy0 = 3000.0, -50.0, 3.0, -2.0
    plant = Plant(veh, seed=1, wind=CALM,
                  initial={"alt_m": z0, "vz_mps": vz0, "vx_mps": vx0, "vy_mps": vy0})
    hist = _run(plant, 10.0, every_s=0.5)
    for tr in hist:
        t = tr["t_s"]
        # RK4 integrates a quadratic exactly: only rounding is left
        assert tr["z_m"] == pytest.approx(z0 + vz0 * t - 0.5 * G0 * t * t, abs=1e-6)
        assert tr["vz_mps"] == pytest.approx(vz0 - G0 * t, abs=1e-9)
        assert tr["x_m"] == pytest.approx(vx0 * t, abs=1e-9)
        assert tr["y_m"] == pytest.approx(vy0 * t, abs=1e-9)
        assert tr["mass_kg"] == veh.dry_mass_kg + veh.propellant_kg
    # weightless: the accelerometer reads bias + noise only (bias 5e-4, noise ~2.5e-3 m/s^2)
    s = plant.sensors(0)
    assert abs(s["accel_z_mps2"]) < 0.02


@pytest.mark.timeout(180)
def test_terminal_velocity_with_drag_matches_analytic():
    # uniform sea-level air and a flat Cd: v(t) = -v_t tanh(g t / v_t) from rest
    cd = 1.2
    veh = load_vehicle("falcon9", overrides={"environment": {"atmosphere": "uniform"},
                                             "aero": {"cd_mach": [[0.0, cd]]}})
    plant = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 10000.0, "vz_mps": 0.0})
    m = veh.dry_mass_kg + veh.propellant_kg
    rho0 = 101325.0 / (287.05287 * 288.15)
    area = veh.config["aero"]["ref_area_m2"]
    v_t = math.sqrt(2.0 * m * G0 / (rho0 * cd * area))
    hist = _run(plant, 40.0, every_s=1.0)
    for tr in hist:
        expected = -v_t * math.tanh(G0 * tr["t_s"] / v_t)
        assert tr["vz_mps"] == pytest.approx(expected, rel=1e-6, abs=1e-9)
    # 40 s is ~1.7 time constants v_t/g: within 1 % of terminal velocity
    assert hist[-1]["vz_mps"] == pytest.approx(-v_t, rel=0.1)
    assert abs(hist[-1]["vz_mps"]) < v_t


@pytest.mark.timeout(180)
def test_constant_thrust_burn_matches_rocket_equation():
    veh = load_vehicle("falcon9", overrides={**VACUUM, "engine": INSTANT_ENGINE})
    z0 = 5000.0
    plant = Plant(veh, seed=1, wind=CALM, initial={"alt_m": z0, "vz_mps": 0.0})
    tr0 = plant.truth()
    hist = _run(plant, 10.0, cmd=(1.0, 0.0, 0.0, 0.0, True, False), every_s=1.0)
    m0 = tr0["mass_kg"]
    mdot = veh.engine_thrust_n / (veh.isp_s * G0)   # flow set by the sea-level rating
    ve = veh.isp_vac_s * G0                          # exhaust speed in vacuum
    for tr in hist[1:]:
        t = tr["t_s"]
        m = m0 - mdot * t
        assert tr["mass_kg"] == pytest.approx(m, rel=1e-12)
        assert tr["thrust_n"] == pytest.approx(mdot * ve, rel=1e-12)
        v = ve * math.log(m0 / m) - G0 * t
        z = tr0["cg_z_m"] + ve * (t - (m / mdot) * math.log(m0 / m)) - 0.5 * G0 * t * t
        assert tr["cg_vz_mps"] == pytest.approx(v, rel=1e-9, abs=1e-9)
        assert tr["cg_z_m"] == pytest.approx(z, abs=1e-6)
        assert tr["tilt_deg"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.timeout(180)
def test_torque_free_rotation_conserves_angular_momentum():
    veh = load_vehicle("falcon9", overrides=VACUUM)
    w0 = np.array([0.3, -0.2, 1.0])
    plant = Plant(veh, seed=1, wind=CALM,
                  initial={"alt_m": 5000.0, "vz_mps": 0.0, "wx_radps": w0[0],
                           "wy_radps": w0[1], "wz_radps": w0[2]})
    _, _, ixx, izz = veh.mass_properties(veh.propellant_kg)
    inertia = np.array([ixx, ixx, izz])

    def momentum_and_energy(tr):
        q = np.array([tr["qw"], tr["qx"], tr["qy"], tr["qz"]])
        w, x, y, z = q
        rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])
        wb = np.array([tr["wx_radps"], tr["wy_radps"], tr["wz_radps"]])
        return rot @ (inertia * wb), 0.5 * wb @ (inertia * wb), wb

    hist = _run(plant, 20.0, every_s=0.5)
    l0, e0, _ = momentum_and_energy(hist[0])
    lam = (izz - ixx) / ixx * w0[2]   # body-frame precession rate of the transverse rate
    for tr in hist:
        lw, e, wb = momentum_and_energy(tr)
        assert np.linalg.norm(lw - l0) / np.linalg.norm(l0) < 1e-9
        assert e == pytest.approx(e0, rel=1e-9)
        t = tr["t_s"]
        assert wb[0] == pytest.approx(w0[0] * math.cos(lam * t) - w0[1] * math.sin(lam * t),
                                      abs=1e-8)
        assert wb[1] == pytest.approx(w0[0] * math.sin(lam * t) + w0[1] * math.cos(lam * t),
                                      abs=1e-8)
        assert wb[2] == pytest.approx(w0[2], abs=1e-12)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("axis", ["pitch", "yaw"])
def test_gimbal_step_gives_expected_angular_acceleration(axis):
    # ideal actuator: no lag, servo at the physics rate, no rate limit worth the name
    veh = load_vehicle("falcon9", overrides={
        **VACUUM, "engine": INSTANT_ENGINE,
        "tvc": {"rate_dps": 1e6, "time_constant_s": 0.0, "resolution_deg": 0.0,
                "update_hz": 1000.0}})
    plant = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 5000.0, "vz_mps": 0.0})
    delta = 0.02
    cmd = (1.0, delta, 0.0, 0.0, True, False) if axis == "pitch" else \
        (1.0, 0.0, delta, 0.0, True, False)
    gz = veh.config["engine"]["gimbal_z_m"]
    # expected: torque T sin(delta) * arm about body y (pitch) or x (yaw), I from the
    # mass model at the propellant left, integrated independently of the plant
    hist = _run(plant, 0.2, cmd=cmd, every_s=0.001)
    omega = 0.0
    for a, b in zip(hist, hist[1:]):
        alpha = []
        for tr in (a, b):
            _, cg, ixx, _ = veh.mass_properties(tr["propellant_kg"])
            thrust = veh.engine_thrust_n * veh.isp_vac_s / veh.isp_s
            alpha.append(thrust * math.sin(delta) * (cg - gz) / ixx)
        omega += 0.5 * (alpha[0] + alpha[1]) * 0.001
    tr = hist[-1]
    main, cross = (("wy_radps", "wx_radps") if axis == "pitch" else ("wx_radps", "wy_radps"))
    assert tr[main] == pytest.approx(omega, rel=1e-4)
    assert tr[main] > 0.0                      # the documented sign convention
    assert abs(tr[cross]) < 1e-12 and abs(tr["wz_radps"]) < 1e-12
    # lateral force opposite to the nose: pitch -> toward -x, yaw -> toward +y
    if axis == "pitch":
        assert tr["cg_vx_mps"] < 0.0 and abs(tr["cg_vy_mps"]) < 1e-12
    else:
        assert tr["cg_vy_mps"] > 0.0 and abs(tr["cg_vx_mps"]) < 1e-12
