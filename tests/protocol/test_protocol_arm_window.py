"""The two-step arm's confirm window, including across the board's tick wrap.

The unchanged firmware App runs on the MicroPython VM with a board whose µs
ticks wrap at 2**30 like rp2's and the unix board layer's (every 17.9 min);
commands are fed straight into its decoder and the ACK status is read back.
"""
import pytest

from protocol import messages as m
from tests.mpyvm import run_micropython

SNIPPET = r"""
import struct
from protocol import messages as m
from protocol.auth import Signer
from protocol.codec import fmt
from protocol.framing import Decoder, Encoder

KEY = bytes(range(32))
with open("hoverslam.key", "wb") as f:
    f.write(KEY)
_MASK = (1 << 30) - 1
_HALF = 1 << 29


class WrappingBoard:
    name = "fake"

    def __init__(self):
        self.true_us = 0
        self.out = bytearray()

    def ticks_us(self):
        return self.true_us & _MASK

    def ticks_diff(self, a, b):
        return ((a - b + _HALF) & _MASK) - _HALF

    def read_into(self, buf):
        return 0

    def write(self, mv):
        self.out.extend(mv)

    def wait_rx(self, ms):
        return False

    def feed_watchdog(self):
        pass

    def led(self, on):
        pass

    def keep_running(self):
        return True


import app as app_mod
board = WrappingBoard()
a = app_mod.App(board, ())
ctr = [0]


def command(cmd):
    ctr[0] += 1
    enc = Encoder()
    body = struct.pack("<BHiI", cmd, 0, 0, ctr[0])
    tag = Signer(KEY).tag(bytes([m.COMMAND]) + body)
    struct.pack_into(fmt(m.COMMAND), enc.raw, 4, cmd, 0, 0, ctr[0], tag)
    frame = bytes(enc.finish(m.COMMAND))
    dec = a.link.dec
    pos = 0
    while pos < len(frame):
        pos = dec.feed(frame, pos, len(frame))
    board.out = bytearray()
    a.command()
    out = Decoder()
    data = bytes(board.out)
    pos = 0
    while pos < len(data):
        pos = out.feed(data, pos, len(data))
        if out.ready == m.ACK:
            return struct.unpack_from(fmt(m.ACK), out.buf, 4)[1]
    return -1


for arm_us, confirm_us in %(cases)r:
    board.true_us = arm_us
    s1 = command(m.CMD_ARM)
    board.true_us = confirm_us
    s2 = command(m.CMD_ARM_CONFIRM)
    state = a.seq.state
    print("RESULT", s1, s2, state)
    if state == m.ST_ARMED:
        command(m.CMD_DISARM)
"""


def arm_then_confirm(tmp_path, cases):
    (tmp_path / "snippet.py").write_text(SNIPPET % {"cases": cases})
    p = run_micropython([str(tmp_path / "snippet.py")], cwd=tmp_path, timeout=60)
    out = p.stdout.decode()
    res = [tuple(int(x) for x in ln.split()[1:]) for ln in out.splitlines() if ln.startswith("RESULT")]
    assert len(res) == len(cases), p.stderr.decode() + out
    return res


@pytest.mark.timeout(60)
def test_confirm_within_the_window_arms_and_after_it_does_not(tmp_path):
    res = arm_then_confirm(tmp_path, [(5_000_000, 6_500_000), (20_000_000, 22_500_000),
                                      (30_000_000, 90_000_000)])
    assert res[0] == (m.ACK_OK, m.ACK_OK, m.ST_ARMED)
    assert res[1] == (m.ACK_OK, m.NACK_TIMEOUT, m.ST_SAFE)
    assert res[2] == (m.ACK_OK, m.NACK_TIMEOUT, m.ST_SAFE)


@pytest.mark.timeout(60)
def test_confirm_just_across_the_wrap_within_the_window_arms(tmp_path):
    wrap = 1 << 30
    assert arm_then_confirm(tmp_path, [(wrap - 500_000, wrap + 500_000)]) == \
        [(m.ACK_OK, m.ACK_OK, m.ST_ARMED)]


@pytest.mark.timeout(60)
def test_stale_request_cannot_be_confirmed_across_the_tick_wrap(tmp_path):
    # ARM at 1000 s, confirm 100 s later: the µs ticks wrapped at 1073.7 s in between
    res = arm_then_confirm(tmp_path, [(1_000_000_000, 1_100_000_000)])
    assert res == [(m.ACK_OK, m.NACK_TIMEOUT, m.ST_SAFE)]
