"""Engines: ignition sequence, spool-up, throttle response, shutdown, mass flow.

Liquid engine (per engine row of `eng`):
  ignition command (rising edge of engine_on) -> dead time (+ late-ignition
  fault) -> lit: the mass-flow fraction f follows the commanded throttle,
  clamped to [min_throttle, 1] (a booster cannot throttle to zero), through a
  first-order lag (spool-up time constant until thrust is confirmed, then the
  throttle time constant) -> falling edge: decay to zero.
  Mass flow mdot = f * T_sl / (Isp_sl g0); thrust T = mdot g0 Isp(p_amb), Isp
  interpolated linearly in ambient pressure between vacuum and sea level.
Solid motor: the first rising edge only; a random ignition delay (mean +
  seeded Gaussian jitter, + late-ignition fault); thrust from the tabulated
  curve; mass flow proportional to thrust (RASP convention: the propellant is
  spent in proportion to impulse delivered).
Faults change the rows: E_NOIGN (never lights), E_SCALE (thrust shortfall),
PH_FAILED (engine-out).  All engines share the gimbal (tvc.py).
"""
import math

from ._jit import jit
from .events import push_event
from .layout import (D_CMD_ENGINE_ON, D_CMD_THROTTLE, D_CONFIRMED, D_FLAMEOUT, D_IGN_CMD_T,
                     D_IGN_EXTRA_S, D_IGNITION_T, D_PREV_ENGINE_ON, D_SOLID_FIRED, E_F,
                     E_LIGHT_T, E_NOIGN, E_PHASE, E_SCALE, E_TIMER, EV_BURNOUT, EV_CONFIRMED,
                     EV_FLAMEOUT, EV_IGN_CMD, EV_LIT, EV_NO_IGNITION, EV_SHUTDOWN,
                     EV_SHUTDOWN_CMD, P_CONFIRM_FRAC, P_DEAD_TIME_S, P_IGN_DELAY_S,
                     P_IGN_JITTER_S, P_ISP_SL_S, P_ISP_VAC_S, P_MIN_THROTTLE, P_MOTOR_BURN_S,
                     P_MOTOR_IMPULSE_NS, P_MOTOR_PROP_KG, P_N_ENG, P_SOLID, P_K_OUT,
                     P_K_SHUTDOWN, P_K_SPOOL, P_K_THROTTLE, P_THRUST_SL_N,
                     PH_BURNOUT, PH_FAILED, PH_IGNITING, PH_OFF, PH_RUNNING, PH_SHUTDOWN,
                     PH_SPOOL, RNG_ENGINE)
from .rng import normal

G0_MPS2 = 9.80665
P0_PA = 101325.0


@jit
def motor_thrust_n(t_since_light_s, motor):
    """Thrust of a tabulated curve (rows time_s, thrust_n, first row t=0), 0 outside it."""
    n = motor.shape[0]
    if t_since_light_s <= 0.0 or t_since_light_s >= motor[n - 1, 0]:
        return 0.0
    for j in range(1, n):
        if t_since_light_s < motor[j, 0]:
            t0 = motor[j - 1, 0]
            f0 = motor[j - 1, 1]
            return f0 + (motor[j, 1] - f0) * (t_since_light_s - t0) / (motor[j, 0] - t0)
    return 0.0


@jit
def isp_s(p_amb_pa, isp_sl_s, isp_vac_s):
    """Specific impulse at ambient pressure, linear between vacuum and sea level."""
    return isp_vac_s - (isp_vac_s - isp_sl_s) * p_amb_pa / P0_PA


@jit
def engine_thrust(i, t_s, eng, p, motor, p_amb_pa, prop_kg):
    """(thrust N, mass flow kg/s) of engine i at time t_s (may be an RK4 stage time)."""
    if prop_kg <= 0.0:
        return 0.0, 0.0
    ph = eng[i, E_PHASE]
    if p[P_SOLID] > 0.5:
        if ph != PH_SPOOL and ph != PH_RUNNING:
            return 0.0, 0.0
        thrust = eng[i, E_SCALE] * motor_thrust_n(t_s - eng[i, E_LIGHT_T], motor)
        return thrust, thrust * p[P_MOTOR_PROP_KG] / p[P_MOTOR_IMPULSE_NS]
    f = eng[i, E_F]
    if f <= 0.0:
        return 0.0, 0.0
    mdot = f * p[P_THRUST_SL_N] / (p[P_ISP_SL_S] * G0_MPS2)
    return mdot * G0_MPS2 * isp_s(p_amb_pa, p[P_ISP_SL_S], p[P_ISP_VAC_S]), mdot


def lag_factor(dt_s, tau_s):
    """Fraction of the gap a first-order lag closes in dt_s (exact for a held input)."""
    return 1.0 if tau_s <= 0.0 else 1.0 - math.exp(-dt_s / tau_s)


@jit
def _light(i, t_s, eng, d, evlog):
    if eng[i, E_NOIGN] > 0.5:
        eng[i, E_PHASE] = PH_FAILED
        push_event(evlog, d, t_s, EV_NO_IGNITION, i)
        return
    eng[i, E_PHASE] = PH_SPOOL
    eng[i, E_LIGHT_T] = t_s
    if d[D_IGNITION_T] < 0.0:
        d[D_IGNITION_T] = t_s
    push_event(evlog, d, t_s, EV_LIT, i)


