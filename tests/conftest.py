import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
for p in (str(ROOT),):
    if p not in sys.path:
        sys.path.insert(0, p)

_mpy_cache = {}


def mpy_result(modname, test_name):
    """Result of one MicroPython-side test; the module runs once per session."""
    from tests.mpyvm import run_test_module
    if modname not in _mpy_cache:
        _mpy_cache[modname] = run_test_module(modname)
    res = _mpy_cache[modname]
    assert test_name in res, f"{modname}.{test_name} did not report on the MicroPython VM"
    return res[test_name]
