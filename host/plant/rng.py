"""Seeded random numbers for the plant: one splitmix64 stream per concept.

Each Plant owns its own uint64 state array (no global numpy/numba RNG), so two
plants never disturb each other and a seed reproduces a run bit for bit on
any machine.  Streams are separated by concept (wind, IMU, altimeter, GNSS,
engine) so that, e.g., changing the GNSS rate does not change the turbulence.
"""
import math

import numpy as np

from ._jit import jit
from .layout import N_RNG

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0
_M64 = (1 << 64) - 1


@jit
def next_u64(rng, k):
    s = rng[k] + _GOLDEN
    rng[k] = s
    z = (s ^ (s >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@jit
def uniform(rng, k):
    """Uniform in [0, 1)."""
    return float(next_u64(rng, k) >> _S11) * _INV53


@jit
def normal(rng, k):
    """Standard normal (Box-Muller, one value per call)."""
    u1 = uniform(rng, k)
    if u1 < 1e-300:
        u1 = 1e-300
    u2 = uniform(rng, k)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _mix_py(s):
    z = s & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def seed_streams(seed):
    """uint64[N_RNG] initial states derived from an integer seed."""
    seed = int(seed) & _M64
    return np.array([_mix_py(_mix_py(seed) + 0x632BE59BD9B4E019 * (k + 1)) for k in range(N_RNG)],
                    dtype=np.uint64)


# ---- the same generator in plain Python, for the naive reference step --------

def next_u64_py(rng, k):
    s = (int(rng[k]) + 0x9E3779B97F4A7C15) & _M64
    rng[k] = s
    return _mix_py(s)


def uniform_py(rng, k):
    return float(next_u64_py(rng, k) >> 11) * _INV53


def normal_py(rng, k):
    u1 = uniform_py(rng, k)
    if u1 < 1e-300:
        u1 = 1e-300
    u2 = uniform_py(rng, k)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
