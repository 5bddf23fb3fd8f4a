# Golden vectors on the MicroPython VM: the firmware's codec (Encoder with
# struct.pack_into, byte-fed Decoder, codec.view) against
# protocol/golden/vectors.json, which the host wrote with construct + C COBS.
import json
import struct
from binascii import unhexlify

import protocol
from protocol import messages as m
from protocol.codec import view
from protocol.framing import Decoder, Encoder, DROP_NAMES


def _load():
    d = protocol.__file__.rsplit("/", 1)[0]
    with open(d + "/golden/vectors.json") as f:
        return json.load(f)


G = _load()


def _values(vec):
    row = m.find(vec["id"])
    out = []
    for f, v in zip(row[4], vec["values"]):
        out.append(unhexlify(v) if f[1][-1] == "s" else v)
    return out


def _decode_all(dec, data, chunk):
    got = []
    a = 0
    n = len(data)
    while a < n:
        b = min(n, a + chunk)
        pos = a
        while pos < b:
            pos = dec.feed(data, pos, b)
            if dec.ready >= 0:
                got.append((dec.ready, dec.seq, bytes(dec.buf[4:4 + dec.plen])))
        a = b
    return got


def test_golden_file_is_for_this_protocol_version():
    assert G["protocol_version"] == m.PROTOCOL_VERSION
    assert list(G["drop_names"]) == list(DROP_NAMES)
    names = set(v["name"] for v in G["frames"])
    assert len(names) == len(m.MESSAGES), names


def test_encoder_reproduces_every_golden_frame():
    enc = Encoder()
    for vec in G["frames"]:
        enc.seq = vec["seq"]
        row = m.find(vec["id"])
        struct.pack_into(m.struct_format(row), enc.raw, 4, *_values(vec))
        got = bytes(enc.finish(vec["id"]))
        assert got == unhexlify(vec["frame"]), vec["name"] + " " + vec["kind"]


def test_decoder_and_view_read_every_golden_frame():
    for vec in G["frames"]:
        dec = Decoder()
        frame = unhexlify(vec["frame"])
        got = _decode_all(dec, frame, len(frame))
        row = m.find(vec["id"])
        values = _values(vec)
        assert got == [(vec["id"], vec["seq"], struct.pack(m.struct_format(row), *values))], vec["name"]
        v = view(dec.buf, vec["id"])
        for f, want in zip(row[4], values):
            if f[1][-1] == "s":
                continue  # uctypes arrays: compared above through the payload bytes
            assert getattr(v, f[0]) == want, (vec["name"], vec["kind"], f[0])


def test_golden_streams_give_expected_frames_and_drop_counts():
    for st in G["streams"]:
        data = unhexlify(st["data"])
        expect = [(m_id, s) for m_id, s in
                  [([r[0] for r in m.MESSAGES if r[1] == n][0], s) for n, s in st["expect"]]]
        for chunk in (len(data), 1, 7, 64):
            dec = Decoder()
            got = _decode_all(dec, data, chunk)
            assert [(g[0], g[1]) for g in got] == expect, (st["name"], chunk)
            assert dec.drops == st["drops"], (st["name"], chunk, dec.drops)
