"""State estimator: position, velocity and tilt from the SENSORS frame.

A complementary filter in integer fixed point (mm, mm/s, urad), allocating
nothing per cycle.  Every cycle the state is propagated with the IMU: tilt
from the gyro (small-angle model, valid over the landing envelope |tilt| <
~30 deg; roll is held near zero by the roll loop), velocity from the specific
force rotated to the world by that tilt, minus gravity.  Fresh GNSS fixes
correct position and velocity against the estimate from when the fix was
taken (`gnss_latency_ms` back, from a ring of past estimates), fresh altimeter
samples correct height and vertical speed.  Through a GNSS dropout the IMU
carries the state.  The vehicle is taken as upright when the estimator is
reset at arming (INS alignment is upstream of this software).
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
        self.tilt_x_urad = 0  # lean toward +x: rotation about body +y
        self.tilt_y_urad = 0  # lean toward +y: rotation about body -x
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
        self.last_gnss_z = -1
        self.last_gnss_vz = -1
        self.last_alt = -1

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

    @micropython.native
    def update(self, s):
        """One estimation step from the SENSORS view `s`."""
        t = s.t_us
        dt = 0 if self.last_t_us < 0 else t - self.last_t_us
        self.last_t_us = t
        self.dt_us = dt
        if not self.initialised:
            self._init_from(s)
        dt100 = dt // 100  # 100 us units keep rate*dt products small on a 30-bit int machine
        # attitude from the gyro
        rx = s.gyro_y_urads
        ry = -s.gyro_x_urads
        self.rate_x_uradps = rx
        self.rate_y_uradps = ry
        self.roll_rate_uradps = s.gyro_z_urads
        self.tilt_x_urad += rx * dt100 // 10000
        self.tilt_y_urad += ry * dt100 // 10000
        # specific force to the world (small angles): body z tilted by (tx, ty)
        ax_b = s.accel_x_mmps2
        ay_b = s.accel_y_mmps2
        az_b = s.accel_z_mmps2
        self.accel_z_mmps2 = az_b
        tx = self.tilt_x_urad // 100  # 0.1 mrad
        ty = self.tilt_y_urad // 100
        ax = ax_b + az_b * tx // 10000
        ay = ay_b + az_b * ty // 10000
        # az_b (1 - cos tilt) = az_b * c // 100000 with c = tilt^2 / 2 in 1e-5,
        # split (az_b = 1000 a + b, a c = 100 u + v) into the same value without
        # the product az_b * c (past rp2's small ints, 2**30, at high thrust and
        # 15-25 deg of tilt)
        c = (tx * tx + ty * ty) // 2000
        ac = az_b // 1000 * c
        cz = ac // 100 + (ac % 100 * 1000 + az_b % 1000 * c) // 100000
        az = az_b - (ax_b * tx + ay_b * ty) // 10000 - cz
        g = self.p[_P_G]
        # propagate velocity, then position (remainders carried)
        q = (az - g) * dt100 + self.r_vz
        self.vz_mmps += q // 10000
        self.r_vz = q % 10000
        q = ax * dt100 + self.r_vx
        self.vx_mmps += q // 10000
        self.r_vx = q % 10000
        q = ay * dt100 + self.r_vy
        self.vy_mmps += q // 10000
        self.r_vy = q % 10000
        q = self.vz_mmps * dt100 + self.r_alt
        self.alt_mm += q // 10000
        self.r_alt = q % 10000
        q = self.vx_mmps * dt100 + self.r_x
        self.x_mm += q // 10000
        self.r_x = q % 10000
        q = self.vy_mmps * dt100 + self.r_y
        self.y_mm += q // 10000
        self.r_y = q % 10000
        # remember this estimate for latency compensation
        i = self.n % _RING
        self.h_alt[i] = self.alt_mm
        self.h_vz[i] = self.vz_mmps
        self.h_x[i] = self.x_mm
        self.h_y[i] = self.y_mm
        self.h_vx[i] = self.vx_mmps
        self.h_vy[i] = self.vy_mmps
        self.n += 1
        f = s.flags
        p = self.p
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
            k = p[_P_KA]
            e = s.alt_mm - self.alt_mm
            self.alt_mm += e * k // 1000
            if not self.gnss_ok:
                self.vz_mmps += e * k // 4000  # the altimeter also steers vz through a dropout
        self.valid = True

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
        self.vz_mmps += e * k // 1000
        e = s.gnss_vx_mmps - self.h_vx[j]
        self.vx_mmps += e * k // 1000
        e = s.gnss_vy_mmps - self.h_vy[j]
        self.vy_mmps += e * k // 1000
        e = s.gnss_x_mm - self.h_x[j]
        self.x_mm += e * k // 1000
        e = s.gnss_y_mm - self.h_y[j]
        self.y_mm += e * k // 1000
        if not s.flags & _ALT_VALID:
            e = s.gnss_z_mm - self.h_alt[j]
            self.alt_mm += e * k // 1000
