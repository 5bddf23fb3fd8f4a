"""Host end of the serial link: open a port, send frames, await messages.

Opens anything pyserial opens (`/dev/ttyACM0`, `COM3`, the SITL pty,
`socket://host:port`, `rfc2217://...`) and talks the framed protocol over it,
F Prime GDS style: `send`, `await_message(name, predicate, timeout_s)`, with
every received EVENT/STATUS kept for the run's record.  Signed commands carry
an HMAC tag and a monotonic counter.
"""
import os
import select
import time

import serial

try:
    from serial.serialposix import Serial as _PosixSerial
except ImportError:  # not a POSIX host
    _PosixSerial = None

from host.errors import CommandRejected, HandshakeError, LinkError, LinkTimeout
from protocol import messages as m
from protocol.auth import Signer, TAG_LEN
from protocol.framing import DROP_NAMES
from protocol.hostcodec import SPECS, spec
from protocol.hostfast import FastReader, FastWriter


_READ_MAX = 65536  # bytes per read of a local port
STEP_SPIN_S = 200e-6  # await_step polls awake this long before sleeping in poll


class Writer(FastWriter):
    """Frames host messages: `frame(name_or_id, values)` with a wire-unit dict
    or a tuple in table order (the fast path)."""

    def frame(self, name_or_id, values):
        s = spec(name_or_id)
        if isinstance(values, dict):
            values = s.tuple_from(values)
        return FastWriter.frame(self, s.msg_id, values)

    def frame_si(self, name_or_id, si_values):
        s = spec(name_or_id)
        return FastWriter.frame(self, s.msg_id, s.tuple_from_si(si_values))


class Message:
    __slots__ = ("msg_id", "seq", "fields", "t_host_ns")

    def __init__(self, msg_id, seq, fields, t_host_ns):
        self.msg_id = msg_id
        self.seq = seq
        self.fields = fields
        self.t_host_ns = t_host_ns

    @property
    def name(self):
        return SPECS[self.msg_id].name

    def __getitem__(self, k):
        return self.fields[k]

    def __repr__(self):
        return f"<{self.name} seq={self.seq} {self.fields}>"


def open_port(url, baudrate=921600):
    """Open a serial port or pyserial URL, failing with one clear line."""
    # pyserial's rfc2217 client has no write timeout (NotImplementedError)
    kw = {} if url.startswith("rfc2217://") else {"write_timeout": 2}
    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=0, **kw)
    except (serial.SerialException, ValueError, OSError, NotImplementedError) as e:
        raise LinkError(f"cannot open port {url!r}: {e}") from None


