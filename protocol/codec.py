"""Firmware-side codec helpers derived from the message table.

`view(buf, msg_id)` gives named, allocation-free read access to a received
payload in place: on MicroPython a `uctypes.struct` over the decoder buffer
(integer fields read without creating objects), on CPython an equivalent
object so that firmware logic can also be tested there.  Outgoing messages are
packed with `struct.pack_into(fmt(msg_id), ...)` into `Encoder.raw`.
"""
import struct

from protocol import messages as _m
from protocol.messages import HEADER_SIZE

try:
    import uctypes
except ImportError:
    uctypes = None

_SIZES = {"B": 1, "b": 1, "H": 2, "h": 2, "I": 4, "i": 4}


def fmt(msg_id):
    return _m.struct_format(_m.find(msg_id))


def _fields(msg_id):
    """(name, offset, code) for every field of the message."""
    out = []
    off = 0
    for f in _m.find(msg_id)[4]:
        out.append((f[0], off, f[1]))
        off += int(f[1][:-1]) if f[1][-1] == "s" else _SIZES[f[1]]
    return out


if uctypes is not None:
    _UT = {"B": uctypes.UINT8, "b": uctypes.INT8, "H": uctypes.UINT16,
           "h": uctypes.INT16, "I": uctypes.UINT32, "i": uctypes.INT32}

    def view(buf, msg_id):
        layout = {}
        for name, off, code in _fields(msg_id):
            if code[-1] == "s":
                layout[name] = (uctypes.ARRAY | off, uctypes.UINT8 | int(code[:-1]))
            else:
                layout[name] = _UT[code] | off
        addr = uctypes.addressof(buf) + HEADER_SIZE  # intaudit-ok: RAM address, < 2**30 on rp2
        return uctypes.struct(addr, layout, uctypes.LITTLE_ENDIAN)
else:
    def view(buf, msg_id):
        attrs = {}
        for name, off, code in _fields(msg_id):
            s = struct.Struct("<" + code)

            def get(self, s=s, o=HEADER_SIZE + off):
                return s.unpack_from(self._buf, o)[0]
            attrs[name] = property(get)

        cls = type("View_%d" % msg_id, (), attrs)
        v = cls()
        v._buf = buf
        return v
