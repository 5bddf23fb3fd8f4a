"""The flight image compiles with mpy-cross for both Pico chips, and the
compiled image (not the sources) boots on the MicroPython VM."""
import os
import subprocess

import pytest

from hil_rig.build import ARCHS, build, deployable_sources
from hil_rig.targets import find_micropython

# mpy header byte 2 = (native architecture << 2) | sub-version, for a module with
# machine code; 0 for a bytecode-only module (py/persistentcode.h, MP_NATIVE_ARCH_*)
MPY_ARCH_CODES = {"x86": 1, "x64": 2, "armv6": 3, "armv6m": 4, "armv7m": 5, "armv7em": 6,
                  "armv7emsp": 7, "armv7emdp": 8, "xtensa": 9, "xtensawin": 10, "rv32imc": 11,
                  "rv64imc": 12}
# modules with @micropython.viper / .native functions carry machine code for the target
NATIVE_MODULES = {dest for src, dest in deployable_sources()
                  if dest.endswith(".mpy") and ("@micropython.viper" in src.read_text()
                                                or "@micropython.native" in src.read_text())}
# the byte loops and the control cycle's hot path, at least
HOT_MODULES = {"lib/protocol/framing.mpy", "lib/protocol/crc.mpy", "lib/app.mpy",
               "lib/estimator.mpy", "lib/guidance.mpy", "lib/attitude.mpy", "lib/sequencer.mpy",
               "lib/link.mpy"}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("chip", sorted(ARCHS))
def test_flight_image_compiles_for_each_pico_chip(tmp_path, chip):
    made = build(tmp_path, chip)
    assert "main.py" in made
    mpys = [p for p in made if p.endswith(".mpy")]
    assert len(mpys) == len(deployable_sources()) - 1
    assert HOT_MODULES <= NATIVE_MODULES <= set(mpys)
    for p in mpys:
        head = (tmp_path / p).read_bytes()[:3]
        assert head[:2] == b"M\x06", p  # mpy v6: firmware v1.23 and later
        if p in NATIVE_MODULES:  # machine code for this chip's core, nothing else
            assert head[2] >> 2 == MPY_ARCH_CODES[ARCHS[chip]], (p, head)
        else:  # bytecode: runs on any core
            assert head[2] == 0, (p, head)


@pytest.mark.timeout(60)
def test_image_leaves_out_host_only_and_unix_only_modules(tmp_path):
    made = build(tmp_path, "rp2040")
    assert not any("hostcodec" in p or "board_unix" in p or "docs" in p for p in made)
    assert "lib/board_rp2.mpy" in made and "lib/protocol/framing.mpy" in made


def _vm_march():
    """mpy-cross -march name of the VM's own native code (None: it has no emitter)."""
    p = subprocess.run([find_micropython(), "-c", "import sys; print(sys.implementation._mpy >> 10)"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    code = int(p.stdout.strip())
    return next((name for name, c in MPY_ARCH_CODES.items() if c == code), None)


@pytest.mark.timeout(60)
def test_rp2040_image_is_refused_by_a_vm_of_another_arch(tmp_path):
    # the machine code in the image is the chip's: the x86-64 VM must not run it
    if _vm_march() == ARCHS["rp2040"]:
        pytest.skip("the VM itself is armv6m")
    build(tmp_path, "rp2040")
    (tmp_path / "check.py").write_text("import sys\nsys.path.insert(0, 'lib')\nimport protocol.framing\n")
    env = dict(os.environ, MICROPYPATH=".frozen")
    p = subprocess.run([find_micropython(), "check.py"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode != 0
    assert "incompatible .mpy arch" in p.stdout + p.stderr


@pytest.mark.timeout(60)
def test_compiled_image_imports_on_the_vm(tmp_path):
    # the same image, its machine code compiled for the VM's architecture instead
    march = _vm_march()
    if march is None:
        pytest.skip("this MicroPython VM has no native code emitter")
    build(tmp_path, "rp2040", march=march)
    head = (tmp_path / "lib/protocol/framing.mpy").read_bytes()[:3]
    assert head[:2] == b"M\x06" and head[2] >> 2 == MPY_ARCH_CODES[march]
    code = ("import sys\nsys.path.insert(0, 'lib')\n"
            "import app, link, protocol.framing, protocol.auth\n"
            "from protocol import messages as m\n"
            "from protocol.framing import Decoder, Encoder\n"
            "f = Encoder().finish(m.ACTUATORS)\n"
            "d = Decoder()\n"
            "d.feed(f, 0, len(f))\n"
            "assert d.ready == m.ACTUATORS, d.drops\n"
            "print(protocol.framing.__file__)\n")
    (tmp_path / "check.py").write_text(code)
    env = dict(os.environ, MICROPYPATH=".frozen")
    p = subprocess.run([find_micropython(), "check.py"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr + p.stdout
    assert p.stdout.strip().endswith(".mpy")
