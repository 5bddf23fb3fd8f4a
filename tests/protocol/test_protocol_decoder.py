"""Property tests of the frame decoders: the portable byte-fed Decoder (what the
firmware runs), the fast host path (hostfast.FastDecoder) and the bulk numpy
decoder, on random bytes, bit flips, garbage bursts and truncations.

Claims checked:
* nothing escapes: no exception on any input, in any chunking;
* nothing corrupted is delivered: every delivered frame is byte-identical to
  the frame sent with that sequence number;
* nothing is lost that did not have to be: every frame whose bytes (both
  delimiters included) arrived intact is delivered (zero collateral loss);
* every complete segment is either delivered or counted under exactly one
  drop reason, and the three decoders agree exactly (frames and counters).

Tests that damage CRC-protected frames at random are derandomized: a CRC-16
passes a damaged frame with probability 2^-16, so "never" is a statement about
the examples run, and a CI run must not depend on luck.
"""
import random
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import framing
from protocol import hostfast as hf
from protocol import messages as m

ROWS = list(m.MESSAGES)
_BITS = {"B": 8, "b": 8, "H": 16, "h": 16, "I": 32, "i": 32}
CAP = m.max_frame_size()


# --- helpers --------------------------------------------------------------------
def random_values(row, rng):
    out = []
    for _, code, _ in row[4]:
        if code.endswith("s"):
            n = int(code[:-1])
            out.append(bytes(rng.choice((0, 0, 0x41, 0xFF, rng.randrange(256))) for _ in range(n)))
            continue
        bits = _BITS[code]
        v = rng.choice((0, 1, 0xFF, rng.getrandbits(bits), rng.getrandbits(bits // 2)))
        if code.islower() and v >= 1 << (bits - 1):
            v -= 1 << bits
        out.append(v)
    return out


def make_frames(n, seed, rows=ROWS):
    """n frames (bytes, (msg_id, seq, payload)) with consecutive seq numbers."""
    rng = random.Random(seed)
    w = hf.FastWriter()
    out = []
    for _ in range(n):
        row = rng.choice(rows)
        vals = random_values(row, rng)
        seq = w.seq
        f = w.frame(row[0], vals)
        payload = struct.pack(m.struct_format(row), *vals)
        out.append((f, (row[0], seq, payload)))
    return out


def portable(data, chunks=None):
    dec = framing.Decoder()
    got = []
    bounds = chunks or [(0, len(data))]
    for a, b in bounds:
        pos = a
        while pos < b:
            pos = dec.feed(data, pos, b)
            if dec.ready >= 0:
                got.append((dec.ready, dec.seq, bytes(dec.buf[4:4 + dec.plen])))
    return got, dec


def fast(data, chunks=None):
    dec = hf.FastDecoder("payload")
    got = []
    for a, b in chunks or [(0, len(data))]:
        got += dec.feed(data[a:b])
    return got, dec


def random_chunks(n, rng, max_chunk=300):
    out = []
    p = 0
    while p < n:
        q = min(n, p + rng.randrange(1, max_chunk))
        out.append((p, q))
        p = q
    return out


def decode_everywhere(data, seed=0):
    """Decode with all three decoders (random chunkings); assert they agree."""
    rng = random.Random(seed)
    got, dec = portable(data, random_chunks(len(data), rng))
    fgot, fdec = fast(data, random_chunks(len(data), rng))
    res = hf.bulk_decode(data)
    assert fgot == got
    assert fdec.drops == dec.drops and fdec.frames == dec.frames and fdec.last_seq == dec.last_seq
    assert res.delivered() == got
    assert res.drops == dec.drops and res.frames == dec.frames and res.last_seq == dec.last_seq
    return got, dec


def assert_nothing_corrupted(got, sent):
    by_seq = {s[1]: s for s in sent}
    for g in got:
        assert g == by_seq.get(g[1]), f"corrupted frame delivered: {g}"


def complete_segments(data):
    """(complete non-empty segments after the first 0x00, tail overflowed?)."""
    first = data.find(b"\x00")
    if first < 0:
        return 0, False
    parts = data[first + 1:].split(b"\x00")
    tail = parts.pop()
    return sum(1 for p in parts if p), len(tail) > CAP + 1


def assert_accounting(data, got, dec):
    nseg, tail_over = complete_segments(data)
    counted = sum(dec.drops[:framing.DROP_SEQ_GAP])
    assert len(got) + counted == nseg + tail_over, (len(got), dec.drops, nseg, tail_over)


def flip_bits(data, ber, rng):
    """Flip each bit with probability ber; returns (bytes, flipped byte positions)."""
    nbits = len(data) * 8
    k = rng.binomial(nbits, ber)
    pos = rng.choice(nbits, size=k, replace=False) if k else np.zeros(0, np.int64)
    b = bytearray(data)
    for p in pos.tolist():
        b[p >> 3] ^= 1 << (p & 7)
    return bytes(b), sorted(set((pos >> 3).tolist()))


# --- random input -----------------------------------------------------------------
@pytest.mark.timeout(120)
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(0, 2**32 - 1))
def test_random_bytes_never_raise_and_all_decoders_agree(data, seed):
    got, dec = decode_everywhere(data, seed)
    assert_accounting(data, got, dec)


@pytest.mark.timeout(120)
@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=90), st.sampled_from([b"\x00", b"\x00\x00"]),
                          st.integers(0, 40).map(lambda i: make_frames(1, i)[0][0]),
                          st.integers(0, 40).map(lambda i: make_frames(1, i)[0][0][:-1])),
                max_size=30),
       st.integers(0, 2**32 - 1))
