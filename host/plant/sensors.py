"""Sensors: what the firmware sees, each at its own sample rate, all seeded.

Sampled at the end of physics steps whose index is a multiple of the
sensor's divider (rate = physics rate / divider); between samples the output
holds.  Positions refer to the body origin (centre of the feet plane, height
0 when standing on the pad); the IMU sits at the CG.
  IMU: specific force (body axes; +g on z_b at rest upright) and body rates,
       + turn-on bias (seeded, per run) + white noise of the datasheet noise
       density over the Nyquist band (sigma = ND sqrt(rate/2)), clipped at
       the range.
  Altimeter: baro (height + noise) or radar (slant range along -z_b =
       height / cos(tilt), invalid beyond `max_tilt_deg`); invalid above
       `max_range_m`, on a random dropout, or in a dropout-fault window.
  GNSS: body-origin position and velocity + noise (horizontal / vertical /
       velocity sigma), visible `latency_s` after the sample instant;
       random dropouts and dropout-fault windows clear the valid bit.
  Chamber pressure: total thrust / total nominal thrust + noise; the
       thrust-sensed flag is chamber_p_frac >= `sensed_frac`.
  Legs: contact flag = any foot on the ground.
Invalid samples keep the last good values and clear the valid flag.
"""
import math

from ._jit import jit
from .layout import (A_CG_Z, A_LEG_CONTACT, A_SF, A_THRUST, D_ACC_BIAS, D_ALT_OUT_UNTIL,
                     D_GNSS_COUNT, D_GNSS_HEAD, D_GNSS_OUT_UNTIL, D_GYR_BIAS, D_S_ACC,
                     D_S_ALT, D_S_ALT_VALID, D_S_CHAMBER, D_S_GNSS_POS, D_S_GNSS_VALID,
                     D_S_GNSS_VEL, D_S_GYR, D_S_LEG_CONTACT, D_S_THRUST_SENSED, G_POS,
                     G_RELEASE, G_VALID, G_VEL, GN_CAP, P_ACC_RANGE, P_ACC_SIGMA, P_ALT_DIV,
                     P_ALT_DROP_P, P_ALT_MAX_M, P_ALT_MAX_TILT_RAD, P_ALT_RADAR, P_ALT_SIGMA,
                     P_CH_DIV, P_CH_SENSED_FRAC, P_CH_SIGMA, P_GNSS_DIV, P_GNSS_DROP_P,
                     P_GNSS_LAT_STEPS, P_GNSS_SIGMA_H, P_GNSS_SIGMA_V, P_GNSS_SIGMA_VEL,
                     P_GYR_RANGE, P_GYR_SIGMA, P_H_S, P_IMU_DIV, P_LEG_DIV, P_N_ENG,
                     P_THRUST_SL_N, RNG_ALT, RNG_GNSS, RNG_IMU, X_Q, X_R, X_V, X_W)
from .rng import normal, uniform


@jit
def _clip(v, lim):
    if v > lim:
        return lim
    if v < -lim:
        return -lim
    return v


@jit
def body_origin_state(x, cg_z):
    """Position and velocity (world) of the body origin, the point 'height' refers to."""
    q0 = x[X_Q]
    q1 = x[X_Q + 1]
    q2 = x[X_Q + 2]
    q3 = x[X_Q + 3]
    # third column of R (the body axis in world) times -cg_z: origin relative to CG
    ax = 2.0 * (q1 * q3 + q0 * q2)
    ay = 2.0 * (q2 * q3 - q0 * q1)
    az = 1.0 - 2.0 * (q1 * q1 + q2 * q2)
    px = x[X_R] - cg_z * ax
    py = x[X_R + 1] - cg_z * ay
    pz = x[X_R + 2] - cg_z * az
    # v + R (w x r_b) with r_b = (0, 0, -cg_z): w x r_b = (-wy * -cg_z... ) in body
    wx = x[X_W]
    wy = x[X_W + 1]
    bx = -wy * cg_z  # (w x (0,0,-c)) = (wy*(-c) - 0, 0 - wx*(-c), 0)
    by = wx * cg_z
    vx = x[X_V] + (1.0 - 2.0 * (q2 * q2 + q3 * q3)) * bx + 2.0 * (q1 * q2 - q0 * q3) * by
    vy = x[X_V + 1] + 2.0 * (q1 * q2 + q0 * q3) * bx + (1.0 - 2.0 * (q1 * q1 + q3 * q3)) * by
    vz = x[X_V + 2] + 2.0 * (q1 * q3 - q0 * q2) * bx + 2.0 * (q2 * q3 + q0 * q1) * by
    return px, py, pz, vx, vy, vz, az


