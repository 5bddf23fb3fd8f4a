"""Command authentication: HMAC-SHA256 (RFC 2104) with a truncated tag.

MicroPython ships hashlib.sha256 but no hmac module on every port, so HMAC is
built here from sha256 and runs unchanged on both interpreters.  The tag covers
a domain prefix, the message id and every COMMAND field before the tag
(cmd, param_id, value, counter); it is truncated to TAG_LEN = 16 bytes
(128 bits, as RFC 4868 allows for HMAC-SHA256 truncation).
"""
import hashlib

TAG_LEN = 16
DOMAIN = b"HSCMD1"
BLOCK = 64


def _pads(key):
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = bytes(key) + bytes(BLOCK - len(key))
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hmac_sha256(key, msg):
    ipad, opad = _pads(key)
    h = hashlib.sha256(ipad)
    h.update(msg)
    inner = h.digest()
    h = hashlib.sha256(opad)
    h.update(inner)
    return h.digest()


def compare_digest(a, b):
    """Constant-time equality for equal-length byte strings."""
    if len(a) != len(b):
        return False
    r = 0
    for i in range(len(a)):
        r |= a[i] ^ b[i]
    return r == 0


class Signer:
    """Holds the key's pads once; signs and checks COMMAND bodies."""

    def __init__(self, key):
        if not key or len(key) < 16:
            raise ValueError("command key must be at least 16 bytes")
        self._ipad, self._opad = _pads(key)

    def tag(self, body):
        h = hashlib.sha256(self._ipad)
        h.update(DOMAIN)
        h.update(body)
        inner = h.digest()
        h = hashlib.sha256(self._opad)
        h.update(inner)
        return h.digest()[:TAG_LEN]

    def check(self, body, tag):
        return compare_digest(self.tag(body), tag)
