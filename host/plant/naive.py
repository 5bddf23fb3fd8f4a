"""The same physics step written naively: plain CPython + small numpy arrays.

Used by the bench (plant_speedup_vs_numpy_naive) and by a test that checks it
against the compiled step, so the speed-up is measured against the same model.
  * equations of motion and RK4: written here in vector style, numpy 3-vectors
    and a 3x3 rotation matrix, @, a 3-element cross() (np.cross itself would
    make this reference ~4x slower still) - how one would first write it;
  * scalar physics formulas (ISA, engine thrust, Cd(M), contact force, ...) and
    the once-per-step updates (faults, engines, TVC, legs, wind, contact
    monitor, sensors): the very same source as the compiled core, executed by
    CPython (`unjit` clones a jitted function with its jitted callees swapped
    for their Python versions; the RNG uses its pure-Python twin).
"""
import types

import numpy as np

from . import aero, atmosphere, contact, engine, faults, massprops, rng, sensors, tvc, wind
from . import layout as L
from .dynamics import reach_m

_CLONES = {}
_SWAP = {rng.normal: rng.normal_py, rng.uniform: rng.uniform_py, rng.next_u64: rng.next_u64_py}


def unjit(fn):
    """Pure-Python clone of a jitted function whose jitted callees are also unjitted."""
    if fn in _SWAP:
        return _SWAP[fn]
    if fn in _CLONES:
        return _CLONES[fn]
    py = fn.py_func
    g = dict(py.__globals__)
    clone = types.FunctionType(py.__code__, g, py.__name__, py.__defaults__, py.__closure__)
    _CLONES[fn] = clone
    for k, v in list(g.items()):
        if hasattr(v, "py_func"):  # a numba dispatcher
            g[k] = unjit(v)
    return clone


isa = unjit(atmosphere.isa)
mass_properties = unjit(massprops.mass_properties)
engine_thrust = unjit(engine.engine_thrust)
engine_update = unjit(engine.engine_update)
tvc_update = unjit(tvc.tvc_update)
aero_force_body = unjit(aero.aero_force_body)
plume_drag_factor = unjit(aero.plume_drag_factor)
ground_force = unjit(contact.ground_force)
legs_update = unjit(contact.legs_update)
monitor = unjit(contact.monitor)
apply_faults = unjit(faults.apply_faults)
wind_update = unjit(wind.wind_update)
sample_sensors = unjit(sensors.sample_sensors)
_reach_m = unjit(reach_m)


