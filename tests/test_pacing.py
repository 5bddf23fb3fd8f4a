"""Pacing and link faults: lockstep is deterministic at any speed and through
a lossy link; real time completes and counts its misses."""
import sys
from pathlib import Path

import pytest

from hil_rig.session import Session
from hil_rig.targets import SitlTarget
from host.linkfaults import FaultyPort, LinkFaults
from host.loop import fly_lockstep, fly_realtime
from protocol import hostfast as hf
from protocol import messages as m

sys.path.insert(0, str(Path(__file__).parent / "fakes"))
from planar import PlanarPlant  # noqa: E402
from tests.test_sitl_link import PLANAR_PARAMS  # noqa: E402


class _CommandClock(PlanarPlant):
    """Notes the sim time at which each ACTUATORS reaches the plant."""

    def __init__(self):
        PlanarPlant.__init__(self)
        self.applied_at_s = []

    def command(self, *args):
        self.applied_at_s.append(self.t_s)
        PlanarPlant.command(self, *args)


def _fly(pace="lockstep", speed=None, faults=None, rate_hz=100, act_delay="none", watch=None):
    outputs = []
    with Session(SitlTarget()) as s:
        s.configure(PLANAR_PARAMS)
        s.arm()
        fport = None
        if faults is not None:
            fport = FaultyPort(s.link.port, faults)
            s.link.port = fport
        plant = _CommandClock()
        def rec(k, p, a):
            outputs.append(tuple(a.values()))
            if watch is not None:
                watch(k, p, a)
        if pace == "lockstep":
            r = fly_lockstep(s.link, plant, rate_hz=rate_hz, max_time_s=40, on_step=rec,
                             speed=speed, faulty_port=fport, step_timeout_s=5.0,
                             act_delay=act_delay)
        else:
            r = fly_realtime(s.link, plant, rate_hz=rate_hz, max_time_s=40, on_step=rec,
                             faulty_port=fport)
        s.link.pump(0.2)
        status = s.link.status[-1].fields if s.link.status else {}
    return r, outputs, plant, fport, status


@pytest.mark.timeout(180)
def test_lockstep_gives_identical_firmware_outputs_across_runs_and_speeds():
    r1, out1, p1, _, _ = _fly()
    r2, out2, p2, _, _ = _fly()
    r3, out3, p3, _, _ = _fly(speed=5.0)
    assert r1.ended_by == "plant"
    assert out1 == out2 == out3
    assert p1.verdict() == p2.verdict() == p3.verdict()
    assert r3.rtf <= 5.5  # the speed cap holds


@pytest.mark.timeout(180)
def test_frame_act_delay_applies_each_answer_one_period_later_and_stays_deterministic():
    r0, out0, p0, _, _ = _fly()
    r1, out1, p1, _, _ = _fly(act_delay="frame")
    r2, out2, p2, _, _ = _fly(act_delay="frame")
    dt = 0.01
    assert all(abs(t - k * dt) < 1e-9 for k, t in enumerate(p0.applied_at_s))
    assert all(abs(t - (k + 1) * dt) < 1e-9 for k, t in enumerate(p1.applied_at_s))
    assert r1.ended_by == "plant" and p1.touch is not None
    assert out1 == out2 and p1.verdict() == p2.verdict()
    assert out1 != out0  # a period of latency is a different flight


@pytest.mark.timeout(180)
@pytest.mark.parametrize("act_delay", ["none", "frame"])
def test_trace_pairs_the_state_at_each_time_with_the_answer_in_effect_from_then(act_delay):
    # on_step sees the plant when the answer takes effect (t_k, or t_k+1 with a
    # frame of delay): the trace sample labelled with that time must show that
    # state and that answer, wherever the loop takes the sample
    seen = {}
    r, _, _, _, _ = _fly(act_delay=act_delay, watch=lambda k, p, a: seen.__setitem__(
        round(p.t_s, 6), (p.truth()["z_m"], a["gimbal_pitch_urad"] * 1e-6, a["state"])))
    tr = r.trace
    assert len(tr.t_s) > 50
    for t, z, g, st in zip(tr.t_s, tr.alt_m, tr.gimbal_pitch_rad, tr.state):
        assert seen[round(t, 6)] == (z, g, st)
    steps = sorted(round(t / 0.01) for t in tr.t_s)
    assert all(b - a == 5 for a, b in zip(steps, steps[1:]))  # 20 samples per second


