"""A session with one target: start it, open its link, handshake, configure, arm.

    with Session(make_target("sitl")) as s:
        s.configure({"throttle_min_pm": 570})
        s.arm()
        fly_lockstep(s.link, plant)

Closing always stops the target (the SITL child is reaped) and the port.
"""
from host.errors import CommandRejected, HoverslamError
from host.link import Link, open_port
from protocol import messages as m
from protocol.parameters import TABLE, index
from protocol.treehash import tree_hash32

from hil_rig.targets import FIRMWARE_DIR, PROTOCOL_DIR


def expected_fw_hash(dirs=None):
    """Tree hash of the firmware the host expects: this checkout's, or `dirs`."""
    if dirs is None:
        dirs = (FIRMWARE_DIR, PROTOCOL_DIR)
    return tree_hash32(tuple(str(d) for d in dirs))


class Session:
    def __init__(self, target, baudrate=921600, on_rx=None, on_tx=None, check_hash=True):
        self.target = target
        self.baudrate = baudrate
        self.on_rx = on_rx
        self.on_tx = on_tx
        self.check_hash = check_hash
        self.link = None
        self.hello = None
        self._port = None

    def open(self):
        try:
            self.target.start()
            self._port = open_port(self.target.url, self.baudrate)
            self.link = Link(self._port, key=self.target.key, on_rx=self.on_rx, on_tx=self.on_tx,
                             liveness=self.target.check_alive)
            self.hello = self.link.hello()
        except BaseException:
            self.close()
            raise
        if self.hello["impl"] != "micropython":
            self.close()
            raise HoverslamError(f"the board runs {self.hello['impl']!r}, not MicroPython")
        if self.check_hash and self.hello["fw_hash"] != \
                expected_fw_hash(getattr(self.target, "expect_dirs", None)):
            try:
                self._check_board_hash()
            except BaseException:
                self.close()
                raise
        return self

    def _check_board_hash(self):
        """The board must run this checkout's firmware: its sources as they are
        (the SITL, or a board given the .py files), or the image `hoverslam
        flash` builds from them for either Pico chip."""
        if self.target.kind == "sitl":
            raise HoverslamError("firmware hash mismatch: the VM did not load this tree's firmware")
        from hil_rig.flash import image_hashes
        images = image_hashes()
        h = self.hello["fw_hash"]
        if h not in images.values():
            known = ", ".join(f"0x{v:08x} ({chip})" for chip, v in images.items())
            raise HoverslamError(f"firmware hash mismatch: the board runs 0x{h:08x}, this checkout "
                                 f"builds {known}; run hoverslam flash --port {self.target.url} "
                                 "(or fly --any-firmware)")

    def configure(self, params):
        """Set parameters by name (signed SET_PARAM each)."""
        for name, value in params.items():
            i = index(name)
            if i < 0:
                raise HoverslamError(f"unknown firmware parameter {name!r}")
            lo, hi = TABLE[i][2], TABLE[i][3]
            v = int(round(value))
            if not lo <= v <= hi:
                raise HoverslamError(f"firmware parameter {name}={v} is outside [{lo}, {hi}]")
            try:
                self.link.command(m.CMD_SET_PARAM, i, v)
            except CommandRejected as e:
                raise HoverslamError(f"setting {name}={v}: {e}") from None

    def arm(self):
        """Two-step arm: request, then confirm within the window."""
        self.link.command(m.CMD_ARM)
        self.link.command(m.CMD_ARM_CONFIRM)

    def close(self):
        try:
            if self._port is not None:
                self._port.close()
        except Exception:  # noqa: BLE001 - closing must never mask the real error
            pass
        self._port = None
        self.target.stop()

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()
