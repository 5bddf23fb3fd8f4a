"""Wind: mean profile + Dryden turbulence + discrete gusts, seeded.

Mean wind (MIL-F-8785C low altitude): W(h) = W20 ln(h/z0) / ln(20 ft/z0),
z0 = 0.15 ft, zero below z0, held at its 1000 ft value above 1000 ft.
`from_deg` is where the wind blows from, clockwise from north.

Dryden turbulence, MIL-F-8785C / MIL-HDBK-1797 low-altitude model (h in ft):
  L_w = h, L_u = L_v = h / (0.177 + 0.000823 h)^1.2,
  sigma_w = 0.1 W20, sigma_u = sigma_v = sigma_w / (0.177 + 0.000823 h)^0.4,
h clamped to >= 10 ft.  At 1000 ft this is isotropic with L = 1000 ft; above
it L grows linearly to 1750 ft at 2000 ft and stays there, sigma stays
0.1 W20 (a stand-in for the medium/high-altitude exceedance table).
u is along the mean wind, v across it (horizontal), w vertical.  Shaping
filters driven by seeded white noise, with T = L/V (V = airspeed, >= 1 m/s):
  u: 1/(1+Ts)                 -> exact discrete Gauss-Markov step
  v, w: (1+sqrt3 Ts)/(1+Ts)^2 = sqrt3/(1+Ts) + (1-sqrt3)/(1+Ts)^2, two cascaded
        first-order stages, white-noise intensity sigma^2 T (variance sigma^2).
Rotational turbulence is not modelled.  The filters are stepped at 100 Hz.
Gust: a 1-cosine pulse of peak `speed_mps` over `duration_s`, horizontal,
from `from_deg` (faults.py).  The wind is evaluated once per physics step at
the CG and held over the step.
"""
import math

import numpy as np

from ._jit import jit
from .layout import (D_GUST_DUR, D_GUST_FROM, D_GUST_SPEED, D_GUST_T0, D_TURB_U, D_TURB_V1,
                     D_TURB_V2, D_TURB_W1, D_TURB_W2, D_WIND_X, D_WIND_Y, D_WIND_Z,
                     P_TURB_DIV, P_TURBULENCE, P_W20_MPS, P_WIND_FROM_RAD, RNG_WIND, X_R, X_V)
from .rng import normal

FT_M = 0.3048
Z0_M = 0.15 * FT_M
H20_M = 20.0 * FT_M
SQRT3 = math.sqrt(3.0)


@jit
def mean_wind_speed(h_m, w20_mps):
    """Mean horizontal wind speed at height h_m (log law, held above 1000 ft)."""
    if h_m > 1000.0 * FT_M:
        h_m = 1000.0 * FT_M
    if h_m <= Z0_M:
        return 0.0
    return w20_mps * math.log(h_m / Z0_M) / math.log(H20_M / Z0_M)


@jit
def dryden_scales(h_m, w20_mps):
    """(L_u, L_v, L_w in m, sigma_u, sigma_v, sigma_w in m/s) at height h_m."""
    h_ft = h_m / FT_M
    sig_w = 0.1 * w20_mps
    if h_ft <= 1000.0:
        if h_ft < 10.0:
            h_ft = 10.0
        den = 0.177 + 0.000823 * h_ft
        l_uv = h_ft / den ** 1.2
        s_uv = sig_w / den ** 0.4
        return l_uv * FT_M, l_uv * FT_M, h_ft * FT_M, s_uv, s_uv, sig_w
    if h_ft < 2000.0:
        l_ft = 1000.0 + 750.0 * (h_ft - 1000.0) / 1000.0
    else:
        l_ft = 1750.0
    return l_ft * FT_M, l_ft * FT_M, l_ft * FT_M, sig_w, sig_w, sig_w


