"""The 6-DOF rigid-body core: equations of motion, fixed-step RK4, the step loop.

State x: CG position and velocity (world, flat earth, z up), attitude
quaternion body->world, body rates, propellant mass.  Forces in body axes:
thrust of every engine along the gimballed direction at its mount point,
roll-control torque, aerodynamic force at the CP, ground contact at the feet,
tail and nose; gravity in world axes.
  m dv/dt = R F_b + m g            (thrust is the momentum flux of the exhaust)
  I dw/dt = tau - w x (I w)        (I diagonal, Ixx = Iyy; dI/dt and jet damping
                                    are neglected)
  dq/dt  = q (x) (0, w) / 2
  dm/dt  = -mdot
Mass, CG and inertia are re-evaluated from the propellant left at every
derivative call (massprops.py), so the CG moves as propellant burns.

Each physics step (`advance`): faults -> engines -> TVC -> legs -> wind and
air (all discrete, held over the step; controller commands are held between
calls) -> RK4 -> contact monitor -> sensors due at the end of the step.  `advance`
is the only compiled entry point the facade calls.
"""
import math

import numpy as np

from ._jit import jit
from .aero import aero_force_body, plume_drag_factor
from .atmosphere import isa
from .contact import ground_force, legs_update, monitor
from .engine import engine_thrust, engine_update
from .faults import apply_faults
from .layout import (A_CG_Z, A_LEG_CONTACT, A_MASS, A_MAX_PEN, A_N_CONTACT, A_SF, A_STRIKE,
                     A_THRUST, D_A_SND, D_CMD_ROLL, D_DIR, D_DONE, D_LEGS_DEPLOY, D_MASS_KG,
                     D_N_EVENTS, D_P_AMB, D_RHO, D_SF, D_STEP, D_THRUST_N, D_WIND_X, D_WIND_Y,
                     D_WIND_Z, E_X, E_Y, NA, NX, P_ATMOSPHERE, P_BASE_Z_M, P_CG_DRY_M, P_CH_DIV,
                     P_CN_ALPHA, P_CP_Z_M, P_DRY_MASS_KG, P_FOOT_RADIUS_M, P_FOOT_XY, P_FRICTION_MU,
                     P_GIMBAL_Z_M, P_G_MPS2, P_H_S, P_IMU_DIV, P_IXX_DRY, P_IZZ_DRY, P_LEG_C,
                     P_LEG_DIV, P_LEG_K, P_MIN_THROTTLE, P_NOSE_Z_M, P_N_ENG, P_N_LEGS,
                     P_PAD_ALT_M, P_PLUME_DRAG_FRAC, P_PROP_CAP_KG, P_REF_AREA_M2,
                     P_ROLL_TORQUE_NM, P_STROKE_M, P_TANK_BOTTOM_M, P_TANK_LENGTH_M,
                     P_TANK_RADIUS_M, P_THRUST_SL_N, X_MP, X_Q, X_R, X_V, X_W)
from .massprops import mass_properties
from .sensors import sample_sensors
from .tvc import tvc_update
from .wind import wind_update


@jit
def reach_m(p):
    """No point of the vehicle is further than this from its CG."""
    return p[P_NOSE_Z_M] + p[P_FOOT_RADIUS_M]


@jit(inline=True)
def air_update(x, d, p):
    """Density, pressure and speed of sound at the CG, held over the coming step."""
    d[D_RHO], d[D_P_AMB], d[D_A_SND] = isa(x[X_R + 2] + p[P_PAD_ALT_M], p[P_ATMOSPHERE])