class Link:
    def __init__(self, port, key=None, on_rx=None, on_tx=None, liveness=None):
        """port: an open pyserial object.  key: the command key (bytes) or None.
        on_rx/on_tx(data, t_ns): taps for the recorder.  liveness(): raises a
        LinkError with the cause if the far end is known dead (e.g. SITL exited).
        """
        self.port = port
        self.reader = FastReader()  # same frames and drop counts as the portable Decoder
        self.writer = Writer()  # same bytes as the portable Encoder, at C speed
        self.signer = Signer(key) if key else None
        self.counter = int(time.time() * 1000) & 0x3FFFFFFF  # monotonic across runs
        self.on_rx = on_rx
        self.on_tx = on_tx
        self.liveness = liveness
        self.inbox = []
        self.events = []
        self.status = []
        self.bytes_rx = 0
        self.bytes_tx = 0
        self.frames_tx = 0
        try:
            self._fd = port.fileno()  # wait with select: setting port.timeout costs a tcsetattr
        except (AttributeError, OSError, ValueError, serial.SerialException):
            self._fd = None
        # A local POSIX port (a tty, the SITL pty) is read and written with one
        # os.read/os.write on its fd (pyserial opens it O_NONBLOCK): pyserial adds
        # a select() to every write and an ioctl + select to every read, which
        # is a good part of a lockstep step.  Only for this exact port object:
        # whatever replaces link.port later (a fault injector) goes through pyserial.
        self._poller = None
        self._fd_port = (port if self._fd is not None and _PosixSerial is not None
                         and type(port) is _PosixSerial else None)

    # --- I/O -------------------------------------------------------------
    def write(self, data):
        port = self.port
        try:
            fd = port.fd if port is self._fd_port else None  # None once closed
            if fd is not None:
                try:
                    n = os.write(fd, data)
                except BlockingIOError:
                    n = 0
                if n < len(data):  # the tty buffer is full: pyserial waits (write timeout)
                    port.write(data[n:])
            else:
                port.write(data)
        except (serial.SerialException, OSError) as e:
            self._dead(f"write failed: {e}")
        self.bytes_tx += len(data)
        self.frames_tx += 1
        if self.on_tx:
            self.on_tx(data, time.monotonic_ns())

    def send(self, name, values):
        self.write(self.writer.frame(name, values))

    def send_si(self, name, si_values):
        self.write(self.writer.frame_si(name, si_values))

    def _dead(self, why):
        if self.liveness:
            # the pty error can come a moment before the child's exit is visible:
            # give the target half a second to say how the firmware died
            for _ in range(20):
                self.liveness()  # raises with the real cause when it knows it
                time.sleep(0.025)
        raise LinkError(f"link to the board lost ({why})")

    def _poll_fd(self, fd):
        """poll() on fd, registered once (half the cost of a select() per look)."""
        if self._poller is None or self._poller[0] != fd:
            p = select.poll()
            p.register(fd, select.POLLIN)
            self._poller = (fd, p.poll)
        return self._poller[1]

    def _read_fd(self, fd, wait_s, spin_s=0.0):
        """What has arrived on the local port's fd (up to _READ_MAX bytes).

        pyserial sets VMIN = 0, so an empty tty reads b"" (or EAGAIN); only
        b"" after poll() said readable means the far end is gone."""
        try:
            if wait_s > 0:
                # a caller that waits has just found nothing: poll first (a
                # read of an empty pty costs a syscall and an exception), for
                # spin_s without sleeping (waking from a sleep costs microseconds)
                poll = self._poll_fd(fd)
                ready = False
                if spin_s > 0:
                    end = time.perf_counter() + min(spin_s, wait_s)
                    while not ready and time.perf_counter() < end:
                        ready = bool(poll(0))
                if not ready and not poll(wait_s * 1000.0):
                    return b""
            else:
                try:
                    return os.read(fd, _READ_MAX)
                except BlockingIOError:
                    return b""
            data = os.read(fd, _READ_MAX)
        except BlockingIOError:
            return b""
        except OSError as e:
            self._dead(f"read failed: {e}")
        if not data:  # as pyserial's read() says it
            self._dead("read failed: device reports readiness to read but returned no data "
                       "(device disconnected or multiple access on port?)")
        return data

    def pump(self, wait_s=0.0, spin_s=0.0):
        """Read what has arrived (waiting up to wait_s for the first byte, the
        first spin_s of it awake: local ports only)."""
        port = self.port
        fd = port.fd if port is self._fd_port else None  # None once closed
        if fd is not None:
            data = self._read_fd(fd, wait_s, spin_s)
            if not data:
                return 0
            return self._took(data)
        try:
            n = port.in_waiting
            if n == 0 and wait_s > 0:
                if self._fd is not None and getattr(port, "port", None) is not None:
                    select.select([self._fd], [], [], wait_s)
                    n = port.in_waiting
                    data = port.read(n) if n else b""
                else:
                    port.timeout = wait_s
                    data = port.read(1)
                    port.timeout = 0
                    if data:
                        n = port.in_waiting
                        data += port.read(n) if n else b""
            else:
                data = port.read(n) if n else b""
        except (serial.SerialException, OSError) as e:
            self._dead(f"read failed: {e}")
        if not data:
            return 0
        return self._took(data)

    def _took(self, data):
        t = time.monotonic_ns()
        self.bytes_rx += len(data)
        if self.on_rx:
            self.on_rx(data, t)
        for msg_id, seq, fields in self.reader.feed(data):
            msg = Message(msg_id, seq, fields, t)
            if msg_id == m.EVENT:
                self.events.append(msg)
            elif msg_id == m.STATUS:
                self.status.append(msg)
            self.inbox.append(msg)
        return len(data)

    def await_message(self, name, predicate=None, timeout_s=2.0):
        """The first message of this type (matching predicate) to arrive."""
        msg_id = spec(name).msg_id
        deadline = time.monotonic() + timeout_s
        while True:
            inbox = self.inbox
            for i, msg in enumerate(inbox):
                if msg.msg_id == msg_id and (predicate is None or predicate(msg.fields)):
                    del inbox[: i + 1]
                    return msg
            # messages of other types stay available only briefly
            if len(inbox) > 256:
                del inbox[:-64]
            left = deadline - time.monotonic()
            if left <= 0:
                if self.liveness:
                    self.liveness()
                raise LinkTimeout(f"no {name} from the board within {timeout_s:.1f} s")
            self.pump(min(left, 0.05))

    def await_step(self, name, step, timeout_s):
        """await_message(name, lambda f: f["step"] == step, timeout_s), without a
        closure per call: the lockstep's per-step wait."""
        msg_id = spec(name).msg_id
        deadline = None
        while True:
            inbox = self.inbox
            for i, msg in enumerate(inbox):
                if msg.msg_id == msg_id and msg.fields["step"] == step:
                    del inbox[: i + 1]
                    return msg
            if len(inbox) > 256:
                del inbox[:-64]
            if deadline is None:
                deadline = time.monotonic() + timeout_s
                left = timeout_s
            else:
                left = deadline - time.monotonic()
            if left <= 0:
                if self.liveness:
                    self.liveness()
                raise LinkTimeout(f"no {name} from the board within {timeout_s:.1f} s")
            self.pump(min(left, 0.05), STEP_SPIN_S)

    def drop_counts(self):
        d = self.reader.decoder.drops
        return {name: d[i] for i, name in enumerate(DROP_NAMES)}

    # --- commands ----------------------------------------------------------
    def command(self, cmd, param_id=0, value=0, timeout_s=2.0, check=True):
        """Send a COMMAND (signed when it changes vehicle state); return the ACK.

        A replay NACK carries the board's last accepted counter: the host moves
        above it and sends once more (its own counter clock may have wrapped, or
        another host commanded this board)."""
        ack = self._command(cmd, param_id, value, timeout_s)
        if (ack["status"] == m.NACK_REPLAY and cmd in m.SIGNED_COMMANDS
                and self.signer is not None and ack["value"] >= self.counter):
            self.counter = ack["value"]
            ack = self._command(cmd, param_id, value, timeout_s)
        if check and ack["status"] != m.ACK_OK:
            raise CommandRejected(f"board refused command {cmd}: {m.NACK_NAMES[ack['status']]}")
        return ack

    def _command(self, cmd, param_id, value, timeout_s):
        self.counter += 1
        body = {"cmd": cmd, "param_id": param_id, "value": value, "counter": self.counter,
                "tag": bytes(TAG_LEN)}
        if cmd in m.SIGNED_COMMANDS and self.signer is not None:
            payload = spec("COMMAND").pack(body)
            body["tag"] = self.signer.tag(bytes([m.COMMAND]) + payload[:11])
        self.send("COMMAND", body)
        counter = self.counter
        return self.await_message("ACK", lambda f: f["counter"] == counter and f["cmd"] == cmd,
                                  timeout_s)

    def recover_events(self, tries=3, timeout_s=0.25):
        """Ask the board again for every EVENT of this session that did not
        arrive (CMD_GET_EVENT), so the log is whole even over a lossy downlink;
        returns (recovered, unrecoverable).  The board numbers its events
        (ev_no) and keeps its last messages.EVENT_RING; this session's log starts
        at the first EVENT it received (the handshake runs on a clean link).
        The recovered events take their place in `events` by number."""
        if not self.events:
            return 0, 0
        first = self.events[0]["ev_no"]
        ack = self._ask_event(-1, tries, timeout_s)
        if ack is None or ack["status"] != m.ACK_OK:
            return 0, None  # the board did not say how many there are
        end = ack["value"]
        have = {e["ev_no"] for e in self.events}
        missing = [n for n in ((first + i) & 0xFFFF for i in range((end - first) & 0xFFFF))
                   if n not in have]
        recovered = 0
        for n in missing:
            for _ in range(tries):
                ack = self._ask_event(n, 1, timeout_s)
                try:
                    self.pump()
                except LinkError:
                    break
                if any(e["ev_no"] == n for e in self.events):
                    recovered += 1
                    break
                if ack is not None and ack["status"] != m.ACK_OK:
                    break  # older than the board's ring: gone
        # by number from the first, once each (a late original and its copy), up
        # to where the board was when asked (a refused request is an event too)
        span = (end - first) & 0xFFFF
        seen = set()
        log = []
        for e in sorted(self.events, key=lambda e: (e["ev_no"] - first) & 0xFFFF):
            if e["ev_no"] not in seen and (e["ev_no"] - first) & 0xFFFF < span:
                seen.add(e["ev_no"])
                log.append(e)
        self.events = log
        return recovered, len(missing) - recovered

    def _ask_event(self, n, tries, timeout_s):
        """The ACK of CMD_GET_EVENT n, or None (no answer, or the link is gone: a
        flight that ended with a dead board still gets its report)."""
        for _ in range(tries):
            try:
                return self.command(m.CMD_GET_EVENT, value=n, timeout_s=timeout_s, check=False)
            except LinkTimeout:
                continue
            except LinkError:
                return None
        return None

    def hello(self, timeout_s=5.0):
        """Ask for HELLO until it comes; check the protocol version."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.send("COMMAND", {"cmd": m.CMD_HELLO, "param_id": 0, "value": 0,
                                  "counter": 0, "tag": bytes(TAG_LEN)})
            try:
                msg = self.await_message("HELLO", None, min(0.3, max(0.01, deadline - time.monotonic())))
                break
            except LinkTimeout:
                if time.monotonic() > deadline:
                    raise HandshakeError(f"no HELLO from the board within {timeout_s:.0f} s: "
                                         "is the Hoverslam firmware running on it?") from None
        v = msg["proto_version"]
        if v != m.PROTOCOL_VERSION:
            raise HandshakeError(f"protocol version mismatch: board speaks v{v}, host v{m.PROTOCOL_VERSION}; "
                                 "flash matching firmware (hoverslam flash)")
        return msg.fields