@jit(inline=True)
def sample_sensors(step, x, d, p, aux, gbuf, rng, force):
    """Take the samples due at the end of physics step `step` (all of them if force)."""
    t_s = step * p[P_H_S]
    alt_due = force or step % int(p[P_ALT_DIV]) == 0
    gnss_due = force or step % int(p[P_GNSS_DIV]) == 0
    if alt_due or gnss_due:
        px, py, pz, vx, vy, vz, cos_tilt = body_origin_state(x, aux[A_CG_Z])

    if force or step % int(p[P_IMU_DIV]) == 0:
        for j in range(3):
            d[D_S_ACC + j] = _clip(aux[A_SF + j] + d[D_ACC_BIAS + j]
                                   + p[P_ACC_SIGMA] * normal(rng, RNG_IMU), p[P_ACC_RANGE])
        for j in range(3):
            d[D_S_GYR + j] = _clip(x[X_W + j] + d[D_GYR_BIAS + j]
                                   + p[P_GYR_SIGMA] * normal(rng, RNG_IMU), p[P_GYR_RANGE])

    if alt_due:
        noise = p[P_ALT_SIGMA] * normal(rng, RNG_ALT)
        drop = uniform(rng, RNG_ALT) < p[P_ALT_DROP_P]
        if p[P_ALT_RADAR] > 0.5:
            ok = cos_tilt >= math.cos(p[P_ALT_MAX_TILT_RAD]) and cos_tilt > 0.0
            reading = (pz / cos_tilt if ok else 0.0) + noise
        else:
            ok = True
            reading = pz + noise
        ok = ok and not drop and pz <= p[P_ALT_MAX_M] and t_s >= d[D_ALT_OUT_UNTIL]
        if ok:
            d[D_S_ALT] = reading
            d[D_S_ALT_VALID] = 1.0
        else:
            d[D_S_ALT_VALID] = 0.0

    if gnss_due:
        head = int(d[D_GNSS_HEAD])
        count = int(d[D_GNSS_COUNT])
        if count == GN_CAP:  # drop the oldest (cannot happen with a validated latency)
            head = (head + 1) % GN_CAP
            count -= 1
        k = (head + count) % GN_CAP
        gbuf[k, G_RELEASE] = step + p[P_GNSS_LAT_STEPS]
        gbuf[k, G_POS] = px + p[P_GNSS_SIGMA_H] * normal(rng, RNG_GNSS)
        gbuf[k, G_POS + 1] = py + p[P_GNSS_SIGMA_H] * normal(rng, RNG_GNSS)
        gbuf[k, G_POS + 2] = pz + p[P_GNSS_SIGMA_V] * normal(rng, RNG_GNSS)
        gbuf[k, G_VEL] = vx + p[P_GNSS_SIGMA_VEL] * normal(rng, RNG_GNSS)
        gbuf[k, G_VEL + 1] = vy + p[P_GNSS_SIGMA_VEL] * normal(rng, RNG_GNSS)
        gbuf[k, G_VEL + 2] = vz + p[P_GNSS_SIGMA_VEL] * normal(rng, RNG_GNSS)
        drop = uniform(rng, RNG_GNSS) < p[P_GNSS_DROP_P]
        gbuf[k, G_VALID] = 0.0 if (drop or t_s < d[D_GNSS_OUT_UNTIL]) else 1.0
        d[D_GNSS_HEAD] = head
        d[D_GNSS_COUNT] = count + 1
    # release the samples whose latency has passed
    head = int(d[D_GNSS_HEAD])
    count = int(d[D_GNSS_COUNT])
    while count > 0 and gbuf[head, G_RELEASE] <= step:
        if gbuf[head, G_VALID] > 0.5:
            for j in range(3):
                d[D_S_GNSS_POS + j] = gbuf[head, G_POS + j]
                d[D_S_GNSS_VEL + j] = gbuf[head, G_VEL + j]
            d[D_S_GNSS_VALID] = 1.0
        else:
            d[D_S_GNSS_VALID] = 0.0
        head = (head + 1) % GN_CAP
        count -= 1
    d[D_GNSS_HEAD] = head
    d[D_GNSS_COUNT] = count

    if force or step % int(p[P_CH_DIV]) == 0:
        frac = aux[A_THRUST] / (p[P_N_ENG] * p[P_THRUST_SL_N])
        frac += p[P_CH_SIGMA] * normal(rng, RNG_ALT)
        if frac < 0.0:
            frac = 0.0
        d[D_S_CHAMBER] = frac
        d[D_S_THRUST_SENSED] = 1.0 if frac >= p[P_CH_SENSED_FRAC] else 0.0

    if force or step % int(p[P_LEG_DIV]) == 0:
        d[D_S_LEG_CONTACT] = 1.0 if aux[A_LEG_CONTACT] > 0.0 else 0.0
