"""Attacks on command authentication, against the firmware running on the real
MicroPython VM (SITL) with a per-run key, through host.link primitives and
hand-built frames.

Each refused command must be answered by an ACK with the right NACK reason and
an EVENT(command, arg=reason), and must not change vehicle state: never ARMED
(no EVENT state->ARMED; a later signed DISARM is refused as "not allowed in this
state"; ACTUATORS report SAFE), parameters unchanged (GET_PARAM).  The correct
two-step arm must work, and a confirm after the window must not.
"""
import os
import time

import pytest

from hil_rig.targets import SitlTarget
from host.errors import LinkTimeout
from host.link import Link, open_port
from protocol import messages as m
from protocol.auth import TAG_LEN, Signer
from protocol.hostcodec import spec
from protocol.parameters import TABLE, index

ACK_WAIT_S = 10.0  # generous: the machine is shared; nothing here is a timing assertion
P_TD = index("td_vz_mmps")


@pytest.fixture
def sitl():
    t = SitlTarget().start()
    port = None
    try:
        port = open_port(t.url)
        link = Link(port, key=t.key, liveness=t.check_alive)
        link.hello(timeout_s=30)
        yield t, link
    finally:
        if port is not None:
            port.close()
        t.stop()


def next_counter(link):
    link.counter += 1
    return link.counter


def command_frame(link, cmd, counter, param_id=0, value=0, signer=None, tag=None):
    """Framed COMMAND bytes: signed with signer, or carrying the given tag."""
    body = {"cmd": cmd, "param_id": param_id, "value": value, "counter": counter,
            "tag": bytes(TAG_LEN)}
    if signer is not None:
        payload = spec("COMMAND").pack(body)
        body["tag"] = signer.tag(bytes([m.COMMAND]) + payload[:11])
    if tag is not None:
        body["tag"] = tag
    return link.writer.frame("COMMAND", body)


def ack_for(link, cmd, counter):
    return link.await_message("ACK", lambda f: f["cmd"] == cmd and f["counter"] == counter,
                              ACK_WAIT_S)


def send_cmd(link, cmd, counter, **kw):
    link.write(command_frame(link, cmd, counter, **kw))
    return ack_for(link, cmd, counter)


def signed(t):
    return Signer(t.key)


def armed_events(link):
    link.pump(0.05)
    return [e for e in link.events if e["code"] == m.EV_STATE and e["state_to"] == m.ST_ARMED]


def wait_event(link, pred):
    """An EVENT matching pred among all EVENTs received (link.events keeps them
    all; the inbox loses those that came before an awaited ACK)."""
    deadline = time.monotonic() + ACK_WAIT_S
    while True:
        for e in link.events:
            if pred(e.fields):
                return e
        assert time.monotonic() < deadline, "expected EVENT did not arrive"
        link.pump(0.1)


def assert_refused(link, ack, reason):
    """ACK carries the reason, and exactly one EVENT(command, arg=reason) came
    with it (the firmware sends the EVENT just before the ACK)."""
    assert ack["status"] == reason, (m.NACK_NAMES[ack["status"]], m.NACK_NAMES[reason])
    link.nacks_seen = getattr(link, "nacks_seen", 0) + 1
    evs = [e for e in link.events if e["code"] == m.EV_COMMAND]
    assert len(evs) == link.nacks_seen, "refusals and EVENT(command) do not pair up"
    assert evs[-1]["arg"] == reason and evs[-1]["text"] == m.NACK_NAMES[reason][:24]


def assert_safe(t, link, step=1, legit_arms=0):
    """The vehicle is SAFE: no ARMED event beyond the legitimate ones, a signed
    DISARM is refused for state, ACTUATORS say SAFE with the engine off."""
    assert len(armed_events(link)) == legit_arms
    c = next_counter(link)
    assert_refused(link, send_cmd(link, m.CMD_DISARM, c, signer=signed(t)), m.NACK_BAD_STATE)
    sensors = {f: 0 for f in spec("SENSORS").fields}
    sensors.update(step=step, t_us=step * 10_000, accel_z_mmps2=9807, flags=m.SF_ALT_VALID)
    link.send("SENSORS", sensors)
    act = link.await_message("ACTUATORS", lambda f: f["step"] == step, ACK_WAIT_S)
    assert act["state"] == m.ST_SAFE and act["flags"] & m.AF_ENGINE_ON == 0