def test_mixtures_of_frames_and_junk_agree_and_are_accounted(pieces, seed):
    data = b"".join(pieces)
    got, dec = decode_everywhere(data, seed)
    assert_accounting(data, got, dec)


@pytest.mark.timeout(60)
@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 2**32 - 1))
def test_decoders_accept_bytes_bytearray_memoryview(data, seed):
    ref, _ = portable(data)
    for kind in (bytearray, memoryview):
        got, _ = portable(kind(data))
        assert got == ref
        assert hf.FastDecoder("payload").feed(kind(data)) == ref


# --- garbage bursts: zero collateral loss ------------------------------------------
ASCII = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\r\n\t"),
                min_size=1, max_size=80).map(lambda s: s.encode())
BURST = st.one_of(st.binary(min_size=1, max_size=64), ASCII)


@pytest.mark.timeout(180)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.lists(st.tuples(st.integers(0, 29), BURST), max_size=12),
       st.integers(0, 2**32 - 1))
def test_garbage_bursts_between_frames_lose_no_frame(seed, bursts, cseed):
    frames = make_frames(30, seed)
    before = {}
    for i, b in bursts:
        before.setdefault(i, []).append(b)
    data = b"".join(b"".join(before.get(i, [])) + f for i, (f, _) in enumerate(frames))
    got, dec = decode_everywhere(data, cseed)
    assert got == [s for _, s in frames]          # every frame, in order, intact
    assert dec.drops[framing.DROP_SEQ_GAP] == 0
    assert_accounting(data, got, dec)


@pytest.mark.timeout(120)
def test_bursts_seeded_20000_frames_zero_collateral():
    # the resync experiment of shared/reference/protocol.md: a burst before a
    # frame with probability 1/50, 1-64 random bytes or ASCII log text
    rng = random.Random(1234)
    frames = make_frames(20000, 99, rows=[m.find(m.SENSORS), m.find(m.ACTUATORS), m.find(m.STATUS)])
    texts = [b"gc: 12345 free\r\n", b"Traceback (most recent call last):\r\n",
             b"MPY: soft reboot\r\n", b">>> ", b"\x03\x04raw REPL; CTRL-B to exit\r\n>"]
    parts = []
    nbursts = 0
    for f, _ in frames:
        if rng.random() < 1 / 50:
            nbursts += 1
            if rng.random() < 0.5:
                parts.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 65))))
            else:
                parts.append(rng.choice(texts))
        parts.append(f)
    data = b"".join(parts)
    got, dec = decode_everywhere(data, 5)
    assert nbursts > 300
    assert got == [s for _, s in frames]
    assert dec.drops[framing.DROP_SEQ_GAP] == 0
    assert sum(dec.drops) > 0  # the bursts were seen and counted, not silently merged


