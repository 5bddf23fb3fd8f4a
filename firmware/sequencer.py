"""Landing-burn sequencer: the flight state machine and its fault responses.

SAFE -> ARMED (two-step signed arm) -> COAST (attitude hold, engine off)
-> IGNITION (guidance says go; thrust must be sensed within ign_confirm_ms)
-> LANDING_BURN (throttle guidance; legs deploy below legs_alt) -> TERMINAL
(below term_alt: vertical attitude) -> TOUCHDOWN (leg contact: engine off) -> SAFED.

Faults and what the vehicle does about them (also in README.md):
  ignition not confirmed   relight (up to relight_max), then ABORT/cut
  thrust shortfall         EVENT; guidance flies on with the thrust it measures;
                           if even full thrust cannot stop in time: ABORT/divert
  estimator divergence     ABORT/cut (altimeter and GNSS disagree: no trusted height)
  attitude beyond limit    ABORT/cut (judged while the engine can steer, and
                           at the ignition point: a tumbling stage is not lit)
  link lost, exception     ABORT/cut (raised by the executive)
  a state's timeout        ABORT/cut
ABORT/cut: engine off, legs down (a solid motor burns on: the executive steers
it upright until burnout).  ABORT/divert: full thrust, steer to the
divert point so the vehicle comes down away from the pad.  Every transition
goes out through `emit(code, state_from, state_to, arg, text)` with its reason.
"""
import micropython
from micropython import const
from protocol.parameters import index
from protocol.messages import (ST_SAFE, ST_ARMED, ST_COAST, ST_IGNITION, ST_LANDING_BURN,
                               ST_TERMINAL, ST_TOUCHDOWN, ST_SAFED, ST_ABORT, EV_STATE,
                               EV_FAULT, SF_THRUST_SENSED, SF_LEG_CONTACT, SF_GNSS_VALID,
                               SF_ALT_VALID)

_P_CONFIRM = index("ign_confirm_ms")
_P_TERM = index("term_alt_mm")
_P_LEGS = index("legs_alt_mm")
_P_TILT_ABORT = index("tilt_abort_urad")
_P_BURN_TO = index("burn_timeout_ms")
_P_COAST_TO = index("coast_timeout_ms")
_P_SHORT_PM = index("thrust_short_pm")
_P_SHORT_MS = index("thrust_short_ms")
_P_DIV_MM = index("est_div_mm")
_P_DIV_MS = index("est_div_ms")
_P_RELIGHTS = index("relight_max")
_P_LEAD = index("ign_lead_ms")
_P_SOLID = index("solid")
_P_THR_LAG = index("thr_lag_ms")
_P_LIT = index("solid_lit_ms")
# built once: a tuple of imported names in an expression is rebuilt (allocated) on every use
_ATTITUDE_WATCH = (ST_IGNITION, ST_LANDING_BURN, ST_TERMINAL)  # when the TVC can act
_NOT_FLYING = (ST_SAFE, ST_SAFED, ST_ABORT)
_TOUCHDOWN_MS = const(500)   # engine off and settled before SAFED
_THRUST_PM = const(300)      # chamber pressure that counts as burning
_RELIGHT_OFF_MS = const(100)
_THR_LAG_MS = const(300)
_CLIMB_MMPS = const(300)      # climbing this fast in the terminal phase means we stopped high      # the engine follows throttle commands about this slowly  # engine off this long between relight attempts
_ABORT_TO_MS = const(120000)  # an ABORT that never reaches the ground still ends: engine off

ACTION_NONE = const(0)
ACTION_CUT = const(1)
ACTION_DIVERT = const(2)


