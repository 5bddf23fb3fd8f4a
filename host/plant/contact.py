"""Ground contact: spring-damper legs, friction, bounce, tip-over, touchdown.

Contact points (body frame, origin on the axis in the plane of the feet):
the feet (n legs at `foot_radius_m`, leg j at azimuth 2 pi j / n from +x_b,
only once the legs are deployed), the tail (`base_m` on the axis) and the
nose.  A point below the ground (z < 0) gets a normal force k pen - c v_z
(never pulling) and a Coulomb friction force mu N, regularised below
V_EPS so it stays smooth for RK4.  Leg compression beyond `stroke_m` (the
crush core is used up) or the tail / nose touching the ground is a crash.

After each step `monitor` keeps the touchdown record (first contact: vertical
and horizontal speed, tilt, angular rate, position) and decides when the
plant is done: at rest (|v| < 0.1 m/s and |w| < 0.05 rad/s for 1 s), tipped
(tilt beyond the support polygon: atan(r cos(pi/n) / h_cg)), or crashed.
Landed-or-not against the vehicle's criteria is decided by the facade.
"""
import math

from ._jit import jit
from .events import push_event
from .layout import (A_CG_Z, A_LEG_CONTACT, A_MAX_PEN, A_N_CONTACT, A_STRIKE, D_AIR_S, D_ARMED,
                     D_BOUNCES, D_CMD_LEGS, D_CRASH_REASON, D_DONE, D_LEG_CONTACT,
                     D_LEGS_DEPLOY, D_MAX_PEN, D_N_CONTACT, D_OUTCOME, D_SETTLE_S, D_TD,
                     D_TD_RATE, D_TD_T, D_TD_TILT, D_TD_VH, D_TD_VZ, D_TD_X, D_TD_Y, EV_BOUNCE,
                     EV_CRASHED, EV_LEGS_DEPLOYED, EV_SETTLED, EV_TIPPED, EV_TOUCHDOWN,
                     OUT_CRASHED, OUT_SETTLED, OUT_TIPPED, P_DEPLOY_S, P_FOOT_RADIUS_M,
                     P_N_LEGS, X_Q, X_R, X_V, X_W)

V_EPS_MPS = 0.05       # friction regularisation speed
SETTLE_V_MPS = 0.1
SETTLE_W_RADPS = 0.05
SETTLE_S = 1.0
BOUNCE_AIR_S = 0.02    # all points off the ground this long after touchdown = a bounce
ARM_AIR_S = 0.2        # a vehicle starting on the pad arms touchdown after this long airborne
                       # (one starting in the air is armed from the start: plant.py)


@jit(inline=True)
def legs_update(t_s, dt_s, d, p, evlog):
    """Legs deploy over deploy_time_s once commanded down; they cannot retract."""
    if d[D_LEGS_DEPLOY] >= 1.0 or (d[D_CMD_LEGS] < 0.5 and d[D_LEGS_DEPLOY] <= 0.0):
        return
    if p[P_DEPLOY_S] <= 0.0:
        d[D_LEGS_DEPLOY] = 1.0
    else:
        d[D_LEGS_DEPLOY] += dt_s / p[P_DEPLOY_S]
    if d[D_LEGS_DEPLOY] >= 1.0 - 1e-9:
        d[D_LEGS_DEPLOY] = 1.0
        push_event(evlog, d, t_s, EV_LEGS_DEPLOYED, 0.0)


@jit
def ground_force(pz_m, vx, vy, vz, k_npm, c_nspm, mu):
    """World-frame force (N) on a point at height pz_m moving at (vx, vy, vz)."""
    pen = -pz_m
    if pen <= 0.0:
        return 0.0, 0.0, 0.0
    fn = k_npm * pen - c_nspm * vz
    if fn <= 0.0:
        return 0.0, 0.0, 0.0
    vt = math.sqrt(vx * vx + vy * vy)
    s = mu * fn / (vt if vt > V_EPS_MPS else V_EPS_MPS)
    return -s * vx, -s * vy, fn


@jit
def tip_angle_rad(foot_radius_m, n_legs, cg_height_m):
    """Tilt at which the CG passes over the edge of the support polygon."""
    return math.atan2(foot_radius_m * math.cos(math.pi / n_legs), cg_height_m)


