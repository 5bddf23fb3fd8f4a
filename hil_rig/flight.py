"""One flight: a vehicle, a target, faults and a seed in; a report out.

Builds the plant from the vehicle file, configures the firmware with the
parameters derived from the same file, arms it (signed, two-step) and closes
the loop in lockstep.  The verdict comes from the plant, never the firmware.
"""
from dataclasses import dataclass, field

from host.linkfaults import FaultyPort, LinkFaults
from host.linkstats import LinkCriteria, closure_stats
from host.loop import fly_lockstep, fly_realtime
from host.plant import Plant, load_vehicle
from protocol import messages as m

from hil_rig.fwparams import firmware_params
from hil_rig.session import Session
from hil_rig.targets import PICO_HEAP, make_target

DEFAULT_MAX_FLIGHT_S = 180.0  # sim time limit of a flight unless the vehicle or caller sets one


@dataclass
class FlightReport:
    vehicle: str
    seed: int
    rate_hz: int
    target: str
    verdict: object
    loop: object
    hello: dict
    events: list = field(default_factory=list)   # (t_s, kind, from, to, arg, text)
    link: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    link_checks: list = field(default_factory=list)  # host.linkstats.Check per criterion

    @property
    def landed(self):
        return bool(self.verdict.landed)

    @property
    def link_ok(self):
        return all(c.ok for c in self.link_checks)

    @property
    def passed(self):
        """Landed, and the link met the scenario's link criteria (if any)."""
        return self.landed and self.link_ok

    def state_path(self):
        return [m.STATE_NAMES[e[3]] for e in self.events if e[1] == "state"]


def run_flight(vehicle="falcon9", target="sitl", faults=(), seed=1, rate_hz=100,
               heap=PICO_HEAP, max_time_s=None, step_timeout_s=2.0, initial=None, wind=None,
               on_step=None, param_overrides=None, key=None, on_tx=None, on_rx=None,
               pace="lockstep", speed=None, link_faults=None, act_delay="frame",
               check_hash=True, link_criteria=None):
    """Fly once.  target: a spec for make_target ("sitl", a port, a URL) or a
    target object (e.g. a SitlTarget running another firmware tree; heap and
    key apply to a spec only).
    pace: "lockstep" (speed: None = flat out, N = N x real time; act_delay:
    "none" or "frame", see host.loop.fly_lockstep) or "realtime".
    link_faults: a host.linkfaults.LinkFaults to inject; link_criteria: a
    host.linkstats.LinkCriteria the link statistics are checked against
    (report.link_checks, report.passed).  check_hash: refuse a board whose
    firmware is not this checkout's."""
    veh = load_vehicle(vehicle)
    plant = Plant(veh, seed=seed, faults=faults, wind=wind, initial=initial)
    params = firmware_params(veh, initial=initial)
    # the actuation latency the board must anticipate: in lockstep with act_delay
    # "frame" an answer takes effect one control period after its SENSORS
    params["act_delay_ms"] = (int(round(1000 / rate_hz))
                              if pace == "lockstep" and act_delay == "frame" else 0)
    if param_overrides:
        params.update(param_overrides)
    if max_time_s is None:
        max_time_s = getattr(veh, "max_flight_s", DEFAULT_MAX_FLIGHT_S)
    if pace not in ("lockstep", "realtime"):
        raise ValueError(f"pace must be lockstep or realtime, not {pace!r}")
    tgt = target if hasattr(target, "start") else make_target(target, heap, key=key)
    with Session(tgt, on_tx=on_tx, on_rx=on_rx, check_hash=check_hash) as s:
        s.configure(params)
        s.arm()
        fport = None
        if link_faults is not None and link_faults.active:
            fport = FaultyPort(s.link.port, link_faults)
            s.link.port = fport  # faults only after the handshake and arming
        if pace == "lockstep":
            loop = fly_lockstep(s.link, plant, rate_hz=rate_hz, max_time_s=max_time_s,
                                step_timeout_s=step_timeout_s, on_step=on_step, speed=speed,
                                faulty_port=fport, act_delay=act_delay)
        else:
            loop = fly_realtime(s.link, plant, rate_hz=rate_hz, max_time_s=max_time_s,
                                on_step=on_step, faulty_port=fport)
        # what the downlink lost of the flight's EVENTs, asked for again (over the
        # same link, faults and all)
        ev_recovered, ev_unrecovered = s.link.recover_events()
        dt = 1.0 / rate_hz
        events = [(e["step"] * dt, m.EVENT_NAMES.get(e["code"], str(e["code"])), e["state_from"],
                   e["state_to"], e["arg"], e["text"]) for e in s.link.events]
        st = s.link.status[-1].fields if s.link.status else {}
        link = {"bytes_rx": s.link.bytes_rx, "bytes_tx": s.link.bytes_tx,
                "frames_tx": s.link.frames_tx, "frames_rx": s.link.reader.decoder.frames,
                "host_drops": s.link.drop_counts(),
                "board_frames_rx": st.get("rx_frames"), "board_drops": st.get("rx_drops"),
                "board_crc_errors": st.get("rx_crc_errors"), "board_seq_gaps": st.get("rx_seq_gaps"),
                "steps": loop.steps, "retries": loop.retries, "held": loop.held, "late": loop.late, "misses": loop.misses,
                "overruns": loop.overruns, "closure": closure_stats(loop.closure_ns),
                "injected": dict(fport.counts) if fport else {}, "status_last": st,
                "events_recovered": ev_recovered, "events_unrecovered": ev_unrecovered}
        hello = s.hello
    return FlightReport(vehicle=veh.name, seed=seed, rate_hz=rate_hz,
                        target=target if isinstance(target, str) else tgt.kind,
                        verdict=plant.verdict(), loop=loop, hello=hello, events=events,
                        link=link, params=params,
                        link_checks=(link_criteria or LinkCriteria()).check(link))
