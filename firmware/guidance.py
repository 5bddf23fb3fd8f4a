"""Landing guidance: when to light the engine and how hard to push.

Vertical: the constant-deceleration (hoverslam) law a = v^2 / 2(h + aim) + g,
turned into a throttle clamped to [floor, 1] with the full-thrust acceleration
measured from the accelerometer and chamber pressure once the engine burns.
Ignition when the burn from the predicted point (one ignition lead time ahead)
would need `ign_margin_pm` of full thrust, so a shortfall can still be absorbed.
Lateral: a PD on position and velocity gives an acceleration, turned into a
tilt target for the attitude loop.  Solid motors: ignition height only,
h = -v t_b + K with K = g t_b^2 / 2 - (t_b I - J) / m from the thrust curve,
lit `solid_margin_mm` early on purpose; during the burn, thrust-vector dumping
(`dump_tilt_urad` > 0): the full-thrust stopping point is predicted from the
thrust curve (knots), and the excess vertical impulse is burnt off by coning
the vehicle (cosine loss), a closed loop on the predicted stop (see dump_plan
and solid_burn).
All integer fixed point: mm, mm/s, mm/s^2, urad, per mille.
"""
from array import array
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
_P_LIT = index("solid_lit_ms")
_P_DRAG = index("drag_k_upm")
_P_KT = index("solid_t1_ms")     # knot times solid_t1..t8, consecutive rows
_P_KA = index("solid_a1_mmps2")  # knot accelerations solid_a1..a8
_NK = const(8)
_P_SMARGIN = index("solid_margin_mm")
_P_DTILT = index("dump_tilt_urad")
_P_DRATE = index("dump_rate_urads")
_P_DFROM = index("dump_from_ms")
_P_DTAU = index("dump_tau_ms")
_P_DEND = index("dump_end_ms")
_P_DTAPER = index("dump_taper_ms")
_P_DSTOP = index("dump_stop_mm")
_P_DAPEX = index("dump_apex_mm")
_P_DTS = index("dump_ts_ms")
_P_ACTD = index("act_delay_ms")
_P_DSLEW = index("dump_slew_uradps")
_PRED_MS = const(50)      # step of the stopping-point prediction ...
_PRED_EVERY = const(4)    # ... made every this many cycles (25 Hz at 100 Hz)
_RISE_MS = const(20)      # step of the tail-off climb after the stop ...
_RISE_N = const(60)       # ... for at most this many steps
_PLAN_MS = const(100)     # step of the dumping plan's lever integral
_BODY_PM = const(800)     # share of the thrust tilt the body gives (the gimbal adds the rest)
_RING = const(128)        # velocity samples for the average over one cone turn
_H_MAX_MM = const(20000)  # height errors beyond this are all "far too high"
_LAT_SHARE = const(12)    # the lateral guidance keeps at least 1 / this of the tilt budget


# a quarter wave of round(16384 sin(2 pi i / 256)), i = 0..64, as integers: a
# table computed at boot would differ on rp2, whose floats are single precision
_SIN_Q = (
    0, 402, 804, 1205, 1606, 2006, 2404, 2801, 3196, 3590, 3981, 4370, 4756, 5139, 5520,
    5897, 6270, 6639, 7005, 7366, 7723, 8076, 8423, 8765, 9102, 9434, 9760, 10080, 10394,
    10702, 11003, 11297, 11585, 11866, 12140, 12406, 12665, 12916, 13160, 13395, 13623,
    13842, 14053, 14256, 14449, 14635, 14811, 14978, 15137, 15286, 15426, 15557, 15679,
    15791, 15893, 15986, 16069, 16143, 16207, 16261, 16305, 16340, 16364, 16379, 16384)


def _sin_table():
    t = array("h", bytes(2 * 257))
    for i in range(257):
        j = i & 0xFF
        if j <= 64:
            t[i] = _SIN_Q[j]
        elif j <= 128:
            t[i] = _SIN_Q[128 - j]
        elif j <= 192:
            t[i] = -_SIN_Q[j - 128]
        else:
            t[i] = -_SIN_Q[256 - j]
    return t


_SIN = _sin_table()


