"""The one JIT decorator used by the plant's compiled core.

`jit` is numba's `njit(cache=True)` with one fix: numba keys a cached function
on its own source file only, so after an edit to, say, engine.py the cached
dynamics.py code (which inlines the engine functions) would still be loaded.
Here the cache lives in a directory named after a hash of every source file
of this package, so any edit to the plant gives a fresh, consistent cache.
NUMBA_CACHE_DIR, if set, is honoured as the parent of that directory.

Divisions follow IEEE (error_model="numpy": inf or nan, no ZeroDivisionError
check on every one); no divisor in the plant is zero for a validated vehicle,
and results are bit for bit those of the checked build.
"""
import hashlib
import os
import shutil
from pathlib import Path

import numba

_HERE = Path(__file__).resolve().parent


def _source_hash():
    h = hashlib.sha256()
    for f in sorted(_HERE.glob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _cache_dir():
    base = os.environ.get("NUMBA_CACHE_DIR") or str(_HERE / "__pycache__")
    d = Path(base) / ("numba-" + _source_hash())
    try:
        d.mkdir(parents=True, exist_ok=True)
        for old in Path(base).glob("numba-*"):  # caches of older sources
            if old != d and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        return None
    return str(d)


CACHE_DIR = _cache_dir()


def jit(fn=None, inline=False):
    """Compile `fn` in nopython mode, cached under CACHE_DIR.  inline: compile
    it into each caller (numba's inline="always"), for a function called on
    every physics step from one place, where the call itself (array arguments
    are reference-counted) costs as much as a small function's body."""
    if fn is None:
        return lambda f: jit(f, inline)
    old = numba.config.CACHE_DIR
    if CACHE_DIR is not None:
        numba.config.CACHE_DIR = CACHE_DIR
    try:
        if inline:
            return numba.njit(cache=True, inline="always", error_model="numpy")(fn)
        return numba.njit(cache=True, error_model="numpy")(fn)
    finally:
        numba.config.CACHE_DIR = old