@pytest.mark.timeout(180)
def test_lossy_link_in_lockstep_is_retried_counted_and_changes_nothing():
    faults = LinkFaults(drop_prob=0.03, dup_prob=0.03, ber=2e-4, garbage_prob=0.02, seed=7)
    r0, out0, p0, _, _ = _fly()
    r, out, p, fport, status = _fly(faults=faults)
    c = fport.counts
    assert c["dropped"] > 0 and c["duplicated"] > 0 and c["corrupted_bytes"] > 0 and c["garbage_bursts"] > 0
    # every lost or corrupted uplink frame costs the host a retry ...
    assert r.retries >= c["dropped"]
    # ... the board saw the damage (crc / cobs / length drops) ...
    assert status["rx_drops"] > 0 and status["rx_crc_errors"] > 0
    # ... and the vehicle flew exactly the same flight
    assert out == out0
    assert p.verdict() == p0.verdict()


def _outage_flight(outages, direction, link_timeout_ms=1000):
    """A lockstep flight through an injected outage: (loop result, the board's
    EVENTs, its last STATUS, the port's counts)."""
    faults = LinkFaults(outages=outages, direction=direction)
    with Session(SitlTarget()) as s:
        s.configure(dict(PLANAR_PARAMS, link_timeout_ms=link_timeout_ms))
        s.arm()
        fport = FaultyPort(s.link.port, faults)
        s.link.port = fport
        r = fly_lockstep(s.link, PlanarPlant(), rate_hz=100, max_time_s=40, step_timeout_s=5.0,
                         faulty_port=fport)
        s.link.port = fport.port  # what the board says after the flight, unfaulted
        s.link.pump(0.3)
        events = [e.fields for e in s.link.events]
        status = s.link.status[-1].fields if s.link.status else {}
    return r, events, status, fport.counts


@pytest.mark.timeout(120)
def test_lockstep_runs_through_an_uplink_outage_longer_than_the_link_timeout_and_aborts():
    # 2 s without SENSORS (sim time 3..5 s, in the landing burn) against a 1 s link
    # timeout.  The board's own clock barely moves while the host steps through the
    # window (~0.02 s of wall time), so it must judge the gap by the frames' sim time
    r, events, _, counts = _outage_flight([[3.0, 5.0]], "up")
    assert r.ended_by == "plant"  # sim time ran through the window: no timeout, no hang
    # every step in the window, held (give or take the step at an edge: sim time is a
    # sum of 10 ms steps, a hair either side of 3.0)
    assert counts["outage_frames"] == r.held and abs(r.held - 200) <= 1
    lost = [e for e in events if e["code"] == m.EV_LINK_LOST]
    assert len(lost) == 1 and 1990 <= lost[0]["arg"] <= 2020  # the gap, in ms
    states = [e["state_to"] for e in events if e["code"] == m.EV_STATE]
    assert states[-1] == m.ST_ABORT
    # detected with the first SENSORS after the gap, i.e. at t = 5 s
    assert abs(lost[0]["step"] - 500) <= 1


@pytest.mark.timeout(120)
def test_lockstep_uplink_outage_shorter_than_the_link_timeout_is_flown_through():
    r, events, _, counts = _outage_flight([[3.0, 3.5]], "up")
    assert r.ended_by == "plant"
    assert counts["outage_frames"] == r.held and abs(r.held - 50) <= 1
    assert not [e for e in events if e["code"] == m.EV_LINK_LOST]
    states = [m.STATE_NAMES[e["state_to"]] for e in events if e["code"] == m.EV_STATE]
    assert "ABORT" not in states and states[-1] == "SAFED", states


