# The cyclic executive on the MicroPython VM with a fake board: commands,
# persistence, fault containment, link loss.
import gc
import os
from protocol import messages as m
from protocol.parameters import index
import app as app_mod
import params as params_mod
from fake_board import FakeBoard, KEY


def _fresh_dir():
    # each test gets clean files: key provisioned, no persisted params/counter
    for f in ("params.dat", "counter.dat"):
        try:
            os.remove(f)
        except OSError:
            pass
    with open("hoverslam.key", "wb") as f:
        f.write(KEY)


def _armed_app():
    _fresh_dir()
    b = FakeBoard()
    b.command(m.CMD_ARM)
    b.command(m.CMD_ARM_CONFIRM)
    a = app_mod.App(b, ())
    return a, b


def test_two_step_signed_arm_then_cycles_answer_every_step():
    a, b = _armed_app()
    for k in range(5):
        b.sensors(k, k * 10000, alt_mm=900000)
    a.run()
    acts = b.of(m.ACTUATORS)
    assert [x[0] for x in acts] == [0, 1, 2, 3, 4]
    assert a.seq.state == m.ST_COAST


def test_a_repeat_of_either_of_the_last_two_steps_is_answered_from_memory_older_ignored():
    # lockstep --act-delay frame keeps the next SENSORS in flight: the answer the
    # host lost can be the one before the last
    a, b = _armed_app()
    for k in range(4):
        b.sensors(k, k * 10000, alt_mm=900000)
    b.sensors(2, 20000, alt_mm=900000)   # repeat of the step before the last
    b.sensors(3, 30000, alt_mm=900000)   # repeat of the last
    b.sensors(1, 10000, alt_mm=900000)   # older than both: a late duplicate
    b.sensors(4, 40000, alt_mm=900000)
    a.run()
    acts = b.of(m.ACTUATORS)
    assert [x[0] for x in acts] == [0, 1, 2, 3, 2, 3, 4]
    assert acts[4] == acts[2] and acts[5] == acts[3]
    assert a.cycles == 5 and a.repeats == 2 and a.stale == 1


def test_exception_in_a_cycle_ends_in_abort_with_engine_off_and_an_event():
    a, b = _armed_app()
    b.sensors(0, 0, alt_mm=900000)
    b.sensors(1, 10000, alt_mm=900000)

    def boom(s):
        raise ValueError("injected")

    def arm_fault(board):
        a.est.update = boom
        board.sensors(2, 20000, alt_mm=900000)
        board.sensors(3, 30000, alt_mm=900000)

    b.script.append(arm_fault)
    a.run()
    assert a.seq.state == m.ST_ABORT
    evs = b.of(m.EVENT)
    exc = [e for e in evs if e[1] == m.EV_EXCEPTION]
    assert exc and exc[0][5].rstrip(b"\0") == b"ValueError"
    acts = b.of(m.ACTUATORS)
    assert acts[-1][5] & m.AF_ENGINE_ON == 0 and acts[-1][6] == m.ST_ABORT
    assert [x[0] for x in acts][-1] == 3  # still answering after the fault


def _abort_leaning_while_burning(solid):
    # ABORT with a 10 deg lean while the motor still pushes, then after burnout
    a, b = _armed_app()
    a.params.values[index("solid")] = solid
    b.sensors(0, 0, alt_mm=900000)
    b.sensors(1, 10000, alt_mm=900000)

    def abort_leaning(board):
        a.seq.abort("attitude beyond limit", 174533)
        a.est.set_tilt(174533, 0)
        for k in range(2, 6):
            board.sensors(k, k * 10000, alt_mm=900000, chamber_p_pm=900)
        for k in range(6, 8):
            board.sensors(k, k * 10000, alt_mm=900000, chamber_p_pm=0)

    b.script.append(abort_leaning)
    a.run()
    assert a.seq.state == m.ST_ABORT
    return b.of(m.ACTUATORS)


def test_a_solid_motor_that_cannot_be_cut_is_steered_upright_in_abort_until_burnout():
    acts = _abort_leaning_while_burning(1)
    burning, after = acts[2:6], acts[6:8]
    # pitch answers a lean toward +x; the engine flag is off all the same
    assert all(x[2] != 0 for x in burning), burning
    assert all(x[5] & m.AF_ENGINE_ON == 0 for x in burning)
    assert all(x[2] == 0 and x[3] == 0 for x in after), after


def test_an_engine_that_can_be_cut_is_not_steered_in_abort():
    acts = _abort_leaning_while_burning(0)
    assert all(x[2] == 0 and x[3] == 0 for x in acts[2:]), acts


def test_set_param_is_signed_range_checked_and_persisted():
    _fresh_dir()
    b = FakeBoard()
    i = index("term_alt_mm")
    b.command(m.CMD_SET_PARAM, i, 12345)
    b.command(m.CMD_SET_PARAM, i, -5)              # out of range
    b.command(m.CMD_SET_PARAM, i, 777, key=None)   # unsigned
    b.command(m.CMD_SET_PARAM, 999, 1)             # unknown parameter
    a = app_mod.App(b, ())
    a.run()
    acks = b.of(m.ACK)
    assert [x[1] for x in acks] == [m.ACK_OK, m.NACK_BAD_VALUE, m.NACK_NO_TAG, m.NACK_BAD_PARAM]
    assert a.params.get(i) == 12345
    p2 = params_mod.Params()
    assert p2.load() and p2.get(i) == 12345


