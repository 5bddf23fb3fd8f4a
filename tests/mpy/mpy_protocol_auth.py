# HMAC-SHA256 of protocol.auth on the MicroPython VM: RFC 4231 vectors, the
# signed-command golden vectors (tags made with CPython's hmac), rejections.
import json
from binascii import hexlify, unhexlify

import protocol
from protocol import auth
from protocol import messages as m
from protocol.framing import Decoder

RFC4231 = [
    (b"\x0b" * 20, b"Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", b"what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (b"\xaa" * 20, b"\xdd" * 50,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    (bytes(range(1, 26)), b"\xcd" * 50,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    (b"\x0c" * 20, b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b"),
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    (b"\xaa" * 131, b"This is a test using a larger than block-size key and a larger than "
     b"block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
]


def test_rfc4231_all_seven_cases():
    for i, (key, data, expect) in enumerate(RFC4231):
        got = hexlify(auth.hmac_sha256(key, data)).decode()
        assert got[:len(expect)] == expect, "case %d: %s" % (i + 1, got)


def _golden():
    d = protocol.__file__.rsplit("/", 1)[0]
    with open(d + "/golden/vectors.json") as f:
        return json.load(f)


def test_signed_golden_commands_verify_and_forgeries_fail():
    g = _golden()
    key = unhexlify(g["signed_key"])
    s = auth.Signer(key)
    other = auth.Signer(bytes(reversed(key)))
    for vec in g["signed"]:
        frame = unhexlify(vec["frame"])
        dec = Decoder()
        dec.feed(frame, 0, len(frame))
        assert dec.ready == m.COMMAND
        buf = dec.buf
        body = bytes(buf[0:1]) + bytes(buf[4:4 + 11])  # what firmware/link.py signs
        tag = bytes(buf[15:15 + auth.TAG_LEN])
        assert body == unhexlify(vec["body"])
        assert s.check(body, tag)
        assert not other.check(body, tag)
        assert not s.check(body, bytes(auth.TAG_LEN))
        assert not s.check(body, tag[:8] + bytes(8))
        bad = bytearray(tag)
        bad[-1] ^= 1
        assert not s.check(body, bytes(bad))
        replayed_body = bytearray(body)
        replayed_body[-4] ^= 1  # a different counter under the old tag
        assert not s.check(bytes(replayed_body), tag)


def test_short_key_is_refused():
    try:
        auth.Signer(b"0123456789")
    except ValueError:
        return
    raise AssertionError("a 10-byte key was accepted")