def cross(a, b):
    """3-vector cross product (np.cross is ~10x slower on 3-vectors: generic axis handling)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                     a[0] * b[1] - a[1] * b[0]])


def quat_to_dcm(q):
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def quat_mul(a, b):
    return np.array([a[0] * b[0] - a[1:] @ b[1:],
                     *(a[0] * b[1:] + b[0] * a[1:] + cross(a[1:], b[1:]))])


def derivative(t_s, x, d, eng, p, cd_tab, motor):
    """(dx/dt, aux) - the same equations as dynamics.derivative, in numpy vectors."""
    r, v, q, w = x[0:3], x[3:6], x[6:10], x[10:13]
    mp = max(x[L.X_MP], 0.0)
    m, cg, ixx, izz = mass_properties(mp, p[L.P_DRY_MASS_KG], p[L.P_CG_DRY_M], p[L.P_IXX_DRY],
                                      p[L.P_IZZ_DRY], p[L.P_PROP_CAP_KG], p[L.P_TANK_BOTTOM_M],
                                      p[L.P_TANK_LENGTH_M], p[L.P_TANK_RADIUS_M])
    inertia = np.array([ixx, ixx, izz])
    rot = quat_to_dcm(q / np.linalg.norm(q))
    rho, p_amb, a_snd = d[L.D_RHO], d[L.D_P_AMB], d[L.D_A_SND]
    force = np.zeros(3)
    torque = np.zeros(3)
    u = d[L.D_DIR:L.D_DIR + 3]
    thrust = 0.0
    mdot = 0.0
    n_eng = int(p[L.P_N_ENG])
    for i in range(n_eng):
        t_n, md = engine_thrust(i, t_s, eng, p, motor, p_amb, mp)
        if t_n > 0.0:
            f = t_n * u
            force += f
            torque += cross(np.array([eng[i, L.E_X], eng[i, L.E_Y], p[L.P_GIMBAL_Z_M] - cg]), f)
        thrust += t_n
        mdot += md
    torque[2] += min(max(d[L.D_CMD_ROLL], -1.0), 1.0) * p[L.P_ROLL_TORQUE_NM]
    if rho > 0.0 and p[L.P_REF_AREA_M2] > 0.0:
        r_cp = np.array([0.0, 0.0, p[L.P_CP_Z_M] - cg])
        vb = rot.T @ (v - d[L.D_WIND_X:L.D_WIND_Z + 1]) + cross(w, r_cp)
        k_ax = plume_drag_factor(vb[2], thrust, n_eng * p[L.P_THRUST_SL_N] * p[L.P_MIN_THROTTLE],
                                 p[L.P_PLUME_DRAG_FRAC])
        fa = np.array(aero_force_body(vb[0], vb[1], vb[2], rho, a_snd, p[L.P_REF_AREA_M2],
                                      p[L.P_CN_ALPHA], cd_tab, k_ax))
        force += fa
        torque += cross(r_cp, fa)
    n_contact = n_legs_on = max_pen = strike = 0.0
    if r[2] < _reach_m(p):
        n_legs = int(p[L.P_N_LEGS])
        pts = [np.array([0.0, 0.0, p[L.P_BASE_Z_M] - cg]),
               np.array([0.0, 0.0, p[L.P_NOSE_Z_M] - cg])]
        if d[L.D_LEGS_DEPLOY] >= 1.0:
            for j in range(n_legs):
                pts.append(np.array([p[L.P_FOOT_XY + 2 * j], p[L.P_FOOT_XY + 2 * j + 1], -cg]))
        for j, b in enumerate(pts):
            pw = r + rot @ b
            if pw[2] >= 0.0:
                continue
            pv = v + rot @ cross(w, b)
            fb = rot.T @ np.array(ground_force(pw[2], pv[0], pv[1], pv[2], p[L.P_LEG_K],
                                               p[L.P_LEG_C], p[L.P_FRICTION_MU]))
            force += fb
            torque += cross(b, fb)
            n_contact += 1.0
            if j >= 2:
                n_legs_on += 1.0
                max_pen = max(max_pen, -pw[2])
                if -pw[2] > p[L.P_STROKE_M]:
                    strike = 2.0
            else:
                strike = 1.0
    acc = rot @ force / m - np.array([0.0, 0.0, p[L.P_G_MPS2]])
    wdot = (torque - cross(w, inertia * w)) / inertia
    qdot = 0.5 * quat_mul(q, np.array([0.0, *w]))
    dx = np.concatenate((v, acc, qdot, wdot, [-mdot]))
    aux = np.zeros(L.NA)
    aux[0:3] = force / m
    aux[L.A_THRUST] = thrust
    aux[L.A_N_CONTACT] = n_contact
    aux[L.A_LEG_CONTACT] = n_legs_on
    aux[L.A_MAX_PEN] = max_pen
    aux[L.A_STRIKE] = strike
    aux[L.A_MASS] = m
    aux[L.A_CG_Z] = cg
    return dx, aux


def rk4_step(t_s, h, x, d, eng, p, cd_tab, motor):
    k1, _ = derivative(t_s, x, d, eng, p, cd_tab, motor)
    k2, _ = derivative(t_s + 0.5 * h, x + 0.5 * h * k1, d, eng, p, cd_tab, motor)
    k3, _ = derivative(t_s + 0.5 * h, x + 0.5 * h * k2, d, eng, p, cd_tab, motor)
    k4, aux = derivative(t_s + h, x + h * k3, d, eng, p, cd_tab, motor)
    x += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    x[6:10] /= np.linalg.norm(x[6:10])
    x[L.X_MP] = max(x[L.X_MP], 0.0)
    return aux


class NaivePlant:
    """Steps a copy of a Plant's arrays with the naive implementation."""

    def __init__(self, plant):
        self.x = plant._x.copy()
        self.d = plant._d.copy()
        self.eng = plant._eng.copy()
        self.p = plant._p.copy()
        self.cd = plant._cd.copy()
        self.motor = plant._motor.copy()
        self.flt = plant._flt.copy()
        self.gbuf = plant._gbuf.copy()
        self.evlog = plant._evlog.copy()
        self.rng = plant._rng.copy()
        self.aux = np.zeros(L.NA)

    def command(self, throttle_frac, gimbal_pitch_rad, gimbal_yaw_rad, roll_frac, engine_on,
                legs_down):
        d = self.d
        d[L.D_CMD_THROTTLE] = min(max(throttle_frac, 0.0), 1.0)
        d[L.D_CMD_PITCH] = gimbal_pitch_rad
        d[L.D_CMD_YAW] = gimbal_yaw_rad
        d[L.D_CMD_ROLL] = min(max(roll_frac, -1.0), 1.0)
        d[L.D_CMD_ENGINE_ON] = 1.0 if engine_on else 0.0
        d[L.D_CMD_LEGS] = 1.0 if legs_down else 0.0

    def advance_steps(self, n_steps):
        """n_steps physics steps, the same sequence as dynamics.advance."""
        x, d, eng, p = self.x, self.d, self.eng, self.p
        d[L.D_N_EVENTS] = 0.0
        h = p[L.P_H_S]
        step = int(d[L.D_STEP])
        for n in range(n_steps):
            t = step * h
            if d[L.D_DONE] < 0.5:
                apply_faults(t, self.flt, d, eng, p, self.evlog)
                engine_update(t, h, eng, d, p, self.motor, x[L.X_MP], self.rng, self.evlog)
                tvc_update(step, h, d, p)
                legs_update(t, h, d, p, self.evlog)
                wind_update(step, h, x, d, p, self.rng)
                d[L.D_RHO], d[L.D_P_AMB], d[L.D_A_SND] = isa(x[L.X_R + 2] + p[L.P_PAD_ALT_M],
                                                              p[L.P_ATMOSPHERE])
                self.aux = rk4_step(t, h, x, d, eng, p, self.cd, self.motor)
            step += 1
            d[L.D_STEP] = step
            t = step * h
            aux = self.aux
            if d[L.D_DONE] > 0.5:
                pass  # frozen: the forces stay what they were
            elif (x[L.X_R + 2] < _reach_m(p) or n == n_steps - 1
                    or step % int(p[L.P_IMU_DIV]) == 0 or step % int(p[L.P_CH_DIV]) == 0
                    or step % int(p[L.P_LEG_DIV]) == 0):
                _, aux = derivative(t, x, d, eng, p, self.cd, self.motor)
                d[L.D_THRUST_N] = aux[L.A_THRUST]
                d[L.D_MASS_KG] = aux[L.A_MASS]
                d[L.D_SF:L.D_SF + 3] = aux[0:3]
            else:
                aux[L.A_N_CONTACT] = aux[L.A_LEG_CONTACT] = 0.0
                aux[L.A_MAX_PEN] = aux[L.A_STRIKE] = 0.0
            self.aux = aux
            monitor(t, h, x, d, p, aux, self.evlog)
            sample_sensors(step, x, d, p, aux, self.gbuf, self.rng, False)
