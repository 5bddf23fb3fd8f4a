"""`construct` definitions of every message and of the frame, derived from the table.

Host only (never deployed).  This is the declarative, self-checking view of the
wire format used for validation, documentation and tooling; it shares nothing
with the portable codec (`protocol.framing`) except the message table, so the
tests can hold the two against each other:

* `PAYLOADS[msg_id]`   payload Struct, one construct field per table field
* `FRAME`              header + payload + CRC (CRC-16/CCITT-FALSE or CRC-32
                       by message id, checked on parse, computed on build)
* `WIRE`               the bytes on the wire: 0x00 | COBS(FRAME) | 0x00
* `build_frame` / `parse_frame`  convenience wrappers (dicts in, dicts out)
* `COMPILED_PAYLOADS`, `COMPILED_FRAME`  construct's compiled variants (faster,
                       same results; the frame's RawCopy/Checksum run as linked
                       instances inside the compiled code)

Field types: table struct codes B b H h I i map to Int8ul Int8sl Int16ul
Int16sl Int32ul Int32sl, `Ns` to Bytes(N) (raw bytes, exactly as `struct`).
"""
import binascii
import zlib

from cobs import cobs as _cobs
from construct import (Bytes, Checksum, Const, Error, Int8sl, Int8ul, Int16sl, Int16ul,
                       Int32sl, Int32ul, NullTerminated, RawCopy, Struct, Switch, Terminated,
                       Tunnel, this)

from protocol import messages as m

TYPES = {"B": Int8ul, "b": Int8sl, "H": Int16ul, "h": Int16sl, "I": Int32ul, "i": Int32sl}
TYPE_NAMES = {"B": "Int8ul", "b": "Int8sl", "H": "Int16ul", "h": "Int16sl", "I": "Int32ul",
              "i": "Int32sl"}


def field_type(code):
    """construct type for a table struct code."""
    if code.endswith("s"):
        return Bytes(int(code[:-1]))
    return TYPES[code]


def field_type_name(code):
    if code.endswith("s"):
        return "Bytes(%d)" % int(code[:-1])
    return TYPE_NAMES[code]


def payload_struct(row):
    return Struct(*[f[0] / field_type(f[1]) for f in row[4]])


PAYLOADS = {row[0]: payload_struct(row) for row in m.MESSAGES}
NAMES = {row[0]: row[1] for row in m.MESSAGES}
PLEN = {row[0]: m.payload_size(row) for row in m.MESSAGES}
CRC_WIDTH = {row[0]: row[3] for row in m.MESSAGES}

HEADER = Struct("msg_id" / Int8ul, "seq" / Int16ul, "length" / Int8ul)


def crc16_ccitt_false(data):
    return binascii.crc_hqx(data, 0xFFFF)


def crc32_ieee(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def _crc_field(width):
    if width == 2:
        return Checksum(Int16ul, crc16_ccitt_false, this.body.data)
    return Checksum(Int32ul, crc32_ieee, this.body.data)


FRAME = Struct(
    "body" / RawCopy(Struct(
        "msg_id" / Int8ul,
        "seq" / Int16ul,
        # the length byte must be the table's payload size (Const: checked, built)
        "length" / Switch(this.msg_id, {mid: Const(n, Int8ul) for mid, n in PLEN.items()},
                          default=Error),
        "payload" / Switch(this.msg_id, PAYLOADS, default=Error),
    )),
    "crc" / Switch(this.body.value.msg_id, {mid: _crc_field(w) for mid, w in CRC_WIDTH.items()},
                   default=Error),
    Terminated,
)


class Cobs(Tunnel):
    """COBS (Cheshire & Baker) over the whole substream, via the `cobs` package."""

    def _decode(self, data, context, path):
        return _cobs.decode(data)

    def _encode(self, data, context, path):
        return _cobs.encode(data)


WIRE = Struct(
    Const(b"\x00"),
    "frame" / NullTerminated(Cobs(FRAME), term=b"\x00", include=False, consume=True, require=True),
)

COMPILED_PAYLOADS = {mid: s.compile() for mid, s in PAYLOADS.items()}
COMPILED_FRAME = FRAME.compile()


def _msg_id(name_or_id):
    if isinstance(name_or_id, str):
        for row in m.MESSAGES:
            if row[1] == name_or_id:
                return row[0]
        raise KeyError(name_or_id)
    return name_or_id


def frame_obj(name_or_id, seq, values):
    """The object FRAME builds from: a wire-unit dict of field values."""
    mid = _msg_id(name_or_id)
    return {"body": {"value": {"msg_id": mid, "seq": seq, "payload": values}}}


def build_frame(name_or_id, seq, values, compiled=False):
    """Header + payload + CRC (unstuffed) of one message."""
    return (COMPILED_FRAME if compiled else FRAME).build(frame_obj(name_or_id, seq, values))


def build_wire(name_or_id, seq, values):
    """The framed bytes on the wire: 0x00 | COBS(header + payload + CRC) | 0x00."""
    return WIRE.build({"frame": frame_obj(name_or_id, seq, values)})


def parse_frame(raw, compiled=False):
    """(msg_id, seq, values dict) of an unstuffed frame; raises on any damage."""
    c = (COMPILED_FRAME if compiled else FRAME).parse(raw)
    v = c.body.value
    return v.msg_id, v.seq, _plain(v.payload)


def parse_wire(wire):
    c = WIRE.parse(wire).frame.body.value
    return c.msg_id, c.seq, _plain(c.payload)


def _plain(container):
    return {k: v for k, v in container.items() if not k.startswith("_")}
