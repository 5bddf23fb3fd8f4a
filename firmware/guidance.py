"""Landing guidance: when to light the engine and how hard to push.

Vertical: the constant-deceleration (hoverslam) law a = v^2 / 2(h + aim) + g,
turned into a throttle clamped to [floor, 1] with the full-thrust acceleration
measured from the accelerometer and chamber pressure once the engine burns.
Ignition when the burn from the predicted point (one ignition lead time ahead)
would need `ign_margin_pm` of full thrust, so a shortfall can still be absorbed.
Lateral: a PD on position and velocity gives an acceleration, turned into a
tilt target for the attitude loop.  Solid motors: ignition height only,
h = -v t_b + K with K = g t_b^2 / 2 - (t_b I - J) / m from the thrust curve.
All integer fixed point: mm, mm/s, mm/s^2, urad, per mille.
"""
import micropython
from micropython import const
from protocol.parameters import index

_P_AMAX = index("accel_max_mmps2")
_P_TMIN = index("throttle_min_pm")
_P_MARGIN = index("ign_margin_pm")
_P_LEAD = index("ign_lead_ms")
_P_TDVZ = index("td_vz_mmps")
_P_TERM_A = index("term_accel_max_mmps2")
_P_TILTMAX = index("tilt_cmd_max_urad")
_P_LATKP = index("lat_kp_pm")
_P_LATKD = index("lat_kd_pm")
_P_G = index("gravity_mmps2")
_P_SOLID = index("solid")
_P_AERO = index("aero_k_upm")
_MIN_AUTH = const(1500)  # mm/s^2 per rad: below this, leaning does not move the vehicle
_P_SOLID_TB = index("solid_burn_ms")
_P_SOLID_K = index("solid_k_mm")


_KV_TERM = const(2000)  # terminal speed-error gain, 1/s x1000


