# The rp2 small-int rewrites (see hil_rig/intaudit.py) give the values of the
# plain formulas they replace, at the extremes the flights reach and beyond.
# Run on the MicroPython VM, whose 64-bit small ints compute the plain
# formulas exactly, so each reference below is the expression as it was.
import binascii
from protocol.parameters import index
from protocol.crc import crc32_into
import params as params_mod
from estimator import Estimator
from guidance import Guidance
from attitude import RatePid
from fw_fakes import FakeSensors

_HOBBY = (("att_kp_pm", 6000), ("rate_kp_pm", 20000), ("rate_ki_pm", 2000),
          ("rate_kd_pm", 500), ("alpha_gimbal_pm", 134860))


def test_needed_accel_is_v_squared_over_2h_exactly_up_to_327_mps():
    p = params_mod.Params()
    guid = Guidance(p)
    g = p.get(index("gravity_mmps2"))
    for vz in (-1, -999, -100000, -305000, -327670):  # -32767 cm/s: v^2 < 2**30
        for alt in (-guid.aim_mm - 5, 0, 12345, 4000000, 9000000):
            h = (alt + guid.aim_mm) // 10
            h = h if h >= 1 else 1
            want = (vz // 10) * (vz // 10) * 5 // h + g
            assert guid.needed_accel(alt, vz) == want, (alt, vz)
    assert guid.needed_accel(100000, 5000) == g  # climbing: no braking


def test_needed_accel_above_327_mps_stays_within_a_thousandth():
    p = params_mod.Params()
    guid = Guidance(p)
    g = p.get(index("gravity_mmps2"))
    for vz in (-327680, -500000, -2000000):
        for alt in (500000, 4000000, 50000000):
            h = (alt + guid.aim_mm) / 1000.0
            want = (vz / 1000.0) ** 2 / (2 * h) * 1000
            got = guid.needed_accel(alt, vz) - g
            assert abs(got - want) <= want / 1000 + 50, (alt, vz, got, want)


def test_rate_pid_equals_the_unsplit_formula_with_the_hobby_gains():
    p = params_mod.Params()
    for name, v in _HOBBY:
        assert p.set(index(name), v)
    pid = RatePid(p)
    kp_att, kp, ki, kd = 6000, 20000, 2000, 500
    gmax = p.get(index("gimbal_max_urad"))
    cases = ((190000, 0, 0), (-190000, 5000, -1100000), (3, -7, 900000), (262000, -262000, 0))
    for thrust in (100, 700, 1100):
        for cmd, ang, rate in cases:
            pid.reset()
            pid.prev_rate = rate + 15000
            pid.d_uradps2 = -7712062
            pid.i_urad = 150000
            i0, d0, prev = pid.i_urad, pid.d_uradps2, pid.prev_rate
            got = pid.step(cmd, ang, rate, 10000, thrust)
            err = (cmd - ang) * kp_att // 1000 - rate
            i = i0 + err * 10 // 1000
            i = 200000 if i > 200000 else (-200000 if i < -200000 else i)
            d = d0 + (-(rate - prev) * 1000 // 10 - d0) // 4
            alpha = (err * kp + i * ki + d * kd) // 1000
            want = alpha * 1000 // (134860 * thrust // 1000)
            want = gmax if want > gmax else (-gmax if want < -gmax else want)
            assert got == want, (thrust, cmd, ang, rate, got, want)


def test_estimator_tilted_specific_force_matches_the_rotation():
    # the full-rotation specific force (split products) against the plain formula
    # in floats, at the extremes: up to 90 deg of lean and 30 m/s^2... 300 m/s^2
    import math
    p = params_mod.Params()
    g = p.get(index("gravity_mmps2"))
    for tilt in (0, 50000, 420000, 700000, 1570000):
        for az_b in (9807, 98070, 299999, -150000):
            est = Estimator(p)
            s = FakeSensors(t_us=0, accel_z_mmps2=az_b, accel_x_mmps2=1234, flags=0)
            est.update(s)  # initialises; dt = 0
            est.set_tilt(tilt, -tilt // 3)
            vz0 = est.vz_mmps
            s.t_us = 10000
            est.update(s)
            # lean (tx, ty) as a rotation about (-ty, tx, 0) by |t|: R[2] . f
            tx, ty = tilt / 1e6, (-tilt // 3) / 1e6
            th = math.sqrt(tx * tx + ty * ty)
            if th > 0:
                ux, uy = -ty / th, tx / th
                c, sn = math.cos(th), math.sin(th)
                az = -sn * uy * 1234 + c * az_b  # rotation matrix row z: (-s uy, s ux, c)
            else:
                az = az_b
            want = (az - g) * 100 / 10000
            got = est.vz_mmps - vz0
            # (within 0.25 % of the force: set_tilt's series is ~3e-4 off at 90 deg;
            # an overflowed product would be off by orders of magnitude)
            assert abs(got - want) <= 1 + abs(az_b) * 0.0025 / 100, (tilt, az_b, got, want)


def test_crc32_into_equals_binascii_crc32():
    buf = bytearray(300)
    for i in range(300):
        buf[i] = (i * 131 + 7) & 0xFF
    out = bytearray(6)
    for n in (0, 1, 9, 37, 255, 300):
        assert crc32_into(buf, 0, n, out, 2) == 6
        c = binascii.crc32(bytes(buf[0:n]))
        assert list(out[2:6]) == [c & 0xFF, (c >> 8) & 0xFF, (c >> 16) & 0xFF, (c >> 24) & 0xFF], n