@jit(inline=True)
def derivative(t_s, x, d, eng, p, cd_tab, motor, dx, aux):
    """dx/dt at (t_s, x) with the discrete state d held; fills aux (specific force, ...)."""
    mp = x[X_MP] if x[X_MP] > 0.0 else 0.0
    m, cg, ixx, izz = mass_properties(mp, p[P_DRY_MASS_KG], p[P_CG_DRY_M], p[P_IXX_DRY],
                                      p[P_IZZ_DRY], p[P_PROP_CAP_KG], p[P_TANK_BOTTOM_M],
                                      p[P_TANK_LENGTH_M], p[P_TANK_RADIUS_M])
    q0 = x[X_Q]
    q1 = x[X_Q + 1]
    q2 = x[X_Q + 2]
    q3 = x[X_Q + 3]
    qn = 1.0 / math.sqrt(q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3)
    a0 = q0 * qn
    a1 = q1 * qn
    a2 = q2 * qn
    a3 = q3 * qn
    # rotation body -> world
    r00 = 1.0 - 2.0 * (a2 * a2 + a3 * a3)
    r01 = 2.0 * (a1 * a2 - a0 * a3)
    r02 = 2.0 * (a1 * a3 + a0 * a2)
    r10 = 2.0 * (a1 * a2 + a0 * a3)
    r11 = 1.0 - 2.0 * (a1 * a1 + a3 * a3)
    r12 = 2.0 * (a2 * a3 - a0 * a1)
    r20 = 2.0 * (a1 * a3 - a0 * a2)
    r21 = 2.0 * (a2 * a3 + a0 * a1)
    r22 = 1.0 - 2.0 * (a1 * a1 + a2 * a2)
    vx = x[X_V]
    vy = x[X_V + 1]
    vz = x[X_V + 2]
    wx = x[X_W]
    wy = x[X_W + 1]
    wz = x[X_W + 2]
    rho = d[D_RHO]  # air at the vehicle, held over the step (like the wind)
    p_amb = d[D_P_AMB]
    a_snd = d[D_A_SND]

    fx = 0.0
    fy = 0.0
    fz = 0.0
    tx = 0.0
    ty = 0.0
    tz = 0.0
    # ---- engines: thrust along the gimballed direction at each mount point
    ux = d[D_DIR]  # thrust direction from the gimbal angles, held over the step
    uy = d[D_DIR + 1]
    uz = d[D_DIR + 2]
    ez = p[P_GIMBAL_Z_M] - cg
    thrust = 0.0
    mdot = 0.0
    n_eng = int(p[P_N_ENG])
    for i in range(n_eng):
        t_n, md = engine_thrust(i, t_s, eng, p, motor, p_amb, mp)
        if t_n > 0.0:
            ex = eng[i, E_X]
            ey = eng[i, E_Y]
            gx = t_n * ux
            gy = t_n * uy
            gz = t_n * uz
            fx += gx
            fy += gy
            fz += gz
            tx += ey * gz - ez * gy
            ty += ez * gx - ex * gz
            tz += ex * gy - ey * gx
        thrust += t_n
        mdot += md
    # ---- roll control
    roll = d[D_CMD_ROLL]
    if roll > 1.0:
        roll = 1.0
    elif roll < -1.0:
        roll = -1.0
    tz += roll * p[P_ROLL_TORQUE_NM]
    # ---- aerodynamics at the CP
    if rho > 0.0 and p[P_REF_AREA_M2] > 0.0:
        ax = vx - d[D_WIND_X]
        ay = vy - d[D_WIND_Y]
        az = vz - d[D_WIND_Z]
        cpz = p[P_CP_Z_M] - cg
        vbx = r00 * ax + r10 * ay + r20 * az + wy * cpz
        vby = r01 * ax + r11 * ay + r21 * az - wx * cpz
        vbz = r02 * ax + r12 * ay + r22 * az
        full = n_eng * p[P_THRUST_SL_N] * p[P_MIN_THROTTLE]
        k_ax = plume_drag_factor(vbz, thrust, full, p[P_PLUME_DRAG_FRAC])
        gx, gy, gz = aero_force_body(vbx, vby, vbz, rho, a_snd, p[P_REF_AREA_M2],
                                     p[P_CN_ALPHA], cd_tab, k_ax)
        fx += gx
        fy += gy
        fz += gz
        tx -= cpz * gy
        ty += cpz * gx
    # ---- ground contact
    n_contact = 0.0
    n_legs_on = 0.0
    max_pen = 0.0
    strike = 0.0
    if x[X_R + 2] < reach_m(p):
        k = p[P_LEG_K]
        c = p[P_LEG_C]
        mu = p[P_FRICTION_MU]
        n_legs = int(p[P_N_LEGS])
        legs_out = d[D_LEGS_DEPLOY] >= 1.0
        n_pts = n_legs + 2 if legs_out else 2
        for j in range(n_pts):
            if j == 0:
                bx = 0.0
                by = 0.0
                bz = p[P_BASE_Z_M] - cg
            elif j == 1:
                bx = 0.0
                by = 0.0
                bz = p[P_NOSE_Z_M] - cg
            else:
                bx = p[P_FOOT_XY + 2 * (j - 2)]
                by = p[P_FOOT_XY + 2 * (j - 2) + 1]
                bz = -cg
            pz = x[X_R + 2] + r20 * bx + r21 * by + r22 * bz
            if pz >= 0.0:
                continue
            cx = wy * bz - wz * by  # w x b, body
            cy = wz * bx - wx * bz
            cz = wx * by - wy * bx
            pvx = vx + r00 * cx + r01 * cy + r02 * cz
            pvy = vy + r10 * cx + r11 * cy + r12 * cz
            pvz = vz + r20 * cx + r21 * cy + r22 * cz
            gwx, gwy, gwz = ground_force(pz, pvx, pvy, pvz, k, c, mu)
            gx = r00 * gwx + r10 * gwy + r20 * gwz  # world -> body
            gy = r01 * gwx + r11 * gwy + r21 * gwz
            gz = r02 * gwx + r12 * gwy + r22 * gwz
            fx += gx
            fy += gy
            fz += gz
            tx += by * gz - bz * gy
            ty += bz * gx - bx * gz
            tz += bx * gy - by * gx
            n_contact += 1.0
            if j >= 2:
                n_legs_on += 1.0
                if -pz > max_pen:
                    max_pen = -pz
                if -pz > p[P_STROKE_M]:
                    strike = 2.0
            else:
                strike = 1.0
    # ---- equations of motion
    dx[X_R] = vx
    dx[X_R + 1] = vy
    dx[X_R + 2] = vz
    dx[X_V] = (r00 * fx + r01 * fy + r02 * fz) / m
    dx[X_V + 1] = (r10 * fx + r11 * fy + r12 * fz) / m
    dx[X_V + 2] = (r20 * fx + r21 * fy + r22 * fz) / m - p[P_G_MPS2]
    dx[X_Q] = -0.5 * (q1 * wx + q2 * wy + q3 * wz)
    dx[X_Q + 1] = 0.5 * (q0 * wx + q2 * wz - q3 * wy)
    dx[X_Q + 2] = 0.5 * (q0 * wy + q3 * wx - q1 * wz)
    dx[X_Q + 3] = 0.5 * (q0 * wz + q1 * wy - q2 * wx)
    dx[X_W] = (tx - (izz - ixx) * wy * wz) / ixx
    dx[X_W + 1] = (ty - (ixx - izz) * wz * wx) / ixx
    dx[X_W + 2] = tz / izz
    dx[X_MP] = -mdot
    aux[A_SF] = fx / m
    aux[A_SF + 1] = fy / m
    aux[A_SF + 2] = fz / m
    aux[A_THRUST] = thrust
    aux[A_N_CONTACT] = n_contact
    aux[A_LEG_CONTACT] = n_legs_on
    aux[A_MAX_PEN] = max_pen
    aux[A_STRIKE] = strike
    aux[A_MASS] = m
    aux[A_CG_Z] = cg


