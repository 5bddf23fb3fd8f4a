"""Board layer for the MicroPython unix port (SITL).

The serial link is the process's stdin/stdout, which the rig attaches to a
pseudo-terminal opened non-blocking (like a UART with timeout=0, so a read
returns what has arrived); it is read with the same calls USB CDC uses on a
Pico (`sys.stdin.buffer`, `kbd_intr(-1)`, `select.poll().ipoll`).  Ticks are wrapped
at 2**30 like on rp2 so wrap-around bugs show up here too.

Syscalls are a good part of a lockstep step here, so `read_into` reads
without polling first: on the non-blocking pty a read of an empty link
returns None (EAGAIN) and of a closed one raises EIO, which is what
`ipoll(0)` used to tell before the read.  (MicroPython's readinto keeps
reading until the buffer is full or the fd has nothing more, so the link
offers a frame-sized buffer: one read() per frame.)  `ipoll` is used only to
sleep in `wait_rx`.
"""
import sys
import time
import select
import errno
import micropython

_MASK = const(0x3FFFFFFF)
_HALF = const(0x20000000)
_SPIN_US = const(200)


def ticks_us():
    return time.ticks_us() & _MASK


def ticks_diff(a, b):
    return ((a - b + _HALF) & _MASK) - _HALF


class Board:
    name = "unix"

    def __init__(self):
        micropython.kbd_intr(-1)
        self._rx = sys.stdin.buffer
        self._tx = sys.stdout.buffer
        self._poll = select.poll()
        self._poll.register(self._rx, select.POLLIN)
        self._readinto = self._rx.readinto
        self._write = self._tx.write
        self.ticks_us = ticks_us
        self.ticks_diff = ticks_diff

    def read_into(self, buf):
        """Bytes available now, without blocking; -1 once the link is gone."""
        try:
            n = self._readinto(buf)
        except OSError as e:
            if e.errno == errno.EAGAIN:
                return 0  # (a port that raises instead of returning None)
            return -1  # EIO: the host side of the pty is gone
        if n is None:
            return 0  # EAGAIN: nothing has arrived
        return n if n else -1  # 0: end of file, the host side is gone

    def wait_rx(self, timeout_ms):
        """Wait until the link has data or timeout_ms passes: polling without
        sleeping for the first _SPIN_US, then asleep in poll().  A process
        asleep in the kernel takes several microseconds to wake, a bare-metal
        loop that polls (a board) does not; in lockstep the next frame is
        usually closer than that."""
        ipoll = self._poll.ipoll
        t0 = time.ticks_us()
        while time.ticks_diff(time.ticks_us(), t0) < _SPIN_US:
            for obj, ev in ipoll(0):
                return True
        for obj, ev in ipoll(timeout_ms):
            return True
        return False

    def write(self, mv):
        n = self._write(mv)
        if n is None or n < len(mv):
            self._write_slow(mv, n or 0)

    def _write_slow(self, mv, done):
        # the pty buffer is full (host not reading): retry for up to 1 s
        t0 = time.ticks_ms()
        while done < len(mv):
            n = self._tx.write(mv[done:])
            if n:
                done += n
            elif time.ticks_diff(time.ticks_ms(), t0) > 1000:
                raise OSError(11)
            else:
                time.sleep_ms(1)

    def start_watchdog(self):
        pass

    def feed_watchdog(self):
        pass

    def led(self, on):
        pass

    def keep_running(self):
        return True