@micropython.native
def sin16(phase):
    """sin of a phase in 1/65536 turns, x16384 (table + linear interpolation)."""
    phase &= 0xFFFF
    i = phase >> 8
    a = _SIN[i]
    return a + ((_SIN[i + 1] - a) * (phase & 0xFF) >> 8)


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
        self.ring_x = array("i", [0] * _RING)
        self.ring_y = array("i", [0] * _RING)
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
        # solid motor: dumping state
        self.stop_mm = 0          # predicted full-thrust stop: height ...
        self.stop_ms = 0          # ... and burn time
        self.rise_mm = 0          # climb after the stop, in the tail-off
        self.plan_urad = 0        # cone half-angle the dumping law asks for
        self.cone_urad = 0        # cone half-angle
        self.ramp_urad = -1       # ... when its ramp-out began
        self.phase = 0            # cone phase, 1/65536 turn
        self.rate_ff_x = 0        # cone feedforward for the attitude loop: rates (urad/s) ...
        self.rate_ff_y = 0
        self.acc_ff_x = 0         # ... and angular accelerations (urad/s^2)
        self.acc_ff_y = 0
        self.avg_v = False        # lateral guidance on the cone-averaged velocity
        self.vavg_x = 0
        self.vavg_y = 0
        self.ring_n = 0
        self.ring_i = 0
        self.ring_sx = 0
        self.ring_sy = 0
        self.knot = 0
        self.pred_n = 0

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
            # the speed it will have gained by then; the command itself reaches the
            # motor act_delay after this cycle's SENSORS
            lead = p[_P_LEAD] + p[_P_ACTD]
            v = est.vz_mmps
            if v >= 0:
                return False
            g = p[_P_G]
            v_lit = v - g * lead // 1000
            alt_lit = est.alt_mm + (v + v_lit) // 2 * lead // 1000
            h_ign = -v_lit * p[_P_SOLID_TB] // 1000 + p[_P_SOLID_K] + p[_P_SMARGIN]
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
        return est.accel_z_mmps2 - self.aero_per_rad(est)

    @micropython.native
    def aero_per_rad(self, est):
        """The air's sideways push per radian of angle of attack (mm/s^2): aero_k V^2."""
        v_ms = (est.vz_mmps if est.vz_mmps > 0 else -est.vz_mmps) // 1000
        h_m = est.alt_mm // 1000
        dens_pm = 1000 - h_m * 96 // 1000  # density falls ~9.6 % per km near the ground
        if dens_pm < 100:
            dens_pm = 100
        return self.p[_P_AERO] * v_ms * v_ms // 1000 * dens_pm // 1000

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
        vx = est.vx_mmps
        vy = est.vy_mmps
        if self.avg_v:  # coning: the velocity's mean over a turn, not its circling
            vx = self.vavg_x
            vy = self.vavg_y
        # mm * (1/s^2 x1000) / 1000 -> mm/s^2
        ax = -((est.x_mm - target_x_mm) // 10 * p[_P_LATKP] // 100 + vx * p[_P_LATKD] // 1000)
        ay = -((est.y_mm - target_y_mm) // 10 * p[_P_LATKP] // 100 + vy * p[_P_LATKD] // 1000)
        tx = ax * 1000 // auth * 1000
        ty = ay * 1000 // auth * 1000
        self.tilt_x_cmd_urad = lim if tx > lim else (-lim if tx < -lim else tx)
        self.tilt_y_cmd_urad = lim if ty > lim else (-lim if ty < -lim else ty)

    # --- solid motor: thrust-vector dumping ---------------------------------
    @micropython.native
    def thrust_accel(self, t_ms, j=0):
        """Full-thrust acceleration (mm/s^2) of the motor at burn time t_ms: the
        knot table, linear between knots, from (0, 0) to 0 after the last.  j: a
        knot at or before the one that ends t_ms's segment (a search hint)."""
        p = self.p
        while j < _NK and p[_P_KT + j] <= t_ms:
            j += 1
        self.knot = j
        if j >= _NK:
            return 0
        t1 = p[_P_KT + j]
        a1 = p[_P_KA + j]
        if j == 0:
            t0 = 0
            a0 = 0
        else:
            t0 = p[_P_KT + j - 1]
            a0 = p[_P_KA + j - 1]
        # per mille of the segment keeps the product small
        return a0 + (a1 - a0) * ((t_ms - t0) * 1000 // (t1 - t0)) // 1000

    @micropython.native
    def predict_stop(self, alt_mm, vz_mmps, tau_ms):
        """Where the vehicle comes to rest at full thrust from burn time tau_ms:
        sets stop_mm (height, below 0 if it would go through the ground) and
        stop_ms (burn time), then rise_mm: how far the tail-off lifts it again
        before it falls (rise).  Thrust curve, gravity and drag, in _PRED_MS steps."""
        p = self.p
        g = p[_P_G]
        kd = p[_P_DRAG]
        t_end = p[_P_KT + _NK - 1]
        h = alt_mm
        v = vz_mmps
        t = tau_ms
        a = self.thrust_accel(t)
        self.rise_mm = 0
        while v < 0 and t < t_end:
            t2 = t + _PRED_MS
            a2 = self.thrust_accel(t2, self.knot)
            vc = v // 10
            if vc < -10000:
                vc = -10000
            drag = (vc * vc // 10000) * kd // 1000  # k V^2 in mm/s^2 (opposes the fall)
            v2 = v + (((a + a2) // 2 - g + drag) * _PRED_MS + 500) // 1000  # rounded: no bias
            if v2 >= 0:
                dt = _PRED_MS * -v // (v2 - v)  # the stop inside this step
                self.stop_mm = h + v * dt // 2000
                self.stop_ms = t + dt
                self.rise(t + dt)
                return
            h += ((v + v2) * _PRED_MS + 1000) // 2000
            v = v2
            t = t2
            a = a2
        if v >= 0:
            self.stop_mm = h
            self.stop_ms = t
            return
        # burnt out still falling: as far below as it would need to stop at 1 g
        vc = v // 10
        if vc < -10000:
            vc = -10000
        self.stop_mm = h - 50 * (vc * vc // g)
        self.stop_ms = t

    @micropython.native
    def rise(self, t):
        """rise_mm: the climb from rest at burn time t while the thrust still
        exceeds the weight (the tail-off), to where the vehicle starts to fall:
        a stop early in the tail-off lifts it, and it then drops from higher."""
        g = self.p[_P_G]
        v = 0
        h = 0
        a = self.thrust_accel(t)
        n = _RISE_N  # a stop long before the tail-off: a big climb, whatever its size
        while (a > g or v > 0) and n > 0:
            n -= 1
            t += _RISE_MS
            a2 = self.thrust_accel(t, self.knot)
            v2 = v + ((a + a2) // 2 - g) * _RISE_MS // 1000  # drag: negligible this slow
            h += (v + v2) * _RISE_MS // 2000
            v = v2
            a = a2
            if v < 0:
                break
        self.rise_mm = h if h > 0 else 0

    @micropython.native
    def lever_integral(self, t0, t_end, ramp, ts):
        """J = sum a(t) r(t)^2 (ts - t) dt over [t0, t_end] (mm): full-thrust
        acceleration a from the knots, r the cone's share of its amplitude (1, then
        down to 0 over the last `ramp` ms), ts - t the lever to the stop."""
        j = 0
        t = t0
        k = 0
        while t < t_end:
            dt = _PLAN_MS if t_end - t > _PLAN_MS else t_end - t
            tm = t + dt // 2
            if tm >= ts:
                break
            a = self.thrust_accel(tm, k) // 10  # cm/s^2
            k = self.knot
            r = 1000 if t_end - tm >= ramp else (t_end - tm) * 1000 // ramp
            x = a * r // 1000 * r // 1000
            j += x * ((ts - tm) // 10) // 1000 * dt // 10  # cm/s^2 * 10 ms * ms = 1e-4 mm
            t += dt
        return j

    @micropython.native
    def dump_plan(self, tau_ms, est):
        """The cone half-angle to fly now (plan_urad), from the stop just predicted.

        A body tilt al (thrust tilt al / body: the gimbal swings the thrust further
        out) takes about a al^2 / (2 body^2) off the vertical acceleration a, and
        taking impulse off at a lever L (stop time - now) lowers the stop by that
        impulse times L.  The law is a loop on the stop's excess h over its aim:
        take off u = h / (L tc), so the excess decays with time constant tc, half
        the time left until the cone's ramp-out (the excess comes down as the square
        of the time to go, so the dumping rate falls to zero as the stop arrives at
        its aim), never below dump_tau (the lag of the attitude loop and of the
        estimate): a cone can only take impulse off, and a stop brought too low
        stays there.  Solved again at every prediction, it corrects what the cone
        really took off (aero, tracking).  Dumping waits until dump_from while a
        full cone from then (lever_integral) could still take the excess off: the
        same height taken off later is more impulse, which moves the stop later
        into the tail-off, where the thrust nears the weight."""
        p = self.p
        # the aim: the stop dump_stop above the ground (lower, and a hop off the legs
        # while the thrust still exceeds the weight is likely), or higher if the
        # tail-off would lift it from there above dump_apex (it then drops onto its
        # legs from the top of that climb)
        aim = p[_P_DAPEX] - self.rise_mm
        if aim < p[_P_DSTOP]:
            aim = p[_P_DSTOP]
        h = self.stop_mm - aim
        end = p[_P_DEND]
        if h <= 0 or tau_ms >= end:
            self.plan_urad = 0
            return
        if h > _H_MAX_MM:
            h = _H_MAX_MM
        ts = p[_P_DTS]
        t0 = p[_P_DFROM]
        if t0 > tau_ms:
            cap = p[_P_DTILT] - p[_P_DTILT] // _LAT_SHARE
            if self._plan_amp(h, self.lever_integral(t0, end, p[_P_DTAPER], ts)) < cap * 3 // 4:
                self.plan_urad = 0  # it can wait
                return
        lev = ts - tau_ms
        if lev < 100:
            lev = 100
        tc = (end - p[_P_DTAPER] - tau_ms) // 2
        if tc < p[_P_DTAU]:
            tc = p[_P_DTAU]
        u = h * 1000 // lev * 1000 // tc  # mm/s^2
        if u > 10000:
            u = 10000
        # falling tail first at V the body also meets the air at al, whose push
        # (aero_k V^2 al, square to the body) has an upward part aero_k V^2 al^2 that
        # gives some of the loss back (a third at 33 m/s, where the F15 peaks):
        # al^2 = 2 body^2 u / (a - 2 body^2 aero_k V^2)
        a = est.accel_z_mmps2 - self.aero_per_rad(est) * (2 * _BODY_PM * _BODY_PM // 1000) // 1000
        lim = est.accel_z_mmps2 // 4
        if a < lim:
            a = lim
        if a < 1000:
            a = 1000
        self.plan_urad = isqrt(2 * u * 10000 // a * 100) * _BODY_PM  # (mrad / body) * body_pm

    @micropython.native
    def _plan_amp(self, h, j):
        """Body half-angle (urad) of a cone that takes h off through a window of
        lever integral j (both mm): h = A^2 j / (2 body^2)."""
        if j <= 0:
            return 1000000
        x = h * 10000 // j  # h / j, 1e-4
        if x > 1000:
            return 1000000  # beyond any cone
        # A^2 = 2 body^2 (x / 1e4) rad^2, in (0.1 mrad)^2: 2 body^2 1e4 x = 2 _BODY_PM^2 x / 100
        return isqrt(x * (2 * _BODY_PM * _BODY_PM // 100)) * 100

    @micropython.native
    def _ring_push(self, vx, vy, n):
        i = self.ring_i
        if self.ring_n >= n:
            j = (i - n) % _RING
            self.ring_sx -= self.ring_x[j]
            self.ring_sy -= self.ring_y[j]
        else:
            self.ring_n += 1
        self.ring_x[i] = vx
        self.ring_y[i] = vy
        self.ring_sx += vx
        self.ring_sy += vy
        self.ring_i = (i + 1) % _RING
        k = self.ring_n
        self.vavg_x = self.ring_sx // k
        self.vavg_y = self.ring_sy // k

    def hold_upright(self):
        """Tilt targets zero, no cone."""
        self.tilt_x_cmd_urad = 0
        self.tilt_y_cmd_urad = 0
        self.cone_off()

    def cone_off(self):
        self.cone_urad = 0
        self.avg_v = False
        self.rate_ff_x = 0
        self.rate_ff_y = 0
        self.acc_ff_x = 0
        self.acc_ff_y = 0

    @micropython.native
    def solid_burn(self, est, tau_ms, dt_ms):
        """One cycle of thrust-vector dumping: predict the stop (every
        _PRED_EVERY cycles), choose the cone half-angle (dump_plan) and add the cone
        to the lateral guidance's tilt, with feedforward for the attitude loop.  On
        the way out the amplitude falls linearly to zero over dump_taper from what
        it was when the ramp began: over a whole turn of the cone that leaves the
        velocity at the centre of the circle it ran round (no drift).  Call after
        lateral()."""
        p = self.p
        self.rate_ff_x = 0
        self.rate_ff_y = 0
        self.acc_ff_x = 0
        self.acc_ff_y = 0
        cap = p[_P_DTILT]
        if cap <= 0 or dt_ms <= 0:
            self.avg_v = False
            return
        w = p[_P_DRATE] // 1000  # mrad/s
        n = 6283185 // (w * dt_ms) if w > 0 else 1  # samples in one turn
        if n > _RING:
            n = _RING
        self._ring_push(est.vx_mmps, est.vy_mmps, n)
        if self.pred_n <= 0:
            self.predict_stop(est.alt_mm, est.vz_mmps, tau_ms)
            self.pred_n = _PRED_EVERY
        self.pred_n -= 1
        end = p[_P_DEND]
        if self.pred_n == _PRED_EVERY - 1:
            self.dump_plan(tau_ms, est)  # with the stop just predicted
        want = 0
        if tau_ms < end:
            want = self.plan_urad
            ramp = p[_P_DTAPER]
            if end - tau_ms < ramp:  # the way out
                if self.ramp_urad < 0:
                    self.ramp_urad = self.cone_urad
                top = self.ramp_urad // 1000 * ((end - tau_ms) * 1000 // ramp)
                want = top if want > top else want
        # the cone and the lateral guidance share the tilt budget; the cone comes first
        # but leaves the lateral guidance at least 1 / _LAT_SHARE of it
        lx = self.tilt_x_cmd_urad
        ly = self.tilt_y_cmd_urad
        ax = lx if lx > 0 else -lx
        ay = ly if ly > 0 else -ly
        lat = (ax + ay // 2) if ax > ay else (ay + ax // 2)  # ~ the length of (lx, ly)
        lat_max = cap - want if want < cap - cap // _LAT_SHARE else cap // _LAT_SHARE
        if lat > lat_max:
            k = lat_max * 1000 // lat  # per mille
            lx = lx * k // 1000
            ly = ly * k // 1000
            lat = lat_max
        if want > cap - lat:
            want = cap - lat
        amp = self.cone_urad
        if tau_ms >= end:
            amp = 0
        else:
            step = p[_P_DSLEW] // 1000 * dt_ms
            if want > amp + step:
                amp += step
            elif want < amp - step:
                amp -= step
            else:
                amp = want
        self.cone_urad = amp
        self.avg_v = amp > 0  # the mean over a turn while the cone lasts
        if amp <= 0:
            return
        self.phase = (self.phase + w * dt_ms // 96) & 0xFFFF  # 65536 / (2 pi 1000) = 1 / 96
        # the gimbal answer takes effect act_delay later: aim at the cone's point then
        ph = self.phase + w * p[_P_ACTD] // 96
        c = sin16(ph + 16384)
        sn = sin16(ph)
        self.tilt_x_cmd_urad = lx + (amp >> 4) * c // 1024
        self.tilt_y_cmd_urad = ly + (amp >> 4) * sn // 1024
        r = amp // 1000 * w  # urad/s: the cone's angular speed
        self.rate_ff_x = -((r >> 8) * sn // 64)
        self.rate_ff_y = (r >> 8) * c // 64
        acc = r // 1000 * w  # urad/s^2: centripetal
        self.acc_ff_x = -((acc >> 12) * c // 4)
        self.acc_ff_y = -((acc >> 12) * sn // 4)
