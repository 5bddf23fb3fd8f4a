"""One message table, every codec agrees: struct (hostcodec, hostfast), construct
(interpreted and compiled), numpy dtypes, and the portable codec the firmware
runs (framing.Encoder/Decoder, codec.view) - on every message, hypothesis-driven."""
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.errors import HandshakeError
from host.link import Link
from protocol import codec, framing
from protocol import hostconstruct as hc
from protocol import hostfast as hf
from protocol import messages as m
from protocol.hostcodec import SPECS, FrameReader

ROWS = list(m.MESSAGES)
_BITS = {"B": 8, "b": 8, "H": 16, "h": 16, "I": 32, "i": 32}


def field_strategy(code):
    if code.endswith("s"):
        n = int(code[:-1])
        return st.binary(min_size=n, max_size=n)
    bits = _BITS[code]
    if code.islower():
        return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return st.integers(0, (1 << bits) - 1)


def message_strategy(row):
    return st.tuples(st.integers(0, 0xFFFF), st.tuples(*[field_strategy(f[1]) for f in row[4]]))


def _portable_frame(row, seq, values):
    enc = framing.Encoder()
    enc.seq = seq
    struct.pack_into(m.struct_format(row), enc.raw, 4, *values)
    return bytes(enc.finish(row[0]))


def _portable_decode(data):
    dec = framing.Decoder()
    out = []
    pos = 0
    while pos < len(data):
        pos = dec.feed(data, pos, len(data))
        if dec.ready >= 0:
            out.append((dec.ready, dec.seq, bytes(dec.buf[4:4 + dec.plen])))
    return out, dec


@pytest.mark.timeout(30)
def test_table_is_consistent():
    ids = [r[0] for r in ROWS]
    names = [r[1] for r in ROWS]
    assert len(set(ids)) == len(ids) and len(set(names)) == len(names)
    for mid, name, direction, crcw, fields in ROWS:
        assert 0 < mid < 256
        assert direction in (m.UP, m.DOWN)
        assert crcw in (2, 4)
        fnames = [f[0] for f in fields]
        assert len(set(fnames)) == len(fnames), name
        for fname, code, desc in fields:
            # formats MicroPython's struct accepts: no x, no ?, no spaces
            assert code in _BITS or (code.endswith("s") and code[:-1].isdigit()), (name, fname)
            assert desc, (name, fname)
        assert m.payload_size((mid, name, direction, crcw, fields)) == \
            struct.calcsize(m.struct_format((mid, name, direction, crcw, fields)))
        # COBS of < 254 bytes is exactly one byte longer: every message has a fixed framed length
        assert m.HEADER_SIZE + m.payload_size(ROWS[ids.index(mid)]) + crcw < 254
    # commands (and their answers) carry CRC-32, telemetry at least CRC-16
    assert m.find(m.COMMAND)[3] == 4 and m.find(m.ACK)[3] == 4
    assert m.find(m.COMMAND)[2] == m.UP and m.find(m.SENSORS)[2] == m.UP
    for cmd in (m.CMD_ARM, m.CMD_ARM_CONFIRM, m.CMD_DISARM, m.CMD_ABORT, m.CMD_SET_PARAM):
        assert cmd in m.SIGNED_COMMANDS
    assert len(m.NACK_NAMES) == m.NACK_TIMEOUT + 1


@pytest.mark.timeout(30)
def test_hello_layout_is_frozen_so_a_version_mismatch_can_be_reported():
    # a host must decode the HELLO of a board of any protocol version to say
    # "version mismatch" instead of "no HELLO": its id and layout never change
    row = m.find(m.HELLO)
    assert row[0] == 0x01 and row[3] == 2
    assert [(f[0], f[1]) for f in row[4]] == [
        ("proto_version", "H"), ("fw_version", "H"), ("fw_hash", "I"), ("params_hash", "I"),
        ("impl", "12s"), ("platform", "8s")]


class _FakePort:
    """Just enough of a pyserial port for host.link.Link: replies to any write."""

    def __init__(self, reply):
        self.reply = reply
        self.rx = b""
        self.timeout = 0

    @property
    def in_waiting(self):
        return len(self.rx)

    def read(self, n=1):
        d, self.rx = self.rx[:n], self.rx[n:]
        return d

    def write(self, data):
        self.rx += self.reply
        return len(data)


@pytest.mark.timeout(30)
def test_protocol_version_mismatch_is_one_clear_error():
    w = hf.FastWriter()
    hello = w.frame(m.HELLO, [m.PROTOCOL_VERSION + 1, 100, 1, 2, b"micropython", b"rp2"])
    link = Link(_FakePort(hello))
    with pytest.raises(HandshakeError) as e:
        link.hello(timeout_s=2)
    msg = str(e.value)
    assert "protocol version mismatch" in msg and "\n" not in msg
    assert f"v{m.PROTOCOL_VERSION + 1}" in msg and f"v{m.PROTOCOL_VERSION}" in msg
    ok = Link(_FakePort(w.frame(m.HELLO, [m.PROTOCOL_VERSION, 100, 1, 2, b"micropython", b"rp2"])))
    assert ok.hello(timeout_s=2)["impl"] == "micropython"