def get_param(link, i):
    ack = link.command(m.CMD_GET_PARAM, i, 0, timeout_s=ACK_WAIT_S)
    return ack["value"]


# --- the legitimate path --------------------------------------------------------
@pytest.mark.timeout(120)
def test_two_step_arm_arms_only_after_the_confirm(sitl):
    t, link = sitl
    ack = link.command(m.CMD_ARM, timeout_s=ACK_WAIT_S)
    assert ack["status"] == m.ACK_OK
    assert armed_events(link) == []          # a request alone does not arm
    ack = link.command(m.CMD_ARM_CONFIRM, timeout_s=ACK_WAIT_S)
    assert ack["status"] == m.ACK_OK
    ev = wait_event(link, lambda f: f["code"] == m.EV_STATE and f["state_to"] == m.ST_ARMED)
    assert ev["state_from"] == m.ST_SAFE
    # armed for real: DISARM is accepted now (it is refused in SAFE)
    assert link.command(m.CMD_DISARM, timeout_s=ACK_WAIT_S)["status"] == m.ACK_OK
    wait_event(link, lambda f: f["code"] == m.EV_STATE and f["state_to"] == m.ST_SAFE)


@pytest.mark.timeout(120)
def test_unsigned_commands_need_no_tag(sitl):
    t, link = sitl
    c = next_counter(link)
    assert send_cmd(link, m.CMD_PING, c, value=4242)["value"] == 4242
    assert get_param(link, P_TD) == TABLE[P_TD][1]


# --- attacks ------------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_command_without_tag_is_refused(sitl):
    t, link = sitl
    for cmd in (m.CMD_ARM, m.CMD_ARM_CONFIRM, m.CMD_SET_PARAM, m.CMD_ABORT, m.CMD_DISARM):
        c = next_counter(link)
        ack = send_cmd(link, cmd, c, param_id=P_TD, value=2000)
        assert_refused(link, ack, m.NACK_NO_TAG)
    # the unsigned ARM left nothing pending: a correctly signed confirm finds no request
    c = next_counter(link)
    assert_refused(link, send_cmd(link, m.CMD_ARM_CONFIRM, c, signer=signed(t)), m.NACK_TIMEOUT)
    assert get_param(link, P_TD) == TABLE[P_TD][1]
    assert_safe(t, link)


@pytest.mark.timeout(120)
def test_forged_tags_are_refused(sitl):
    t, link = sitl
    s = signed(t)
    c = next_counter(link)
    good = Signer(t.key).tag(bytes([m.COMMAND]) + spec("COMMAND").pack(
        {"cmd": m.CMD_ARM, "param_id": 0, "value": 0, "counter": c, "tag": bytes(16)})[:11])
    forged = [os.urandom(TAG_LEN), bytes([good[0] ^ 1]) + good[1:], good[:-1] + bytes([good[-1] ^ 0x80])]
    for tag in forged:
        ack = send_cmd(link, m.CMD_ARM, c, tag=tag)
        assert_refused(link, ack, m.NACK_BAD_TAG)
    # a valid tag moved onto another command or value: the tag covers the fields
    c2 = next_counter(link)
    body = {"cmd": m.CMD_SET_PARAM, "param_id": P_TD, "value": 1500, "counter": c2, "tag": bytes(16)}
    tag = s.tag(bytes([m.COMMAND]) + spec("COMMAND").pack(body)[:11])
    ack = send_cmd(link, m.CMD_SET_PARAM, c2, param_id=P_TD, value=9999, tag=tag)
    assert_refused(link, ack, m.NACK_BAD_TAG)
    ack = send_cmd(link, m.CMD_ARM, c2, tag=tag)
    assert_refused(link, ack, m.NACK_BAD_TAG)
    assert get_param(link, P_TD) == TABLE[P_TD][1]
    # the forgeries did not consume counters: the genuine command with c still works
    assert send_cmd(link, m.CMD_SET_PARAM, c2, param_id=P_TD, value=1500, signer=s)["status"] == m.ACK_OK
    assert get_param(link, P_TD) == 1500
    assert_safe(t, link)