@jit(inline=True)
def engine_update(t_s, dt_s, eng, d, p, motor, prop_kg, rng, evlog):
    """Advance every engine's discrete state over one physics step starting at t_s."""
    on = d[D_CMD_ENGINE_ON] > 0.5
    prev = d[D_PREV_ENGINE_ON] > 0.5
    rising = on and not prev
    falling = prev and not on
    d[D_PREV_ENGINE_ON] = 1.0 if on else 0.0
    solid = p[P_SOLID] > 0.5
    n = int(p[P_N_ENG])

    if prop_kg <= 0.0 and d[D_FLAMEOUT] < 0.5:
        d[D_FLAMEOUT] = 1.0
        push_event(evlog, d, t_s, EV_FLAMEOUT, 0.0)
        for i in range(n):
            eng[i, E_F] = 0.0
            if eng[i, E_PHASE] != PH_OFF:
                eng[i, E_PHASE] = PH_FAILED

    if solid:
        if rising and d[D_SOLID_FIRED] < 0.5:
            d[D_SOLID_FIRED] = 1.0
            if d[D_IGN_CMD_T] < 0.0:
                d[D_IGN_CMD_T] = t_s
            push_event(evlog, d, t_s, EV_IGN_CMD, 0.0)
            delay = p[P_IGN_DELAY_S] + p[P_IGN_JITTER_S] * normal(rng, RNG_ENGINE)
            if delay < 0.0:
                delay = 0.0
            for i in range(n):
                if eng[i, E_PHASE] == PH_OFF:
                    eng[i, E_PHASE] = PH_IGNITING
                    eng[i, E_TIMER] = delay + d[D_IGN_EXTRA_S]
        avg_n = p[P_MOTOR_IMPULSE_NS] / p[P_MOTOR_BURN_S]
        for i in range(n):
            ph = eng[i, E_PHASE]
            if ph == PH_IGNITING:
                if eng[i, E_TIMER] <= 1e-9:
                    _light(i, t_s, eng, d, evlog)
                else:
                    eng[i, E_TIMER] -= dt_s
            elif ph == PH_SPOOL or ph == PH_RUNNING:
                tb = t_s - eng[i, E_LIGHT_T]
                if tb >= p[P_MOTOR_BURN_S]:
                    eng[i, E_PHASE] = PH_BURNOUT
                    push_event(evlog, d, t_s, EV_BURNOUT, i)
                elif ph == PH_SPOOL and (eng[i, E_SCALE] * motor_thrust_n(tb, motor)
                                         >= p[P_CONFIRM_FRAC] * avg_n):
                    eng[i, E_PHASE] = PH_RUNNING
                    if d[D_CONFIRMED] < 0.5:
                        d[D_CONFIRMED] = 1.0
                        push_event(evlog, d, t_s, EV_CONFIRMED, i)
        return

    if rising and d[D_FLAMEOUT] < 0.5:
        if d[D_IGN_CMD_T] < 0.0:
            d[D_IGN_CMD_T] = t_s
        push_event(evlog, d, t_s, EV_IGN_CMD, 0.0)
        d[D_CONFIRMED] = 0.0  # each ignition gets its own "thrust confirmed"
        for i in range(n):
            ph = eng[i, E_PHASE]
            if ph == PH_OFF or ph == PH_SHUTDOWN:
                eng[i, E_PHASE] = PH_IGNITING
                eng[i, E_TIMER] = p[P_DEAD_TIME_S] + d[D_IGN_EXTRA_S]
    if falling:
        push_event(evlog, d, t_s, EV_SHUTDOWN_CMD, 0.0)
        for i in range(n):
            ph = eng[i, E_PHASE]
            if ph == PH_IGNITING or ph == PH_SPOOL or ph == PH_RUNNING:
                eng[i, E_PHASE] = PH_SHUTDOWN

    thr = d[D_CMD_THROTTLE]
    if thr < p[P_MIN_THROTTLE]:
        thr = p[P_MIN_THROTTLE]
    if thr > 1.0:
        thr = 1.0
    k_spool = p[P_K_SPOOL]  # lag factors over one physics step (lag_factor)
    k_thr = p[P_K_THROTTLE]
    k_shut = p[P_K_SHUTDOWN]
    k_out = p[P_K_OUT]
    for i in range(n):
        ph = eng[i, E_PHASE]
        if ph == PH_IGNITING:
            if eng[i, E_TIMER] <= 1e-9:
                _light(i, t_s, eng, d, evlog)
                ph = eng[i, E_PHASE]
            else:
                eng[i, E_TIMER] -= dt_s
        if ph == PH_SPOOL or ph == PH_RUNNING:
            target = thr * eng[i, E_SCALE]
            k = k_spool if ph == PH_SPOOL else k_thr
            eng[i, E_F] += (target - eng[i, E_F]) * k
            if ph == PH_SPOOL and eng[i, E_F] >= p[P_CONFIRM_FRAC] * target:
                eng[i, E_PHASE] = PH_RUNNING
                if d[D_CONFIRMED] < 0.5:
                    d[D_CONFIRMED] = 1.0
                    push_event(evlog, d, t_s, EV_CONFIRMED, i)
        elif ph == PH_SHUTDOWN or ph == PH_FAILED:
            f = eng[i, E_F] * (1.0 - (k_shut if ph == PH_SHUTDOWN else k_out))
            if f < 1e-3:  # below 0.1 % of full flow: off
                f = 0.0
                if ph == PH_SHUTDOWN:
                    eng[i, E_PHASE] = PH_OFF
                    push_event(evlog, d, t_s, EV_SHUTDOWN, i)
            eng[i, E_F] = f
