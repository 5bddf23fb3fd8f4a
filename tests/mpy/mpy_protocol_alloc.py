# Allocation on the MicroPython VM (unix port; object counts equal rp2's):
# framing (COBS, CRC, delimiting) of every message, the encode of ACTUATORS and
# the decode of SENSORS read through codec.view allocate nothing per frame,
# checked by gc.mem_alloc() and, stronger, under micropython.heap_lock() where
# any allocation raises MemoryError.  SENSORS carries only integers, so "no
# more than the float objects it hands out" means zero here.
import gc
import struct

import micropython

from protocol import messages as m
from protocol.codec import fmt, view
from protocol.framing import Decoder, Encoder

_FMT_ACT = fmt(m.ACTUATORS)
_FMT_SEN = fmt(m.SENSORS)


def _frames():
    e = Encoder()
    out = []
    for row in m.MESSAGES:
        out.append((row[0], bytearray(e.finish(row[0]))))
    return out


def _framing(enc, dec, frames, n):
    for i in range(n):
        for mid, frame in frames:
            enc.finish(mid)
            end = len(frame)
            pos = 0
            while pos < end:
                pos = dec.feed(frame, pos, end)


def _encode_act(enc, n):
    raw = enc.raw
    for i in range(n):
        struct.pack_into(_FMT_ACT, raw, 4, i, 650, -1200, 3400, -5, 3, 4)
        enc.finish(m.ACTUATORS)


def _decode_sen(dec, s, frame, n):
    end = len(frame)
    acc = 0
    for i in range(n):
        pos = 0
        while pos < end:
            pos = dec.feed(frame, pos, end)
        acc += (s.step + s.t_us + s.accel_x_mmps2 + s.accel_y_mmps2 + s.accel_z_mmps2
                + s.gyro_x_urads + s.gyro_y_urads + s.gyro_z_urads + s.alt_mm + s.gnss_x_mm
                + s.gnss_y_mm + s.gnss_z_mm + s.gnss_vx_mmps + s.gnss_vy_mmps + s.gnss_vz_mmps
                + s.chamber_p_pm + s.flags)
    return acc


def _alloc(fn, n):
    gc.collect()
    gc.disable()
    a0 = gc.mem_alloc()
    fn(n)
    used = gc.mem_alloc() - a0
    gc.enable()
    return used


def _per_frame(fn, n):
    fn(3)
    return (_alloc(fn, 2 * n) - _alloc(fn, n)) / n


def _locked(fn, n):
    """Run fn(n) with the heap locked; any allocation raises MemoryError."""
    fn(3)
    gc.collect()
    micropython.heap_lock()
    try:
        fn(n)
    finally:
        micropython.heap_unlock()


def _sensors_frame():
    enc = Encoder()
    struct.pack_into(_FMT_SEN, enc.raw, 4, 1234, 5678000, 150, -220, 9810, 1200, -3400, 560,
                     152400, 1200, -800, 152300, 15, -7, -51000, 820, 3)
    return bytearray(enc.finish(m.SENSORS))


def test_framing_every_message_allocates_nothing():
    enc, dec, frames = Encoder(), Decoder(), _frames()
    per = _per_frame(lambda k: _framing(enc, dec, frames, k), 100)
    assert per == 0, per
    _locked(lambda k: _framing(enc, dec, frames, k), 50)
    assert dec.frames > 0 and sum(dec.drops[:5]) == 0, dec.drops


def test_actuators_encode_allocates_nothing():
    enc = Encoder()
    per = _per_frame(lambda k: _encode_act(enc, k), 300)
    assert per == 0, per
    _locked(lambda k: _encode_act(enc, k), 100)


def test_sensors_decode_through_view_allocates_nothing():
    dec = Decoder()
    s = view(dec.buf, m.SENSORS)
    frame = _sensors_frame()
    per = _per_frame(lambda k: _decode_sen(dec, s, frame, k), 300)
    assert per == 0, per
    _locked(lambda k: _decode_sen(dec, s, frame, k), 100)
    assert s.alt_mm == 152400 and s.gyro_y_urads == -3400 and s.flags == 3


def test_heap_lock_check_can_fail():
    # the harness itself: an allocating path must be caught
    dec = Decoder()
    frame = _sensors_frame()

    def unpack(n):
        for i in range(n):
            pos = 0
            while pos < len(frame):
                pos = dec.feed(frame, pos, len(frame))
            struct.unpack_from(_FMT_SEN, dec.buf, 4)  # builds a tuple
    assert _per_frame(unpack, 100) > 0
    try:
        _locked(unpack, 10)
    except MemoryError:
        return
    raise AssertionError("heap_lock did not catch an allocation")


class _FakeBoard:
    """Board for firmware/link.py: a SENSORS frame arrives on every read."""

    def __init__(self, frame):
        self.frame = frame
        self.n = len(frame)
        self.written = 0

    def read_into(self, buf):
        f = self.frame
        for i in range(self.n):
            buf[i] = f[i]
        return self.n

    def write(self, mv):
        self.written += len(mv)


def test_firmware_link_hot_path_allocates_nothing():
    # the firmware's own receive -> view -> ACTUATORS path (firmware/link.py)
    from link import Link
    board = _FakeBoard(_sensors_frame())
    link = Link(board)
    s = link.sensors

    def cycle(n):
        for i in range(n):
            mid = link.poll()
            if mid == m.SENSORS:
                link.send_actuators(s.step, 650, s.gyro_y_urads, -s.gyro_x_urads, 0, 1, 4)
    per = _per_frame(cycle, 200)
    assert per == 0, per
    _locked(cycle, 100)
    assert board.written > 0 and link.dec.frames > 0
