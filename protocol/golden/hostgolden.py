"""Writes protocol/golden/vectors.json: framed bytes for every message, and
noisy streams with their expected verdicts.  Host only (never deployed).

    python -m protocol.golden.hostgolden          # (re)write the file
    python -m protocol.golden.hostgolden --check  # exit 1 if it is out of date

The frames are built with `protocol.hostconstruct` (construct + the `cobs`
package + binascii/zlib CRCs), not with the portable Encoder, so that the
CPython and MicroPython test suites check the portable codec, the fast host
paths and the construct definitions against bytes none of them produced alone.
The streams' expected frames and drop counts follow from how each stream is
built (which frames are kept intact, which segment is damaged and how), not
from running a decoder.

The file records PROTOCOL_VERSION and a fingerprint of everything that shapes
the wire (ids, CRC widths, field codes, header size, command/state/event/NACK
codes).  Rewriting it after a wire change is refused until PROTOCOL_VERSION is
bumped: golden vectors freeze a protocol version.
"""
import hashlib
import hmac
import json
import struct
import sys
from pathlib import Path

from cobs import cobs

from protocol import hostconstruct as hc
from protocol import messages as m
from protocol.auth import DOMAIN, TAG_LEN
from protocol.framing import DROP_NAMES

PATH = Path(__file__).resolve().parent / "vectors.json"
_CODE_PREFIXES = ("CMD_", "ACK_", "NACK_", "ST_", "EV_", "SF_", "AF_")


def wire_fingerprint():
    """SHA-256 (hex) over the wire-relevant parts of the message table."""
    layout = [(row[0], row[3], tuple(f[1] for f in row[4])) for row in m.MESSAGES]
    codes = sorted((k, v) for k, v in vars(m).items()
                   if k.startswith(_CODE_PREFIXES) and isinstance(v, int))
    text = repr((m.HEADER_SIZE, layout, codes))
    return hashlib.sha256(text.encode()).hexdigest()


class _Xorshift32:
    """Tiny deterministic PRNG (same numbers on every Python, forever)."""

    def __init__(self, seed):
        self.s = seed & 0xFFFFFFFF or 1

    def next(self):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def below(self, n):
        return self.next() % n

    def bytes(self, n):
        return bytes(self.next() & 0xFF for _ in range(n))


_BITS = {"B": 8, "b": 8, "H": 16, "h": 16, "I": 32, "i": 32}


def _limits(code):
    bits = _BITS[code]
    if code.islower():
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def _values(row, kind, rng):
    out = []
    for name, code, _ in row[4]:
        if code.endswith("s"):
            n = int(code[:-1])
            if kind == "zeros":
                out.append(bytes(n))
            elif kind == "max":
                out.append(b"\xff" * n)
            elif kind == "min":
                out.append(b"micropython rp2 unix"[:n])
            else:
                out.append(bytes(1 + rng.below(255) for _ in range(rng.below(n + 1))))
            continue
        lo, hi = _limits(code)
        if kind == "zeros":
            v = 0
        elif kind == "max":
            v = hi
        elif kind == "min":
            v = lo
        else:  # mixed: small, negative, large and byte-aligned zero patterns
            pick = rng.below(4)
            if pick == 0:
                v = rng.below(256)
            elif pick == 1:
                v = lo + rng.below(hi - lo + 1)
            elif pick == 2:
                v = (rng.below(hi + 1) & ~0xFF) if hi > 255 else 0
            else:
                v = max(lo, -rng.below(1000)) if lo < 0 else rng.below(min(hi, 65535) + 1)
        out.append(v)
    # strings shorter than the field are NUL padded by struct and construct alike
    for i, (name, code, _) in enumerate(row[4]):
        if code.endswith("s"):
            out[i] = out[i].ljust(int(code[:-1]), b"\0")
    return out


def _as_dict(row, values):
    return {f[0]: v for f, v in zip(row[4], values)}


def _frame(row, seq, values):
    return hc.build_wire(row[0], seq, _as_dict(row, values))


def _json_values(row, values):
    return [v.hex() if f[1].endswith("s") else v for f, v in zip(row[4], values)]


def frame_vectors():
    rng = _Xorshift32(0x484F5652)  # "HOVR"
    vecs = []
    seqs = {"zeros": 0, "max": 0xFFFF, "min": 0x0100, "mixed": 0x1234}
    for row in m.MESSAGES:
        for kind in ("zeros", "max", "min", "mixed"):
            values = _values(row, kind, rng)
            seq = seqs[kind]
            vecs.append({
                "name": row[1], "id": row[0], "kind": kind, "seq": seq,
                "fields": [f[0] for f in row[4]],
                "values": _json_values(row, values),
                "raw": hc.build_frame(row[0], seq, _as_dict(row, values)).hex(),
                "frame": _frame(row, seq, values).hex(),
            })
    return vecs


