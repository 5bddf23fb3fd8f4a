"""The closed loop, in one place: plant -> sensors -> SENSORS -> firmware
-> ACTUATORS -> plant.

Two pacings:
- lockstep: sim time never passes the moment the answer to step k takes
  effect (t_k+1 by default, t_k with act_delay "none") before it is in.
  A lost answer is asked for again (the firmware repeats its last ACTUATORS
  for a repeated step, without running the cycle twice), and a firmware that
  stays silent fails the run after `step_timeout_s` instead of hanging.  With
  a frame of delay the next SENSORS is already in flight, so a lost SENSORS
  can be overtaken: the board answers the next step and never this one (its
  time does not run backwards), and the command in effect is held for that
  period, as on a vehicle, and counted (`held`).  Through an injected
  outage window (host.linkfaults) the loop does the same for every step the
  window covers: sim time runs on with the command held, and the board sees
  the gap in the SENSORS timestamps (it declares the link lost if the gap is
  longer than its link timeout).
  `speed` caps the pace at N x real time (None: as fast as it goes).  The
  firmware sees only sim time, so the same seed gives the same flight at any
  speed.
- realtime: the plant runs on the wall clock; SENSORS go out every control
  period whatever happened, ACTUATORS are applied when they arrive (to the
  physics step), so latency is part of the test; answers that arrive after
  the next tick are late, ticks without an answer are deadline misses.

The plant is anything with the facade of host.plant.Plant (sensors, command,
advance, done, truth, step_s); its shortcuts (sensors_wire, command_wire,
snapshot) are used when it has them.
"""
import time
from dataclasses import dataclass, field
from operator import itemgetter

from host.errors import LinkError, LinkTimeout
from protocol import messages as m
from protocol.hostcodec import spec

_SENS = spec("SENSORS")
_ACT_ID = spec("ACTUATORS").msg_id
_SENS_GET = itemgetter(*_SENS.si_fields)  # SI values in table order, in C
_SENS_SCALE = tuple(sc for _, sc in _SENS.si)


def _sensors_wire(si):
    """_SENS.tuple_from_si(si), same values, about 3x faster (once per step)."""
    return tuple([v if sc is None else int(round(v / sc))
                  for v, sc in zip(_SENS_GET(si), _SENS_SCALE)])


@dataclass
class Trace:
    """Per-step history for plots and reports (SI units)."""
    t_s: list = field(default_factory=list)
    alt_m: list = field(default_factory=list)
    vz_mps: list = field(default_factory=list)
    x_m: list = field(default_factory=list)
    y_m: list = field(default_factory=list)
    tilt_deg: list = field(default_factory=list)
    throttle_frac: list = field(default_factory=list)
    gimbal_pitch_rad: list = field(default_factory=list)
    gimbal_yaw_rad: list = field(default_factory=list)
    state: list = field(default_factory=list)


@dataclass
class LoopResult:
    pace: str
    rate_hz: int
    steps: int
    sim_time_s: float
    wall_time_s: float
    closure_ns: list
    trace: Trace
    final_state: int
    ended_by: str          # "plant" (touchdown or crash, settled) or "time limit"
    retries: int = 0       # lockstep: SENSORS sent again after a lost answer
    act_delay: str = ""    # lockstep: when an answer takes effect ("frame" or "none")
    held: int = 0          # lockstep: answers never given (an outage window cut them, or with a
    #                        frame of delay their SENSORS was lost with the next one in flight),
    #                        the command before held instead
    late: int = 0          # realtime: answers that came after the next tick
    misses: int = 0        # realtime: ticks whose answer had not come by then
    overruns: int = 0      # realtime: ticks the host itself started late

    @property
    def rtf(self):
        return self.sim_time_s / self.wall_time_s if self.wall_time_s > 0 else 0.0

    @property
    def miss_rate(self):
        return self.misses / self.steps if self.steps else 0.0