_RK4_C = (0.0, 0.5, 0.5, 1.0)  # stage times as fractions of the step


@jit
def rk4_step(t_s, h_s, x, d, eng, p, cd_tab, motor, ks, xt, aux):
    """One classical RK4 step of x over [t_s, t_s + h_s]; quaternion renormalised.
    ks: float64[4, NX] for the stage slopes.  The four stages share one call
    of the derivative (compiled into this loop once, see jit(inline))."""
    for i in range(NX):
        xt[i] = x[i]
    for s in range(4):
        ds = ks[s]
        derivative(t_s + _RK4_C[s] * h_s, xt, d, eng, p, cd_tab, motor, ds, aux)
        if s < 3:
            a = _RK4_C[s + 1] * h_s
            for i in range(NX):
                xt[i] = x[i] + a * ds[i]
    for i in range(NX):
        x[i] += h_s / 6.0 * (ks[0, i] + 2.0 * ks[1, i] + 2.0 * ks[2, i] + ks[3, i])
    qn = 1.0 / math.sqrt(x[X_Q] ** 2 + x[X_Q + 1] ** 2 + x[X_Q + 2] ** 2 + x[X_Q + 3] ** 2)
    for i in range(4):
        x[X_Q + i] *= qn
    if x[X_MP] < 0.0:
        x[X_MP] = 0.0


