# Framing on the MicroPython VM: round trip, resync, and zero allocation.
import gc
import struct
import sys
from protocol import messages as m
from protocol.framing import Encoder, Decoder, DROP_CRC


def test_runs_on_micropython():
    assert sys.implementation.name == "micropython"


def _feed_all(dec, data):
    got = []
    pos = 0
    while pos < len(data):
        pos = dec.feed(data, pos, len(data))
        if dec.ready >= 0:
            got.append((dec.ready, bytes(dec.buf[4:4 + dec.plen])))
    return got


def test_actuators_round_trip():
    enc = Encoder()
    struct.pack_into("<IHiihBB", enc.raw, 4, 7, 650, -1200, 3400, 0, 3, 4)
    frame = bytes(enc.finish(m.ACTUATORS))
    assert frame[0] == 0 and frame[-1] == 0 and 0 not in frame[1:-1]
    got = _feed_all(Decoder(), frame)
    assert len(got) == 1 and got[0][0] == m.ACTUATORS
    assert struct.unpack("<IHiihBB", got[0][1]) == (7, 650, -1200, 3400, 0, 3, 4)


def test_corrupted_frame_dropped_and_next_frame_kept():
    enc = Encoder()
    struct.pack_into("<IHiihBB", enc.raw, 4, 1, 1, 1, 1, 1, 1, 1)
    a = bytearray(enc.finish(m.ACTUATORS))
    a[6] ^= 0x10
    struct.pack_into("<IHiihBB", enc.raw, 4, 2, 2, 2, 2, 2, 2, 2)
    b = bytes(enc.finish(m.ACTUATORS))
    dec = Decoder()
    got = _feed_all(dec, bytes(a) + b"garbage\r\n" + b)
    assert len(got) == 1 and struct.unpack("<IHiihBB", got[0][1])[0] == 2
    assert dec.drops[DROP_CRC] == 1


def test_encode_and_decode_allocate_nothing():
    enc = Encoder()
    dec = Decoder()
    raw = enc.raw
    fmt = "<IHiihBB"
    frame = bytearray(enc.finish(m.ACTUATORS))
    for i in range(3):  # warm up
        struct.pack_into(fmt, raw, 4, i, 500, 1, 2, 3, 1, 4)
        enc.finish(m.ACTUATORS)
        dec.feed(frame, 0, len(frame))
    gc.collect()
    gc.disable()
    a0 = gc.mem_alloc()
    for i in range(100):
        struct.pack_into(fmt, raw, 4, i, 500, 1, 2, 3, 1, 4)
        enc.finish(m.ACTUATORS)
        dec.feed(frame, 0, len(frame))
    used = gc.mem_alloc() - a0
    gc.enable()
    assert used == 0, used