def test_params_hash_changes_with_a_value():
    p = params_mod.Params()
    h = p.hash32()
    p.set(index("term_alt_mm"), 1)
    assert p.hash32() != h
    assert 0 <= h < (1 << 30)


def test_link_lost_in_flight_aborts_with_engine_cut():
    a, b = _armed_app()
    b.sensors(0, 0, alt_mm=900000)
    timeout_ms = a.params.get(index("link_timeout_ms"))

    def go_quiet(board):
        board.now_us += (timeout_ms + 100) * 1000

    b.script.append(go_quiet)
    a.run()
    evs = b.of(m.EVENT)
    assert any(e[1] == m.EV_LINK_LOST for e in evs)
    assert a.seq.state == m.ST_ABORT
    assert b.of(m.ACTUATORS)[-1][5] & m.AF_ENGINE_ON == 0


def test_a_sensors_gap_longer_than_the_link_timeout_aborts_even_if_the_board_clock_stood_still():
    # lockstep through an outage: the host steps sim time on, the board's clock does not
    a, b = _armed_app()
    timeout_ms = a.params.get(index("link_timeout_ms"))
    b.sensors(0, 0, alt_mm=900000)
    b.sensors(1, 10000, alt_mm=900000)
    b.sensors(2, 10000 + (timeout_ms + 500) * 1000, alt_mm=900000)
    a.run()
    lost = [e for e in b.of(m.EVENT) if e[1] == m.EV_LINK_LOST]
    assert len(lost) == 1 and lost[0][4] == timeout_ms + 500  # arg: the gap, ms
    assert a.seq.state == m.ST_ABORT
    assert b.of(m.ACTUATORS)[-1][0] == 2  # step 2 still answered, with the engine cut
    assert b.of(m.ACTUATORS)[-1][5] & m.AF_ENGINE_ON == 0


def test_a_sensors_gap_within_the_link_timeout_is_flown_through():
    a, b = _armed_app()
    timeout_ms = a.params.get(index("link_timeout_ms"))
    b.sensors(0, 0, alt_mm=900000)
    b.sensors(1, (timeout_ms - 100) * 1000, alt_mm=900000)
    a.run()
    assert not [e for e in b.of(m.EVENT) if e[1] == m.EV_LINK_LOST]
    assert a.seq.state == m.ST_COAST


def test_arm_confirm_outside_the_window_is_refused():
    _fresh_dir()
    b = FakeBoard()
    b.command(m.CMD_ARM)

    def late(board):
        board.now_us += 2500 * 1000
        board.command(m.CMD_ARM_CONFIRM)

    b.script.append(late)
    a = app_mod.App(b, ())
    a.run()
    acks = b.of(m.ACK)
    assert [x[1] for x in acks] == [m.ACK_OK, m.NACK_TIMEOUT]
    assert a.seq.state == m.ST_SAFE


def test_armed_without_sensors_disarms_after_the_timeout():
    a, b = _armed_app()

    def wait(board):
        board.now_us += (a.params.get(index("arm_timeout_ms")) + 10) * 1000

    b.script.append(wait)
    a.run()
    assert a.seq.state == m.ST_SAFE


def test_unix_board_ticks_wrap_at_2_pow_30_like_rp2():
    import board_unix
    a = (1 << 30) - 10
    b = 5  # 15 us later, after the wrap
    assert board_unix.ticks_diff(b, a) == 15
    assert board_unix.ticks_diff(a, b) == -15
    assert board_unix.ticks_us() < (1 << 30)


def test_events_are_numbered_and_one_the_link_lost_is_sent_again_on_request():
    # boot (ev 0), ARMED (1), COAST (2, queued in the cycle); then the host asks
    a, b = _armed_app()
    b.sensors(0, 0, alt_mm=900000)
    b.command(m.CMD_GET_EVENT, value=-1, key=None)     # how many so far
    b.command(m.CMD_GET_EVENT, value=1, key=None)      # ARMED, again
    b.command(m.CMD_GET_EVENT, value=500, key=None)    # never emitted
    for _ in range(m.EVENT_RING):                      # NACKs are events: push ARMED out
        b.command(m.CMD_GET_EVENT, value=500, key=None)
    b.command(m.CMD_GET_EVENT, value=1, key=None)      # older than the ring now
    a.run()
    gc.enable()  # (the executive leaves it off; decoding all this output allocates)
    gc.collect()
    msgs = b.messages()
    evs = [v for i, v in msgs if i == m.EVENT]
    assert [e[6] for e in evs[:3]] == [0, 1, 2]
    assert evs[1][1] == m.EV_STATE and evs[1][3] == m.ST_ARMED
    assert evs[2][3] == m.ST_COAST
    acks = [v for i, v in msgs if i == m.ACK and v[0] == m.CMD_GET_EVENT]
    assert acks[0][1] == m.ACK_OK and acks[0][3] == 3
    assert acks[1][1] == m.ACK_OK and acks[1][3] == 1
    assert evs[3] == evs[1]  # the same EVENT, number and all, before its ACK
    assert acks[2][1] == m.NACK_BAD_VALUE
    assert acks[-1][1] == m.NACK_BAD_VALUE
    # every event sent once, in order, except the one asked for again
    nos = [e[6] for e in evs[:3] + evs[4:]]
    assert nos == list(range(len(nos)))