def _segment(raw):
    """A whole wire segment for arbitrary unstuffed bytes."""
    return b"\x00" + cobs.encode(raw) + b"\x00"


def stream_vectors():
    """Noisy byte streams; `expect` lists the frames (name, seq) that must come
    out, `drops` the exact counters a fresh decoder must end with."""
    rng = _Xorshift32(0x53545245)
    act = m.find(m.ACTUATORS)
    sen = m.find(m.SENSORS)
    cmd = m.find(m.COMMAND)
    streams = []

    def good(row, seq, kind="mixed"):
        return _frame(row, seq, _values(row, kind, rng)), [row[1], seq]

    def raw_of(row, seq):
        return bytearray(hc.build_frame(row[0], seq, _as_dict(row, _values(row, "mixed", rng))))

    # 1. garbage bursts between frames: random bytes (with zeros) and ASCII text
    data = bytearray(rng.bytes(7).replace(b"\0", b"\x01"))  # noise before the first delimiter
    expect = []
    for seq in range(12):
        f, e = good(act if seq % 3 else sen, seq)
        data += f
        expect.append(e)
    # a clean stream of frames (no noise between them) delivers everything
    streams.append({"name": "clean_after_leading_noise", "data": data.hex(), "expect": expect,
                    "drops": [0] * len(DROP_NAMES)})

    # 2. ASCII text between frames (print() output on the same link)
    data = bytearray()
    expect = []
    drops = [0] * len(DROP_NAMES)
    texts = [b"gc: 12345 free\r\n", b"Traceback (most recent call last):\r\n", b"MPY: soft reboot\r\n"]
    for seq in range(9):
        f, e = good(act, seq)
        data += f
        expect.append(e)
        t = texts[seq % 3]
        data += t
        # the text sits alone between two delimiters: one segment whose first
        # byte, read as a COBS code, promises more bytes than the text has
        assert t[0] > len(t)
        drops[3] += 1
    f, e = good(act, 9)  # text after the last frame would still be pending: close it
    data += f
    expect.append(e)
    streams.append({"name": "ascii_between_frames", "data": data.hex(), "expect": expect,
                    "drops": drops})

    # 3. one frame per drop reason, each followed by a good frame
    data = bytearray()
    expect = []
    drops = [0] * len(DROP_NAMES)
    seq = 100

    def add_good():
        nonlocal seq
        f, e = good(act, seq)
        data.extend(f)
        expect.append(e)
        seq += 1

    add_good()
    r = raw_of(act, seq)          # crc: a payload byte changed after the CRC
    r[6] ^= 0x40
    data += _segment(bytes(r))
    drops[0] += 1
    seq += 1                      # that frame's seq never arrives: one gap
    drops[5] += 1
    add_good()
    r = raw_of(act, 0)            # length: header length byte wrong, CRC fixed up
    r[3] += 1
    data += _segment(_fix_crc(r, 2))
    drops[1] += 1
    data += _segment(b"\x11\x05")  # length: shorter than a header + CRC
    drops[1] += 1
    add_good()
    r = bytearray(b"\x7f\x00\x00\x02\xaa\xbb")  # unknown id with a valid CRC-16
    data += _segment(_fix_crc(r, 2))
    drops[2] += 1
    add_good()
    data += b"\x00\x09abc\x00"    # cobs: the code byte promises 8 bytes, 3 follow
    drops[3] += 1
    add_good()
    data += b"\x00" + b"\x41" * 150 + b"\x00"  # overflow: 150 bytes without a delimiter
    drops[4] += 1
    add_good()
    f, e = good(act, seq, "max")  # truncated frame: its tail and delimiter lost
    cut = _inside_a_block(f[1:-1])
    data += f[:1 + cut]
    seq += 1
    drops[3] += 1                 # cut inside a COBS block: the next 0x00 ends it -> cobs
    drops[5] += 1
    add_good()
    r = raw_of(cmd, 0)            # a COMMAND with a broken CRC-32
    r[-1] ^= 0x01
    data += _segment(bytes(r))
    drops[0] += 1
    seq += 3                      # three frames lost on the way: gap of 3
    drops[5] += 3
    add_good()
    f, e = good(cmd, seq)
    data += f
    expect.append(e)
    seq += 1
    streams.append({"name": "one_of_each_drop", "data": data.hex(), "expect": expect,
                    "drops": drops})

    # 4. sequence wrap is not a gap
    data = bytearray()
    expect = []
    for s in (0xFFFE, 0xFFFF, 0, 1):
        f, e = good(act, s)
        data += f
        expect.append(e)
    streams.append({"name": "seq_wraps", "data": data.hex(), "expect": expect,
                    "drops": [0] * len(DROP_NAMES)})

    # 5. a jump back (duplicate, reordered frame, sender restart) loses nothing;
    #    a jump forward by d counts d - 1 missing frames
    data = bytearray()
    expect = []
    for s in (10, 11, 11, 5, 6, 9, 0x8005):
        f, e = good(act, s)
        data += f
        expect.append(e)
    drops = [0] * len(DROP_NAMES)
    drops[5] = 2 + (0x8005 - 9 - 1)
    streams.append({"name": "seq_back_and_forth", "data": data.hex(), "expect": expect,
                    "drops": drops})
    return streams


