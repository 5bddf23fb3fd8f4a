# Fakes of the rp2 `machine` module pieces the board layer uses.
import io
import select

_POLL = 3  # MP_STREAM_POLL


class FakeStream(io.IOBase):
    """A pollable byte stream: bytes queued by the test, writes collected."""

    def __init__(self, data=b""):
        self.data = bytearray(data)
        self.written = bytearray()
        self.reads = 0

    def ioctl(self, req, arg):
        if req == _POLL:
            return select.POLLIN if (arg & select.POLLIN) and self.data else 0
        return -1  # no file descriptor: the unix port's poll then asks ioctl(POLL)

    def readinto(self, buf, n=None):
        self.reads += 1
        n = len(buf) if n is None else n
        n = min(n, len(self.data))
        buf[0:n] = self.data[0:n]
        self.data = self.data[n:]
        return n

    def write(self, b):
        self.written.extend(b)
        return len(b)

    def any(self):
        return len(self.data)


class Pin:
    OUT = 1
    IN = 0

    def __init__(self, id, mode=None):
        self.id = id
        self.v = 0

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v


class WDT:
    instances = []

    def __init__(self, timeout=0):
        self.timeout = timeout
        self.fed = 0
        WDT.instances.append(self)

    def feed(self):
        self.fed += 1


class UART(FakeStream):
    last = None

    def __init__(self, id, baudrate=0, tx=None, rx=None, rxbuf=0, timeout=None):
        FakeStream.__init__(self)
        self.id = id
        self.baudrate = baudrate
        self.rxbuf = rxbuf
        self.timeout = timeout
        UART.last = self


class FakeMachine:
    Pin = Pin
    WDT = WDT
    UART = UART