def _apply(plant, a):
    flags = a["flags"]
    plant.command(a["throttle_pm"] * 1e-3, a["gimbal_pitch_urad"] * 1e-6,
                  a["gimbal_yaw_urad"] * 1e-6, a["roll_pm"] * 1e-3,
                  bool(flags & m.AF_ENGINE_ON), bool(flags & m.AF_LEGS_DOWN))


def _record(trace, t_s, tr, a):
    """Append one trace sample: the true state at t_s and the ACTUATORS in effect from t_s."""
    trace.t_s.append(t_s)
    trace.alt_m.append(tr["z_m"])
    trace.vz_mps.append(tr["vz_mps"])
    trace.x_m.append(tr["x_m"])
    trace.y_m.append(tr["y_m"])
    trace.tilt_deg.append(tr["tilt_deg"])
    trace.throttle_frac.append(tr["throttle_frac"])
    trace.gimbal_pitch_rad.append(a["gimbal_pitch_urad"] * 1e-6)
    trace.gimbal_yaw_rad.append(a["gimbal_yaw_urad"] * 1e-6)
    trace.state.append(a["state"])


def _settle(plant, done_at, settle_s):
    """(done_at, settled): once the plant says done, fly settle_s more of sim
    time so the firmware reaches its resting state."""
    if not plant.done:
        return done_at, False
    if done_at is None:
        done_at = plant.t_s
    return done_at, plant.t_s - done_at >= settle_s


ACT_DELAYS = ("none", "frame")