@jit
def tilt_rad(q0, q1, q2, q3):
    """Angle between the body axis and the vertical."""
    c = 1.0 - 2.0 * (q1 * q1 + q2 * q2)
    n = q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3
    c /= n
    if c > 1.0:
        c = 1.0
    elif c < -1.0:
        c = -1.0
    return math.acos(c)


@jit(inline=True)
def monitor(t_s, dt_s, x, d, p, aux, evlog):
    """Touchdown record, bounces and the end-of-run decision after one step."""
    if d[D_DONE] > 0.5:
        return
    n_contact = aux[A_N_CONTACT]
    d[D_N_CONTACT] = n_contact
    d[D_LEG_CONTACT] = aux[A_LEG_CONTACT]
    if d[D_ARMED] < 0.5:
        if n_contact == 0.0:
            d[D_AIR_S] += dt_s
            if d[D_AIR_S] >= ARM_AIR_S:
                d[D_ARMED] = 1.0
        else:
            d[D_AIR_S] = 0.0
        return
    if d[D_TD] < 0.5 and n_contact == 0.0:
        return  # still flying
    tilt = tilt_rad(x[X_Q], x[X_Q + 1], x[X_Q + 2], x[X_Q + 3])
    vx = x[X_V]
    vy = x[X_V + 1]
    vz = x[X_V + 2]
    wx = x[X_W]
    wy = x[X_W + 1]
    wz = x[X_W + 2]
    if d[D_TD] < 0.5:
        if n_contact == 0.0:
            return
        d[D_TD] = 1.0
        d[D_TD_T] = t_s
        d[D_TD_VZ] = vz
        d[D_TD_VH] = math.sqrt(vx * vx + vy * vy)
        d[D_TD_TILT] = tilt
        d[D_TD_RATE] = math.sqrt(wx * wx + wy * wy + wz * wz)
        # position of the body origin (centre of the feet)
        c = aux[A_CG_Z]
        q0 = x[X_Q]
        q1 = x[X_Q + 1]
        q2 = x[X_Q + 2]
        q3 = x[X_Q + 3]
        d[D_TD_X] = x[X_R] - c * 2.0 * (q1 * q3 + q0 * q2)
        d[D_TD_Y] = x[X_R + 1] - c * 2.0 * (q2 * q3 - q0 * q1)
        d[D_AIR_S] = 0.0
        push_event(evlog, d, t_s, EV_TOUCHDOWN, 0.0)
    if aux[A_MAX_PEN] > d[D_MAX_PEN]:
        d[D_MAX_PEN] = aux[A_MAX_PEN]
    strike = aux[A_STRIKE]
    if strike > 0.0 or x[X_R + 2] < -1.0:
        d[D_OUTCOME] = OUT_CRASHED
        d[D_DONE] = 1.0
        d[D_CRASH_REASON] = strike if strike > 0.0 else 3.0
        push_event(evlog, d, t_s, EV_CRASHED, d[D_CRASH_REASON])
        return
    if n_contact > 0.0 and tilt > tip_angle_rad(p[P_FOOT_RADIUS_M], p[P_N_LEGS], aux[A_CG_Z]):
        d[D_OUTCOME] = OUT_TIPPED
        d[D_DONE] = 1.0
        push_event(evlog, d, t_s, EV_TIPPED, 0.0)
        return
    if n_contact == 0.0:
        d[D_AIR_S] += dt_s
        if d[D_AIR_S] >= BOUNCE_AIR_S and d[D_AIR_S] - dt_s < BOUNCE_AIR_S:
            d[D_BOUNCES] += 1.0
            push_event(evlog, d, t_s, EV_BOUNCE, d[D_BOUNCES])
        d[D_SETTLE_S] = 0.0
        return
    d[D_AIR_S] = 0.0
    if (vx * vx + vy * vy + vz * vz < SETTLE_V_MPS * SETTLE_V_MPS
            and wx * wx + wy * wy + wz * wz < SETTLE_W_RADPS * SETTLE_W_RADPS):
        d[D_SETTLE_S] += dt_s
        if d[D_SETTLE_S] >= SETTLE_S - 1e-9:
            d[D_OUTCOME] = OUT_SETTLED
            d[D_DONE] = 1.0
            push_event(evlog, d, t_s, EV_SETTLED, 0.0)
    else:
        d[D_SETTLE_S] = 0.0
