"""ISA atmosphere: density, pressure and speed of sound against height.

International Standard Atmosphere, troposphere (lapse -6.5 K/km to 11 km) and
the isothermal layer above it (the formula is continued past 20 km; landing
burns start far below).  Two test modes: vacuum (rho = p = 0) and a uniform
atmosphere with sea-level values at every height (for closed-form checks).
"""
import math

from ._jit import jit
from .layout import ATM_UNIFORM, ATM_VACUUM

G0_MPS2 = 9.80665
R_AIR = 287.05287       # J/(kg K)
GAMMA_AIR = 1.4
T0_K = 288.15
P0_PA = 101325.0
LAPSE_KPM = 0.0065
T11_K = 216.65
P11_PA = 22632.06
_EXP_TROPO = G0_MPS2 / (R_AIR * LAPSE_KPM)  # 5.2559


@jit
def isa(alt_m, mode):
    """(density kg/m^3, pressure Pa, speed of sound m/s) at geometric height alt_m."""
    if mode == ATM_VACUUM:
        return 0.0, 0.0, math.sqrt(GAMMA_AIR * R_AIR * T0_K)
    if mode == ATM_UNIFORM:
        alt_m = 0.0
    if alt_m < 11000.0:
        t_k = T0_K - LAPSE_KPM * alt_m
        p_pa = P0_PA * (t_k / T0_K) ** _EXP_TROPO
    else:
        t_k = T11_K
        p_pa = P11_PA * math.exp(-G0_MPS2 / (R_AIR * T11_K) * (alt_m - 11000.0))
    return p_pa / (R_AIR * t_k), p_pa, math.sqrt(GAMMA_AIR * R_AIR * t_k)
