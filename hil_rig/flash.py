"""`hoverslam flash`: put the flight image on a Pico with mpremote and prove it runs.

    1. ask the board who it is (sys.platform, chip, unique id) over its REPL
    2. pick the command key: --key FILE, else the one saved for this board,
       else a new os.urandom(32); save it on the host, 0600, under
       ~/.config/hoverslam/keys/<board id>.key (never in the repository)
    3. build the image (hil_rig.build: main.py, lib/*.mpy, lib/protocol/*.mpy)
       and copy it with `hoverslam.key` (and `uart.cfg` for --uart); remove
       stale modules from /lib, which would change the firmware hash or shadow
       a module
    4. read back the SHA-256 of every deployed file from the board and compare
    5. reset the board, handshake over the port (HELLO) and check the firmware
       hash the board computed at boot against the built image's

The board is reached through a small transport interface (`Transport`);
`MpremoteTransport` runs `mpremote connect PORT ...` subprocesses.  mpremote
needs the REPL: the running firmware disables Ctrl-C on USB, so press and
hold BOOTSEL just after plugging the board in (main.py then skips the firmware,
firmware/board_rp2.bootsel_held; held at power-up, the ROM bootloader starts).
Parameters are not flashed: they are set over the link before every flight.
"""
import ast
import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from host.errors import HandshakeError, HoverslamError, LinkError
from protocol.treehash import tree_hash32

from hil_rig.build import ARCHS, build
from hil_rig.targets import (find_tool, keys_dir, port_key_name, read_key_file, saved_key_paths,
                             usb_serial_number)

KEY_FILE = "hoverslam.key"      # firmware/link.py _KEY_FILE
COUNTER_FILE = "counter.dat"    # firmware/link.py _CTR_FILE
UART_FILE = "uart.cfg"          # firmware/board_rp2.py _uart_baud
IMAGE_DIRS = ("lib", "lib/protocol")
HELLO_TIMEOUT_S = 15.0          # reset + USB re-enumeration + boot + tree hash
CHIP_NAMES = {"rp2040": "RP2040", "rp2350": "RP2350"}


class FlashError(HoverslamError):
    """Flashing failed; str(e) is the one line shown to the user."""


class MpremoteMissing(FlashError):
    pass


class PortError(FlashError):
    """The port is missing, busy, or has no REPL on it."""


class CopyError(FlashError):
    pass


class HashMismatch(FlashError):
    pass


class NoHello(FlashError):
    pass


BOOTSEL_HINT = ("re-plug the board and press BOOTSEL while the LED blinks (the first second), so "
                "main.py skips the firmware (held already at power-up it starts the ROM "
                "bootloader), then retry")


def _port_is_device_path(port):
    return "://" not in port and port.startswith("/")


# --- transport ---------------------------------------------------------------

class Transport:
    """What flash needs from a board.  Remote paths are relative to the
    board's current directory ('/' after a reset): 'main.py', 'lib/app.mpy'."""

    def mkdir(self, remote):
        """Create a directory; no error if it exists."""
        raise NotImplementedError

    def put(self, local, remote):
        """Copy a local file to the board."""
        raise NotImplementedError

    def sha256(self, remote):
        """Hex SHA-256 of a file on the board, or None if it does not exist."""
        raise NotImplementedError

    def exec(self, code):
        """Run code on the board; its printed output."""
        raise NotImplementedError

    def reset(self):
        """Hard-reset the board (it reboots into main.py)."""
        raise NotImplementedError

    # Derived operations: a transport may do them in fewer round trips.
    def put_many(self, pairs):
        for local, remote in pairs:
            self.put(local, remote)

    def sha256_many(self, remotes):
        return {r: self.sha256(r) for r in remotes}

    def listdir(self, remote):
        """Names in a directory on the board ([] if it does not exist)."""
        out = self.exec("import os\ntry:\n print(repr(os.listdir(%r)))\nexcept OSError:\n print('[]')\n"
                        % remote)
        return _last_literal(out, "listing " + remote)

    def remove(self, remote):
        """Remove a file on the board; no error if it does not exist."""
        self.exec("import os\ntry:\n os.remove(%r)\nexcept OSError:\n pass\n" % remote)

    def remove_many(self, remotes):
        for r in remotes:
            self.remove(r)

    def board_info(self):
        """(sys.platform, sys.implementation._machine, unique id in hex or '')."""
        out = self.exec(
            "import sys\n"
            "try:\n import machine, binascii\n u = binascii.hexlify(machine.unique_id()).decode()\n"
            "except Exception:\n u = ''\n"
            "print(repr((sys.platform, getattr(sys.implementation, '_machine', ''), u)))\n")
        return tuple(_last_literal(out, "asking the board who it is"))


