"""The flight image compiles with mpy-cross for both Pico chips, and the
compiled image (not the sources) boots on the MicroPython VM."""
import os
import subprocess

import pytest

from hil_rig.build import ARCHS, build, deployable_sources
from hil_rig.targets import find_micropython


@pytest.mark.timeout(120)
@pytest.mark.parametrize("chip", sorted(ARCHS))
def test_flight_image_compiles_for_each_pico_chip(tmp_path, chip):
    made = build(tmp_path, chip)
    assert "main.py" in made
    mpys = [p for p in made if p.endswith(".mpy")]
    assert len(mpys) == len(deployable_sources()) - 1
    for p in mpys:
        head = (tmp_path / p).read_bytes()[:2]
        assert head == b"M\x06", p  # mpy v6: firmware v1.23 and later


@pytest.mark.timeout(60)
def test_image_leaves_out_host_only_and_unix_only_modules(tmp_path):
    made = build(tmp_path, "rp2040")
    assert not any("hostcodec" in p or "board_unix" in p or "docs" in p for p in made)
    assert "lib/board_rp2.mpy" in made and "lib/protocol/framing.mpy" in made


@pytest.mark.timeout(60)
def test_compiled_image_imports_on_the_vm(tmp_path):
    build(tmp_path, "rp2040")
    code = ("import sys\nsys.path.insert(0, 'lib')\n"
            "import app, link, protocol.framing, protocol.auth\n"
            "print(protocol.framing.__file__)\n")
    (tmp_path / "check.py").write_text(code)
    env = dict(os.environ, MICROPYPATH=".frozen")
    p = subprocess.run([find_micropython(), "check.py"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().endswith(".mpy")
