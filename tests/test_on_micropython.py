"""Bridge: every test_* function in tests/mpy/mpy_*.py runs on the real
MicroPython VM (unix port, Pico-sized heap) and reports here by name."""
from pathlib import Path

import pytest

from tests.conftest import mpy_result
from tests.mpyvm import MPY_TESTS, mpy_test_names

CASES = [(p.stem, name) for p in sorted(MPY_TESTS.glob("mpy_*.py")) for name in mpy_test_names(p.stem)]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("module,test", CASES, ids=[f"{m}::{t}" for m, t in CASES])
def test_on_micropython_vm(module, test):
    ok, detail = mpy_result(module, test)
    assert ok, detail