class Sequencer:
    def __init__(self, params, emit):
        self.p = params.values
        self.emit = emit
        self.state = ST_SAFE
        self.t_state_us = 0   # sim time we entered the state
        self.t_us = 0
        self.new_flight()

    def new_flight(self):
        """Per-flight state, cleared at boot and at every arming."""
        self.engine_on = False
        self.legs_down = False
        self.action = ACTION_NONE
        self.relights = 0
        self.relight_off_us = -1
        self.short_since_us = -1
        self.shortfall = False
        self.div_since_us = -1
        self.thr_cmd_pm = 1000
        self.thr_ref_pm = 0   # what the engine should deliver by now, given its lag
        self.t_lit_us = -1    # when the engine lit (thrust confirmed, less solid_lit_ms)

    def go(self, state, reason, arg=0):
        prev = self.state
        if prev == state:
            return
        self.state = state
        self.t_state_us = self.t_us
        self.emit(EV_STATE, prev, state, arg, reason)

    @micropython.native
    def in_state_ms(self):
        return (self.t_us - self.t_state_us) // 1000

    def arm(self):
        if self.state == ST_SAFE:
            self.new_flight()
            self.go(ST_ARMED, "arm confirmed")
            return True
        return False

    def disarm(self, reason="disarmed"):
        if self.state == ST_ARMED:
            self.go(ST_SAFE, reason)
            return True
        return False

    def abort(self, reason, arg=0, action=ACTION_CUT):
        if self.state in _NOT_FLYING:
            return
        self.emit(EV_FAULT, self.state, ST_ABORT, arg, reason)
        self.action = action
        self.engine_on = action == ACTION_DIVERT
        self.legs_down = True
        self.go(ST_ABORT, reason, arg)

    def fault(self, text, arg):
        self.emit(EV_FAULT, self.state, self.state, arg, text)

    @micropython.native
    def step(self, t_us, s, est, guid):
        """Advance the machine for one control cycle at sim time t_us."""
        self.t_us = t_us
        st = self.state
        p = self.p
        flags = s.flags
        if st == ST_ARMED:
            self.go(ST_COAST, "sensors flowing")
        elif st == ST_COAST:
            if guid.should_ignite(est):
                if self._tilt_beyond(est, p):
                    # nothing steers a coasting stage; lighting it tumbling would be worse
                    self.abort("tilt limit at ignition", est.tilt_x_urad)
                else:
                    self.engine_on = True
                    self.go(ST_IGNITION, "ignition point", est.alt_mm)
            elif self.in_state_ms() > p[_P_COAST_TO]:
                self.abort("coast timeout")
        elif st == ST_IGNITION:
            self._ignition(s, p)
        elif st == ST_LANDING_BURN or st == ST_TERMINAL:
            if flags & SF_LEG_CONTACT:
                self.engine_on = False
                self.go(ST_TOUCHDOWN, "leg contact", est.vz_mmps)
            elif st == ST_LANDING_BURN and est.alt_mm < p[_P_TERM]:
                self.legs_down = True
                guid.start_terminal(est)
                self.go(ST_TERMINAL, "terminal altitude", est.alt_mm)
            elif st == ST_TERMINAL and est.vz_mmps > _CLIMB_MMPS and est.alt_mm < p[_P_TERM] // 4:
                # stopped above the pad and climbing (a stage that cannot hover
                # would fly away on its throttle floor): cut, drop the last bit
                self.engine_on = False
                self.fault("stopped above ground", est.alt_mm)
                self.go(ST_TOUCHDOWN, "engine cut above ground", est.alt_mm)
            elif not self.legs_down and est.alt_mm < p[_P_LEGS]:
                self.legs_down = True
            elif self.in_state_ms() > p[_P_BURN_TO]:
                self.abort("burn timeout")
            elif not p[_P_SOLID]:
                # a solid motor's thrust follows its curve, not a command: no shortfall test
                self._thrust_check(s, est, guid, p)
        elif st == ST_TOUCHDOWN:
            self.engine_on = False
            if self.in_state_ms() >= _TOUCHDOWN_MS:
                self.go(ST_SAFED, "settled")
        elif st == ST_ABORT:
            if flags & SF_LEG_CONTACT or self.in_state_ms() > _ABORT_TO_MS:
                self.engine_on = False
        if self.state == ST_COAST or self.state in _ATTITUDE_WATCH:
            self._divergence(s, p)
        if self.state in _ATTITUDE_WATCH and self._tilt_beyond(est, p):
            self.abort("attitude beyond limit", est.tilt_x_urad)
        return self.state

    @micropython.native
    def _tilt_beyond(self, est, p):
        tx = est.tilt_x_urad // 1000  # mrad keeps the squares small
        ty = est.tilt_y_urad // 1000
        lim = p[_P_TILT_ABORT] // 1000
        return tx * tx + ty * ty > lim * lim

    @micropython.native
    def _ignition(self, s, p):
        if self.relight_off_us >= 0:
            # engine held off between attempts, then commanded on again
            if (self.t_us - self.relight_off_us) // 1000 >= _RELIGHT_OFF_MS:
                self.relight_off_us = -1
                self.engine_on = True
                self.t_state_us = self.t_us  # a fresh confirm window
            return
        if s.flags & SF_THRUST_SENSED and s.chamber_p_pm >= _THRUST_PM:
            self.thr_ref_pm = s.chamber_p_pm
            self.t_lit_us = self.t_us - p[_P_LIT] * 1000
            self.go(ST_LANDING_BURN, "thrust confirmed", self.in_state_ms())
        elif self.in_state_ms() > p[_P_CONFIRM]:
            if self.relights < p[_P_RELIGHTS]:
                self.relights += 1
                self.fault("no ignition: relight", self.relights)
                self.engine_on = False
                self.relight_off_us = self.t_us
            else:
                self.abort("ignition not confirmed", self.in_state_ms())

    @micropython.native
    def _thrust_check(self, s, est, guid, p):
        """Sensed thrust well below what the engine should deliver for
        thrust_short_ms: shortfall.  The reference follows throttle-ups with
        the engine's lag and throttle-downs at once, so transients don't count;
        the first ign_lead_ms of the burn (spool-up) are not judged."""
        cmd = self.thr_cmd_pm
        ref = self.thr_ref_pm
        dt_ms = est.dt_us // 1000
        if cmd <= ref:
            ref = cmd
        else:
            ref += (cmd - ref) * dt_ms // p[_P_THR_LAG]
        self.thr_ref_pm = ref
        if self.state == ST_LANDING_BURN and self.in_state_ms() < p[_P_LEAD]:
            self.short_since_us = -1
            return
        want = ref
        # judged on the guidance's filtered efficiency (sensed over expected
        # thrust): the raw ratio is noisy and would keep resetting the timer
        if guid.eff_pm < p[_P_SHORT_PM]:
            if self.short_since_us < 0:
                self.short_since_us = self.t_us
            elif not self.shortfall and (self.t_us - self.short_since_us) // 1000 >= p[_P_SHORT_MS]:
                self.shortfall = True
                self.fault("thrust shortfall", guid.eff_pm)
        else:
            self.short_since_us = -1
        if self.shortfall:
            # with what the engine really gives, can the vehicle still stop?
            need = guid.needed_accel(est.alt_mm, est.vz_mmps)
            if need > guid.available_mmps2() * 11 // 10 and est.alt_mm > p[_P_TERM] // 4:
                self.abort("shortfall: divert", need, ACTION_DIVERT)

    @micropython.native
    def _divergence(self, s, p):
        f = s.flags
        if f & SF_GNSS_VALID and f & SF_ALT_VALID:
            d = s.alt_mm - s.gnss_z_mm
            if d > p[_P_DIV_MM] or d < -p[_P_DIV_MM]:
                if self.div_since_us < 0:
                    self.div_since_us = self.t_us
                elif (self.t_us - self.div_since_us) // 1000 >= p[_P_DIV_MS]:
                    self.abort("estimator divergence", d)
                return
        self.div_since_us = -1
