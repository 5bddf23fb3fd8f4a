"""State estimator: vehicle position, velocity and tilt from the SENSORS frame.

Integer fixed point throughout (mm, mm/s, urad, urad/s) so a cycle allocates
nothing.  Tilt is integrated from the gyro with the small-angle model that
holds over the landing envelope (|tilt| < ~30 deg); the vehicle is taken as
upright when the estimator is reset at arming (INS alignment is upstream).
Height comes from the altimeter when valid, else GNSS; velocity from GNSS,
propagated with the accelerometer while GNSS is out.
"""
from micropython import const
from protocol.messages import SF_GNSS_VALID, SF_ALT_VALID

_ALT_VALID = const(2)
_GNSS_VALID = const(1)


class Estimator:
    def __init__(self, gravity_mmps2=9807):
        self.g = gravity_mmps2
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
        self.accel_z_mmps2 = 0
        self.gnss_ok = False
        self.valid = False
        self.last_t_us = -1

    def update(self, s):
        """One estimation step from the SENSORS view `s`."""
        t = s.t_us
        dt_us = 0 if self.last_t_us < 0 else t - self.last_t_us
        self.last_t_us = t
        dt_100us = dt_us // 100  # keeps rate*dt products small on a 30-bit int machine
        rx = s.gyro_y_urads
        ry = -s.gyro_x_urads
        self.rate_x_uradps = rx
        self.rate_y_uradps = ry
        self.tilt_x_urad += rx * dt_100us // 10000
        self.tilt_y_urad += ry * dt_100us // 10000
        az = s.accel_z_mmps2
        self.accel_z_mmps2 = az
        flags = s.flags
        if flags & _GNSS_VALID:
            self.x_mm = s.gnss_x_mm
            self.y_mm = s.gnss_y_mm
            self.vx_mmps = s.gnss_vx_mmps
            self.vy_mmps = s.gnss_vy_mmps
            self.vz_mmps = s.gnss_vz_mmps
            self.gnss_ok = True
        else:
            # dead reckoning on the vertical axis: specific force along the
            # (near-vertical) body axis minus gravity
            self.vz_mmps += (az - self.g) * dt_100us // 10000
            self.x_mm += self.vx_mmps * dt_100us // 10000
            self.y_mm += self.vy_mmps * dt_100us // 10000
            self.gnss_ok = False
        if flags & _ALT_VALID:
            self.alt_mm = s.alt_mm
        elif flags & _GNSS_VALID:
            self.alt_mm = s.gnss_z_mm
        else:
            self.alt_mm += self.vz_mmps * dt_100us // 10000
        self.valid = True