@jit
def turbulence_step(d, h_m, airspeed_mps, w20_mps, dt_s, rng):
    """Advance the Dryden filter states over dt_s; return (u, v, w) in m/s."""
    l_u, l_v, l_w, s_u, s_v, s_w = dryden_scales(h_m, w20_mps)
    v = airspeed_mps if airspeed_mps > 1.0 else 1.0
    # u: first-order Gauss-Markov, exact discretisation
    a = math.exp(-v * dt_s / l_u)
    d[D_TURB_U] = a * d[D_TURB_U] + s_u * math.sqrt(1.0 - a * a) * normal(rng, RNG_WIND)
    # v: two cascaded stages, input intensity s_v^2 T
    t_v = l_v / v
    a = math.exp(-dt_s / t_v)
    eta = s_v * math.sqrt(t_v / dt_s) * normal(rng, RNG_WIND)
    d[D_TURB_V1] = a * d[D_TURB_V1] + (1.0 - a) * eta
    d[D_TURB_V2] = a * d[D_TURB_V2] + (1.0 - a) * d[D_TURB_V1]
    # w: same shape
    t_w = l_w / v
    a = math.exp(-dt_s / t_w)
    eta = s_w * math.sqrt(t_w / dt_s) * normal(rng, RNG_WIND)
    d[D_TURB_W1] = a * d[D_TURB_W1] + (1.0 - a) * eta
    d[D_TURB_W2] = a * d[D_TURB_W2] + (1.0 - a) * d[D_TURB_W1]
    return (d[D_TURB_U],
            SQRT3 * d[D_TURB_V1] + (1.0 - SQRT3) * d[D_TURB_V2],
            SQRT3 * d[D_TURB_W1] + (1.0 - SQRT3) * d[D_TURB_W2])


@jit
def gust_speed(t_s, t0_s, duration_s, speed_mps):
    """1-cosine gust pulse."""
    if duration_s <= 0.0 or t_s < t0_s or t_s > t0_s + duration_s:
        return 0.0
    return 0.5 * speed_mps * (1.0 - math.cos(2.0 * math.pi * (t_s - t0_s) / duration_s))


@jit(inline=True)
def wind_update(step, dt_s, x, d, p, rng):
    """Wind at the CG for physics step `step` (of length dt_s), stored in d[D_WIND_*].

    The Dryden filters advance every P_TURB_DIV steps (their bandwidth, V/L, is a
    few rad/s at most); the mean profile and gusts are evaluated every step."""
    t_s = step * dt_s
    h = x[X_R + 2]
    if h < 0.0:
        h = 0.0
    w20 = p[P_W20_MPS]
    frm = p[P_WIND_FROM_RAD]
    ux = -math.sin(frm)  # unit vector the wind blows toward (east, north)
    uy = -math.cos(frm)
    w_mean = mean_wind_speed(h, w20)
    wx = w_mean * ux
    wy = w_mean * uy
    wz = 0.0
    if p[P_TURBULENCE] > 0.5 and w20 > 0.0:
        div = int(p[P_TURB_DIV])
        if step % div == 0:
            ax = x[X_V] - d[D_WIND_X]
            ay = x[X_V + 1] - d[D_WIND_Y]
            az = x[X_V + 2] - d[D_WIND_Z]
            turbulence_step(d, h, math.sqrt(ax * ax + ay * ay + az * az), w20, dt_s * div, rng)
        tu = d[D_TURB_U]
        tv = SQRT3 * d[D_TURB_V1] + (1.0 - SQRT3) * d[D_TURB_V2]
        tw = SQRT3 * d[D_TURB_W1] + (1.0 - SQRT3) * d[D_TURB_W2]
        wx += tu * ux - tv * uy
        wy += tu * uy + tv * ux
        wz += tw
    g = gust_speed(t_s, d[D_GUST_T0], d[D_GUST_DUR], d[D_GUST_SPEED])
    if g != 0.0:
        wx -= g * math.sin(d[D_GUST_FROM])
        wy -= g * math.cos(d[D_GUST_FROM])
    d[D_WIND_X] = wx
    d[D_WIND_Y] = wy
    d[D_WIND_Z] = wz


@jit
def turbulence_series(h_m, airspeed_mps, w20_mps, dt_s, n, rng, d):
    """n samples of (u, v, w) at fixed height and airspeed (for checking the statistics)."""
    out = np.empty((n, 3))
    for k in range(n):
        u, v, w = turbulence_step(d, h_m, airspeed_mps, w20_mps, dt_s, rng)
        out[k, 0] = u
        out[k, 1] = v
        out[k, 2] = w
    return out
