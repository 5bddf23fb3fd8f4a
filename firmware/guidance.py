"""Landing guidance: when to light the engine and how hard to push.

Vertical: the constant-deceleration (hoverslam) law a = (v^2 - v_td^2) / 2h + g,
turned into a throttle clamped to [floor, 1] with the full-thrust acceleration
measured from the accelerometer and chamber pressure once the engine burns.
Ignition when the burn from the predicted point (one ignition lead time ahead)
would need `ign_margin_pm` of full thrust, so a shortfall can still be absorbed.
Lateral: a PD on position and velocity gives an acceleration, turned into a
tilt target for the attitude loop.  Solid motors: ignition height only.
All integer fixed point: mm, mm/s, mm/s^2, urad, per mille.
"""
from micropython import const
from protocol.parameters import index

_P_AMAX = index("accel_max_mmps2")
_P_TMIN = index("throttle_min_pm")
_P_MARGIN = index("ign_margin_pm")
_P_LEAD = index("ign_lead_ms")
_P_TDVZ = index("td_vz_mmps")
_P_TILTMAX = index("tilt_cmd_max_urad")
_P_LATKP = index("lat_kp_pm")
_P_LATKD = index("lat_kd_pm")
_P_G = index("gravity_mmps2")
_P_SOLID = index("solid")
_P_SOLID_ALT = index("solid_ign_alt_mm")
_P_SOLID_VZ = index("solid_ref_vz_mmps")


class Guidance:
    def __init__(self, params):
        self.p = params.values
        self.a_full_mmps2 = self.p[_P_AMAX]
        self.accel_cmd_mmps2 = 0
        self.throttle_pm = 1000
        self.tilt_x_cmd_urad = 0
        self.tilt_y_cmd_urad = 0

    def reset(self):
        self.a_full_mmps2 = self.p[_P_AMAX]

    def needed_accel(self, alt_mm, vz_mmps):
        """Upward acceleration (mm/s^2) to reach td speed at the ground."""
        p = self.p
        h_cm = alt_mm // 10
        if h_cm < 1:
            h_cm = 1
        v_cms = vz_mmps // 10
        vtd_cms = p[_P_TDVZ] // 10
        a_net = (v_cms * v_cms - vtd_cms * vtd_cms) * 5 // h_cm  # (cm^2/s^2)/(2 cm) -> mm/s^2
        if vz_mmps > 0:
            a_net = 0  # climbing: no braking needed
        return a_net + p[_P_G]

    def should_ignite(self, est):
        p = self.p
        if p[_P_SOLID]:
            # solid motor: scale the reference ignition height by (v / v_ref)^2
            vref = p[_P_SOLID_VZ]
            if vref == 0:
                return False
            h_ign = p[_P_SOLID_ALT] * (est.vz_mmps // 10) // (vref // 10) * (est.vz_mmps // 10) // (vref // 10)
            return est.alt_mm <= h_ign
        lead = p[_P_LEAD]
        alt_pred = est.alt_mm + est.vz_mmps * lead // 1000
        need = self.needed_accel(alt_pred, est.vz_mmps)
        return need * 1000 >= p[_P_MARGIN] * self.a_full_mmps2

    def update_full_thrust(self, accel_z_mmps2, chamber_p_pm):
        """Learn the full-thrust acceleration from what the engine delivers."""
        if chamber_p_pm > 200:
            meas = accel_z_mmps2 * 1000 // chamber_p_pm
            self.a_full_mmps2 += (meas - self.a_full_mmps2) // 8

    def vertical(self, est):
        p = self.p
        a = self.needed_accel(est.alt_mm, est.vz_mmps)
        self.accel_cmd_mmps2 = a
        thr = a * 1000 // self.a_full_mmps2 if self.a_full_mmps2 > 0 else 1000
        tmin = p[_P_TMIN]
        if thr < tmin:
            thr = tmin
        elif thr > 1000:
            thr = 1000
        self.throttle_pm = thr
        return thr

    def lateral(self, est, vertical_only, target_x_mm=0, target_y_mm=0):
        p = self.p
        if vertical_only:
            self.tilt_x_cmd_urad = 0
            self.tilt_y_cmd_urad = 0
            return
        a_thr = est.accel_z_mmps2
        if a_thr < 1000:
            a_thr = 1000
        lim = p[_P_TILTMAX]
        # mm * (1/s^2 x1000) / 1000 -> mm/s^2
        ax = -((est.x_mm - target_x_mm) // 10 * p[_P_LATKP] // 100 + est.vx_mmps * p[_P_LATKD] // 1000)
        ay = -((est.y_mm - target_y_mm) // 10 * p[_P_LATKP] // 100 + est.vy_mmps * p[_P_LATKD] // 1000)
        tx = ax * 1000 // a_thr * 1000
        ty = ay * 1000 // a_thr * 1000
        self.tilt_x_cmd_urad = lim if tx > lim else (-lim if tx < -lim else tx)
        self.tilt_y_cmd_urad = lim if ty > lim else (-lim if ty < -lim else ty)