@jit
def _end_of_step(t_s, x, d, eng, p, cd_tab, motor, scratch, aux):
    derivative(t_s, x, d, eng, p, cd_tab, motor, scratch, aux)
    d[D_THRUST_N] = aux[A_THRUST]
    d[D_MASS_KG] = aux[A_MASS]
    d[D_SF] = aux[A_SF]
    d[D_SF + 1] = aux[A_SF + 1]
    d[D_SF + 2] = aux[A_SF + 2]


@jit
def advance(x, d, eng, p, cd_tab, motor, flt, gbuf, evlog, rng, n_steps, init):
    """Run n_steps physics steps (or, with init, just take the t=0 samples).

    Returns the number of events logged in evlog by this call."""
    d[D_N_EVENTS] = 0.0
    h = p[P_H_S]
    ks = np.empty((4, NX))
    k1 = ks[0]
    xt = np.empty(NX)
    aux = np.zeros(NA)
    step = int(d[D_STEP])
    if init:  # the air and the samples at t = 0 (the first step refreshes the wind again)
        wind_update(step, h, x, d, p, rng)
        air_update(x, d, p)
        _end_of_step(step * h, x, d, eng, p, cd_tab, motor, k1, aux)
        monitor(step * h, 0.0, x, d, p, aux, evlog)
        sample_sensors(step, x, d, p, aux, gbuf, rng, True)
        return int(d[D_N_EVENTS])
    imu_div = int(p[P_IMU_DIV])
    ch_div = int(p[P_CH_DIV])
    leg_div = int(p[P_LEG_DIV])
    reach = reach_m(p)
    for n in range(n_steps):
        t = step * h
        if d[D_DONE] < 0.5:
            apply_faults(t, flt, d, eng, p, evlog)
            engine_update(t, h, eng, d, p, motor, x[X_MP], rng, evlog)
            tvc_update(step, h, d, p)
            legs_update(t, h, d, p, evlog)
            wind_update(step, h, x, d, p, rng)
            air_update(x, d, p)
            rk4_step(t, h, x, d, eng, p, cd_tab, motor, ks, xt, aux)
        step += 1
        d[D_STEP] = step
        t = step * h
        if d[D_DONE] > 0.5:
            if n == 0:  # frozen: the forces stay what they were
                _end_of_step(t, x, d, eng, p, cd_tab, motor, k1, aux)
        elif (x[X_R + 2] < reach or n == n_steps - 1 or step % imu_div == 0
                or step % ch_div == 0 or step % leg_div == 0):
            # forces at the end of the step: IMU, chamber pressure, contact
            _end_of_step(t, x, d, eng, p, cd_tab, motor, k1, aux)
        else:  # far above the ground and no sensor needs the forces now
            aux[A_N_CONTACT] = 0.0
            aux[A_LEG_CONTACT] = 0.0
            aux[A_MAX_PEN] = 0.0
            aux[A_STRIKE] = 0.0
        monitor(t, h, x, d, p, aux, evlog)
        sample_sensors(step, x, d, p, aux, gbuf, rng, False)
    return int(d[D_N_EVENTS])
