"""Golden vectors (protocol/golden/vectors.json) against every host codec.

The vectors were written with hostconstruct + the `cobs` package; here the
portable Encoder/Decoder (the firmware's codec, run under CPython), the fast
host path, the bulk numpy decoder and hostcodec must all reproduce them.  The
MicroPython suite (tests/mpy/mpy_protocol_golden.py) checks the same file on
the VM.
"""
import struct

import pytest

from protocol import hostconstruct as hc
from protocol import hostfast as hf
from protocol import messages as m
from protocol.framing import DROP_NAMES, Decoder, Encoder
from protocol.golden import hostgolden
from protocol.hostcodec import FrameReader, FrameWriter, spec

GOLDEN = hostgolden.load()
FRAMES = GOLDEN["frames"]
STREAMS = GOLDEN["streams"]


def _values(vec):
    row = m.find(vec["id"])
    return [bytes.fromhex(v) if f[1].endswith("s") else v for f, v in zip(row[4], vec["values"])]


def _decode_all(dec, data, chunk=None):
    got = []
    step = chunk or len(data) or 1
    for a in range(0, len(data), step):
        b = min(len(data), a + step)
        pos = a
        while pos < b:
            pos = dec.feed(data, pos, b)
            if dec.ready >= 0:
                got.append((dec.ready, dec.seq, bytes(dec.buf[4:4 + dec.plen])))
    return got


@pytest.mark.timeout(30)
def test_golden_file_is_current_and_matches_this_protocol_version():
    assert GOLDEN["protocol_version"] == m.PROTOCOL_VERSION, (
        "golden vectors are for another protocol version: rewrite them "
        "(python -m protocol.golden.hostgolden)")
    assert GOLDEN["wire_fingerprint"] == hostgolden.wire_fingerprint(), (
        "the wire format changed since the golden vectors were written: bump "
        "PROTOCOL_VERSION, then python -m protocol.golden.hostgolden")
    assert GOLDEN["drop_names"] == list(DROP_NAMES)
    assert (hostgolden.PATH.read_text() == hostgolden.render()), \
        "vectors.json is out of date: python -m protocol.golden.hostgolden"


@pytest.mark.timeout(30)
def test_every_message_has_golden_frames():
    names = {v["name"] for v in FRAMES}
    assert names == {row[1] for row in m.MESSAGES}
    for v in FRAMES:
        assert v["fields"] == [f[0] for f in m.find(v["id"])[4]], v["name"]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("vec", FRAMES, ids=[f"{v['name']}-{v['kind']}" for v in FRAMES])
def test_portable_encoder_reproduces_golden_frame(vec):
    enc = Encoder()
    enc.seq = vec["seq"]
    struct.pack_into(m.struct_format(m.find(vec["id"])), enc.raw, 4, *_values(vec))
    assert bytes(enc.finish(vec["id"])).hex() == vec["frame"]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("vec", FRAMES, ids=[f"{v['name']}-{v['kind']}" for v in FRAMES])
def test_every_host_codec_agrees_with_golden_frame(vec):
    frame = bytes.fromhex(vec["frame"])
    values = _values(vec)
    row = m.find(vec["id"])
    payload = struct.pack(m.struct_format(row), *values)
    # portable decoder
    assert _decode_all(Decoder(), frame) == [(vec["id"], vec["seq"], payload)]
    # construct (interpreted and compiled), whole wire frame and unstuffed frame
    mid, seq, d = hc.parse_wire(frame)
    assert (mid, seq, list(d.values())) == (vec["id"], vec["seq"], values)
    assert hc.parse_frame(bytes.fromhex(vec["raw"]), compiled=True)[2] == d
    assert hc.build_frame(vec["id"], vec["seq"], d, compiled=True).hex() == vec["raw"]
    # fast path, all three output modes, and the fast writer
    assert hf.FastDecoder("tuple").feed(frame) == [(vec["id"], vec["seq"], tuple(values))]
    assert hf.FastDecoder("payload").feed(frame) == [(vec["id"], vec["seq"], payload)]
    w = hf.FastWriter()
    w.seq = vec["seq"]
    assert w.frame(vec["id"], values).hex() == vec["frame"]
    # hostcodec (dict API used by host.link); it turns string fields into
    # text, so only the frames whose strings are ASCII survive a round trip
    s = spec(vec["id"])
    ((rid, rseq, fields),) = FrameReader().feed(frame)
    assert (rid, rseq) == (vec["id"], vec["seq"]) and fields == s.unpack(payload)
    if all(v.isascii() for v in values if isinstance(v, bytes)):
        fw = FrameWriter()
        fw._enc.seq = vec["seq"]
        assert fw.frame(s.name, fields).hex() == vec["frame"]
    # numpy bulk decode
    res = hf.bulk_decode(frame)
    rec = res.records[vec["name"]]
    assert len(rec) == 1 and int(rec["seq"][0]) == vec["seq"]
    assert rec.tobytes().hex() == vec["raw"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("vec", STREAMS, ids=[s["name"] for s in STREAMS])
@pytest.mark.parametrize("chunk", [None, 1, 7, 64])
def test_golden_streams_decode_to_expected_frames_and_drops(vec, chunk):
    data = bytes.fromhex(vec["data"])
    expect = [(spec(n).msg_id, s) for n, s in vec["expect"]]
    dec = Decoder()
    got = _decode_all(dec, data, chunk)
    assert [(g[0], g[1]) for g in got] == expect
    assert dec.drops == vec["drops"]
    fd = hf.FastDecoder("payload")
    fgot = []
    step = chunk or len(data)
    for a in range(0, len(data), step):
        fgot += fd.feed(data[a:a + step])
    assert fgot == got and fd.drops == vec["drops"]
    res = hf.bulk_decode(data)
    assert res.delivered() == got and res.drops == vec["drops"]


@pytest.mark.timeout(30)
def test_wire_fingerprint_tracks_the_wire_not_the_prose(monkeypatch):
    base = hostgolden.wire_fingerprint()
    rows = list(m.MESSAGES)
    i = [r[1] for r in rows].index("ACTUATORS")
    mid, name, direction, crcw, fields = rows[i]
    reworded = rows[:i] + [(mid, name, direction, crcw,
                            tuple((f[0], f[1], f[2] + " (reworded)") for f in fields))] + rows[i + 1:]
    monkeypatch.setattr(m, "MESSAGES", tuple(reworded))
    assert hostgolden.wire_fingerprint() == base
    widened = rows[:i] + [(mid, name, direction, crcw,
                           (("step", "i", fields[0][2]),) + tuple(fields[1:]))] + rows[i + 1:]
    monkeypatch.setattr(m, "MESSAGES", tuple(widened))
    assert hostgolden.wire_fingerprint() != base
    monkeypatch.setattr(m, "MESSAGES", tuple(rows))
    monkeypatch.setattr(m, "CMD_ARM", 42)
    assert hostgolden.wire_fingerprint() != base


@pytest.mark.timeout(30)
def test_rewriting_golden_vectors_after_a_wire_change_needs_a_version_bump(monkeypatch, tmp_path):
    path = tmp_path / "vectors.json"
    path.write_text(hostgolden.PATH.read_text())
    monkeypatch.setattr(hostgolden, "wire_fingerprint", lambda: "0" * 64)
    with pytest.raises(SystemExit) as e:
        hostgolden.write(path)
    assert "bump" in str(e.value)
    assert path.read_text() == hostgolden.PATH.read_text()