def _last_literal(out, what):
    lines = [ln.strip() for ln in out.strip().splitlines() if ln.strip()]
    try:
        return ast.literal_eval(lines[-1])
    except (IndexError, ValueError, SyntaxError):
        raise FlashError(f"{what}: unexpected answer from the board: {out.strip()[-200:]!r}") from None


_HASH_CODE = """import hashlib, binascii
_b = bytearray(512)
def _h(p):
    try:
        f = open(p, 'rb')
    except OSError:
        return '-'
    d = hashlib.sha256()
    with f:
        while True:
            n = f.readinto(_b)
            if not n:
                break
            d.update(memoryview(_b)[:n])
    return binascii.hexlify(d.digest()).decode()
for _p in %r:
    print(_p, _h(_p))
"""


def find_mpremote():
    """The mpremote command: next to this interpreter (the venv), on PATH, or `-m mpremote`."""
    found = find_tool("mpremote")
    if found:
        return [found]
    if importlib.util.find_spec("mpremote") is not None:
        return [sys.executable, "-m", "mpremote"]
    raise MpremoteMissing("mpremote was not found: run `make setup` or `pip install mpremote`")


class MpremoteTransport(Transport):
    """Runs `mpremote connect PORT ...` per operation (several chained with `+`).

    soft_reset=False prefixes `resume` so mpremote does not soft-reset before
    the first action (the MicroPython unix port exits on a soft reset, which
    is how the tests drive this transport against the VM)."""

    BATCH = 24  # files per mpremote process

    def __init__(self, port, mpremote=None, soft_reset=True, timeout_s=60.0):
        self.port = port
        self.cmd = list(mpremote) if mpremote else find_mpremote()
        self.soft_reset = soft_reset
        self.timeout_s = timeout_s

    def command(self, args):
        """The full mpremote command line for these actions."""
        return self.cmd + ["connect", self.port] + ([] if self.soft_reset else ["resume"]) + list(args)

    def _run(self, args, what):
        argv = self.command(args)
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout_s,
                               stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise MpremoteMissing(f"mpremote was not found ({argv[0]}): run `make setup` or "
                                  "`pip install mpremote`") from None
        except subprocess.TimeoutExpired:
            # mpremote waits for a REPL prompt; on some lines (ptys, a chatty
            # program) it never gives up by itself
            raise PortError(f"{what}: mpremote got no answer within {self.timeout_s:.0f} s on "
                            f"{self.port}: if the Hoverslam firmware is running, {BOOTSEL_HINT}") from None
        if p.returncode != 0:
            raise self._error(p.stdout + "\n" + p.stderr, what)
        return p.stdout

    def _error(self, out, what):
        low = out.lower()
        if "no module named mpremote" in low:
            return MpremoteMissing("mpremote is not installed: run `make setup` or `pip install mpremote`")
        if "failed to access" in low or "no device found" in low:
            if _port_is_device_path(self.port) and not os.path.exists(self.port):
                return PortError(f"port {self.port} not found: is the board plugged in?")
            return PortError(f"cannot open {self.port}: another program has it open (a serial "
                             "monitor, Thonny, hoverslam fly?) or you lack permission (dialout group)")
        if "could not enter raw repl" in low:
            return PortError(f"no MicroPython REPL on {self.port}: the Hoverslam firmware is probably "
                             f"running and ignores Ctrl-C; {BOOTSEL_HINT}")
        lines = [ln.strip() for ln in out.strip().splitlines() if ln.strip()]
        last = lines[-1] if lines else "no output"
        if last.startswith("mpremote: "):
            last = last[len("mpremote: "):]
        return CopyError(f"{what} failed on {self.port}: {last}")

    def mkdir(self, remote):
        try:
            self._run(["fs", "mkdir", ":" + remote], f"creating {remote}")
        except CopyError as e:
            if "exists" not in str(e).lower():
                raise

    def put(self, local, remote):
        self.put_many([(local, remote)])

    def put_many(self, pairs):
        pairs = list(pairs)
        for i in range(0, len(pairs), self.BATCH):
            args = []
            for local, remote in pairs[i:i + self.BATCH]:
                if args:
                    args.append("+")
                args += ["fs", "cp", str(local), ":" + remote]
            what = f"copying {pairs[i][1]}" + (f" and {len(args) // 5} more" if len(args) > 4 else "")
            self._run(args, what)

    def sha256(self, remote):
        return self.sha256_many([remote])[remote]

    def sha256_many(self, remotes):
        remotes = list(remotes)
        out = self.exec(_HASH_CODE % (remotes,))
        got = {}
        for line in out.splitlines():
            path, _, digest = line.strip().rpartition(" ")
            if path in remotes:
                got[path] = None if digest == "-" else digest
        missing = [r for r in remotes if r not in got]
        if missing:
            raise FlashError(f"reading back hashes: no answer for {missing[0]}: {out.strip()[-200:]!r}")
        return got

    def remove_many(self, remotes):
        if remotes:
            self.exec("import os\nfor p in %r:\n try:\n  os.remove(p)\n except OSError:\n  pass\n"
                      % (list(remotes),))

    def exec(self, code):
        return self._run(["exec", code], "running code on the board")

    def reset(self):
        # mpremote's own `reset` shortcut: machine.reset() without waiting for
        # an answer; the USB device drops off and comes back as the board reboots
        try:
            self._run(["exec", "--no-follow", "import time, machine; time.sleep_ms(100); machine.reset()"],
                      "resetting the board")
        except CopyError:
            pass  # the port can vanish under mpremote as the board reboots; HELLO tells


