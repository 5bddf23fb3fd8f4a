"""State estimator: position, velocity and attitude from the SENSORS frame.

A complementary filter in integer fixed point (mm, mm/s, urad), allocating
nothing per cycle.  Every cycle the state is propagated with the IMU: the
attitude as a unit quaternion (body to world, 2**23 scale) advanced by all
three body rates (roll included, so coning and a rolling vehicle keep their
cross terms; renormalised every cycle), velocity from the specific force
rotated to the world by the full rotation, minus gravity.  The tilt the
control loops see is the body axis's lean in world axes (tilt_x, tilt_y, as
angles), its rate that lean's rate (M [gyro_y, -gyro_x], M the upper-left 2x2
of the rotation, r00..r11), and M^T maps world lean demands to body axes.  Fresh GNSS fixes correct position and velocity against the
estimate from when the fix was taken (`gnss_latency_ms` back, from a ring of
past estimates), and under thrust, if `est_tilt_k_pm` > 0, the tilt: a wrong
lean turns thrust into a sideways acceleration the GNSS velocity disagrees
with.  Fresh altimeter samples correct height and vertical speed.  Through a
GNSS dropout the IMU carries the state.  With `est_kf` the vertical channel is
a steady-state Kalman filter instead: height, vz and a vertical accel bias, each
altimeter and GNSS-vz innovation spread over the three by fixed gains
(est_kf_*_upm, the periodic Riccati solution for the sensors' noise: the rig's
hil_rig/kalman.py).
With `est_lever_mm` the ring keeps the velocity of the GNSS antenna (the body
origin, on the axis below the IMU), which the rotation moves on top of the
CG's: coning swings it round at ~0.4 m/s.  The vehicle is taken as upright when
the estimator is reset at arming (INS alignment is upstream of this software).

The propagation (`update`, `_turn`, `_attitude`) is compiled by the viper
emitter: machine-word arithmetic took ~40 % off the estimator's time on the
VM, with the same results, bit for bit, as the native code before it.  Its
ints are machine words (32-bit on rp2), so they must stay where the
small-int audit keeps every value, below 2**30 (hil_rig/intaudit.py runs
these functions as bytecode to check it).  Helpers are written out in place
there, not called: a call out of viper code boxes its arguments.
"""
from array import array
import micropython
from micropython import const
from protocol.parameters import index

_ALT_VALID = const(2)
_GNSS_VALID = const(1)
_RING = const(64)          # past estimates kept for latency compensation
_P_LAT = index("gnss_latency_ms")
_P_KG = index("est_gnss_k_pm")
_P_KA = index("est_alt_k_pm")
_P_G = index("gravity_mmps2")
_P_KT = index("est_tilt_k_pm")
_P_KF = index("est_kf")
_P_KHH = index("est_kf_hh_upm")  # the six gains, consecutive rows
_P_LEVER = index("est_lever_mm")
_BMAX = const(20000000)     # accel bias estimate cap, 1e-4 mm/s^2 (2 m/s^2)
_EMAX = const(50000)        # innovations clipped to this (mm, mm/s) before a gain
_QS = const(8388608)        # 2**23: a unit quaternion component
_DMAX = const(100000)       # rotation per cycle cap, urad (10 rad/s at 100 Hz)
_TILT_A_MIN = const(5000)   # tilt is corrected from GNSS only above this thrust, mm/s^2
_TILT_DMAX = const(20000)   # ... by at most this much per fix, urad