def fly_lockstep(link, plant, rate_hz=100, max_time_s=180.0, step_timeout_s=2.0,
                 settle_s=1.0, on_step=None, trace_every=None, speed=None, retry_s=0.05,
                 faulty_port=None, act_delay="frame"):
    """Run the loop until the plant says done (then `settle_s` more) or max_time_s.
    The trace keeps every `trace_every`-th step (default: 20 samples/s).

    act_delay: when the ACTUATORS answering SENSORS k take effect.  "frame"
    (the default): at t_k+1, one control period later, as a flight computer
    that outputs at the next tick would.  "none": at t_k, as if the board
    answered instantly (the plant waits for the answer, then steps; PX4 and
    ArduPilot SITL lockstep).  A board's real latency lies between the two
    (see `--pace realtime`); "frame" is the default because a controller that
    lands with more latency than the board has is tested on the safe side.
    With "frame", SENSORS k+1 needs only ACTUATORS k-1, so it goes out before
    ACTUATORS k is in: the plant steps while the board computes, and a step
    costs about the longer of the two instead of their sum.  Both are deterministic; on_step(k,
    plant, a) sees the plant at t_k ("none") or t_k+1 ("frame")."""
    if act_delay not in ACT_DELAYS:
        raise ValueError(f"act_delay must be one of {', '.join(ACT_DELAYS)}, not {act_delay!r}")
    delay_frame = act_delay == "frame"
    dt_s = 1.0 / rate_hz
    trace_every = trace_every or max(1, rate_hz // 20)
    k = 0
    closure = []
    trace = Trace()
    state = m.ST_SAFE
    done_at = None
    ended_by = "time limit"
    retries = 0
    held = 0
    a = None
    write = link.write
    frame_of = link.writer.frame
    await_step = link.await_step
    # a plant and a writer may offer the wire-unit fast paths; any facade works
    # without them.  Fastest: the plant's numbers as an int array, framed by
    # compiled code
    sensors_wire = getattr(plant, "sensors_wire", None) or (lambda k: _sensors_wire(plant.sensors(k)))
    frame_wire = frame_of
    if hasattr(link.writer, "frame_ints") and hasattr(plant, "sensors_wire_array"):
        sensors_wire = plant.sensors_wire_array
        frame_wire = link.writer.frame_ints
    command_wire = getattr(plant, "command_wire", None) or (
        lambda thr, gp, gy, roll, flags: _apply(plant, {"throttle_pm": thr, "gimbal_pitch_urad": gp,
                                                        "gimbal_yaw_urad": gy, "roll_pm": roll,
                                                        "flags": flags}))
    sens_id = _SENS.msg_id
    perf_ns = time.perf_counter_ns
    monotonic = time.monotonic
    # with a frame of delay SENSORS k+1 needs only ACTUATORS k-1, so it goes out
    # before ACTUATORS k is in: the board starts on it as soon as it is done
    # with k, and host and board work at the same time.  Not through a link
    # that loses frames on purpose: a lost SENSORS k would let the board answer
    # k+1 first (it answers a repeat of either of its last two steps)
    ahead = delay_frame and faulty_port is None

    def answer(k, frame):
        nonlocal retries
        if faulty_port is not None and faulty_port.cut():
            # an outage window: no answer can come (the SENSORS or its answer is
            # lost), and waiting would stop sim time inside the window for good
            link.pump()
            return None
        deadline = monotonic() + step_timeout_s
        while True:
            try:
                return await_step("ACTUATORS", k, min(retry_s, max(0.001, deadline - monotonic())))
            except LinkTimeout:
                if ahead and any(msg.msg_id == _ACT_ID and msg.fields["step"] > k
                                 for msg in link.inbox):
                    # SENSORS k was lost and the board went on to k+1: k is never
                    # answered (time does not run backwards on the board)
                    if k == 0:
                        raise LinkError("the board answered step 1 but not step 0: the first "
                                        "SENSORS frame was lost; fly again, or --act-delay none "
                                        "on this link") from None
                    return None
                if monotonic() >= deadline:
                    raise LinkTimeout(f"no ACTUATORS from the board within {step_timeout_s:.1f} s "
                                      f"(step {k}, sim time {k * dt_s:.2f} s)") from None
                retries += 1
                write(frame)  # same bytes again: the firmware answers a repeat from memory

    # a trace sample is the true state at the time a SENSORS frame shows and the
    # ACTUATORS in effect from then on (step k's at t_k, or with a frame of
    # delay step k's at t_k+1).  In flight the loop only copies the state (a
    # plant's snapshot(), while the board computes); the trace is built after
    has_snapshot = hasattr(plant, "snapshot")
    snapshot = plant.snapshot if has_snapshot else plant.truth
    samples = []
    t_wall0 = time.perf_counter()
    frame = t0 = None
    smp = None
    while plant.t_s < max_time_s:
        if faulty_port is not None:
            faulty_port.set_time(plant.t_s)
        if frame is None:
            frame = frame_wire(sens_id, sensors_wire(k))
            t0 = perf_ns()
            write(frame)
        nxt = None
        if delay_frame:
            # [t_k, t_k+1] under ACTUATORS k-1, while the board computes step k
            plant.advance(dt_s)
            done_at, settled = _settle(plant, done_at, settle_s)
            if ahead and not settled and plant.t_s < max_time_s:
                nxt = frame_wire(sens_id, sensors_wire(k + 1))
                t_nxt = perf_ns()
                write(nxt)
            if (k + 1) % trace_every == 0:
                smp = (plant.t_s, snapshot())
        elif k % trace_every == 0:
            smp = (plant.t_s, snapshot())
        act = answer(k, frame)
        if act is not None:
            closure.append(perf_ns() - t0)
            a = act.fields
            state = a["state"]
            command_wire(a["throttle_pm"], a["gimbal_pitch_urad"], a["gimbal_yaw_urad"],
                         a["roll_pm"], a["flags"])
        else:  # lost for good: the command in effect stays, as on a vehicle
            held += 1
        if smp is not None:
            samples.append((smp[0], smp[1], a))
            smp = None
        if on_step is not None:
            on_step(k, plant, a)
        if not delay_frame:
            plant.advance(dt_s)
            done_at, settled = _settle(plant, done_at, settle_s)
        k += 1
        frame, t0 = (nxt, t_nxt) if nxt is not None else (None, None)
        if speed:
            lead = plant.t_s / speed - (time.perf_counter() - t_wall0)
            if lead > 0:
                time.sleep(lead)
        if settled:
            ended_by = "plant"
            break
    wall = time.perf_counter() - t_wall0
    link.pump()
    as_truth = plant.truth if has_snapshot else (lambda tr: tr)
    for t_s, snap, fields in samples:
        _record(trace, t_s, as_truth(snap), fields)
    return LoopResult(pace="lockstep", rate_hz=rate_hz, steps=k, sim_time_s=plant.t_s,
                      wall_time_s=wall, closure_ns=closure, trace=trace, final_state=state,
                      ended_by=ended_by, retries=retries, held=held,
                      act_delay=act_delay)


def fly_realtime(link, plant, rate_hz=200, max_time_s=180.0, settle_s=1.0, on_step=None,
                 trace_every=None, silence_s=2.0, faulty_port=None):
    """The plant on the wall clock; the firmware must keep up."""
    dt_s = 1.0 / rate_hz
    trace_every = trace_every or max(1, rate_hz // 20)
    phys = plant.step_s
    sent = {}          # step -> perf_counter_ns when SENSORS went out
    closure = []
    trace = Trace()
    state = m.ST_SAFE
    late = misses = overruns = 0
    answered = -1      # highest step answered
    last_a = None
    done_at = None
    ended_by = "time limit"
    k = 0
    t_wall0 = time.perf_counter()
    last_rx = t_wall0
    while plant.t_s < max_time_s:
        tick = t_wall0 + k * dt_s
        now = time.perf_counter()
        if now - tick > dt_s:
            overruns += 1  # the host itself fell behind (a stall): keep the sim clock honest
        if faulty_port is not None:
            faulty_port.set_time(now - t_wall0)
        if k > 0 and answered < k - 1:
            misses += 1
        link.write(link.writer.frame(_SENS.msg_id, _SENS.tuple_from_si(plant.sensors(k))))
        sent[k] = time.perf_counter_ns()
        sent.pop(k - 64, None)
        t_plant = 0.0  # sim time of this period already integrated
        next_tick = tick + dt_s
        while True:
            now = time.perf_counter()
            if now >= next_tick:
                break
            link.pump(min(next_tick - now, 0.005))
            inbox = link.inbox
            got = False
            for msg in inbox:
                if msg.msg_id != _ACT_ID:
                    continue
                a = msg.fields
                j = a["step"]
                t_sent = sent.get(j)
                if t_sent is not None:
                    closure.append(msg.t_host_ns - t_sent)
                if j < k:
                    late += 1
                if j > answered:
                    answered = j
                    last_a = a
                    got = True
            if inbox:
                inbox.clear()
                last_rx = time.perf_counter()
            if got:
                # the old command held until the answer arrived, to the physics step
                into = min(dt_s, time.perf_counter() - tick)
                n = int(into / phys) * phys
                if n > t_plant + 1e-12:
                    plant.advance(n - t_plant)
                    t_plant = n
                state = last_a["state"]
                _apply(plant, last_a)
        if t_plant < dt_s - 1e-12:
            plant.advance(dt_s - t_plant)
        if last_a is not None:
            if k % trace_every == 0:
                _record(trace, plant.t_s, plant.truth(), last_a)
            if on_step is not None:
                on_step(k, plant, last_a)
        k += 1
        if time.perf_counter() - last_rx > silence_s:
            link.pump()
            if link.liveness:
                link.liveness()
            raise LinkTimeout(f"the board has been silent for {silence_s:.1f} s (real-time run, "
                              f"sim time {plant.t_s:.2f} s)")
        done_at, settled = _settle(plant, done_at, settle_s)
        if settled:
            ended_by = "plant"
            break
    wall = time.perf_counter() - t_wall0
    return LoopResult(pace="realtime", rate_hz=rate_hz, steps=k, sim_time_s=plant.t_s,
                      wall_time_s=wall, closure_ns=closure, trace=trace, final_state=state,
                      ended_by=ended_by, late=late, misses=misses, overruns=overruns)