@pytest.mark.timeout(120)
def test_forged_command_with_huge_counter_does_not_lock_out_the_operator(sitl):
    t, link = sitl
    ack = send_cmd(link, m.CMD_DISARM, 0xFFFFFFFF, tag=os.urandom(TAG_LEN))
    assert_refused(link, ack, m.NACK_BAD_TAG)
    c = next_counter(link)
    assert send_cmd(link, m.CMD_SET_PARAM, c, param_id=P_TD, value=1200,
                    signer=signed(t))["status"] == m.ACK_OK


@pytest.mark.timeout(120)
def test_truncated_tags_and_truncated_frames_are_refused(sitl):
    t, link = sitl
    s = signed(t)
    c = next_counter(link)
    full = s.tag(bytes([m.COMMAND]) + spec("COMMAND").pack(
        {"cmd": m.CMD_ARM, "param_id": 0, "value": 0, "counter": c, "tag": bytes(16)})[:11])
    for keep in (4, 8, 12, 15):  # a tag cut short and zero padded to the field
        ack = send_cmd(link, m.CMD_ARM, c, tag=full[:keep] + bytes(TAG_LEN - keep))
        assert_refused(link, ack, m.NACK_BAD_TAG)
    # a frame cut short (tag bytes missing) never reaches the command handler:
    # the decoder drops it (length) and counts it; no ACK, nothing changes
    frame = command_frame(link, m.CMD_ARM, c, signer=s)
    link.write(frame[:-9] + b"\x00")
    link.write(frame[:20])
    link.write(b"\x00")
    with pytest.raises(LinkTimeout):
        link.await_message("ACK", lambda f: f["counter"] == c, 1.5)
    sensors = {f: 0 for f in spec("SENSORS").fields}
    for step in range(1, 11):   # STATUS goes out every 10th cycle with the drop count
        sensors.update(step=step, t_us=step * 10_000)
        link.send("SENSORS", sensors)
    st = link.await_message("STATUS", None, ACK_WAIT_S)
    assert st["rx_drops"] == 2 and st["state"] == m.ST_SAFE
    assert_safe(t, link, step=11)


@pytest.mark.timeout(120)
def test_wrong_key_is_refused(sitl):
    t, link = sitl
    other = Signer(os.urandom(32))
    c = next_counter(link)
    assert_refused(link, send_cmd(link, m.CMD_ARM, c, signer=other), m.NACK_BAD_TAG)
    c = next_counter(link)
    assert_refused(link, send_cmd(link, m.CMD_ARM_CONFIRM, c, signer=other), m.NACK_BAD_TAG)
    c = next_counter(link)
    assert_refused(link, send_cmd(link, m.CMD_SET_PARAM, c, param_id=P_TD, value=3000,
                                  signer=other), m.NACK_BAD_TAG)
    assert get_param(link, P_TD) == TABLE[P_TD][1]
    # the request signed with the wrong key left nothing pending
    c = next_counter(link)
    assert_refused(link, send_cmd(link, m.CMD_ARM_CONFIRM, c, signer=signed(t)), m.NACK_TIMEOUT)
    assert_safe(t, link)


@pytest.mark.timeout(120)
def test_replayed_frames_are_refused(sitl):
    t, link = sitl
    s = signed(t)
    # a genuine set-parameter, captured on the wire and replayed after a change
    c = next_counter(link)
    set_2000 = command_frame(link, m.CMD_SET_PARAM, c, param_id=P_TD, value=2000, signer=s)
    link.write(set_2000)
    assert ack_for(link, m.CMD_SET_PARAM, c)["status"] == m.ACK_OK
    c2 = next_counter(link)
    assert send_cmd(link, m.CMD_SET_PARAM, c2, param_id=P_TD, value=700, signer=s)["status"] == m.ACK_OK
    link.write(set_2000)
    assert_refused(link, ack_for(link, m.CMD_SET_PARAM, c), m.NACK_REPLAY)
    assert get_param(link, P_TD) == 700
    # a genuine arm sequence, then disarm; replaying the two arm frames does nothing
    ca, cc = next_counter(link), next_counter(link)
    arm = command_frame(link, m.CMD_ARM, ca, signer=s)
    confirm = command_frame(link, m.CMD_ARM_CONFIRM, cc, signer=s)
    link.write(arm)
    assert ack_for(link, m.CMD_ARM, ca)["status"] == m.ACK_OK
    link.write(confirm)
    assert ack_for(link, m.CMD_ARM_CONFIRM, cc)["status"] == m.ACK_OK
    wait_event(link, lambda f: f["code"] == m.EV_STATE and f["state_to"] == m.ST_ARMED)
    assert link.command(m.CMD_DISARM, timeout_s=ACK_WAIT_S)["status"] == m.ACK_OK
    link.write(arm)
    assert_refused(link, ack_for(link, m.CMD_ARM, ca), m.NACK_REPLAY)
    link.write(confirm)
    assert_refused(link, ack_for(link, m.CMD_ARM_CONFIRM, cc), m.NACK_REPLAY)
    assert_safe(t, link, legit_arms=1)


