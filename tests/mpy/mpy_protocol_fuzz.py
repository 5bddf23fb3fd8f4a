# Fuzz loop on the MicroPython VM: the portable Decoder the firmware runs gets
# random bytes, bit errors at BER 1e-5..1e-3, random and ASCII garbage bursts
# between frames, and truncated frames.  Checked on every run:
#   - no exception escapes the decoder,
#   - no corrupted frame is delivered (each delivered frame equals, byte for
#     byte, the frame sent with that sequence number),
#   - every frame that arrived intact is delivered (in burst and truncation
#     runs: zero collateral loss, all undamaged frames out),
#   - every complete segment is delivered or counted under one drop reason.
# The PRNG is a seeded xorshift32 written here (MicroPython's `random` differs
# between ports); the stream is generated and decoded frame by frame so the
# run fits a Pico-sized heap.
import math
import struct

from protocol import messages as m
from protocol.framing import Decoder, Encoder, DROP_SEQ_GAP

CAP = m.max_frame_size()


class Rng:
    def __init__(self, seed):
        self.s = (seed & 0xFFFFFFFF) or 1

    def next(self):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def below(self, n):
        return self.next() % n

    def uniform(self):  # in (0, 1)
        return (self.next() + 1) / 4294967297.0

    def fill(self, buf, n):
        for i in range(n):
            buf[i] = self.next() & 0xFF


_BITS = {"B": 8, "b": 8, "H": 16, "h": 16, "I": 32, "i": 32}


def _rand_values(row, rng):
    out = []
    for f in row[4]:
        code = f[1]
        if code[-1] == "s":
            n = int(code[:-1])
            k = rng.below(n + 1)
            out.append(bytes((rng.next() & 0xFF) | 1 for _ in range(k)))
            continue
        bits = _BITS[code]
        pick = rng.below(4)
        if pick == 0:
            v = 0
        elif pick == 1:
            v = rng.below(256)
        else:
            v = rng.next() & ((1 << bits) - 1)
        if code in "bhi" and v >= (1 << (bits - 1)):
            v -= 1 << bits
        out.append(v)
    return out


ASCII = (b"gc: 12345 free\r\n", b"Traceback (most recent call last):\r\n",
         b"MPY: soft reboot\r\n", b">>> ", b"OSError: [Errno 5] EIO\r\n")


class Harness:
    """Sends frames through a noisy channel into one Decoder and checks it."""

    def __init__(self, seed, ber=0.0):
        self.rng = Rng(seed)
        self.enc = Encoder()
        self.dec = Decoder()
        self.ber = ber
        self.log1mber = math.log(1.0 - ber) if ber > 0 else 0.0
        self.next_flip = self._gap() if ber > 0 else -1  # bytes*8 until the next bit error
        self.recent = []  # (seq, mid, payload) of the last few frames sent
        self.delivered = 0
        self.intact = 0
        self.intact_lost = 0
        self.corrupted = 0
        self.sent = 0
        self.segments = 0
        self.junk = bytearray(80)
        self._last_seg = False  # inside a non-empty segment?
        self._synced = False

    def _gap(self):
        return int(math.log(self.rng.uniform()) / self.log1mber)

    def _noise(self, buf, n):
        """Apply bit errors to buf[0:n] in place; True if any byte changed."""
        if self.ber <= 0:
            return False
        hit = False
        nbits = n * 8
        pos = self.next_flip
        while pos < nbits:
            buf[pos >> 3] ^= 1 << (pos & 7)
            hit = True
            pos += 1 + self._gap()
        self.next_flip = pos - nbits
        return hit

    def _count_segments(self, data, n):
        # complete non-empty segments after the first delimiter (for accounting)
        for i in range(n):
            if data[i] == 0:
                if self._synced and self._last_seg:
                    self.segments += 1
                self._synced = True
                self._last_seg = False
            else:
                self._last_seg = True

    def feed(self, data, n):
        self._count_segments(data, n)
        dec = self.dec
        pos = 0
        while pos < n:
            pos = dec.feed(data, pos, n)
            if dec.ready >= 0:
                self.delivered += 1
                got = (dec.ready, dec.seq, bytes(dec.buf[4:4 + dec.plen]))
                if got not in self.recent:
                    self.corrupted += 1

    def send(self, burst=0, truncate=False):
        rng = self.rng
        row = m.MESSAGES[rng.below(len(m.MESSAGES))]
        mid = row[0]
        struct.pack_into(m.struct_format(row), self.enc.raw, 4, *_rand_values(row, rng))
        seq = self.enc.seq
        frame = bytearray(self.enc.finish(mid))
        payload = bytes(self.enc.raw[4:4 + m.payload_size(row)])
        self.recent.append((mid, seq, payload))
        if len(self.recent) > 4:
            self.recent.pop(0)
        self.sent += 1
        if burst:
            j = self.junk
            if burst == 1:
                k = 1 + rng.below(64)
                rng.fill(j, k)
            else:
                t = ASCII[rng.below(len(ASCII))]
                k = len(t)
                j[0:k] = t
            self._noise(j, k)
            self.feed(j, k)
        n = len(frame)
        if truncate:
            n = 1 + rng.below(n - 2)  # never the whole COBS content
        damaged = self._noise(frame, n) or truncate
        before = self.delivered
        self.feed(frame, n)
        if not damaged:
            self.intact += 1
            if self.delivered == before or self.recent[-1] != (self.dec.ready, self.dec.seq,
                                                               bytes(self.dec.buf[4:4 + self.dec.plen])):
                self.intact_lost += 1

    def check(self, what):
        d = self.dec.drops
        counted = d[0] + d[1] + d[2] + d[3] + d[4]
        assert self.corrupted == 0, "%s: %d corrupted frames delivered" % (what, self.corrupted)
        assert self.intact_lost == 0, "%s: %d intact frames lost" % (what, self.intact_lost)
        # a pending overflowed tail is counted before its segment ends
        tail_over = 1 if (self.dec._sync is False and self._last_seg) else 0
        assert self.delivered + counted in (self.segments, self.segments + tail_over), \
            "%s: %d delivered + %d drops != %d segments" % (what, self.delivered, counted, self.segments)
        return "%s: sent %d intact %d delivered %d drops %s" % (what, self.sent, self.intact,
                                                              self.delivered, d)


