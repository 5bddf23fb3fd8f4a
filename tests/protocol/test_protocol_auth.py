"""HMAC-SHA256 (protocol.auth, built on hashlib.sha256 only) against RFC 4231,
the standard library's hmac, and the signed-command golden vectors."""
import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import auth
from protocol import messages as m
from protocol.golden import hostgolden
from protocol.hostfast import FastDecoder

# RFC 4231 section 4: (key, data, HMAC-SHA-256); case 5 is truncated to 128 bits
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


@pytest.mark.timeout(30)
@pytest.mark.parametrize("key,data,expect", RFC4231, ids=[f"case{i + 1}" for i in range(7)])
def test_rfc4231_vectors(key, data, expect):
    assert auth.hmac_sha256(key, data).hex()[:len(expect)] == expect


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.binary(max_size=300))
def test_hmac_matches_standard_library(key, data):
    assert auth.hmac_sha256(key, data) == hmac.new(key, data, hashlib.sha256).digest()


@pytest.mark.timeout(60)
@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=100), st.binary(min_size=12, max_size=12))
def test_signer_tag_is_truncated_hmac_over_domain_and_body(key, body):
    s = auth.Signer(key)
    tag = s.tag(body)
    assert len(tag) == auth.TAG_LEN == 16
    assert tag == hmac.new(key, auth.DOMAIN + body, hashlib.sha256).digest()[:16]
    assert s.check(body, tag)


@pytest.mark.timeout(30)
def test_signer_rejects_forged_truncated_and_other_key_tags():
    key = bytes(range(32))
    s = auth.Signer(key)
    body = bytes([m.COMMAND, m.CMD_ARM, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0])
    tag = s.tag(body)
    for i in range(len(tag)):
        for bit in (0, 7):
            forged = bytearray(tag)
            forged[i] ^= 1 << bit
            assert not s.check(body, bytes(forged))
    assert not s.check(body, tag[:8])                       # truncated tag
    assert not s.check(body, tag[:8] + bytes(8))            # truncated, zero padded
    assert not s.check(body, bytes(16))                     # no tag
    assert not s.check(body[:-1] + b"\x08", tag)            # counter changed after signing
    assert not auth.Signer(bytes(range(1, 33))).check(body, tag)  # wrong key


@pytest.mark.timeout(30)
@pytest.mark.parametrize("key", [b"", b"short", bytes(15)])
def test_signer_refuses_weak_keys(key):
    with pytest.raises(ValueError):
        auth.Signer(key)


@pytest.mark.timeout(30)
def test_compare_digest():
    assert auth.compare_digest(b"abc", b"abc")
    assert not auth.compare_digest(b"abc", b"abd")
    assert not auth.compare_digest(b"abc", b"ab")
    assert auth.compare_digest(b"", b"")


@pytest.mark.timeout(30)
def test_signed_golden_commands_verify_with_protocol_auth():
    g = hostgolden.load()
    key = bytes.fromhex(g["signed_key"])
    s = auth.Signer(key)
    assert len(g["signed"]) >= 5
    for vec in g["signed"]:
        ((mid, seq, values),) = FastDecoder("tuple").feed(bytes.fromhex(vec["frame"]))
        cmd, pid, value, counter, tag = values
        assert (mid, cmd, pid, value, counter) == (m.COMMAND, vec["cmd"], vec["param_id"],
                                                  vec["value"], vec["counter"])
        body = bytes.fromhex(vec["body"])
        assert s.tag(body) == tag == bytes.fromhex(vec["tag"])
        assert not auth.Signer(key[::-1]).check(body, tag)