@pytest.mark.timeout(120)
def test_reordered_counters_are_refused(sitl):
    t, link = sitl
    s = signed(t)
    c1, c2 = next_counter(link), next_counter(link)
    early = command_frame(link, m.CMD_SET_PARAM, c1, param_id=P_TD, value=1111, signer=s)
    late = command_frame(link, m.CMD_SET_PARAM, c2, param_id=P_TD, value=2222, signer=s)
    link.write(late)                      # the later command overtakes the earlier one
    assert ack_for(link, m.CMD_SET_PARAM, c2)["status"] == m.ACK_OK
    link.write(early)
    assert_refused(link, ack_for(link, m.CMD_SET_PARAM, c1), m.NACK_REPLAY)
    assert get_param(link, P_TD) == 2222
    # same counter again with another (validly signed) body: still a replay
    again = command_frame(link, m.CMD_SET_PARAM, c2, param_id=P_TD, value=3333, signer=s)
    link.write(again)
    assert_refused(link, ack_for(link, m.CMD_SET_PARAM, c2), m.NACK_REPLAY)
    assert get_param(link, P_TD) == 2222
    assert_safe(t, link)


@pytest.mark.timeout(120)
def test_confirm_after_the_window_is_refused(sitl):
    t, link = sitl
    assert link.command(m.CMD_ARM, timeout_s=ACK_WAIT_S)["status"] == m.ACK_OK
    time.sleep(2.6)  # the firmware's window is 2 s; we only wait longer, never race it
    ack = link.command(m.CMD_ARM_CONFIRM, timeout_s=ACK_WAIT_S, check=False)
    assert_refused(link, ack, m.NACK_TIMEOUT)
    # and the stale request is gone: an immediate second confirm is refused too
    ack = link.command(m.CMD_ARM_CONFIRM, timeout_s=ACK_WAIT_S, check=False)
    assert_refused(link, ack, m.NACK_TIMEOUT)
    assert_safe(t, link)


@pytest.mark.timeout(120)
def test_confirm_without_request_is_refused(sitl):
    t, link = sitl
    ack = link.command(m.CMD_ARM_CONFIRM, timeout_s=ACK_WAIT_S, check=False)
    assert_refused(link, ack, m.NACK_TIMEOUT)
    assert_safe(t, link)


@pytest.mark.timeout(120)
def test_a_new_host_session_after_the_counter_clock_wraps_can_still_command(sitl, monkeypatch):
    t, link = sitl
    wrap_ms = 1 << 30
    # the previous session ran just before the host clock's counter wrapped ...
    link.counter = wrap_ms - 5_000
    assert link.command(m.CMD_SET_PARAM, P_TD, 1300, timeout_s=ACK_WAIT_S)["status"] == m.ACK_OK
    # ... the next one starts 10 s later, on the same board
    monkeypatch.setattr(time, "time", lambda: (wrap_ms + 5_000) / 1000 + 1_000 * wrap_ms / 1000)
    fresh = Link(link.port, key=t.key, liveness=t.check_alive)
    ack = fresh.command(m.CMD_SET_PARAM, P_TD, 1400, timeout_s=ACK_WAIT_S, check=False)
    assert ack["status"] == m.ACK_OK, m.NACK_NAMES[ack["status"]]
