"""A small planar (x, z, pitch) lander with the host.plant.Plant facade.

Test fake for the loop mechanics (lockstep, link, handshake) so they are tested
independently of the 6-DOF plant.  Vacuum, constant Isp, instant throttle.
"""
import math

from protocol import messages as m


class PlanarPlant:
    def __init__(self, alt_m=500.0, vz_mps=-60.0, x_m=0.0, dry_kg=1000.0, prop_kg=400.0,
                 thrust_n=40000.0, isp_s=250.0, arm_m=3.0, inertia=4000.0, min_throttle=0.4,
                 ign_delay_s=0.2, dt_s=0.001):
        self.t_s = 0.0
        self.x, self.z, self.vx, self.vz = x_m, alt_m, 0.0, vz_mps
        self.th, self.q = 0.0, 0.0
        self.dry, self.prop = dry_kg, prop_kg
        self.tmax, self.isp, self.arm, self.inertia = thrust_n, isp_s, arm_m, inertia
        self.tmin = min_throttle
        self.ign_delay = ign_delay_s
        self.dt = dt_s
        self.cmd = (0.0, 0.0, False, False)
        self.ign_t = None
        self.thrust = 0.0
        self.done = False
        self.touch = None

    @property
    def step_s(self):
        return self.dt

    def sensors(self, step):
        mass = self.dry + self.prop
        fz = self.thrust / mass
        flags = m.SF_GNSS_VALID | m.SF_ALT_VALID
        if self.thrust > 0.3 * self.tmax:
            flags |= m.SF_THRUST_SENSED
        if self.z <= 0.01:
            flags |= m.SF_LEG_CONTACT
        return {"step": step, "t_us": int(round(self.t_s * 1e6)),
                "accel_x_mps2": 0.0, "accel_y_mps2": 0.0, "accel_z_mps2": fz if self.z > 0.01 else 9.80665,
                "gyro_x_radps": 0.0, "gyro_y_radps": self.q, "gyro_z_radps": 0.0,
                "alt_m": self.z, "gnss_x_m": self.x, "gnss_y_m": 0.0, "gnss_z_m": self.z,
                "gnss_vx_mps": self.vx, "gnss_vy_mps": 0.0, "gnss_vz_mps": self.vz,
                "chamber_p_frac": self.thrust / self.tmax, "flags": flags}

    def command(self, throttle, gp, gy, roll, engine_on, legs):
        if engine_on and self.ign_t is None:
            self.ign_t = self.t_s
        self.cmd = (throttle, gp, engine_on, legs)

    def advance(self, dt_s):
        n = int(round(dt_s / self.dt))
        for _ in range(n):
            self._step()

    def _step(self):
        thr, gp, on, legs = self.cmd
        lit = on and self.ign_t is not None and self.t_s - self.ign_t >= self.ign_delay and self.prop > 0
        self.thrust = self.tmax * max(self.tmin, min(1.0, thr)) if lit else 0.0
        mass = self.dry + self.prop
        dt = self.dt
        if self.z <= 0.0 and self.touch is None:
            self.touch = (self.vz, self.vx, self.th)
            self.done = True
        if self.done:
            self.z, self.vz, self.vx, self.q = 0.0, 0.0, 0.0, 0.0
            self.t_s += dt
            return
        ang = self.th - gp  # positive gimbal tilts thrust so the nose turns toward +x
        ax = self.thrust * math.sin(ang) / mass
        az = self.thrust * math.cos(ang) / mass - 9.80665
        self.q += self.thrust * self.arm * math.sin(gp) / self.inertia * dt
        self.th += self.q * dt
        self.vx += ax * dt
        self.vz += az * dt
        self.x += self.vx * dt
        self.z += self.vz * dt
        self.prop = max(0.0, self.prop - self.thrust / (self.isp * 9.80665) * dt)
        self.t_s += dt

    def truth(self):
        return {"x_m": self.x, "y_m": 0.0, "z_m": self.z, "vz_mps": self.vz,
                "tilt_deg": math.degrees(self.th), "throttle_frac": self.thrust / self.tmax}

    def verdict(self):
        return self.touch