# --- keys ----------------------------------------------------------------------

def save_key(key, name, directory=None):
    """Write key to <keys dir>/<name>.key, readable by the owner only; its path."""
    d = Path(directory) if directory else keys_dir()
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = d / f"{name}.key"
        tmp = d / f".{name}.key.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as e:
        raise FlashError(f"cannot save the command key under {d}: {e.strerror or e}") from None
    return path


def choose_key(board_id, port, key_file=None):
    """(key, where it came from, is_new) for this board."""
    if key_file:
        return read_key_file(key_file), str(key_file), False
    candidates = ([keys_dir() / f"{board_id}.key"] if board_id else []) + saved_key_paths(port)
    for path in dict.fromkeys(candidates):
        if path.is_file():
            return read_key_file(path), str(path), False
    return os.urandom(32), "new", True


# --- flashing --------------------------------------------------------------------

@dataclass
class FlashResult:
    port: str
    chip: str
    board_id: str
    files: list
    key_path: str
    key_is_new: bool
    fw_hash: int
    hello: dict = None
    notes: list = field(default_factory=list)


def _sha256_file(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def image_fw_hash(image_dir):
    """The firmware hash the board computes at boot (firmware/main.py _fw_dirs:
    the folder of its `board` module and the protocol package), over the image."""
    image_dir = Path(image_dir)
    return tree_hash32(tuple(str(image_dir / d) for d in IMAGE_DIRS))


_IMAGE_HASHES = {}


def image_hashes():
    """{chip: firmware hash} of this checkout's flight image for each Pico chip,
    what a board flashed from it reports in HELLO (built once per process)."""
    if not _IMAGE_HASHES:
        for chip in ARCHS:
            with tempfile.TemporaryDirectory(prefix="hoverslam-hash-") as tmp:
                build(tmp, chip)
                _IMAGE_HASHES[chip] = image_fw_hash(tmp)
    return dict(_IMAGE_HASHES)


def _check_board(info, chip, expect_platform):
    platform, machine, _ = info
    if expect_platform and platform != expect_platform:
        raise FlashError(f"the board runs MicroPython for {platform!r}, not {expect_platform!r}: "
                         "Hoverslam flashes Raspberry Pi Pico / Pico 2 boards")
    want = CHIP_NAMES[chip]
    other = [c for c, n in CHIP_NAMES.items() if n in machine and c != chip]
    if other and not (chip == "rp2040" and other[0] == "rp2350"):
        # armv7emsp code does not run on an RP2040; armv6m code runs on both
        raise FlashError(f"the board is {machine!r} but --chip {chip} ({want}): use --chip {other[0]}")


def flash(port, chip="rp2040", key_file=None, uart_baud=None, uart_port=None, transport=None,
          hello_port=None, hello_timeout_s=HELLO_TIMEOUT_S, expect_platform="rp2", log=None,
          baudrate=921600, march=None):
    """Flash, verify by hash, reset and handshake.  Returns a FlashResult.

    uart_baud: write uart.cfg so the firmware talks on UART0 (GP0/GP1); the
    HELLO check then runs on uart_port (the USB-serial adapter) if given, and
    is skipped otherwise.  hello_port: where to handshake after the reset
    (default: port, or uart_port with --uart).  march: build the image's
    machine code for this mpy-cross arch instead of the chip's (e.g. "x64" for
    the unix VM standing in for a board)."""
    log = log or (lambda line: None)
    if chip not in ARCHS:
        raise FlashError(f"unknown chip {chip!r}: use one of {', '.join(ARCHS)}")
    if uart_baud is not None and not 1200 <= int(uart_baud) <= 3_000_000:
        raise FlashError(f"--uart {uart_baud}: the RP2040 UART runs at 1200..3000000 baud")
    if _port_is_device_path(port) and not os.path.exists(port):
        raise PortError(f"port {port} not found: is the board plugged in?")
    t = transport if transport is not None else MpremoteTransport(port)

    info = t.board_info()
    _check_board(info, chip, expect_platform)
    board_id = info[2].lower() if info[2] else ""
    log(f"board: {info[1] or info[0]}" + (f", id {board_id}" if board_id else ""))

    key, key_from, key_is_new = choose_key(board_id, port, key_file)
    # the host keeps the key first: a board with a key nobody has is unusable
    store_name = board_id or port_key_name(port)
    key_path = save_key(key, store_name)
    link_port = hello_port or (uart_port if uart_baud else port)
    aliases = []
    if link_port:
        link_name = usb_serial_number(link_port) or port_key_name(link_port)
        if link_name != store_name:
            aliases.append(save_key(key, link_name))  # so `fly --target LINK_PORT` finds it
    log(f"command key: {'new, saved to ' + str(key_path) if key_is_new else 'from ' + key_from}")

    with tempfile.TemporaryDirectory(prefix="hoverslam-flash-") as tmp:
        tmp = Path(tmp)
        files = build(tmp, chip, march=march)
        (tmp / KEY_FILE).write_bytes(key)
        files.append(KEY_FILE)
        if uart_baud:
            (tmp / UART_FILE).write_text(f"{int(uart_baud)}\n")
            files.append(UART_FILE)
        expected_hash = image_fw_hash(tmp)

        for d in IMAGE_DIRS:
            t.mkdir(d)
        stale = []
        for d in IMAGE_DIRS:
            for name in t.listdir(d):
                path = f"{d}/{name}"
                if name.endswith((".py", ".mpy")) and path not in files:
                    stale.append(path)
        if not uart_baud:
            stale.append(UART_FILE)      # else the firmware would keep talking on the UART
        if key_is_new:
            stale.append(COUNTER_FILE)   # counters of another key mean nothing
        t.remove_many(stale)
        log(f"copying {len(files)} files ({chip}, {march or ARCHS[chip]})")
        t.put_many([(tmp / f, f) for f in files])

        local = {f: _sha256_file(tmp / f) for f in files}
        remote = t.sha256_many(files)
        for f in files:
            if remote.get(f) is None:
                raise HashMismatch(f"{f} is missing on the board after the copy: re-run hoverslam flash")
            if remote[f] != local[f]:
                raise HashMismatch(f"{f} on the board differs from the built image (sha256 "
                                   f"{remote[f][:12]} != {local[f][:12]}): re-run hoverslam flash")
        mods = [p for p in stale if p.endswith((".py", ".mpy"))]
        left = [p for p, h in t.sha256_many(mods).items() if h is not None] if mods else []
        if left:
            raise CopyError(f"could not remove the stale module {left[0]} from the board")
        log(f"verified {len(files)} files by SHA-256")

    res = FlashResult(port=port, chip=chip, board_id=board_id, files=files, key_path=str(key_path),
                      key_is_new=key_is_new, fw_hash=expected_hash)
    if aliases:
        res.notes.append(f"key also saved as {aliases[0]}")
    t.reset()
    if not link_port:
        res.notes.append("HELLO not checked: with --uart the firmware talks on GP0/GP1; "
                         "pass --uart-port (the USB-serial adapter) to check it")
        return res
    log(f"reset; waiting for HELLO on {link_port}")
    hello = wait_for_hello(link_port, hello_timeout_s, baudrate)
    if hello["fw_hash"] != expected_hash:
        raise HashMismatch(f"firmware hash mismatch after reset: the board reports "
                           f"0x{hello['fw_hash']:08x}, the flashed image is 0x{expected_hash:08x}")
    res.hello = hello
    return res


def _open(url, baudrate):
    from host.link import open_port
    try:
        return open_port(url, baudrate)
    except NotImplementedError:
        # pyserial's rfc2217 client refuses the write_timeout open_port sets
        import serial
        try:
            return serial.serial_for_url(url, baudrate=baudrate, timeout=0)
        except (serial.SerialException, ValueError, OSError) as e:
            raise LinkError(f"cannot open port {url!r}: {e}") from None


def wait_for_hello(url, timeout_s=HELLO_TIMEOUT_S, baudrate=921600):
    """HELLO from a board that is (re)booting: retry while its port is gone or silent."""
    from host.link import Link
    deadline = time.monotonic() + timeout_s
    why = "the port did not come back"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise NoHello(f"no HELLO from the board on {url} within {timeout_s:.0f} s after reset "
                          f"({why}); was BOOTSEL held during the reset? that skips the firmware")
        try:
            port = _open(url, baudrate)
        except LinkError:
            time.sleep(min(0.25, max(left, 0)))
            continue
        try:
            return Link(port).hello(timeout_s=max(0.5, min(left, 3.0)))
        except HandshakeError as e:
            if "no HELLO" not in str(e):
                raise  # e.g. protocol version mismatch: final
            why = "the port is open but the firmware is silent"
        except LinkError as e:
            why = str(e)  # the old port went away under us: the board is re-enumerating
            time.sleep(0.25)
        finally:
            try:
                port.close()
            except Exception:  # noqa: BLE001
                pass