def _check_agreement(row, seq, values):
    mid = row[0]
    values = list(values)
    spec = SPECS[mid]
    names = [f[0] for f in row[4]]
    as_dict = dict(zip(names, values))
    # payload: struct == construct (interpreted, compiled) == numpy
    payload = struct.pack(m.struct_format(row), *values)
    assert spec.struct.pack(*values) == payload
    assert hc.PAYLOADS[mid].build(as_dict) == payload
    assert hc.COMPILED_PAYLOADS[mid].build(as_dict) == payload
    parsed = hc.PAYLOADS[mid].parse(payload)
    assert [parsed[n] for n in names] == values
    cparsed = hc.COMPILED_PAYLOADS[mid].parse(payload)
    assert [cparsed[n] for n in names] == values
    arr = np.frombuffer(payload, hf.payload_dtype(mid))
    # numpy "S" fields read like C strings (trailing NULs dropped); bytes stay in the array
    cstr = [v.rstrip(b"\0") if isinstance(v, bytes) else v for v in values]
    assert [arr[n][0].item() for n in names] == cstr
    assert arr.tobytes() == payload
    # the firmware's in-place view reads the same numbers from the decoder buffer
    buf = bytearray(m.max_frame_size())
    buf[4:4 + len(payload)] = payload
    v = codec.view(buf, mid)
    for n, code, val in zip(names, (f[1] for f in row[4]), values):
        if not code.endswith("s"):
            assert getattr(v, n) == val
    # whole frame: portable Encoder == construct WIRE == hostfast writer
    frame = _portable_frame(row, seq, values)
    assert hc.build_wire(mid, seq, as_dict) == frame
    fw = hf.FastWriter()
    fw.seq = seq
    assert fw.frame(mid, values) == frame
    if mid in fw._ints:  # the compiled path of the all-integer messages, same bytes
        fw.seq = seq
        assert fw.frame_ints(mid, np.array(values, dtype=np.int64)) == frame
        assert fw.seq == (seq + 1) & 0xFFFF
    assert frame[0] == 0 and frame[-1] == 0 and 0 not in frame[1:-1]
    assert len(frame) == framing.framed_size(mid)
    # and every decoder gets the message back
    got, dec = _portable_decode(frame)
    assert got == [(mid, seq, payload)]
    assert hc.parse_wire(frame) == (mid, seq, as_dict)
    raw = hc.build_frame(mid, seq, as_dict)
    assert hc.parse_frame(raw, compiled=True) == (mid, seq, as_dict)
    assert hf.FastDecoder("tuple").feed(frame) == [(mid, seq, tuple(values))]
    assert hf.FastDecoder("payload").feed(frame) == [(mid, seq, payload)]
    assert hf.FastDecoder("dict").feed(frame) == FrameReader().feed(frame)
    res = hf.bulk_decode(frame)
    rec = res.records[row[1]]
    assert [rec[n][0].item() for n in names] == cstr and rec["seq"][0] == seq
    assert rec.tobytes() == raw


@pytest.mark.timeout(120)
@pytest.mark.parametrize("row", ROWS, ids=[r[1] for r in ROWS])
def test_all_codecs_agree_on_every_message(row):
    @settings(max_examples=60, deadline=None)
    @given(message_strategy(row))
    def check(sv):
        _check_agreement(row, sv[0], sv[1])
    check()


@pytest.mark.timeout(30)
def test_compiled_writer_refuses_a_value_outside_its_field_and_sends_nothing():
    fw = hf.FastWriter()
    vals = np.zeros(len(SPECS[m.SENSORS].fields), dtype=np.int64)
    vals[SPECS[m.SENSORS].fields.index("chamber_p_pm")] = 70000  # an H field
    with pytest.raises(struct.error, match=r"SENSORS\.chamber_p_pm: 70000 is outside"):
        fw.frame_ints(m.SENSORS, vals)
    with pytest.raises(ValueError, match="SENSORS has 17 fields, got 3 values"):
        fw.frame_ints(m.SENSORS, np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="use frame"):
        fw.frame_ints(m.COMMAND, np.zeros(5, dtype=np.int64))  # CRC-32 and a tag
    assert fw.seq == 0  # no sequence number spent on a frame that was not made
    # and with the lowest and highest values of every field it is the struct writer's
    lo = [hf._int_field(c)[1] for c in SPECS[m.SENSORS].codes]
    hi = [hf._int_field(c)[2] for c in SPECS[m.SENSORS].codes]
    for v in (lo, hi):
        ref = hf.FastWriter()
        ref.seq = fw.seq
        assert fw.frame_ints(m.SENSORS, np.array(v, dtype=np.int64)) == ref.frame(m.SENSORS, v)