@pytest.mark.timeout(120)
def test_lockstep_downlink_outage_holds_the_command_while_the_board_flies_on():
    # the board gets every SENSORS (no link loss for it); its answers are lost, so
    # the plant holds the last command it got for the 0.4 s of the window
    # (which of the board's bytes the window drops depends on when they arrive: the host
    # does not wait for answers it cannot get, so it may be past the window by then;
    # test_faulty_port_outage_cuts_writes_and_reads_inside_the_window checks the drop)
    r, events, status, counts = _outage_flight([[3.0, 3.4]], "down")
    assert r.ended_by == "plant"
    assert abs(r.held - 40) <= 1 and counts["outage_frames"] == 0
    assert not [e for e in events if e["code"] == m.EV_LINK_LOST]
    assert status["rx_drops"] == 0  # the board lost nothing


class _LosesStateEvents:
    """A downlink that loses the board's state-transition EVENTs in flight (and
    nothing else), whole frames, wherever the reads cut them."""

    def __init__(self, port):
        self.port = port
        self.buf = b""
        self.lost = []

    def write(self, data):
        return self.port.write(data)

    @property
    def in_waiting(self):
        return self.port.in_waiting + (1 if self.buf else 0)

    def read(self, n=1):
        self.buf += self.port.read(self.port.in_waiting or n)
        keep = self.buf.rfind(b"\x00")  # pass whole frames only; the rest waits
        if keep < 0:
            return b""
        done, self.buf = self.buf[:keep], self.buf[keep:]
        out = []
        for seg in done.split(b"\x00"):
            if seg:
                raw = hf._cobs_decode(seg)
                if raw[0] == m.EVENT and raw[4 + 4] == m.EV_STATE:  # payload: step (4), code
                    self.lost.append(raw)
                    continue
            out.append(seg)
        return b"\x00".join(out) + (b"\x00" if done.endswith(b"\x00") else b"")

    def close(self):
        self.port.close()


def _flight_losing_state_events(s):
    """Fly the planar lander through a downlink that swallows every state EVENT;
    the port, put back clean afterwards."""
    s.configure(PLANAR_PARAMS)
    s.arm()
    before = len(s.link.events)
    wire = _LosesStateEvents(s.link.port)
    s.link.port = wire
    r = fly_lockstep(s.link, PlanarPlant(), rate_hz=100, max_time_s=40, step_timeout_s=5.0)
    s.link.pump(0.2)
    assert r.ended_by == "plant"
    got_in_flight = [e.fields for e in s.link.events[before:]]
    assert len(wire.lost) >= 4 and not [e for e in got_in_flight if e["code"] == m.EV_STATE]
    s.link.port = wire.port  # the frames asked for again come through
    return wire


@pytest.mark.timeout(120)
def test_events_the_downlink_lost_are_asked_for_again_and_the_log_is_whole():
    with Session(SitlTarget()) as s:
        wire = _flight_losing_state_events(s)
        lost = len(wire.lost)
        recovered, gone = s.link.recover_events()
        assert (recovered, gone) == (lost, 0)
        log = [e.fields for e in s.link.events]
        nos = [e["ev_no"] for e in log]
        assert nos == list(range(nos[0], nos[0] + len(nos)))  # in order, none missing
        states = [m.STATE_NAMES[e["state_to"]] for e in log if e["code"] == m.EV_STATE]
        assert states[-4:] == ["LANDING_BURN", "TERMINAL", "TOUCHDOWN", "SAFED"], states
        # and what came back is what was lost, byte for byte (the same EVENT again)
        again = {e["ev_no"]: e for e in log}
        for raw in wire.lost:
            fields = hf.FastDecoder("dict")._conv[m.EVENT](raw)
            assert again[fields["ev_no"]] == fields