def _inside_a_block(enc):
    """An index into COBS bytes that falls strictly inside a block."""
    p = 0
    while p < len(enc):
        code = enc[p]
        if code >= 3:
            return p + 2
        p += code
    raise ValueError("no block long enough to cut inside")


def _fix_crc(raw, width):
    body = bytes(raw[:-width])
    if width == 2:
        return body + hc.crc16_ccitt_false(body).to_bytes(2, "little")
    return body + hc.crc32_ieee(body).to_bytes(4, "little")


# A public test key for the signed-command vectors: never a flight key.
TEST_KEY = bytes(range(0x40, 0x60))


def signed_vectors():
    """COMMAND frames signed with TEST_KEY using the standard library's hmac
    (independent of protocol.auth): tag = HMAC-SHA256(key, DOMAIN | msg id |
    cmd, param_id, value, counter)[:TAG_LEN]."""
    out = []
    cases = [(m.CMD_ARM, 0, 0, 1), (m.CMD_ARM_CONFIRM, 0, 0, 2), (m.CMD_DISARM, 0, 0, 256),
             (m.CMD_SET_PARAM, 3, -5, 0x3FFFFFFF), (m.CMD_ABORT, 0, 0, 0xFFFFFFFF)]
    for seq, (cmd, pid, value, counter) in enumerate(cases):
        body = bytes([m.COMMAND]) + struct.pack("<BHiI", cmd, pid, value, counter)
        tag = hmac.new(TEST_KEY, DOMAIN + body, hashlib.sha256).digest()[:TAG_LEN]
        vals = {"cmd": cmd, "param_id": pid, "value": value, "counter": counter, "tag": tag}
        out.append({"cmd": cmd, "param_id": pid, "value": value, "counter": counter,
                    "seq": seq, "body": body.hex(), "tag": tag.hex(),
                    "frame": hc.build_wire(m.COMMAND, seq, vals).hex()})
    return out


def build():
    return {
        "about": "Hoverslam wire protocol golden vectors; written by protocol/golden/hostgolden.py",
        "protocol_version": m.PROTOCOL_VERSION,
        "wire_fingerprint": wire_fingerprint(),
        "drop_names": list(DROP_NAMES),
        "frames": frame_vectors(),
        "streams": stream_vectors(),
        "signed_key": TEST_KEY.hex(),
        "signed": signed_vectors(),
    }


def render():
    """JSON, one vector per line (compact enough for a Pico-sized heap)."""
    doc = build()
    lines = ["{"]
    for k, v in doc.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            lines.append(" %s: [" % json.dumps(k))
            lines.append(",\n".join("  " + json.dumps(x, separators=(",", ":")) for x in v))
            lines.append(" ],")
        else:
            lines.append(" %s: %s," % (json.dumps(k), json.dumps(v)))
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == doc
    return text


def load(path=PATH):
    return json.loads(Path(path).read_text())


def write(path=PATH):
    """Write the vectors; refuses a wire change under an unchanged version."""
    path = Path(path)
    if path.exists():
        old = load(path)
        if (old.get("protocol_version") == m.PROTOCOL_VERSION
                and old.get("wire_fingerprint") != wire_fingerprint()):
            raise SystemExit("the wire format changed but PROTOCOL_VERSION is still %d: bump it "
                             "in protocol/messages.py, then rewrite the golden vectors"
                             % m.PROTOCOL_VERSION)
    path.write_text(render())
    return path


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        ok = PATH.exists() and PATH.read_text() == render()
        print("golden vectors up to date" if ok else "golden vectors out of date: run "
              "python -m protocol.golden.hostgolden")
        return 0 if ok else 1
    print("wrote", write())
    return 0


if __name__ == "__main__":
    sys.exit(main())
