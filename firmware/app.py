"""Cyclic executive: one control cycle per SENSORS frame, everything else in slack.

Cycle: estimate -> sequence -> guide -> attitude PID -> ACTUATORS, timed with
the board's ticks.  Garbage collection is disabled and run only in slack time
(after the ACTUATORS frame is out, when the heap runs low), never inside the
control step.  Any exception in a cycle puts the vehicle in a safe state and
emits an EVENT instead of dropping to the REPL; link loss in flight aborts.
"""
import gc
import sys
import micropython
from micropython import const
from protocol.parameters import index
from protocol import messages as m
from protocol.treehash import tree_hash32
import params as params_mod
from estimator import Estimator
from guidance import Guidance
from attitude import Attitude
from sequencer import Sequencer, ACTION_DIVERT
from link import Link, ARM_WINDOW_US

FW_VERSION = 1  # major*100 + minor
_STATUS_EVERY = const(10)     # cycles between STATUS frames
_EVENT_SLOTS = const(16)      # events queued in a cycle, sent in slack time
_EVENT_RING = const(32)       # the last events, for CMD_GET_EVENT (protocol EVENT_RING)
_GC_FREE_MIN = const(24576)   # collect in slack time below this many free bytes
_GC_CHECK_EVERY = const(64)   # slack passes between heap checks
_P_LINK_TO = index("link_timeout_ms")
_P_G = index("gravity_mmps2")
_P_DIVX = index("divert_x_mm")
_P_DIVY = index("divert_y_mm")
_P_ARM_TO = index("arm_timeout_ms")
_P_ROLL_KD = index("roll_kd_pm")
_P_SOLID = index("solid")
_P_UPRIGHT = index("upright_ms")
_HOLD_PM = const(100)         # a solid motor still pushing this hard (touchdown, abort): steer on
_FLYING = (m.ST_COAST, m.ST_IGNITION, m.ST_LANDING_BURN, m.ST_TERMINAL)
_BURNING = (m.ST_IGNITION, m.ST_LANDING_BURN, m.ST_TERMINAL)
if m.EVENT_RING != _EVENT_RING:  # const() takes a literal: the table's value, checked
    raise ImportError("app: _EVENT_RING is not protocol.messages.EVENT_RING")


