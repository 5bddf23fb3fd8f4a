"""CRC-16/CCITT-FALSE (telemetry) and CRC-32 (commands), allocation-free.

CRC-16 is table driven over a slice of a buffer so the firmware computes it
without creating objects; CRC-32 uses the interpreter's built-in binascii.
"""
try:
    from binascii import crc32 as _crc32
except ImportError:  # pragma: no cover - every supported interpreter has it
    from zlib import crc32 as _crc32


def _make_table():
    t = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t.append(c & 0xFFFF)
    return tuple(t)


_T16 = _make_table()


def crc16(buf, start, end):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of buf[start:end]."""
    t = _T16
    c = 0xFFFF
    for i in range(start, end):
        c = ((c << 8) & 0xFF00) ^ t[(c >> 8) ^ buf[i]]
    return c


def crc32(buf, start, end):
    """CRC-32 (IEEE, as zlib) of buf[start:end] (allocates a memoryview slice)."""
    return _crc32(memoryview(buf)[start:end]) & 0xFFFFFFFF


def crc32_view(mv):
    """CRC-32 of a whole buffer or a memoryview made once: no allocation on
    the unix port (on rp2 a result above 2**30 is still a heap int)."""
    return _crc32(mv) & 0xFFFFFFFF