# --- bit errors: nothing corrupted delivered, nothing intact lost ------------------
@pytest.mark.timeout(300)
@pytest.mark.parametrize("ber", [1e-5, 1e-4, 1e-3])
def test_bit_errors_seeded(ber):
    frames = make_frames(10000, int(ber * 1e6))
    spans = []
    p = 0
    for f, _ in frames:
        spans.append((p, p + len(f)))
        p += len(f)
    data, damaged_bytes = flip_bits(b"".join(f for f, _ in frames), ber,
                                    np.random.default_rng(int(1 / ber)))
    damaged = set()
    j = 0
    for i, (a, b) in enumerate(spans):
        while j < len(damaged_bytes) and damaged_bytes[j] < a:
            j += 1
        if j < len(damaged_bytes) and damaged_bytes[j] < b:
            damaged.add(i)
    got, dec = decode_everywhere(data, 7)
    sent = [s for _, s in frames]
    assert_nothing_corrupted(got, sent)
    delivered = {g[1] for g in got}
    lost_intact = [i for i in range(len(frames)) if i not in damaged and sent[i][1] not in delivered]
    assert lost_intact == []
    if ber >= 1e-4:
        assert damaged, "the noise model flipped nothing"
    # everything damaged and not delivered shows up in the counters
    assert len(got) + len(damaged - {i for i in damaged if sent[i][1] in delivered}) == len(frames)
    assert_accounting(data, got, dec)


@pytest.mark.timeout(180)
@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(0, 10**6), st.lists(st.integers(0, 10**9), min_size=1, max_size=6),
       st.integers(0, 2**32 - 1))
def test_bit_flips_anywhere(seed, flips, cseed):
    frames = make_frames(12, seed)
    clean = b"".join(f for f, _ in frames)
    b = bytearray(clean)
    hit = set()
    for x in flips:
        bit = x % (len(b) * 8)
        b[bit >> 3] ^= 1 << (bit & 7)
        hit.add(bit >> 3)
    data = bytes(b)
    got, dec = decode_everywhere(data, cseed)
    sent = [s for _, s in frames]
    assert_nothing_corrupted(got, sent)
    p = 0
    delivered = {g[1] for g in got}
    for f, s in frames:
        if not any(p <= h < p + len(f) for h in hit):
            assert s[1] in delivered, "an intact frame was lost"
        p += len(f)
    assert_accounting(data, got, dec)


# --- truncations ------------------------------------------------------------------
@pytest.mark.timeout(120)
@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6), st.lists(st.tuples(st.integers(0, 19), st.integers(1, 80)), max_size=6),
       st.integers(0, 2**32 - 1))
def test_truncated_frames_are_dropped_and_neighbours_kept(seed, cuts, cseed):
    frames = make_frames(20, seed)
    cut = dict(cuts)
    parts = []
    for i, (f, _) in enumerate(frames):
        # keep at most all but the last content byte (cutting only the trailing
        # 0x00 leaves an intact frame: the next frame's leading 0x00 ends it)
        parts.append(f[:min(cut[i], len(f) - 2)] if i in cut else f)
    data = b"".join(parts)
    got, dec = decode_everywhere(data, cseed)
    assert got == [s for i, (_, s) in enumerate(frames) if i not in cut]


@pytest.mark.timeout(60)
@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 2000))
def test_stream_cut_anywhere_delivers_every_finished_frame(seed, at):
    frames = make_frames(30, seed)
    data = b"".join(f for f, _ in frames)
    at = min(at, len(data))
    got, dec = decode_everywhere(data[:at], seed)
    done = []
    p = 0
    for f, s in frames:
        p += len(f)
        if p <= at:
            done.append(s)
    assert got == done


@pytest.mark.timeout(60)
def test_resync_after_every_kind_of_junk():
    good = make_frames(2, 3)
    for junk in (b"\x41" * 500, b"\x00" * 50, bytes(range(256)), b"\xff" * 254,
                 b"\x00\x09abc", b"\x00\x01\x01\x01\x01\x01\x01\x01\x01\x00"):
        data = good[0][0] + junk + good[1][0]
        got, _ = decode_everywhere(data)
        assert got == [good[0][1], good[1][1]], junk[:16]


@pytest.mark.timeout(60)
def test_hostfast_reader_is_a_frame_reader():
    from protocol.hostcodec import FrameReader
    frames = make_frames(200, 11)
    data = b"".join(f for f, _ in frames) + b"\x00garbage\x00"
    a, b = FrameReader(), hf.FastReader()
    out_a, out_b = [], []
    for i in range(0, len(data), 33):
        out_a += a.feed(data[i:i + 33])
        out_b += b.feed(data[i:i + 33])
    assert out_a == out_b and a.decoder.drops == b.decoder.drops