class App:
    def __init__(self, board, fw_dirs=()):
        self.board = board
        self.params = params_mod.Params()
        self.params.load()
        self.link = Link(board)
        self.est = Estimator(self.params)
        self.guid = Guidance(self.params)
        self.att = Attitude(self.params)
        self.seq = Sequencer(self.params, self.emit)
        self.fw_dirs = fw_dirs
        self.step = 0
        self.last_t_us = -1
        self.cycles = 0
        self.cycle_us = 0
        self.cycle_max_us = 0
        self.gc_count = 0
        self.gc_max_us = 0
        self.exceptions = 0
        self.last_rx_tick = board.ticks_us()
        self.link_lost = False
        self.slack_n = 0
        self.heap_free = gc.mem_free()  # as of the last heap check (STATUS reports it)
        self.fw_hash = tree_hash32(fw_dirs)  # once, at boot, while GC is still on
        # every event is numbered (ev_no) and kept in a ring of the last _EVENT_RING
        # (preallocated), so the host can ask again for one a noisy link lost
        # (CMD_GET_EVENT); those raised inside a cycle wait there until slack time
        self.ev_ring = [[0, 0, 0, 0, 0, "", -1] for _ in range(_EVENT_RING)]
        self.ev_next = 0      # the next event's ev_no
        self.ev_first = 0     # the first of the ev_n waiting
        self.ev_n = 0
        self.ev_lost = 0
        self.in_cycle = False
        # the last two ACTUATORS sent, for a repeated SENSORS: with the host one
        # frame ahead (lockstep --act-delay frame) the answer it lost can be
        # the one before the last
        self.acts = [[0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]]
        self.act_i = 0        # index of the newest in self.acts
        self.answered = 0     # answers in memory (0..2), this flight
        self.repeats = 0
        self.stale = 0        # SENSORS older than both: late duplicates, ignored

    # --- reporting --------------------------------------------------------
    def emit(self, code, s_from, s_to, arg, text):
        queue = self.in_cycle
        if queue and self.ev_n >= _EVENT_SLOTS:
            self.ev_lost += 1
            return
        no = self.ev_next
        e = self.ev_ring[no % _EVENT_RING]  # (65536 is a multiple of the ring: no seam at the wrap)
        e[0] = self.step
        e[1] = code
        e[2] = s_from
        e[3] = s_to
        e[4] = arg
        e[5] = text
        e[6] = no
        self.ev_next = (no + 1) & 0xFFFF
        if not queue:
            self.send_event(e)
            return
        if not self.ev_n:
            self.ev_first = no
        self.ev_n += 1

    def send_event(self, e):
        self.link.send_event(e[0], e[1], e[2], e[3], e[4], e[5], e[6])

    def flush_events(self):
        ring = self.ev_ring
        no = self.ev_first
        for i in range(self.ev_n):
            self.send_event(ring[(no + i) % _EVENT_RING])
        self.ev_n = 0

    def hello(self):
        impl = sys.implementation.name
        self.link.send_hello(FW_VERSION, self.fw_hash, self.params.hash32(),
                             impl, sys.platform)

    # --- the control cycle ------------------------------------------------
    @micropython.native
    def cycle(self):
        """The control step: SENSORS in the decoder buffer -> ACTUATORS out."""
        b = self.board
        t0 = b.ticks_us()
        self.in_cycle = True
        s = self.link.sensors
        self.step = step = s.step
        t_us = s.t_us
        dt_us = 0 if self.last_t_us < 0 else t_us - self.last_t_us
        self.last_t_us = t_us
        est = self.est
        guid = self.guid
        seq = self.seq
        if dt_us > self.params.values[_P_LINK_TO] * 1000 and seq.state in _FLYING:
            self.link_gap(dt_us // 1000)
        est.update(s)
        if seq.state == m.ST_LANDING_BURN or seq.state == m.ST_TERMINAL:
            guid.update_full_thrust(est.accel_z_mmps2, s.chamber_p_pm, seq.thr_ref_pm)
        st = seq.step(t_us, s, est, guid)
        thr = 0
        gp = 0
        gy = 0
        steer = st in _BURNING
        if st == m.ST_IGNITION:
            thr = 1000
        elif st == m.ST_LANDING_BURN or st == m.ST_TERMINAL:
            thr = guid.vertical(est, st == m.ST_TERMINAL)
            if not self.params.values[_P_SOLID]:
                guid.lateral(est, st == m.ST_TERMINAL)
            else:
                # a solid motor cannot be shut down: it stops the vehicle in its tail-off
                # and the vehicle then drops onto its legs, landing with the attitude the
                # thrust left it in (a few degrees of lean tip it over on contact, the
                # drift the lateral guidance could still take out does not): in the last
                # metre (terminal) and from upright_ms of burn time on, hold it upright
                tau = (t_us - seq.t_lit_us) // 1000 if seq.t_lit_us >= 0 else 0
                up = self.params.values[_P_UPRIGHT]
                if st == m.ST_TERMINAL or (0 < up <= tau):
                    guid.hold_upright()
                else:
                    guid.lateral(est, False)
                    if seq.t_lit_us >= 0:
                        guid.solid_burn(est, tau, dt_us // 1000)
        elif st == m.ST_ABORT and seq.action == ACTION_DIVERT and seq.engine_on:
            # divert: everything the engine has, steering for the safe point
            thr = 1000
            pv = self.params.values
            guid.lateral(est, False, pv[_P_DIVX], pv[_P_DIVY])
            steer = True
        elif ((st == m.ST_TOUCHDOWN or st == m.ST_ABORT) and self.params.values[_P_SOLID]
              and s.chamber_p_pm >= _HOLD_PM):
            # a solid motor burns on where an engine would be cut: after contact (it may
            # lift the vehicle off its legs) and in an abort (left unsteered, a lean past
            # the abort limit grew to ~40 deg by burnout): steer upright until the
            # thrust is gone
            guid.hold_upright()
            steer = True
        seq.thr_cmd_pm = thr
        if steer:
            self.att.update(est, guid.tilt_x_cmd_urad, guid.tilt_y_cmd_urad, dt_us, s.chamber_p_pm,
                            guid)
            gp = self.att.gimbal_pitch_urad
            gy = self.att.gimbal_yaw_urad
        roll = 0
        if st in _FLYING:
            # hold roll: damp the roll rate with whatever roll authority the vehicle has
            roll = -(est.roll_rate_uradps // 1000) * self.params.values[_P_ROLL_KD] // 1000
            roll = 1000 if roll > 1000 else (-1000 if roll < -1000 else roll)
        flags = (m.AF_ENGINE_ON if seq.engine_on else 0) | (m.AF_LEGS_DOWN if seq.legs_down else 0)
        if not seq.engine_on:
            thr = 0
        self.answer(step, thr, gp, gy, roll, flags, st)
        c = b.ticks_diff(b.ticks_us(), t0)
        self.in_cycle = False
        self.cycle_us = c
        if c > self.cycle_max_us:
            self.cycle_max_us = c
        self.cycles += 1

    @micropython.native
    def answer(self, step, thr, gp, gy, roll, flags, st):
        """Send ACTUATORS for `step` and keep it (the newest of two) for a repeat."""
        i = self.act_i ^ 1
        la = self.acts[i]
        la[0] = step
        la[1] = thr
        la[2] = gp
        la[3] = gy
        la[4] = roll
        la[5] = flags
        la[6] = st
        self.act_i = i
        if self.answered < 2:
            self.answered += 1
        self.link.send_actuators(step, thr, gp, gy, roll, flags, st)

    @micropython.native
    def answered_before(self, step):
        """The ACTUATORS kept for `step` if it is one of the last two answered;
        () for a step older than both; None for a new step."""
        if not self.answered:
            return None
        newest = self.acts[self.act_i]
        if step > newest[0]:
            return None
        if step == newest[0]:
            return newest
        older = self.acts[self.act_i ^ 1]
        if self.answered > 1 and step == older[0]:
            return older
        return ()

    @micropython.native
    def after_cycle(self):
        """Telemetry that can wait until the ACTUATORS frame is out."""
        if self.ev_n:
            self.flush_events()
        if self.cycles % _STATUS_EVERY == 0:
            self.send_status()

    def send_status(self):
        self.link.send_status(self.step, self.seq.state, self.est, self.guid, self.att,
                              self.cycle_us, self.cycle_max_us, self.heap_free, self.gc_count)

    def fail_safe(self, exc):
        self.in_cycle = False
        self.exceptions += 1
        self.seq.abort("exception")
        self.emit(m.EV_EXCEPTION, self.seq.state, self.seq.state, self.exceptions,
                  type(exc).__name__)
        try:
            self.answer(self.step, 0, 0, 0, 0, m.AF_LEGS_DOWN, self.seq.state)
        except Exception:
            pass

    # --- commands ---------------------------------------------------------
    def command(self):
        cmd, pid, value, counter, status = self.link.check_command()
        result = 0
        seq = self.seq
        if status == m.ACK_OK:
            if cmd == m.CMD_PING:
                result = value
            elif cmd == m.CMD_HELLO:
                self.hello()
            elif cmd == m.CMD_GET_EVENT:
                e = self.ev_ring[value % _EVENT_RING]
                if value == -1:
                    result = self.ev_next
                elif 0 <= value <= 0xFFFF and e[6] == value:
                    self.send_event(e)
                    result = value
                else:
                    status = m.NACK_BAD_VALUE  # never emitted, or older than the ring
            elif cmd == m.CMD_TIME_SYNC:
                result = self.board.ticks_us()
            elif cmd == m.CMD_GET_PARAM:
                if 0 <= pid < len(params_mod.TABLE):
                    result = self.params.get(pid)
                else:
                    status = m.NACK_BAD_PARAM
            elif cmd == m.CMD_SET_PARAM:
                if seq.state not in (m.ST_SAFE, m.ST_ARMED):
                    status = m.NACK_BAD_STATE
                elif not (0 <= pid < len(params_mod.TABLE)):
                    status = m.NACK_BAD_PARAM
                elif not self.params.set(pid, value):
                    status = m.NACK_BAD_VALUE
                else:
                    result = value
                    self.guid.reset()
                    self.params.save()
                    self.emit(m.EV_PARAM, seq.state, seq.state, value, params_mod.TABLE[pid][0])
            elif cmd == m.CMD_ARM:
                if seq.state != m.ST_SAFE:
                    status = m.NACK_BAD_STATE
                else:
                    self.link.arm_pending_us = self.board.ticks_us()
            elif cmd == m.CMD_ARM_CONFIRM:
                pend = self.link.arm_pending_us
                self.link.arm_pending_us = -1
                if seq.state != m.ST_SAFE:
                    status = m.NACK_BAD_STATE
                elif pend < 0 or self.board.ticks_diff(self.board.ticks_us(), pend) > ARM_WINDOW_US:
                    status = m.NACK_TIMEOUT
                else:
                    self.est.reset()
                    self.guid.reset()
                    self.att.reset()
                    self.last_t_us = -1
                    self.answered = 0
                    self.last_rx_tick = self.board.ticks_us()
                    seq.arm()
            elif cmd == m.CMD_DISARM:
                if not seq.disarm():
                    status = m.NACK_BAD_STATE
            elif cmd == m.CMD_ABORT:
                if seq.state in _FLYING:
                    seq.abort("commanded abort")
                else:
                    status = m.NACK_BAD_STATE
            else:
                status = m.NACK_UNKNOWN_CMD
        if status == m.NACK_REPLAY:
            result = self.link.last_counter  # so the host can continue above it
        if status != m.ACK_OK:
            self.link.nacks += 1
            self.emit(m.EV_COMMAND, seq.state, seq.state, status, m.NACK_NAMES[status])
        self.link.send_ack(cmd, status, counter, result)

    # --- the loop ---------------------------------------------------------
    def collect(self):
        """A garbage collection, timed (slack time only)."""
        b = self.board
        t0 = b.ticks_us()
        gc.collect()
        d = b.ticks_diff(b.ticks_us(), t0)
        self.gc_count += 1
        if d > self.gc_max_us:
            self.gc_max_us = d
        self.heap_free = gc.mem_free()

    @micropython.native
    def housekeeping(self):
        """GC and watchdog: after every cycle, outside it.  (The timeouts slack()
        checks cannot run out there: the link was heard a cycle ago.)"""
        # mem_free walks the heap (~35 us on a 192K VM heap, far more on a
        # Pico): look every _GC_CHECK_EVERY passes, cycles allocate nothing
        # (fw_alloc_bytes_per_cycle), so nothing fills it between two looks
        # (commands, which allocate, check after each one)
        self.slack_n += 1
        if self.slack_n >= _GC_CHECK_EVERY:
            self.slack_n = 0
            self.heap_free = gc.mem_free()
            if self.heap_free < _GC_FREE_MIN:
                self.collect()
        self.board.feed_watchdog()

    @micropython.native
    def slack(self):
        """Idle time (no frame waiting): housekeeping, the arm and link-loss timeouts."""
        self.housekeeping()
        b = self.board
        if self.seq.state == m.ST_ARMED:
            quiet_ms = b.ticks_diff(b.ticks_us(), self.last_rx_tick) // 1000
            if quiet_ms > self.params.values[_P_ARM_TO]:
                self.seq.disarm("arm timeout: no SENSORS")
        if self.seq.state in _FLYING and not self.link_lost:
            quiet_ms = b.ticks_diff(b.ticks_us(), self.last_rx_tick) // 1000
            if quiet_ms > self.params.values[_P_LINK_TO]:
                self.link_lost = True
                self.emit(m.EV_LINK_LOST, self.seq.state, self.seq.state, quiet_ms, "no SENSORS")
                self.seq.abort("link lost", quiet_ms)
                self.link.send_actuators(self.step, 0, 0, 0, 0, m.AF_LEGS_DOWN, self.seq.state)

    def link_gap(self, gap_ms):
        """SENSORS resumed after more than the link timeout of sim time: the link was
        lost for that long, whatever this board's own clock says.  In lockstep the
        board's clock barely moves while the host steps through an outage, so the
        idle-time check (slack) cannot see it; on a real-time link both agree and
        slack has usually aborted already (then the vehicle is no longer flying)."""
        self.emit(m.EV_LINK_LOST, self.seq.state, self.seq.state, gap_ms, "SENSORS gap")
        self.seq.abort("link lost", gap_ms)

    @micropython.native
    def run(self):
        gc.collect()
        gc.disable()
        self.board.led(True)
        self.hello()
        self.emit(m.EV_BOOT, self.seq.state, self.seq.state, gc.mem_free(), "boot")
        link = self.link
        b = self.board
        while b.keep_running():
            mid = link.poll()
            if mid == m.SENSORS:
                self.last_rx_tick = b.ticks_us()
                self.link_lost = False
                la = self.answered_before(link.sensors.step)
                if la is not None:
                    if la:
                        # the host repeated a step whose answer it lost: answer the
                        # same again without running the cycle twice (so a lossy
                        # link cannot change what the vehicle does)
                        self.repeats += 1
                        link.send_actuators(la[0], la[1], la[2], la[3], la[4], la[5], la[6])
                    else:
                        self.stale += 1  # time does not run backwards
                    continue
                try:
                    self.cycle()
                except Exception as e:  # noqa: BLE001 - any fault must end in a safe state
                    self.fail_safe(e)
                self.after_cycle()
                self.housekeeping()
            elif mid == m.COMMAND:
                try:
                    self.command()
                except Exception as e:  # noqa: BLE001
                    self.fail_safe(e)
                # unlike a cycle, a command allocates (a SET_PARAM ~4 KB: tag check,
                # params.dat and counter.dat): a burst of them between two heap
                # checks would run the heap out (MemoryError) during configuration
                self.heap_free = gc.mem_free()
                if self.heap_free < _GC_FREE_MIN:
                    self.collect()
            elif mid < 0:
                if link.closed:
                    break
                self.slack()
                b.wait_rx(5)
