"""Landing-burn sequencer: the flight state machine.

SAFE -> ARMED (two-step signed arm) -> COAST (attitude hold, engine off)
-> IGNITION (guidance says go; thrust must be sensed within ign_confirm_ms)
-> LANDING_BURN (throttle guidance) -> TERMINAL (below term_alt: legs down,
vertical attitude) -> TOUCHDOWN (leg contact: engine off) -> SAFED.
ABORT from anywhere in flight; its actions are documented in README.md.
Every state has a timeout, so the machine cannot hang.  Each transition is
reported through the `emit(code, state_from, state_to, arg, text)` callback
with its reason.
"""
from micropython import const
from protocol.parameters import index
from protocol.messages import (ST_SAFE, ST_ARMED, ST_COAST, ST_IGNITION, ST_LANDING_BURN,
                               ST_TERMINAL, ST_TOUCHDOWN, ST_SAFED, ST_ABORT, EV_STATE,
                               EV_FAULT, SF_THRUST_SENSED, SF_LEG_CONTACT)

_P_CONFIRM = index("ign_confirm_ms")
_P_TERM = index("term_alt_mm")
_P_TILT_ABORT = index("tilt_abort_urad")
_P_BURN_TO = index("burn_timeout_ms")
_P_COAST_TO = index("coast_timeout_ms")
# built once: a tuple of imported names in an expression is rebuilt (allocated) on every use
_ATTITUDE_WATCH = (ST_COAST, ST_IGNITION, ST_LANDING_BURN, ST_TERMINAL)
_NOT_FLYING = (ST_SAFE, ST_SAFED, ST_ABORT)
_TOUCHDOWN_MS = const(500)   # engine off and settled before SAFED
_THRUST_PM = const(300)      # chamber pressure that counts as burning


class Sequencer:
    def __init__(self, params, emit):
        self.p = params.values
        self.emit = emit
        self.state = ST_SAFE
        self.t_state_us = 0   # sim time we entered the state
        self.t_us = 0
        self.engine_on = False
        self.legs_down = False
        self.abort_reason = ""

    def go(self, state, reason, arg=0):
        prev = self.state
        if prev == state:
            return
        self.state = state
        self.t_state_us = self.t_us
        self.emit(EV_STATE, prev, state, arg, reason)

    def in_state_ms(self):
        return (self.t_us - self.t_state_us) // 1000

    def arm(self):
        if self.state == ST_SAFE:
            self.go(ST_ARMED, "arm confirmed")
            return True
        return False

    def disarm(self):
        if self.state == ST_ARMED:
            self.go(ST_SAFE, "disarmed")
            return True
        return False

    def abort(self, reason, arg=0):
        if self.state in _NOT_FLYING:
            return
        self.abort_reason = reason
        self.emit(EV_FAULT, self.state, ST_ABORT, arg, reason)
        self.engine_on = False  # abort action: engine cut, legs down, vehicle safed
        self.legs_down = True
        self.go(ST_ABORT, reason, arg)

    def step(self, t_us, s, est, guid):
        """Advance the machine for one control cycle at sim time t_us."""
        self.t_us = t_us
        st = self.state
        p = self.p
        if st == ST_ARMED:
            self.go(ST_COAST, "sensors flowing")
        elif st == ST_COAST:
            if guid.should_ignite(est):
                self.engine_on = True
                self.go(ST_IGNITION, "ignition point", est.alt_mm)
            elif self.in_state_ms() > p[_P_COAST_TO]:
                self.abort("coast timeout")
        elif st == ST_IGNITION:
            if s.flags & SF_THRUST_SENSED and s.chamber_p_pm >= _THRUST_PM:
                self.go(ST_LANDING_BURN, "thrust confirmed", self.in_state_ms())
            elif self.in_state_ms() > p[_P_CONFIRM]:
                self.abort("ignition not confirmed", self.in_state_ms())
        elif st == ST_LANDING_BURN or st == ST_TERMINAL:
            if s.flags & SF_LEG_CONTACT:
                self.engine_on = False
                self.go(ST_TOUCHDOWN, "leg contact", est.vz_mmps)
            elif st == ST_LANDING_BURN and est.alt_mm < p[_P_TERM]:
                self.legs_down = True
                self.go(ST_TERMINAL, "terminal altitude", est.alt_mm)
            elif self.in_state_ms() > p[_P_BURN_TO]:
                self.abort("burn timeout")
        elif st == ST_TOUCHDOWN:
            self.engine_on = False
            if self.in_state_ms() >= _TOUCHDOWN_MS:
                self.go(ST_SAFED, "settled")
        if self.state in _ATTITUDE_WATCH:
            tilt = est.tilt_x_urad * est.tilt_x_urad // 1000 + est.tilt_y_urad * est.tilt_y_urad // 1000
            lim = p[_P_TILT_ABORT]
            if tilt > lim * lim // 1000:
                self.abort("attitude beyond limit", est.tilt_x_urad)
        return self.state
