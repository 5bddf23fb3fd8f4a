"""Thrust-vector-control actuator: two gimbal axes and the thrust direction.

Per axis, in this order (the AeroVECTOR / RocketPy-PR-965 servo structure):
clamp to +-max -> quantise to the servo resolution -> zero-order hold at the
servo update rate -> rate limit -> first-order lag.  Faults freeze an axis
(stuck) or scale the rate limit (slow).

Sign convention (shared with the firmware): a positive pitch angle gives a
positive torque about body +y (the nose leans toward +x_b) and a lateral
force toward -x_b; a positive yaw angle gives a positive torque about body +x
and a lateral force toward +y_b.  The engine sits below the CG.
"""
import math

from ._jit import jit
from .layout import (D_CMD_PITCH, D_CMD_YAW, D_DIR, D_TVC_HELD_P, D_TVC_HELD_Y, D_TVC_P,
                     D_TVC_RATE_SCALE, D_TVC_RL_P, D_TVC_RL_Y, D_TVC_STUCK_P, D_TVC_STUCK_Y,
                     D_TVC_Y, P_GIMBAL_MAX_RAD, P_GIMBAL_RATE_RADPS, P_GIMBAL_RES_RAD,
                     P_K_TVC, P_SERVO_DIV)


@jit
def servo_input(cmd_rad, max_rad, res_rad):
    """What the servo latches: the command clamped and quantised."""
    if cmd_rad > max_rad:
        cmd_rad = max_rad
    elif cmd_rad < -max_rad:
        cmd_rad = -max_rad
    if res_rad > 0.0:
        cmd_rad = math.floor(cmd_rad / res_rad + 0.5) * res_rad
        if cmd_rad > max_rad:
            cmd_rad -= res_rad
        elif cmd_rad < -max_rad:
            cmd_rad += res_rad
    return cmd_rad


@jit
def _axis(held, rl, out, max_step, k_lag):
    dv = held - rl
    if dv > max_step:
        dv = max_step
    elif dv < -max_step:
        dv = -max_step
    rl += dv
    out += (rl - out) * k_lag
    return rl, out


@jit
def thrust_direction(pitch_rad, yaw_rad):
    """Unit thrust direction in body axes for the gimbal angles."""
    sx = -math.sin(pitch_rad)
    sy = math.sin(yaw_rad)
    sz2 = 1.0 - sx * sx - sy * sy
    return sx, sy, math.sqrt(sz2) if sz2 > 0.0 else 0.0


@jit(inline=True)
def tvc_update(step, dt_s, d, p):
    """Advance both gimbal axes over one physics step (step = index of the step)."""
    div = int(p[P_SERVO_DIV])
    if step % div == 0:
        d[D_TVC_HELD_P] = servo_input(d[D_CMD_PITCH], p[P_GIMBAL_MAX_RAD], p[P_GIMBAL_RES_RAD])
        d[D_TVC_HELD_Y] = servo_input(d[D_CMD_YAW], p[P_GIMBAL_MAX_RAD], p[P_GIMBAL_RES_RAD])
    max_step = p[P_GIMBAL_RATE_RADPS] * d[D_TVC_RATE_SCALE] * dt_s
    k_lag = p[P_K_TVC]  # first-order lag factor over one step
    if d[D_TVC_STUCK_P] < 0.5:
        d[D_TVC_RL_P], d[D_TVC_P] = _axis(d[D_TVC_HELD_P], d[D_TVC_RL_P], d[D_TVC_P],
                                          max_step, k_lag)
    if d[D_TVC_STUCK_Y] < 0.5:
        d[D_TVC_RL_Y], d[D_TVC_Y] = _axis(d[D_TVC_HELD_Y], d[D_TVC_RL_Y], d[D_TVC_Y],
                                          max_step, k_lag)
    d[D_DIR], d[D_DIR + 1], d[D_DIR + 2] = thrust_direction(d[D_TVC_P], d[D_TVC_Y])