@micropython.native
def _qd(a, d):
    """a * d / 2e6: a quaternion component (2**23) times half an angle d (urad),
    split so every product stays a small int (|a| <= 2**23 + a bit, |d| <= 1e5)."""
    return (a // 1000 * d + a % 1000 * d // 1000) // 2000


@micropython.native
def _ku(e, k):
    """e * k / 100 for |e| <= _EMAX and 0 <= k < 1e6 (a gain x1e-6): e k in units of
    1e-4, split so every product stays a small int."""
    e = _EMAX if e > _EMAX else (-_EMAX if e < -_EMAX else e)
    return e * (k // 1000) * 10 + e * (k % 1000) // 100


class Estimator:
    def __init__(self, params):
        self.p = params.values
        self.h_alt = array("i", [0] * _RING)
        self.h_vz = array("i", [0] * _RING)
        self.h_x = array("i", [0] * _RING)
        self.h_y = array("i", [0] * _RING)
        self.h_vx = array("i", [0] * _RING)
        self.h_vy = array("i", [0] * _RING)
        self.reset()

    def reset(self):
        self.alt_mm = 0
        self.vz_mmps = 0
        self.x_mm = 0
        self.y_mm = 0
        self.vx_mmps = 0
        self.vy_mmps = 0
        self.tilt_x_urad = 0  # lean of the body axis toward world +x (an angle)
        self.tilt_y_urad = 0  # ... toward world +y
        self.qw = _QS         # attitude, body to world, 2**23 = 1
        self.qx = 0
        self.qy = 0
        self.qz = 0
        self.r_gx = 0         # remainders of the gyro integration
        self.r_gy = 0
        self.r_gz = 0
        self.rate_x_uradps = 0
        self.rate_y_uradps = 0
        self.roll_rate_uradps = 0
        self.accel_z_mmps2 = 0
        self.gnss_ok = False
        self.valid = False
        self.initialised = False
        self.last_t_us = -1
        self.n = 0
        self.dt_us = 0
        # remainders of the integer integrations (keep mm/s-scale rates exact)
        self.r_alt = 0
        self.r_x = 0
        self.r_y = 0
        self.r_vz = 0
        self.r_vx = 0
        self.r_vy = 0
        self.f_x = 0          # the last step's specific force in the world (trapezoidal rule)
        self.f_y = 0
        self.f_z = 0
        self.f_ok = False
        self.b4 = 0           # vertical accel bias correction (est_kf), 1e-4 mm/s^2
        self.last_gnss_z = -1
        self.last_gnss_vz = -1
        self.last_alt = -1
        self._attitude()

    def _init_from(self, s):
        f = s.flags
        if f & _GNSS_VALID:
            self.x_mm = s.gnss_x_mm
            self.y_mm = s.gnss_y_mm
            self.vx_mmps = s.gnss_vx_mmps
            self.vy_mmps = s.gnss_vy_mmps
            self.vz_mmps = s.gnss_vz_mmps
            self.alt_mm = s.gnss_z_mm
        if f & _ALT_VALID:
            self.alt_mm = s.alt_mm
        self.initialised = True

    @micropython.viper
    def update(self, s):
        """One estimation step from the SENSORS view `s`."""
        t = int(s.t_us)
        last = int(self.last_t_us)
        dt = 0 if last < 0 else t - last
        self.last_t_us = t
        self.dt_us = dt
        if not self.initialised:
            self._init_from(s)
        dt100 = dt // 100  # 100 us units keep rate*dt products small on a 30-bit int machine
        # attitude: q <- q (1, dtheta / 2), dtheta (urad) from all three body rates,
        # each rate clamped to 20 rad/s and the step to 40 ms (a gap this long is not
        # integrable anyway: keeps w dt a small int), the remainder carried so slow
        # rates are not floored away
        gx = int(s.gyro_x_urads)
        gy = int(s.gyro_y_urads)
        gz = int(s.gyro_z_urads)
        d100 = dt100 if dt100 <= 400 else 400
        w = 20000000 if gx > 20000000 else (-20000000 if gx < -20000000 else gx)
        q = w // 10 * d100 + int(self.r_gx)
        self.r_gx = q % 1000
        dx = q // 1000
        dx = _DMAX if dx > _DMAX else (-_DMAX if dx < -_DMAX else dx)
        w = 20000000 if gy > 20000000 else (-20000000 if gy < -20000000 else gy)
        q = w // 10 * d100 + int(self.r_gy)
        self.r_gy = q % 1000
        dy = q // 1000
        dy = _DMAX if dy > _DMAX else (-_DMAX if dy < -_DMAX else dy)
        w = 20000000 if gz > 20000000 else (-20000000 if gz < -20000000 else gz)
        q = w // 10 * d100 + int(self.r_gz)
        self.r_gz = q % 1000
        dz = q // 1000
        dz = _DMAX if dz > _DMAX else (-_DMAX if dz < -_DMAX else dz)
        self._turn(dx, dy, dz)
        # rates: the body's, and the world lean's (dtilt/dt = M (wy, -wx));
        # v * c / 2**14 for |c| <= 2**14 written (v >> 14) c + ((v & 16383) c >> 14)
        # throughout: the product v c would pass rp2's 30-bit small ints
        rx = gy
        ry = -gx
        self.roll_rate_uradps = gz
        r00 = int(self.r00)
        r01 = int(self.r01)
        r02 = int(self.r02)
        r10 = int(self.r10)
        r11 = int(self.r11)
        r12 = int(self.r12)
        r20 = int(self.r20)
        r21 = int(self.r21)
        r22 = int(self.r22)
        self.rate_x_uradps = ((rx >> 14) * r00 + ((rx & 16383) * r00 >> 14)
                              + (ry >> 14) * r01 + ((ry & 16383) * r01 >> 14))
        self.rate_y_uradps = ((rx >> 14) * r10 + ((rx & 16383) * r10 >> 14)
                              + (ry >> 14) * r11 + ((ry & 16383) * r11 >> 14))
        # specific force to the world with the full rotation
        ax_b = int(s.accel_x_mmps2)
        ay_b = int(s.accel_y_mmps2)
        az_b = int(s.accel_z_mmps2)
        self.accel_z_mmps2 = az_b
        hx = ax_b >> 14
        lx = ax_b & 16383
        hy = ay_b >> 14
        ly = ay_b & 16383
        hz = az_b >> 14
        lz = az_b & 16383
        ax = (hx * r00 + (lx * r00 >> 14) + hy * r01 + (ly * r01 >> 14)
              + hz * r02 + (lz * r02 >> 14))
        ay = (hx * r10 + (lx * r10 >> 14) + hy * r11 + (ly * r11 >> 14)
              + hz * r12 + (lz * r12 >> 14))
        az = (hx * r20 + (lx * r20 >> 14) + hy * r21 + (ly * r21 >> 14)
              + hz * r22 + (lz * r22 >> 14))
        p = self.p
        g = int(p[_P_G])
        if not self.f_ok:  # no last step (or a new attitude): this one for both ends
            self.f_x = ax
            self.f_y = ay
            self.f_z = az
            self.f_ok = True
        # propagate velocity, then position, both with the trapezoidal rule (the mean
        # of the step's two ends, remainders carried): the IMU sample closes the step,
        # and the rectangle rule would run ahead of a changing thrust (a solid motor's
        # ignition: 0 -> 36 m/s^2 in 0.4 s, 0.2 m/s off) and, braking at a, put the
        # height a dt / 2 per second of travel high (the altimeter then pulls it back
        # only as fast as its gain allows)
        vz0 = int(self.vz_mmps)
        vx0 = int(self.vx_mmps)
        vy0 = int(self.vy_mmps)
        # (the bias term over at most 40 ms, d100: a long SENSORS gap would take the
        # product past rp2's small ints, and the bias is no better known for it)
        q = ((az + int(self.f_z)) // 2 - g) * dt100 + int(self.r_vz) + (int(self.b4) // 100) * d100 // 100
        vz = vz0 + q // 10000
        self.r_vz = q % 10000
        q = (ax + int(self.f_x)) // 2 * dt100 + int(self.r_vx)
        vx = vx0 + q // 10000
        self.r_vx = q % 10000
        q = (ay + int(self.f_y)) // 2 * dt100 + int(self.r_vy)
        vy = vy0 + q // 10000
        self.r_vy = q % 10000
        self.vz_mmps = vz
        self.vx_mmps = vx
        self.vy_mmps = vy
        self.f_x = ax
        self.f_y = ay
        self.f_z = az
        q = (vz + vz0) * dt100 + int(self.r_alt)
        alt = int(self.alt_mm) + q // 20000
        self.r_alt = q % 20000
        q = (vx + vx0) * dt100 + int(self.r_x)
        x = int(self.x_mm) + q // 20000
        self.r_x = q % 20000
        q = (vy + vy0) * dt100 + int(self.r_y)
        y = int(self.y_mm) + q // 20000
        self.r_y = q % 20000
        self.alt_mm = alt
        self.x_mm = x
        self.y_mm = y
        # remember this estimate for latency compensation
        # (with est_lever_mm: the velocity of the GNSS antenna, the body origin, which
        # the rotation moves on top of the CG's: R (w x r), r = (0, 0, -lever); coning
        # 12 deg at 1 turn/s swings it round at ~0.4 m/s)
        n = int(self.n)
        i = n % _RING
        self.h_alt[i] = alt
        self.h_x[i] = x
        self.h_y[i] = y
        c = int(p[_P_LEVER])
        if c > 0:
            bx = -(gy // 1000) * c // 1000  # mm/s, body
            by = (gx // 1000) * c // 1000
            self.h_vx[i] = vx + (bx >> 14) * r00 + ((bx & 16383) * r00 >> 14) \
                + (by >> 14) * r01 + ((by & 16383) * r01 >> 14)
            self.h_vy[i] = vy + (bx >> 14) * r10 + ((bx & 16383) * r10 >> 14) \
                + (by >> 14) * r11 + ((by & 16383) * r11 >> 14)
            self.h_vz[i] = vz + (bx >> 14) * r20 + ((bx & 16383) * r20 >> 14) \
                + (by >> 14) * r21 + ((by & 16383) * r21 >> 14)
        else:
            self.h_vz[i] = vz
            self.h_vx[i] = vx
            self.h_vy[i] = vy
        self.n = n + 1
        self._fixes(s, p)

    @micropython.native
    def _fixes(self, s, p):
        """The GNSS and altimeter corrections, each for a fresh sample only."""
        f = s.flags
        if f & _GNSS_VALID:
            if s.gnss_z_mm != self.last_gnss_z or s.gnss_vz_mmps != self.last_gnss_vz:
                self.last_gnss_z = s.gnss_z_mm
                self.last_gnss_vz = s.gnss_vz_mmps
                self._gnss_fix(s, p)
            self.gnss_ok = True
        else:
            self.gnss_ok = False
        if f & _ALT_VALID and s.alt_mm != self.last_alt:
            self.last_alt = s.alt_mm
            e = s.alt_mm - self.alt_mm
            if p[_P_KF]:
                self._kf_update(e, p[_P_KHH], p[_P_KHH + 1], p[_P_KHH + 2])
            else:
                k = p[_P_KA]
                self.alt_mm += e * k // 1000
                if not self.gnss_ok:
                    self.vz_mmps += e * k // 4000  # the altimeter also steers vz through a dropout
        self.valid = True

    @micropython.viper
    def _turn(self, dx: int, dy: int, dz: int):
        """q <- q (1, d / 2) for the body rotation d (urad), then _attitude."""
        w = int(self.qw)
        x = int(self.qx)
        y = int(self.qy)
        z = int(self.qz)
        # a * d / 2e6 (a: 2**23 scale, |d| <= 1e5), split so no product passes 2**30;
        # the twelve written out, as _qd would compute them (a call out of viper boxes)
        wx = (w // 1000 * dx + w % 1000 * dx // 1000) // 2000
        wy = (w // 1000 * dy + w % 1000 * dy // 1000) // 2000
        wz = (w // 1000 * dz + w % 1000 * dz // 1000) // 2000
        xx = (x // 1000 * dx + x % 1000 * dx // 1000) // 2000
        xy = (x // 1000 * dy + x % 1000 * dy // 1000) // 2000
        xz = (x // 1000 * dz + x % 1000 * dz // 1000) // 2000
        yx = (y // 1000 * dx + y % 1000 * dx // 1000) // 2000
        yy = (y // 1000 * dy + y % 1000 * dy // 1000) // 2000
        yz = (y // 1000 * dz + y % 1000 * dz // 1000) // 2000
        zx = (z // 1000 * dx + z % 1000 * dx // 1000) // 2000
        zy = (z // 1000 * dy + z % 1000 * dy // 1000) // 2000
        zz = (z // 1000 * dz + z % 1000 * dz // 1000) // 2000
        self.qw = w - xx - yy - zz
        self.qx = x + wx + yz - zy
        self.qy = y + wy - xz + zx
        self.qz = z + wz + xy - yx
        self._attitude()

    @micropython.viper
    def _attitude(self):
        """Renormalise q and derive the rotation matrix (2**14), the lean and M."""
        qw = int(self.qw)
        qx = int(self.qx)
        qy = int(self.qy)
        qz = int(self.qz)
        # components at 2**14 (rounded): their products are at 2**28 = 1
        aw = (qw + 256) >> 9
        ax = (qx + 256) >> 9
        ay = (qy + 256) >> 9
        az = (qz + 256) >> 9
        e = aw * aw + ax * ax + ay * ay + az * az - 268435456  # |q|^2 - 1, 2**28
        e = 131072 if e > 131072 else (-131072 if e < -131072 else e)
        # q (1 - e / 2): q e / 2**29 split at 2**12
        self.qw = qw - ((qw >> 12) * e >> 17) - ((qw & 4095) * e >> 29)
        self.qx = qx - ((qx >> 12) * e >> 17) - ((qx & 4095) * e >> 29)
        self.qy = qy - ((qy >> 12) * e >> 17) - ((qy & 4095) * e >> 29)
        self.qz = qz - ((qz >> 12) * e >> 17) - ((qz & 4095) * e >> 29)
        xx = ax * ax
        yy = ay * ay
        zz = az * az
        # R at 2**28, rounded to 2**14
        r00 = (268435456 - 2 * (yy + zz) + 8192) >> 14
        r01 = (2 * (ax * ay - aw * az) + 8192) >> 14
        r02 = 2 * (ax * az + aw * ay)
        self.r02 = (r02 + 8192) >> 14
        r10 = (2 * (ax * ay + aw * az) + 8192) >> 14
        r11 = (268435456 - 2 * (xx + zz) + 8192) >> 14
        r12 = 2 * (ay * az - aw * ax)
        self.r12 = (r12 + 8192) >> 14
        self.r20 = (2 * (ax * az - aw * ay) + 8192) >> 14
        self.r21 = (2 * (ay * az + aw * ax) + 8192) >> 14
        self.r22 = (268435456 - 2 * (xx + yy) + 8192) >> 14
        self.r00 = r00
        self.r01 = r01
        self.r10 = r10
        self.r11 = r11
        # the body axis in the world, (R02, R12), in urad (2**28 -> 1e6: x 15625 / 2**22) ...
        sx = (r02 >> 12) * 15625 >> 10
        sy = (r12 >> 12) * 15625 >> 10
        # ... is the sine of the lean: the angle is s (1 + s^2 / 6) (to ~30 deg)
        sxm = sx // 1000
        sym = sy // 1000
        k = (sxm * sxm + sym * sym) // 6  # ppm
        self.tilt_x_urad = sx + sx // 1000 * k // 1000
        self.tilt_y_urad = sy + sy // 1000 * k // 1000

    def set_tilt(self, tx_urad, ty_urad):
        """Set the attitude to a lean (tx, ty) with no heading change (tests, alignment)."""
        # rotation vector (-ty, tx, 0) in the world: q = (cos, sin (axis)) of half of it,
        # to second order (an angle of 1.57 rad is within 2.5 % on the cosine)
        hx = -ty_urad // 2
        hy = tx_urad // 2
        n2 = (hx // 1000) * (hx // 1000) + (hy // 1000) * (hy // 1000)  # mrad^2
        c = 1000000 - n2 // 2 + (n2 // 1000) * (n2 // 1000) // 24  # cos(half), ppm
        sk = 1000000 - n2 // 6 + (n2 // 1000) * (n2 // 1000) // 120  # sin(h)/h, ppm
        sk //= 1000  # ppt
        self.qw = c * 8 + c // 1000 * 388608 // 1000  # ppm -> 2**23
        hx = hx * 8 + hx // 1000 * 388608 // 1000
        hy = hy * 8 + hy // 1000 * 388608 // 1000
        self.qx = hx // 1000 * sk + hx % 1000 * sk // 1000
        self.qy = hy // 1000 * sk + hy % 1000 * sk // 1000
        self.qz = 0
        for _ in range(3):
            self._attitude()
        self.f_ok = False  # the last step's world force was rotated by the old attitude

    @micropython.native
    def _gnss_fix(self, s, p):
        # compare the fix with the estimate from when it was taken
        lag = 0
        if self.dt_us > 0:
            lag = p[_P_LAT] * 1000 // self.dt_us
        if lag >= _RING:
            lag = _RING - 1
        if lag >= self.n:
            lag = self.n - 1
        j = (self.n - 1 - lag) % _RING
        k = p[_P_KG]
        e = s.gnss_vz_mmps - self.h_vz[j]
        if p[_P_KF]:
            self._kf_update(e, p[_P_KHH + 3], p[_P_KHH + 4], p[_P_KHH + 5])
        else:
            self.vz_mmps += e * k // 1000
        ex = s.gnss_vx_mmps - self.h_vx[j]
        self.vx_mmps += ex * k // 1000
        ey = s.gnss_vy_mmps - self.h_vy[j]
        self.vy_mmps += ey * k // 1000
        kt = p[_P_KT]
        a = self.accel_z_mmps2
        if kt > 0 and a > _TILT_A_MIN:
            self._tilt_fix(ex, ey, kt, a // 1000)
        e = s.gnss_x_mm - self.h_x[j]
        self.x_mm += e * k // 1000
        e = s.gnss_y_mm - self.h_y[j]
        self.y_mm += e * k // 1000
        if not s.flags & _ALT_VALID:
            e = s.gnss_z_mm - self.h_alt[j]
            self.alt_mm += e * k // 1000

    @micropython.native
    def _kf_update(self, e, kh, kv, kb):
        """Vertical Kalman correction by the innovation e (mm or mm/s) with the
        steady-state gains kh, kv, kb (x1e-6) on height, vz and the accel bias,
        through the integration remainders (no rounding drift)."""
        q = _ku(e, kh) * 2 + self.r_alt  # 1e-4 mm -> the height remainder's 1/20000 mm
        self.alt_mm += q // 20000
        self.r_alt = q % 20000
        q = _ku(e, kv) + self.r_vz       # 1e-4 mm/s: the vz remainder's unit
        self.vz_mmps += q // 10000
        self.r_vz = q % 10000
        b = self.b4 + _ku(e, kb)
        self.b4 = _BMAX if b > _BMAX else (-_BMAX if b < -_BMAX else b)

    @micropython.native
    def _tilt_fix(self, ex, ey, kt, a_ms2):
        """Lean the attitude toward where the velocity innovation (ex, ey, mm/s)
        says the thrust pointed: a lean error d (rad) under thrust a gives a
        sideways acceleration a d, so d = e kt / 1000 / a (kt: 1/s x1000)."""
        ex = 10000 if ex > 10000 else (-10000 if ex < -10000 else ex)
        ey = 10000 if ey > 10000 else (-10000 if ey < -10000 else ey)
        dx = ex * kt // a_ms2  # urad
        dy = ey * kt // a_ms2
        dx = _TILT_DMAX if dx > _TILT_DMAX else (-_TILT_DMAX if dx < -_TILT_DMAX else dx)
        dy = _TILT_DMAX if dy > _TILT_DMAX else (-_TILT_DMAX if dy < -_TILT_DMAX else dy)
        # q <- (1, phi / 2) q with the world rotation phi = (-dy, dx, 0)
        px = -dy
        py = dx
        w = self.qw
        x = self.qx
        y = self.qy
        z = self.qz
        self.qw = w - _qd(x, px) - _qd(y, py)
        self.qx = x + _qd(w, px) + _qd(z, py)
        self.qy = y + _qd(w, py) - _qd(z, px)
        self.qz = z + _qd(y, px) - _qd(x, py)
        self._attitude()