def test_random_bytes_never_raise():
    rng = Rng(0xBEEF)
    dec = Decoder()
    buf = bytearray(256)
    for r in range(400):
        n = 1 + rng.below(256)
        rng.fill(buf, n)
        if r % 3 == 0:  # sparse zeros: long segments, overflow paths
            for i in range(n):
                if buf[i] == 0:
                    buf[i] = 1
        pos = 0
        while pos < n:
            pos = dec.feed(buf, pos, n)
    # afterwards a clean frame still comes through
    enc = Encoder()
    struct.pack_into("<IHiihBB", enc.raw, 4, 1, 2, 3, 4, 5, 6, 7)
    f = bytes(enc.finish(m.ACTUATORS))
    pos = 0
    got = -1
    while pos < len(f):
        pos = dec.feed(f, pos, len(f))
        if dec.ready >= 0:
            got = dec.ready
    assert got == m.ACTUATORS, dec.drops


def _ber_run(ber, seed, frames):
    h = Harness(seed, ber)
    h.feed(b"\x00", 1)
    for _ in range(frames):
        h.send()
    r = h.check("BER %g" % ber)
    assert h.intact > 0
    if ber >= 1e-4:
        assert h.intact < h.sent, "no frame was damaged at BER %g" % ber
    return r


def test_bit_errors_ber_1e5():
    _ber_run(1e-5, 11, 10000)


def test_bit_errors_ber_1e4():
    _ber_run(1e-4, 12, 10000)


def test_bit_errors_ber_1e3():
    _ber_run(1e-3, 13, 10000)


def test_random_garbage_bursts_zero_collateral():
    h = Harness(21)
    for i in range(4000):
        h.send(burst=1 if h.rng.below(10) == 0 else 0)
    h.check("random bursts")
    assert h.delivered == h.sent == h.intact
    assert h.dec.drops[DROP_SEQ_GAP] == 0


def test_ascii_garbage_bursts_zero_collateral():
    h = Harness(22)
    for i in range(4000):
        h.send(burst=2 if h.rng.below(10) == 0 else 0)
    h.check("ascii bursts")
    assert h.delivered == h.sent == h.intact
    assert h.dec.drops[DROP_SEQ_GAP] == 0


def test_truncated_frames_dropped_neighbours_kept():
    h = Harness(23)
    cut = 0
    for i in range(4000):
        t = h.rng.below(8) == 0
        cut += t
        h.send(truncate=t)
    h.check("truncations")
    assert cut > 50
    assert h.delivered == h.sent - cut == h.intact


def test_everything_at_once():
    h = Harness(24, 3e-4)
    for i in range(4000):
        r = h.rng.below(20)
        h.send(burst=1 if r == 0 else (2 if r == 1 else 0), truncate=(r == 2))
    h.check("mixed")
