"""A board's filesystem in a dict, behind hil_rig.flash's Transport interface.

On reset() it "boots": computes the firmware hash over its lib/ and
lib/protocol/ the way firmware/main.py does (protocol.treehash over real
files, so stale modules count), and lets a FakeBoard on a pty answer HELLO
with that hash.  Faults to inject: corrupt (bytes altered on write), drop
(write silently lost), fail_put (mpremote error), no_boot (silent after reset),
report_hash (the booted board claims another hash).
"""
import hashlib
import tempfile
from pathlib import Path

from hil_rig.flash import CopyError, Transport
from protocol.treehash import tree_hash32


class FakeTransport(Transport):
    def __init__(self, board=None, platform="rp2", machine="Raspberry Pi Pico with RP2040",
                 uid="e660583883724a32", files=None):
        self.board = board            # a tests.fakes.fake_board.FakeBoard, silent until reset
        if board is not None:
            board.silent = True
        self.info = (platform, machine, uid)
        self.files = dict(files or {})  # remote path -> bytes
        self.dirs = {""} | {p.rsplit("/", 1)[0] for p in self.files if "/" in p}
        self.ops = []
        self.corrupt = set()
        self.drop = set()
        self.fail_put = set()
        self.no_boot = False
        self.report_hash = None
        self.resets = 0
        self.booted_hash = None

    def _parent(self, remote):
        return remote.rsplit("/", 1)[0] if "/" in remote else ""

    def mkdir(self, remote):
        self.ops.append(("mkdir", remote))
        if self._parent(remote) not in self.dirs:
            raise CopyError(f"creating {remote} failed: mkdir: ENOENT")
        self.dirs.add(remote)

    def put(self, local, remote):
        self.ops.append(("put", remote))
        if remote in self.fail_put:
            raise CopyError(f"copying {remote} failed on fake: cp: No space left on device")
        if self._parent(remote) not in self.dirs:
            raise CopyError(f"copying {remote} failed on fake: cp: ENOENT")
        if remote in self.drop:
            return
        data = Path(local).read_bytes()
        if remote in self.corrupt:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        self.files[remote] = data

    def sha256(self, remote):
        self.ops.append(("sha256", remote))
        data = self.files.get(remote)
        return None if data is None else hashlib.sha256(data).hexdigest()

    def listdir(self, remote):
        self.ops.append(("listdir", remote))
        prefix = remote + "/" if remote else ""
        names = {p[len(prefix):].split("/", 1)[0] for p in list(self.files) + list(self.dirs)
                 if p.startswith(prefix) and p != remote and p[len(prefix):]}
        return sorted(names)

    def remove(self, remote):
        self.ops.append(("remove", remote))
        self.files.pop(remote, None)

    def board_info(self):
        self.ops.append(("board_info",))
        return self.info

    def exec(self, code):
        raise NotImplementedError("the fake board runs no code")

    def boot_hash(self):
        """The hash firmware/main.py would compute over this filesystem."""
        with tempfile.TemporaryDirectory() as d:
            for path, data in self.files.items():
                if path.startswith("lib/"):
                    f = Path(d) / path
                    f.parent.mkdir(parents=True, exist_ok=True)
                    f.write_bytes(data)
            return tree_hash32((f"{d}/lib", f"{d}/lib/protocol"))

    def reset(self):
        self.ops.append(("reset",))
        self.resets += 1
        self.booted_hash = self.boot_hash()
        if self.board is not None and not self.no_boot:
            self.board.fw_hash = self.report_hash if self.report_hash is not None else self.booted_hash
            self.board.silent = False