@pytest.mark.timeout(30)
def test_si_conversion_round_trips_through_the_table_units():
    s = SPECS[m.SENSORS]
    wire = {f: 0 for f in s.fields}
    wire.update(alt_mm=123456, gyro_x_urads=-7, chamber_p_pm=999)
    si = s.to_si(wire)
    assert si["alt_m"] == pytest.approx(123.456) and si["gyro_x_radps"] == pytest.approx(-7e-6)
    assert si["chamber_p_frac"] == pytest.approx(0.999)
    assert s.from_si(si) == wire
    res = hf.bulk_decode(hf.FastWriter().frame(m.SENSORS, [wire[f] for f in s.fields]))
    cols = res.to_si("SENSORS")
    assert cols["alt_m"][0] == pytest.approx(123.456)


_VM_ENCODE = r"""
import struct, json
from binascii import hexlify
from protocol import messages as m
from protocol.framing import Encoder
s = [0x2545F491]
def nxt():
    x = s[0]
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    s[0] = x
    return x
BITS = {"B": 8, "b": 8, "H": 16, "h": 16, "I": 32, "i": 32}
enc = Encoder()
for k in range(%(n)d):
    row = m.MESSAGES[nxt() %% len(m.MESSAGES)]
    vals = []
    for f in row[4]:
        c = f[1]
        if c[-1] == "s":
            vals.append(bytes(nxt() & 0xFF for _ in range(int(c[:-1]))))
            continue
        b = BITS[c]
        v = nxt() & ((1 << b) - 1)
        if nxt() & 1:
            v &= 0xFF
        if c in "bhi" and v >= (1 << (b - 1)):
            v -= 1 << b
        vals.append(v)
    enc.seq = nxt() & 0xFFFF
    seq = enc.seq
    struct.pack_into(m.struct_format(row), enc.raw, 4, *vals)
    frame = bytes(enc.finish(row[0]))
    out = [hexlify(v).decode() if isinstance(v, bytes) else v for v in vals]
    print(json.dumps([row[0], seq, out, hexlify(frame).decode()]))
"""

_VM_DECODE = r"""
import sys, json
from binascii import unhexlify
from protocol import messages as m
from protocol.framing import Decoder
from protocol.codec import view
data = unhexlify(%(hex)r)
dec = Decoder()
pos = 0
while pos < len(data):
    pos = dec.feed(data, pos, len(data))
    if dec.ready >= 0:
        row = m.find(dec.ready)
        v = view(dec.buf, dec.ready)
        vals = [getattr(v, f[0]) for f in row[4] if f[1][-1] != "s"]
        print(json.dumps([dec.ready, dec.seq, vals]))
print(json.dumps(["drops", dec.drops]))
"""


@pytest.mark.timeout(180)
def test_vm_encodes_what_the_host_decodes_and_builds():
    import json

    from tests.mpyvm import run_code
    out = run_code(_VM_ENCODE % {"n": 300})
    lines = [json.loads(ln) for ln in out.splitlines() if ln.startswith("[")]
    assert len(lines) == 300
    for mid, seq, vals, frame_hex in lines:
        row = m.find(mid)
        values = [bytes.fromhex(v) if f[1].endswith("s") else v for f, v in zip(row[4], vals)]
        frame = bytes.fromhex(frame_hex)
        assert hc.parse_wire(frame) == (mid, seq, dict(zip([f[0] for f in row[4]], values)))
        assert hf.FastDecoder("tuple").feed(frame) == [(mid, seq, tuple(values))]
        w = hf.FastWriter()
        w.seq = seq
        assert w.frame(mid, values) == frame


@pytest.mark.timeout(180)
def test_host_encodes_what_the_vm_decodes():
    import json
    import random

    from tests.mpyvm import run_code
    rng = random.Random(77)
    w = hf.FastWriter()
    sent = []
    stream = b""
    for _ in range(120):
        row = rng.choice(ROWS)
        vals = []
        for _, code, _ in row[4]:
            if code.endswith("s"):
                vals.append(bytes(rng.randrange(256) for _ in range(int(code[:-1]))))
            else:
                bits = _BITS[code]
                lo = -(1 << (bits - 1)) if code.islower() else 0
                vals.append(rng.randrange(lo, lo + (1 << bits)))
        seq = w.seq
        stream += w.frame(row[0], vals)
        sent.append([row[0], seq, [v for v in vals if not isinstance(v, bytes)]])
    out = run_code(_VM_DECODE % {"hex": stream.hex()})
    got = [json.loads(ln) for ln in out.splitlines()]
    assert got[-1] == ["drops", [0, 0, 0, 0, 0, 0]]
    assert got[:-1] == sent
