"""The MicroPython unix VM standing in for a Pico that mpremote can flash.

`micropython -i` on a pty gives a REPL with raw-REPL mode (Ctrl-A), which is
what mpremote speaks; its filesystem is a temp dir (its current directory), so
`fs cp x :lib/app.mpy` lands in <dir>/lib/app.mpy.  Two differences from a
board, emulated here: the unix port exits on a soft reset (so the transport
runs with `resume`), and it cannot reboot, so reset() stops the REPL VM and
starts the flashed main.py on the same pty, with the VM's board layer
(board_unix.py, not part of the flight image) on its path.  The harness holds
the pty's master end, so the device path survives the "reboot" like
/dev/ttyACM0 survives a Pico's.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import tty
from pathlib import Path

from hil_rig.flash import MpremoteTransport
from hil_rig.targets import FIRMWARE_DIR, PICO_HEAP, find_micropython


class VmBoard:
    def __init__(self, heap=PICO_HEAP):
        self.heap = heap
        self.dir = None
        self.port = None
        self.proc = None
        self.mode = None
        self._master = self._slave = None

    def start(self):
        self.dir = Path(tempfile.mkdtemp(prefix="hoverslam-vmboard-"))
        self.fs = self.dir / "fs"          # what the board sees as its filesystem
        self.fs.mkdir()
        self.unix_dir = self.dir / "unix"  # the VM's board layer, outside the image
        self.unix_dir.mkdir()
        shutil.copyfile(FIRMWARE_DIR / "board_unix.py", self.unix_dir / "board_unix.py")
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        self.port = os.ttyname(self._slave)
        self._spawn(["-i"], blocking=True)
        self.mode = "repl"
        self._wait_prompt()
        return self

    def _spawn(self, args, blocking, env=None):
        os.set_blocking(self._master, blocking)
        self._stderr = open(self.dir / "stderr.txt", "ab")
        self.proc = subprocess.Popen([find_micropython(), "-X", f"heapsize={self.heap}"] + args,
                                     stdin=self._master, stdout=self._master, stderr=self._stderr,
                                     cwd=self.fs, env=env, start_new_session=True, close_fds=True)

    def _wait_prompt(self, timeout_s=10.0):
        # drain the banner through the slave end so mpremote starts on a quiet line
        fd = os.open(self.port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            deadline = time.monotonic() + timeout_s
            seen = b""
            while time.monotonic() < deadline and not seen.endswith(b">>> "):
                try:
                    seen += os.read(fd, 4096)
                except BlockingIOError:
                    time.sleep(0.02)
        finally:
            os.close(fd)

    def _kill(self):
        p = self.proc
        if p is not None and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=5)
        self.proc = None
        if getattr(self, "_stderr", None):
            self._stderr.close()
            self._stderr = None

    def reboot_into_firmware(self):
        """What machine.reset() + autostart do on a Pico: run /main.py."""
        self._kill()
        env = dict(os.environ, MICROPYPATH=f"lib:{self.unix_dir}")
        self._spawn(["main.py"], blocking=False, env=env)
        self.mode = "firmware"

    def stderr_text(self):
        try:
            return (self.dir / "stderr.txt").read_text(errors="replace")
        except OSError:
            return ""

    def transport(self):
        return VmTransport(self)

    def stop(self):
        self._kill()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class VmTransport(MpremoteTransport):
    """The real MpremoteTransport (real mpremote subprocesses) against the VM;
    only reset() is the VM's emulated reboot."""

    def __init__(self, vm):
        super().__init__(vm.port, soft_reset=False, timeout_s=60.0)
        self.vm = vm

    def reset(self):
        self.vm.reboot_into_firmware()
