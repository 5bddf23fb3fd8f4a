"""CRC-16/CCITT-FALSE (telemetry) and CRC-32 (commands), allocation-free.

Both are table driven over a slice of a buffer so the firmware computes them
without creating objects.  CRC-32 (IEEE, as zlib.crc32) is kept as two 16-bit
halves and written out as bytes: as one Python int it would be above 2**30
for most frames, a heap-allocated bigint on rp2 (31-bit small ints), which is
what the interpreter's binascii.crc32 returns there.

On MicroPython `crc16` and `crc32_into` are compiled by the viper emitter
(machine code, bytes read through a raw pointer): over 10x faster than
bytecode (a 70-byte frame in ~0.7 us instead of ~9 us on the unix port).
CPython has no code emitters: there the `micropython` stand-in below leaves
the function as it is and the pointer casts return their argument, so the one
function body runs unchanged on both interpreters.  (MicroPython's compiler
only recognises the literal `@micropython.viper` decorator, so the name must
stay spelled that way.)
"""
import sys
from array import array

if sys.implementation.name == "micropython":
    import micropython
else:
    class micropython:  # noqa: N801 - stands in for the MicroPython module on CPython
        """CPython: the emitter decorators leave the function as plain Python."""

        @staticmethod
        def native(f):
            return f

        viper = native

    def ptr8(buf):
        """CPython: viper's pointer casts are plain indexing of the buffer."""
        return buf

    ptr16 = ptr8


def _make_table():
    t = array("H")
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t.append(c & 0xFFFF)
    return t


_T16 = _make_table()


def _make_table32():
    """The CRC-32 table (reflected, poly 0xEDB88320) as low and high 16-bit halves."""
    lo = array("H")
    hi = array("H")
    for i in range(256):
        cl = i
        ch = 0
        for _ in range(8):
            odd = cl & 1
            cl = (cl >> 1) | ((ch & 1) << 15)  # the 32-bit register shifted right by one
            ch >>= 1
            if odd:
                cl ^= 0x8320
                ch ^= 0xEDB8
        lo.append(cl)
        hi.append(ch)
    return lo, hi


_T32L, _T32H = _make_table32()


@micropython.viper
def crc16(buf, start: int, end: int) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of buf[start:end]."""
    if start < 0 or end > int(len(buf)):  # the pointer below is unchecked
        raise IndexError("crc16: range outside the buffer")
    t = ptr16(_T16)
    p = ptr8(buf)
    c = 0xFFFF
    for i in range(start, end):
        c = ((c << 8) & 0xFF00) ^ t[(c >> 8) ^ p[i]]
    return c


@micropython.viper
def crc32_into(buf, start: int, end: int, dst, o: int) -> int:
    """CRC-32 (IEEE, as zlib.crc32) of buf[start:end], written little-endian
    to dst[o:o + 4]; returns o + 4."""
    if start < 0 or end > int(len(buf)) or o < 0 or o + 4 > int(len(dst)):
        raise IndexError("crc32_into: range outside the buffers")  # the pointers are unchecked
    tl = ptr16(_T32L)
    th = ptr16(_T32H)
    p = ptr8(buf)
    d = ptr8(dst)
    cl = 0xFFFF  # the register's low and high halves, each < 2**16 on every port
    ch = 0xFFFF
    for i in range(start, end):
        k = (cl ^ int(p[i])) & 0xFF
        cl = ((cl >> 8) | ((ch & 0xFF) << 8)) ^ int(tl[k])
        ch = (ch >> 8) ^ int(th[k])
    cl ^= 0xFFFF
    ch ^= 0xFFFF
    d[o] = cl & 0xFF
    d[o + 1] = cl >> 8
    d[o + 2] = ch & 0xFF
    d[o + 3] = ch >> 8
    return o + 4
