"""A serial-over-TCP server for tests, like ser2net or pyserial's
tcp_serial_redirect: accepts TCP connections on 127.0.0.1, one at a time, and shovels
bytes both ways between it and a serial port (e.g. the SITL pty) opened with
pyserial.  rfc2217=True speaks RFC 2217 through pyserial's own
serial.rfc2217.PortManager (Telnet escaping, baud/control-line negotiation),
so the host can use rfc2217://127.0.0.1:PORT.
"""
import socket
import threading

import serial
import serial.rfc2217


class _PtyFriendlySerial(serial.Serial):
    """A pty has no modem lines: report them idle and ignore DTR/RTS/break,
    as a USB CDC port without flow control would behave for the protocol."""

    def _update_dtr_state(self):
        pass

    def _update_rts_state(self):
        pass

    def _update_break_state(self):
        pass

    @property
    def cts(self):
        return True

    @property
    def dsr(self):
        return True

    @property
    def ri(self):
        return False

    @property
    def cd(self):
        return True


class TcpSerialBridge:
    def __init__(self, serial_path, rfc2217=False, baudrate=921600):
        self.serial_path = serial_path
        self.rfc2217 = rfc2217
        self.baudrate = baudrate
        self.port = None
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._srv = None
        self._conn = None
        self._ser = None
        self._threads = []
        self._wlock = threading.Lock()

    @property
    def url(self):
        return f"{'rfc2217' if self.rfc2217 else 'socket'}://127.0.0.1:{self.port}"

    def start(self):
        self._srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind(("127.0.0.1", 0))
        self._srv.listen(1)
        self._srv.settimeout(0.1)
        self.port = self._srv.getsockname()[1]
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    # the PortManager's "connection": a thread-safe write to the network
    def write(self, data):
        with self._wlock:
            self._conn.sendall(data)

    def _accept(self):
        # one client at a time, any number in turn (as ser2net does)
        while not self._stop.is_set():
            try:
                conn, _ = self._srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._serve(conn)

    def _serve(self, conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(0.1)
        self._conn = conn
        self._ser = _PtyFriendlySerial(self.serial_path, baudrate=self.baudrate, timeout=0.05)
        pm = serial.rfc2217.PortManager(self._ser, self) if self.rfc2217 else None
        self.connected.set()
        done = threading.Event()
        t = threading.Thread(target=self._serial_to_net, args=(pm, done), daemon=True)
        t.start()
        self._net_to_serial(pm, done)
        t.join(timeout=2)
        for obj in (conn, self._ser):
            try:
                obj.close()
            except Exception:  # noqa: BLE001
                pass

    def _net_to_serial(self, pm, done):
        while not (self._stop.is_set() or done.is_set()):
            try:
                data = self._conn.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break  # the host closed the connection
            if pm is not None:
                data = b"".join(pm.filter(data))
            if data:
                try:
                    self._ser.write(data)
                except (serial.SerialException, OSError):
                    break
        done.set()

    def _serial_to_net(self, pm, done):
        while not (self._stop.is_set() or done.is_set()):
            try:
                data = self._ser.read(self._ser.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError):
                break  # the firmware side went away
            if not data:
                continue
            if pm is not None:
                data = b"".join(pm.escape(data))
            try:
                self.write(data)
            except OSError:
                break
        done.set()
        try:
            self._conn.shutdown(socket.SHUT_RDWR)  # tell the host the far end is gone
        except OSError:
            pass

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        for obj in (self._conn, self._srv, self._ser):
            if obj is not None:
                try:
                    obj.close()
                except Exception:  # noqa: BLE001
                    pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
