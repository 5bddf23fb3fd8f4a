"""The closed loop, in one place: plant -> sensors -> SENSORS -> firmware
-> ACTUATORS -> plant.

Lockstep pacing: sim time advances only when the firmware has answered step
k; a missing answer fails the run after `step_timeout_s` instead of hanging.
The plant is anything with the facade of host.plant.Plant (sensors, command,
advance, done, verdict, truth).
"""
import time
from dataclasses import dataclass, field

from protocol import messages as m
from protocol.hostcodec import spec

_ACT = spec("ACTUATORS")
_SENS = spec("SENSORS")


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
    steps: int
    sim_time_s: float
    wall_time_s: float
    closure_ns: list
    trace: Trace
    final_state: int
    ended_by: str  # "plant" (touchdown/crash settled), "time limit"

    @property
    def rtf(self):
        return self.sim_time_s / self.wall_time_s if self.wall_time_s > 0 else 0.0


def fly_lockstep(link, plant, rate_hz=100, max_time_s=180.0, step_timeout_s=2.0,
                 settle_s=1.0, on_step=None, trace_every=1):
    """Run the loop until the plant says done (then `settle_s` more) or max_time_s."""
    dt_s = 1.0 / rate_hz
    k = 0
    closure = []
    trace = Trace()
    state = m.ST_SAFE
    done_at = None
    ended_by = "time limit"
    t_wall0 = time.perf_counter()
    while plant.t_s < max_time_s:
        si = plant.sensors(k)
        t0 = time.perf_counter_ns()
        link.send("SENSORS", _SENS.from_si(si))
        act = link.await_message("ACTUATORS", lambda f, k=k: f["step"] == k, step_timeout_s)
        closure.append(time.perf_counter_ns() - t0)
        a = act.fields
        flags = a["flags"]
        state = a["state"]
        plant.command(a["throttle_pm"] * 1e-3, a["gimbal_pitch_urad"] * 1e-6,
                      a["gimbal_yaw_urad"] * 1e-6, a["roll_pm"] * 1e-3,
                      bool(flags & m.AF_ENGINE_ON), bool(flags & m.AF_LEGS_DOWN))
        if k % trace_every == 0:
            tr = plant.truth()
            trace.t_s.append(plant.t_s)
            trace.alt_m.append(tr["z_m"])
            trace.vz_mps.append(tr["vz_mps"])
            trace.x_m.append(tr["x_m"])
            trace.y_m.append(tr["y_m"])
            trace.tilt_deg.append(tr["tilt_deg"])
            trace.throttle_frac.append(tr["throttle_frac"])
            trace.gimbal_pitch_rad.append(a["gimbal_pitch_urad"] * 1e-6)
            trace.gimbal_yaw_rad.append(a["gimbal_yaw_urad"] * 1e-6)
            trace.state.append(state)
        if on_step is not None:
            on_step(k, plant, a)
        plant.advance(dt_s)
        k += 1
        if plant.done:
            if done_at is None:
                done_at = plant.t_s
            if plant.t_s - done_at >= settle_s:
                ended_by = "plant"
                break
    wall = time.perf_counter() - t_wall0
    link.pump()
    return LoopResult(steps=k, sim_time_s=plant.t_s, wall_time_s=wall, closure_ns=closure,
                      trace=trace, final_state=state, ended_by=ended_by)