@micropython.native
def isqrt(n):
    """Integer square root (Newton), exact for any n >= 0; no floats."""
    if n <= 0:
        return 0
    x = n
    y = (x + 1) // 2
    while y < x:
        x = y
        y = (x + n // x) // 2
    return x


class Guidance:
    def __init__(self, params):
        self.p = params.values
        self.reset()
        self.accel_cmd_mmps2 = 0
        self.throttle_pm = 1000
        self.tilt_x_cmd_urad = 0
        self.tilt_y_cmd_urad = 0

    def reset(self):
        p = self.p
        self.a_full_mmps2 = p[_P_AMAX]
        self.eff_pm = 1000
        self.a_term_mmps2 = 1000
        # aim point below ground giving td_vz at contact on the planned burn
        a_plan = p[_P_AMAX] * p[_P_MARGIN] // 1000 - p[_P_G]
        if a_plan < 1000:
            a_plan = 1000
        vtd = p[_P_TDVZ]
        self.aim_mm = vtd * vtd // (2 * a_plan)

    @micropython.native
    def needed_accel(self, alt_mm, vz_mmps):
        """Upward acceleration (mm/s^2) of the constant-deceleration burn that
        reaches zero speed `aim_mm` below the ground, i.e. touches down at
        about td_vz.  Along that burn v^2 / (h + aim) stays constant, so the
        throttle does not collapse onto its floor in the last metres (a vehicle
        that cannot hover would stop above the pad and climb)."""
        p = self.p
        if vz_mmps > 0:
            return p[_P_G]  # climbing: no braking needed
        h = (alt_mm + self.aim_mm) // 10  # cm
        v = vz_mmps // 10  # cm/s
        k = 5  # (cm^2/s^2) / (2 cm) -> mm/s^2
        if v < -32767:
            # past 327 m/s v^2 in cm^2/s^2 is no longer a small int on rp2: dm, dm/s
            v = v // 10
            h = h // 10
            k = 50
        if h < 1:
            h = 1
        # k v^2 / h as (q h + r) k / h: exactly v * v * k // h, without the
        # product k v^2 (4.5e9 at 300 m/s; rp2 small ints end at 2**30)
        v2 = v * v
        return v2 // h * k + v2 % h * k // h + p[_P_G]

    @micropython.native
    def should_ignite(self, est):
        p = self.p
        if p[_P_SOLID]:
            # solid motor: to stop at the ground, light at h = -v t_b + K (K from
            # the thrust curve, fitted with drag on the ground).  Judge it at the
            # moment the motor will really light, one ignition delay ahead, with
            # the speed it will have gained by then
            lead = p[_P_LEAD]
            v = est.vz_mmps
            if v >= 0:
                return False
            g = p[_P_G]
            v_lit = v - g * lead // 1000
            alt_lit = est.alt_mm + (v + v_lit) // 2 * lead // 1000
            h_ign = -v_lit * p[_P_SOLID_TB] // 1000 + p[_P_SOLID_K]
            return alt_lit <= h_ign
        lead = p[_P_LEAD]
        alt_pred = est.alt_mm + est.vz_mmps * lead // 1000
        need = self.needed_accel(alt_pred, est.vz_mmps)
        return need * 1000 >= p[_P_MARGIN] * self.a_full_mmps2

    @micropython.native
    def update_full_thrust(self, accel_z_mmps2, chamber_p_pm, thr_ref_pm):
        """Learn what full throttle gives: acceleration per unit of sensed
        thrust (mass falling, drag), and the engines' efficiency, sensed thrust
        over the throttle they should be delivering by now (a shortfall or a
        lost engine lowers it, and the throttle law asks more of what is left)."""
        if chamber_p_pm > 200:
            meas = accel_z_mmps2 * 1000 // chamber_p_pm
            self.a_full_mmps2 += (meas - self.a_full_mmps2) // 8
        if thr_ref_pm > 300:
            eff = chamber_p_pm * 1000 // thr_ref_pm
            eff = 300 if eff < 300 else (1000 if eff > 1000 else eff)
            self.eff_pm += (eff - self.eff_pm) // 8

    @micropython.native
    def available_mmps2(self):
        """Acceleration at full throttle with the engines as they are now."""
        return self.a_full_mmps2 * self.eff_pm // 1000

    def start_terminal(self, est):
        """Freeze the deceleration of the burn as it reaches the terminal phase,
        capped at term_accel_max: the last metres must be flown slower than
        the engine's lag (a powerful stage stopping hard overshoots and hops)."""
        a = self.needed_accel(est.alt_mm, est.vz_mmps) - self.p[_P_G]
        cap = self.p[_P_TERM_A]
        a = cap if a > cap else a
        self.a_term_mmps2 = a if a > 1000 else 1000

    @micropython.native
    def terminal_accel(self, est):
        """Terminal phase: track the speed profile of the frozen deceleration,
        v_ref(h) = -sqrt(v_td^2 + 2 a h), with feedback on the speed error.
        Unlike re-planning v^2/2h every cycle, this does not blow up as h -> 0
        (where altimeter noise and engine lag dominate)."""
        p = self.p
        a_ref = self.a_term_mmps2
        h = est.alt_mm if est.alt_mm > 0 else 0
        vtd = p[_P_TDVZ]
        # v_ref in mm/s: sqrt(vtd^2 + 2 a h) with h in mm, a in mm/s^2 (cm units keep it small)
        v_ref = isqrt((vtd // 10) * (vtd // 10) + 2 * (a_ref // 10) * (h // 10)) * 10
        err = -v_ref - est.vz_mmps  # > 0: descending faster than the profile
        a = p[_P_G] + a_ref + err * _KV_TERM // 1000
        return a if a > 0 else 0

    @micropython.native
    def vertical(self, est, terminal=False):
        p = self.p
        if terminal:
            a = self.terminal_accel(est)
        else:
            a = self.needed_accel(est.alt_mm, est.vz_mmps)
        self.accel_cmd_mmps2 = a
        avail = self.available_mmps2()
        thr = a * 1000 // avail if avail > 0 else 1000
        tmin = p[_P_TMIN]
        if thr < tmin:
            thr = tmin
        elif thr > 1000:
            thr = 1000
        self.throttle_pm = thr
        return thr

    @micropython.native
    def lateral_authority(self, est):
        """Sideways acceleration per radian of lean (mm/s^2): thrust pulls the
        way the vehicle leans, the air pushes the other way with a force that
        grows with V^2.  At high dynamic pressure the aero term wins and the
        lean must be reversed (a tail-first stage weathervanes)."""
        a_thr = est.accel_z_mmps2
        v_ms = (est.vz_mmps if est.vz_mmps > 0 else -est.vz_mmps) // 1000
        h_m = est.alt_mm // 1000
        dens_pm = 1000 - h_m * 96 // 1000  # density falls ~9.6 % per km near the ground
        if dens_pm < 100:
            dens_pm = 100
        aero = self.p[_P_AERO] * v_ms * v_ms // 1000 * dens_pm // 1000
        return a_thr - aero

    @micropython.native
    def lateral(self, est, vertical_only, target_x_mm=0, target_y_mm=0):
        """Tilt targets that move the vehicle toward the target point."""
        p = self.p
        if vertical_only:
            self.tilt_x_cmd_urad = 0
            self.tilt_y_cmd_urad = 0
            return
        auth = self.lateral_authority(est)
        lim = p[_P_TILTMAX]
        if auth * 2 < est.accel_z_mmps2 or auth < _MIN_AUTH:
            # the air has more say than the engine: fly at zero angle of attack
            # (tail into the descent, as the stage weathervanes anyway) rather
            # than saturate the gimbal fighting the aerodynamic moment
            vz = -est.vz_mmps if est.vz_mmps < -1000 else 1000
            tx = -est.vx_mmps * 1000 // vz * 1000
            ty = -est.vy_mmps * 1000 // vz * 1000
            self.tilt_x_cmd_urad = lim if tx > lim else (-lim if tx < -lim else tx)
            self.tilt_y_cmd_urad = lim if ty > lim else (-lim if ty < -lim else ty)
            return
        # mm * (1/s^2 x1000) / 1000 -> mm/s^2
        ax = -((est.x_mm - target_x_mm) // 10 * p[_P_LATKP] // 100 + est.vx_mmps * p[_P_LATKD] // 1000)
        ay = -((est.y_mm - target_y_mm) // 10 * p[_P_LATKP] // 100 + est.vy_mmps * p[_P_LATKD] // 1000)
        tx = ax * 1000 // auth * 1000
        ty = ay * 1000 // auth * 1000
        self.tilt_x_cmd_urad = lim if tx > lim else (-lim if tx < -lim else tx)
        self.tilt_y_cmd_urad = lim if ty > lim else (-lim if ty < -lim else ty)