@pytest.mark.timeout(120)
def test_events_older_than_the_boards_ring_are_reported_gone_not_invented():
    with Session(SitlTarget()) as s:
        wire = _flight_losing_state_events(s)
        # more events than the board keeps after the lost ones: each refused
        # command is one (unknown parameter)
        for _ in range(m.EVENT_RING):
            s.link.command(m.CMD_GET_PARAM, param_id=9999, check=False)
        s.link.pump(0.2)
        recovered, gone = s.link.recover_events()
        assert (recovered, gone) == (0, len(wire.lost))
        log = [e.fields for e in s.link.events]
        assert not [e for e in log if e["code"] == m.EV_STATE and e["step"] > 0]
        refused = [e["text"] for e in log if e["code"] == m.EV_COMMAND]
        # the log ends where the flight did: the board's refusals of the recovery's
        # own requests ("value out of range") are not part of it
        assert refused == ["unknown parameter"] * m.EVENT_RING


class _Wire:
    """A port that keeps what is written and reads back what it is given."""

    def __init__(self):
        self.written = []
        self.incoming = b""

    def write(self, data):
        self.written.append(bytes(data))
        return len(data)

    def read(self, n=1):
        data, self.incoming = self.incoming[:n], self.incoming[n:]
        return data


@pytest.mark.timeout(30)
def test_faulty_port_outage_cuts_writes_and_reads_inside_the_window():
    for direction, up_cut, down_cut in (("up", True, False), ("down", False, True),
                                        ("both", True, True)):
        wire = _Wire()
        port = FaultyPort(wire, LinkFaults(outages=[[1.0, 2.0]], direction=direction))
        for t_s, inside in ((0.5, False), (1.0, True), (1.99, True), (2.0, False)):
            port.set_time(t_s)
            assert port.cut() == inside, (direction, t_s)
            wire.written.clear()
            wire.incoming = b"answer"
            assert port.write(b"frame") == 5  # a lost frame is still "written"
            assert wire.written == ([] if inside and up_cut else [b"frame"]), (direction, t_s)
            assert port.read(6) == (b"" if inside and down_cut else b"answer"), (direction, t_s)
        assert port.counts["outage_frames"] == (2 if up_cut else 0)
        assert port.counts["outage_bytes"] == (12 if down_cut else 0)


@pytest.mark.timeout(120)
def test_realtime_200hz_completes_a_landing_and_counts_misses():
    r, out, plant, _, _ = _fly(pace="realtime", rate_hz=200)
    assert r.ended_by == "plant"
    assert r.steps > 1000
    assert 0 <= r.misses <= r.steps and r.late <= r.steps
    assert len(r.closure_ns) > 0.9 * r.steps
    assert 0.8 < r.rtf < 1.2  # it ran on the wall clock


class _LosesOneWrite:
    """A port that loses the n-th frame written to it and nothing else (not a
    FaultyPort: with one of those the loop steps one at a time)."""

    def __init__(self, port, n):
        self._port = port
        self._n = n

    def write(self, data):
        self._n -= 1
        if self._n == 0:
            return len(data)
        return self._port.write(data)

    def __getattr__(self, name):
        return getattr(self._port, name)


@pytest.mark.timeout(180)
def test_a_sensors_frame_overtaken_by_the_next_is_counted_and_its_command_held():
    with Session(SitlTarget()) as s:
        s.configure(PLANAR_PARAMS)
        s.arm()
        s.link.port = _LosesOneWrite(s.link.port, 50)
        plant = _CommandClock()
        seen = []
        r = fly_lockstep(s.link, plant, rate_hz=100, max_time_s=40, step_timeout_s=5.0,
                         act_delay="frame", on_step=lambda k, p, a: seen.append((k, a["step"])))
    assert r.ended_by == "plant"
    assert r.held == 1
    # the lost step is the one whose answer is missing; the command before stays in effect
    lost = [k for k, step in seen if step != k]
    assert len(lost) == 1 and dict(seen)[lost[0]] == lost[0] - 1
    assert len(plant.applied_at_s) == r.steps - 1
