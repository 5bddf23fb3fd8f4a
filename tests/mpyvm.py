"""Run code on the real MicroPython VM (unix port) from pytest.

The VM gets the board's module layout: firmware/ on the path, `protocol` as a
package from a lib folder, plus tests/mpy (MicroPython-side tests and fakes).
"""
import os
import re
import subprocess
import tempfile
from pathlib import Path

from hil_rig.targets import FIRMWARE_DIR, PICO_HEAP, PROTOCOL_DIR, find_micropython

TESTS = Path(__file__).resolve().parent
MPY_TESTS = TESTS / "mpy"
_LIB = None


def _lib():
    global _LIB
    if _LIB is None:
        _LIB = Path(tempfile.mkdtemp(prefix="hoverslam-mpylib-"))
        (_LIB / "protocol").symlink_to(PROTOCOL_DIR, target_is_directory=True)
    return _LIB


def run_micropython(args, heap=PICO_HEAP, timeout=120, cwd=None, input_bytes=None):
    env = dict(os.environ)
    env["MICROPYPATH"] = f"{MPY_TESTS}:{FIRMWARE_DIR}:{_lib()}"
    return subprocess.run([find_micropython(), "-X", f"heapsize={heap}", *args], env=env,
                          cwd=cwd, input=input_bytes, capture_output=True, timeout=timeout)


def run_code(code, heap=PICO_HEAP, timeout=120):
    """Run a snippet on the VM; returns stdout text, raises with stderr on failure."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
        path = f.name
    try:
        p = run_micropython([path], heap=heap, timeout=timeout, cwd=tempfile.gettempdir())
    finally:
        os.unlink(path)
    if p.returncode != 0:
        raise AssertionError(f"MicroPython failed ({p.returncode}):\n{p.stderr.decode()}\n{p.stdout.decode()}")
    return p.stdout.decode()


def run_test_module(modname, heap=PICO_HEAP, timeout=300):
    """Run tests/mpy/<modname>.py's test_* functions on the VM -> {name: (ok, detail)}."""
    with tempfile.TemporaryDirectory() as d:
        p = run_micropython([str(MPY_TESTS / "runner.py"), modname], heap=heap, timeout=timeout, cwd=d)
    out = p.stdout.decode()
    if "DONE" not in out:
        raise AssertionError(f"MicroPython test run of {modname} died ({p.returncode}):\n"
                             f"{p.stderr.decode()}\n{out}")
    results = {}
    for line in out.splitlines():
        mt = re.match(r"(PASS|FAIL) (\S+) (\S+)(.*)", line)
        if mt:
            results[mt.group(3)] = (mt.group(1) == "PASS", mt.group(4).strip() + "\n" + out)
    return results


def mpy_test_names(modname):
    """test_* names defined in tests/mpy/<modname>.py (read as text, no import)."""
    src = (MPY_TESTS / f"{modname}.py").read_text()
    return sorted(re.findall(r"^def (test_\w+)\(", src, flags=re.M))
