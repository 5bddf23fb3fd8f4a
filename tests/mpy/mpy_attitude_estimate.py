# Unit tests of the estimator's attitude propagation (firmware/estimator.py), on the
# VM: a quaternion advanced by all three body rates, so a coning vehicle's lean
# stays right in world axes.  The references are exact rotations in floats (test
# code only; the firmware has none).
import gc
import math
from protocol.parameters import index
import params as params_mod
from estimator import Estimator
from fw_fakes import FakeSensors


def _qmul(a, b):
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw)


def _qexp(wx, wy, wz, dt):
    n = math.sqrt(wx * wx + wy * wy + wz * wz)
    if n == 0:
        return (1.0, 0.0, 0.0, 0.0)
    s = math.sin(n * dt / 2) / n
    return (math.cos(n * dt / 2), wx * s, wy * s, wz * s)


def _lean(q):
    """Lean of the body axis toward world +x, +y (angles, rad)."""
    w, x, y, z = q
    return math.asin(2 * (x * z + w * y)), math.asin(2 * (y * z - w * x))


def _cone(theta, turn_s, seconds, roll_radps=0.0):
    """The vehicle leans theta and swings the lean round at one turn per turn_s, the
    way the hobby lander dumps thrust (the plant has no roll torque: the body rate
    about its axis is roll_radps, so the heading drifts by the cone's solid angle).
    Returns the worst world-lean error of the estimator, and of the small-angle
    model it replaced (tilt += body rate dt), in urad."""
    est = Estimator(params_mod.Params())
    s = FakeSensors(flags=0)
    est.update(s)
    est.set_tilt(int(theta * 1e6), 0)
    q = (math.cos(theta / 2), 0.0, math.sin(theta / 2), 0.0)
    old_x, old_y = theta, 0.0
    om = 2 * math.pi / turn_s
    dt = 0.01
    worst = worst_old = 0.0
    for k in range(1, int(seconds / dt) + 1):
        ph = om * (k - 0.5) * dt
        # the lean's rate, perpendicular to the lean, taken as the body's pitch rates
        wy = -theta * om * math.sin(ph)
        wx = -theta * om * math.cos(ph)
        gx = int(wx * 1e6)
        gy = int(wy * 1e6)
        gz = int(roll_radps * 1e6)
        q = _qmul(q, _qexp(gx / 1e6, gy / 1e6, gz / 1e6, dt))
        old_x += gy / 1e6 * dt
        old_y += -gx / 1e6 * dt
        s.t_us = k * 10000
        s.gyro_x_urads = gx
        s.gyro_y_urads = gy
        s.gyro_z_urads = gz
        est.update(s)
        tx, ty = _lean(q)
        e = math.sqrt((est.tilt_x_urad / 1e6 - tx) ** 2 + (est.tilt_y_urad / 1e6 - ty) ** 2)
        worst = e if e > worst else worst
        e = math.sqrt((old_x - tx) ** 2 + (old_y - ty) ** 2)
        worst_old = e if e > worst_old else worst_old
    return worst * 1e6, worst_old * 1e6


def test_coning_lean_stays_exact():
    # 13.5 deg at one turn per second for 3 s, the hobby lander's dumping cone: the
    # heading drifts ~30 deg, and the small-angle model's lean ~7 deg off
    err, err_old = _cone(0.2356, 1.0, 3.0)
    assert err < 1500, err            # < 0.09 deg
    assert err_old > 50000, err_old   # (the model it replaced: > 3 deg)


def test_coning_and_rolling_lean_stays_exact():
    # the same with the body rolling at 0.5 rad/s (cross terms through the roll rate)
    err, err_old = _cone(0.2356, 1.0, 3.0, 0.5)
    assert err < 1500, err


def test_long_slow_cone_stays_exact():
    # 20 s at 5 deg and 0.3 turns/s: rounding must not accumulate
    err, _ = _cone(0.0873, 3.3, 20.0, -0.2)
    assert err < 1500, err


def test_lean_is_an_angle_and_set_tilt_round_trips():
    est = Estimator(params_mod.Params())
    for tx, ty in ((0, 0), (100000, 0), (0, -250000), (180000, 120000), (-300000, 50000)):
        est.set_tilt(tx, ty)
        assert abs(est.tilt_x_urad - tx) <= 600 and abs(est.tilt_y_urad - ty) <= 600, (tx, ty, est.tilt_x_urad, est.tilt_y_urad)


def test_gnss_velocity_under_thrust_corrects_a_wrong_lean():
    # really leaning 30 mrad toward +x under 20 m/s^2 of thrust, estimated upright:
    # the GNSS velocity grows sideways at 600 mm/s^2, and with est_tilt_k_pm the
    # estimate leans over to match
    for kt, want_fixed in ((0, False), (300, True)):
        p = params_mod.Params()
        p.set(index("est_tilt_k_pm"), kt)
        est = Estimator(p)
        s = FakeSensors(accel_z_mmps2=20000, gnss_vz_mmps=0)
        est.update(s)
        lat = p.get(index("gnss_latency_ms"))
        for k in range(1, 401):
            s.t_us = k * 10000
            if k % 10 == 0:  # a fix at 10 Hz, lat old
                t_fix = k * 10 - lat
                s.gnss_vx_mmps = 20000 * 30 // 1000 * t_fix // 1000 if t_fix > 0 else 0
                s.gnss_x_mm = 300 * t_fix // 1000 * t_fix // 1000 if t_fix > 0 else 0
                s.gnss_z_mm = 1000000 + k // 10  # (a fix is told fresh by its height or vz)
            est.update(s)
        if want_fixed:
            assert abs(est.tilt_x_urad - 30000) < 5000, est.tilt_x_urad
        else:
            assert est.tilt_x_urad == 0, est.tilt_x_urad
        assert abs(est.tilt_y_urad) < 2000, est.tilt_y_urad


def test_update_allocates_nothing_while_coning():
    p = params_mod.Params()
    p.set(index("est_tilt_k_pm"), 300)
    est = Estimator(p)
    s = FakeSensors(accel_z_mmps2=20000, gyro_x_urads=-300000, gyro_y_urads=1400000,
                    gyro_z_urads=20000)
    est.update(s)
    gc.collect()
    gc.disable()
    a0 = gc.mem_alloc()
    for k in range(1, 200):
        s.t_us = k * 10000
        if k % 10 == 0:
            s.gnss_vx_mmps += 50
        est.update(s)
    used = gc.mem_alloc() - a0
    gc.enable()
    assert used == 0, used
