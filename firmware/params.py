"""Flight parameters: values of the typed table in protocol.parameters.

Every value is an int in the unit its name ends with, so the control maths
stays in small integers.  The host sets them over the link (signed SET_PARAM)
from the vehicle file before arming; they persist in `params.dat` on the
board's filesystem and their hash goes out in HELLO.
"""
import hashlib
import struct
from protocol.parameters import TABLE, index  # noqa: F401 - re-exported

_FILE = "params.dat"


class Params:
    def __init__(self):
        self.values = [row[1] for row in TABLE]

    def get(self, i):
        return self.values[i]

    def set(self, i, v):
        """True if accepted; out-of-range values and unknown ids are refused."""
        if i < 0 or i >= len(TABLE):
            return False
        row = TABLE[i]
        if v < row[2] or v > row[3]:
            return False
        self.values[i] = v
        return True

    def hash32(self):
        h = hashlib.sha256()
        for i, row in enumerate(TABLE):
            h.update(row[0].encode())
            h.update(struct.pack("<i", self.values[i]))
        d = h.digest()
        return d[0] | (d[1] << 8) | (d[2] << 16) | ((d[3] & 0x3F) << 24)

    def save(self, path=_FILE):
        try:
            with open(path, "wb") as f:
                for v in self.values:
                    f.write(struct.pack("<i", v))
            return True
        except OSError:
            return False

    def load(self, path=_FILE):
        """Load persisted values; a missing or short file keeps the defaults."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return False
        if len(data) != 4 * len(TABLE):
            return False
        for i in range(len(TABLE)):
            self.set(i, struct.unpack_from("<i", data, 4 * i)[0])
        return True
