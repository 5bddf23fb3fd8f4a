"""Host-side codec: messages as dicts, in wire units or SI, derived from the table.

Host only (CPython): never deployed to the board.
"""
import struct

from protocol import messages as m
from protocol.framing import Decoder, Encoder


class ProtocolError(Exception):
    """A message that cannot be encoded (unknown name, missing or bad field)."""


def _si_name(name):
    for unit, (si_unit, scale) in m.SI_UNITS.items():
        suffix = "_" + unit
        if name.endswith(suffix):
            return name[: -len(suffix)] + "_" + si_unit, scale
    return name, None


class MessageSpec:
    """One row of the table with its derived struct and SI mapping."""

    def __init__(self, row):
        self.msg_id, self.name, self.direction, self.crc_bytes, fields = row
        self.fields = tuple(f[0] for f in fields)
        self.codes = tuple(f[1] for f in fields)
        self.descriptions = tuple(f[2] for f in fields)
        self.struct = struct.Struct(m.struct_format(row))
        self.size = self.struct.size
        self.si = tuple(_si_name(f) for f in self.fields)
        self.si_fields = tuple(s[0] for s in self.si)
        self._is_str = tuple(c.endswith("s") for c in self.codes)

    def unpack(self, payload, offset=0):
        vals = self.struct.unpack_from(payload, offset)
        out = {}
        for name, is_str, v in zip(self.fields, self._is_str, vals):
            out[name] = v.rstrip(b"\0").decode("ascii", "replace") if is_str else v
        return out

    def to_si(self, wire):
        out = {}
        for name, (si_name, scale) in zip(self.fields, self.si):
            v = wire[name]
            out[si_name] = v * scale if scale is not None else v
        return out

    def pack(self, values):
        args = []
        for name, code, is_str in zip(self.fields, self.codes, self._is_str):
            if name not in values:
                raise ProtocolError(f"{self.name}: missing field '{name}'")
            v = values[name]
            if is_str:
                v = v.encode("ascii") if isinstance(v, str) else bytes(v)
            args.append(v)
        try:
            return self.struct.pack(*args)
        except struct.error as e:
            raise ProtocolError(f"{self.name}: {e}") from None

    def tuple_from_si(self, si):
        """Wire values in table order straight from SI values (the fast path)."""
        out = []
        for (si_name, scale), is_str in zip(self.si, self._is_str):
            v = si[si_name]
            out.append(int(round(v / scale)) if scale is not None else v)
        return tuple(out)

    def tuple_from(self, values):
        """Wire values in table order from a wire-unit dict (strings as bytes)."""
        out = []
        for name, is_str in zip(self.fields, self._is_str):
            if name not in values:
                raise ProtocolError(f"{self.name}: missing field '{name}'")
            v = values[name]
            if is_str and isinstance(v, str):
                v = v.encode("ascii")
            out.append(v)
        return tuple(out)

    def from_si(self, si):
        wire = {}
        for name, (si_name, scale) in zip(self.fields, self.si):
            if si_name not in si:
                raise ProtocolError(f"{self.name}: missing field '{si_name}'")
            v = si[si_name]
            wire[name] = int(round(v / scale)) if scale is not None else v
        return wire


SPECS = {row[0]: MessageSpec(row) for row in m.MESSAGES}
BY_NAME = {s.name: s for s in SPECS.values()}


def spec(name_or_id):
    s = BY_NAME.get(name_or_id) if isinstance(name_or_id, str) else SPECS.get(name_or_id)
    if s is None:
        raise ProtocolError(f"unknown message {name_or_id!r}")
    return s


class FrameWriter:
    """Frames host messages (one sender sequence counter)."""

    def __init__(self):
        self._enc = Encoder()

    def frame(self, name_or_id, values):
        s = spec(name_or_id)
        payload = s.pack(values)
        self._enc.raw[4:4 + s.size] = payload
        return bytes(self._enc.finish(s.msg_id))

    def frame_si(self, name_or_id, si_values):
        s = spec(name_or_id)
        return self.frame(s.msg_id, s.from_si(si_values))


class FrameReader:
    """Turns a byte stream into (msg_id, seq, wire-dict) tuples."""

    def __init__(self):
        self.decoder = Decoder()

    def feed(self, data):
        out = []
        dec = self.decoder
        pos, end = 0, len(data)
        while pos < end:
            pos = dec.feed(data, pos, end)
            if dec.ready >= 0:
                s = SPECS[dec.ready]
                out.append((dec.ready, dec.seq, s.unpack(dec.buf, 4)))
        return out
