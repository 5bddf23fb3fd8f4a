"""The plant facade the closed loop calls: Plant, Verdict, and the packing of
a Vehicle into the flat arrays of the compiled core.

    plant = Plant(veh, seed=1, faults=(), wind=None, physics_hz=1000, initial=None)
    plant.sensors(step) -> dict   # SI names of the SENSORS fields + step, t_us, flags
    plant.command(throttle_frac, gimbal_pitch_rad, gimbal_yaw_rad, roll_frac,
                  engine_on, legs_down)
    plant.advance(dt_s)           # commands held; dt_s a multiple of the physics step
    plant.done / plant.verdict() / plant.truth() / plant.engine_events

`initial` overrides keys of the vehicle's [initial] table; `wind` overrides
keys of its [wind] table (None: as in the file; {"w20_mps": 0} for calm).
"""
import math
from dataclasses import dataclass

import numpy as np

from protocol import messages as _msg
from protocol.hostcodec import spec as _spec

from . import layout as L
from .dynamics import advance as _advance
from .engine import lag_factor
from ._jit import jit
from .errors import ConfigError
from .events import ENGINE_EVENTS, event_text
from .faults import KIND_NAMES, Fault, load_faults, pack_faults
from .rng import normal_py, seed_streams
from .vehicle import INITIAL_KEYS, SCHEMA, Vehicle, check_value, load_vehicle

TURBULENCE_HZ = 100.0  # update rate of the Dryden filters

# ---- the SENSORS message, in SI -----------------------------------------------


def _si_name(wire):
    base, _, unit = wire.rpartition("_")
    if base and unit in _msg.SI_UNITS:
        return base + "_" + _msg.SI_UNITS[unit][0]
    return wire


_SENSORS_ROW = _msg.find(_msg.SENSORS)
_SENS_SPEC = _spec(_msg.SENSORS)
SENSOR_FIELDS = tuple(_si_name(f[0]) for f in _SENSORS_ROW[4])
_SLOT = {
    "accel_x_mps2": L.D_S_ACC, "accel_y_mps2": L.D_S_ACC + 1, "accel_z_mps2": L.D_S_ACC + 2,
    "gyro_x_radps": L.D_S_GYR, "gyro_y_radps": L.D_S_GYR + 1, "gyro_z_radps": L.D_S_GYR + 2,
    "alt_m": L.D_S_ALT,
    "gnss_x_m": L.D_S_GNSS_POS, "gnss_y_m": L.D_S_GNSS_POS + 1, "gnss_z_m": L.D_S_GNSS_POS + 2,
    "gnss_vx_mps": L.D_S_GNSS_VEL, "gnss_vy_mps": L.D_S_GNSS_VEL + 1,
    "gnss_vz_mps": L.D_S_GNSS_VEL + 2,
    "chamber_p_frac": L.D_S_CHAMBER,
}
_VALUE_FIELDS = tuple(f for f in SENSOR_FIELDS if f not in ("step", "t_us", "flags"))
if set(_VALUE_FIELDS) != set(_SLOT):  # the message table changed: fail loudly at import
    raise ImportError(f"host.plant: SENSORS fields {sorted(_VALUE_FIELDS)} do not match the "
                      f"sensor model {sorted(_SLOT)}")
_FLAG_BITS = ((L.D_S_GNSS_VALID, _msg.SF_GNSS_VALID), (L.D_S_ALT_VALID, _msg.SF_ALT_VALID),
              (L.D_S_THRUST_SENSED, _msg.SF_THRUST_SENSED),
              (L.D_S_LEG_CONTACT, _msg.SF_LEG_CONTACT))
_S0 = min(_SLOT.values())
_S1 = max(_SLOT.values()) + 1
if ([_SLOT[f] for f in _VALUE_FIELDS] != list(range(_S0, _S1))
        or [s for s, _ in _FLAG_BITS] != list(range(_S1, _S1 + 4))):
    raise ImportError("host.plant: held sensor slots are not in SENSORS field order")
_GNSS_BIT, _ALT_BIT, _THRUST_BIT, _LEG_BIT = (b for _, b in _FLAG_BITS)
# wire units of the held values (SI value / scale, rounded half to even like round())
_WIRE_SCALE = np.array([sc for name, sc in _SENS_SPEC.si if name in _SLOT])
if (SENSOR_FIELDS[:2] != ("step", "t_us") or SENSOR_FIELDS[-1] != "flags"
        or len(_WIRE_SCALE) != _S1 - _S0 or None in _WIRE_SCALE):
    raise ImportError("host.plant: SENSORS is not (step, t_us, scaled values..., flags)")
_FLAG_MASKS = np.array([b for _, b in _FLAG_BITS], dtype=np.int64)


@jit
def _wire(d, h_s, s0, scale, masks, out):
    """out[1:] = t_us, the held sensor values in wire units, flags: the numbers
    of a SENSORS frame, rounded half to even like round() (in one compiled
    call: the numpy expression costs ~5 us a step, a good part of a lockstep step)."""
    out[1] = np.int64(np.rint(d[L.D_STEP] * h_s * 1e6))
    n = scale.shape[0]
    for i in range(n):
        out[2 + i] = np.int64(np.rint(d[s0 + i] / scale[i]))
    flags = 0
    for j in range(masks.shape[0]):
        if d[s0 + n + j] > 0.5:
            flags |= masks[j]
    out[2 + n] = flags


@dataclass(frozen=True)
class Verdict:
    """Touchdown verdict, computed by the plant (never by the firmware)."""
    outcome: str            # 'landed' | 'crashed' | 'tipped' | 'flying'
    landed: bool
    touchdown_vz_mps: float  # at first ground contact (nan before)
    touchdown_vh_mps: float
    tilt_deg: float
    rate_dps: float
    miss_m: float           # body origin (centre of the feet) from the pad centre
    propellant_kg: float    # left now
    propellant_frac: float  # of the propellant at the start
    t_s: float              # touchdown time (nan before)
    max_vz_mps: float
    max_vh_mps: float
    max_tilt_deg: float
    max_rate_dps: float
    max_miss_m: float
    reason: str = ""        # why not landed
    bounces: int = 0
    max_leg_compression_m: float = 0.0


def _divider(where, sec, key, rate_hz, physics_hz):
    div = physics_hz / rate_hz
    n = int(round(div))
    if n < 1 or abs(div - n) > 1e-9 * div:
        raise ConfigError(f"{where}: [{sec}] {key}: {rate_hz:g} Hz does not divide the "
                          f"physics rate {physics_hz:g} Hz")
    return n


def pack_params(veh, physics_hz, wind_cfg):
    """Vehicle -> p (float64[NP])."""
    c = veh.config
    w = veh.path
    h = 1.0 / physics_hz
    p = np.zeros(L.NP)
    env, m, e, t, a, ct = (c["environment"], c["mass"], c["engine"], c["tvc"], c["aero"],
                           c["contact"])
    p[L.P_H_S] = h
    p[L.P_G_MPS2] = env["g_mps2"]
    p[L.P_ATMOSPHERE] = {"isa": L.ATM_ISA, "vacuum": L.ATM_VACUUM,
                         "uniform": L.ATM_UNIFORM}[env["atmosphere"]]
    p[L.P_PAD_ALT_M] = env["pad_alt_m"]
    p[L.P_DRY_MASS_KG] = m["dry_kg"]
    p[L.P_CG_DRY_M] = m["cg_dry_m"]
    p[L.P_IXX_DRY] = m["ixx_dry_kgm2"]
    p[L.P_IZZ_DRY] = m["izz_dry_kgm2"]
    p[L.P_PROP_CAP_KG] = veh.propellant_capacity_kg
    p[L.P_TANK_BOTTOM_M] = m["tank_bottom_m"]
    p[L.P_TANK_LENGTH_M] = m["tank_length_m"]
    p[L.P_TANK_RADIUS_M] = m["tank_radius_m"]
    p[L.P_SOLID] = 1.0 if veh.solid else 0.0
    p[L.P_N_ENG] = veh.n_engines
    p[L.P_GIMBAL_Z_M] = e["gimbal_z_m"]
    p[L.P_THRUST_SL_N] = veh.engine_thrust_n
    p[L.P_ISP_SL_S] = veh.isp_s
    p[L.P_ISP_VAC_S] = veh.isp_vac_s
    p[L.P_MIN_THROTTLE] = veh.min_throttle_frac
    p[L.P_TAU_OUT_S] = e["out_time_constant_s"]
    p[L.P_CONFIRM_FRAC] = e["confirm_frac"]
    p[L.P_PLUME_DRAG_FRAC] = e["plume_drag_frac"]
    if veh.solid:
        p[L.P_IGN_DELAY_S] = e["ignition_delay_s"]
        p[L.P_IGN_JITTER_S] = e["ignition_jitter_s"]
        p[L.P_MOTOR_IMPULSE_NS] = veh.motor.impulse_ns
        p[L.P_MOTOR_PROP_KG] = veh.motor.propellant_kg
        p[L.P_MOTOR_BURN_S] = veh.motor.burn_s
    else:
        p[L.P_DEAD_TIME_S] = e["ignition_dead_time_s"]
        p[L.P_TAU_SPOOL_S] = e["spool_time_constant_s"]
        p[L.P_TAU_THROTTLE_S] = e["throttle_time_constant_s"]
        p[L.P_TAU_SHUTDOWN_S] = e["shutdown_time_constant_s"]
    p[L.P_GIMBAL_MAX_RAD] = math.radians(t["max_deg"])
    p[L.P_GIMBAL_RATE_RADPS] = math.radians(t["rate_dps"])
    p[L.P_GIMBAL_RES_RAD] = math.radians(t["resolution_deg"])
    p[L.P_SERVO_DIV] = _divider(w, "tvc", "update_hz", t["update_hz"], physics_hz)
    p[L.P_TVC_TAU_S] = t["time_constant_s"]
    p[L.P_ROLL_TORQUE_NM] = t["max_roll_torque_nm"]
    p[L.P_REF_AREA_M2] = a["ref_area_m2"]
    p[L.P_CN_ALPHA] = a["cn_alpha_per_rad"]
    p[L.P_CP_Z_M] = a["cp_m"]
    p[L.P_N_LEGS] = ct["legs"]
    p[L.P_FOOT_RADIUS_M] = ct["foot_radius_m"]
    p[L.P_BASE_Z_M] = ct["base_m"]
    p[L.P_NOSE_Z_M] = ct["length_m"]
    p[L.P_LEG_K] = ct["leg_stiffness_npm"]
    p[L.P_LEG_C] = ct["leg_damping_nspm"]
    p[L.P_FRICTION_MU] = ct["friction_mu"]
    p[L.P_STROKE_M] = ct["stroke_m"]
    p[L.P_DEPLOY_S] = ct["deploy_time_s"]
    p[L.P_W20_MPS] = wind_cfg["w20_mps"]
    p[L.P_WIND_FROM_RAD] = math.radians(wind_cfg["from_deg"])
    p[L.P_TURBULENCE] = 1.0 if wind_cfg["turbulence"] else 0.0
    s = c["sensors.imu"]
    rate = s["rate_hz"]
    p[L.P_IMU_DIV] = _divider(w, "sensors.imu", "rate_hz", rate, physics_hz)
    band = math.sqrt(rate / 2.0)  # white noise over the Nyquist band
    p[L.P_ACC_SIGMA] = s["accel_noise_mps2_rthz"] * band
    p[L.P_ACC_BIAS_SIGMA] = s["accel_bias_mps2"]
    p[L.P_ACC_RANGE] = s["accel_range_mps2"]
    p[L.P_GYR_SIGMA] = math.radians(s["gyro_noise_dps_rthz"]) * band
    p[L.P_GYR_BIAS_SIGMA] = math.radians(s["gyro_bias_dps"])
    p[L.P_GYR_RANGE] = math.radians(s["gyro_range_dps"])
    s = c["sensors.altimeter"]
    p[L.P_ALT_DIV] = _divider(w, "sensors.altimeter", "rate_hz", s["rate_hz"], physics_hz)
    p[L.P_ALT_RADAR] = 1.0 if s["kind"] == "radar" else 0.0
    p[L.P_ALT_SIGMA] = s["noise_m"]
    p[L.P_ALT_MAX_M] = s["max_range_m"]
    p[L.P_ALT_MAX_TILT_RAD] = math.radians(s["max_tilt_deg"])
    p[L.P_ALT_DROP_P] = s["dropout_prob"]
    s = c["sensors.gnss"]
    div = _divider(w, "sensors.gnss", "rate_hz", s["rate_hz"], physics_hz)
    p[L.P_GNSS_DIV] = div
    lat = int(round(s["latency_s"] * physics_hz))
    if lat >= (L.GN_CAP - 1) * div:
        raise ConfigError(f"{w}: [sensors.gnss] latency_s: expected below "
                          f"{(L.GN_CAP - 1) / s['rate_hz']:g} s at {s['rate_hz']:g} Hz, "
                          f"got {s['latency_s']:g}")
    p[L.P_GNSS_LAT_STEPS] = lat
    p[L.P_GNSS_SIGMA_H] = s["pos_noise_h_m"]
    p[L.P_GNSS_SIGMA_V] = s["pos_noise_v_m"]
    p[L.P_GNSS_SIGMA_VEL] = s["vel_noise_mps"]
    p[L.P_GNSS_DROP_P] = s["dropout_prob"]
    s = c["sensors.chamber"]
    p[L.P_CH_DIV] = _divider(w, "sensors.chamber", "rate_hz", s["rate_hz"], physics_hz)
    p[L.P_CH_SIGMA] = s["noise_frac"]
    p[L.P_CH_SENSED_FRAC] = s["sensed_frac"]
    p[L.P_LEG_DIV] = _divider(w, "sensors.legs", "rate_hz", c["sensors.legs"]["rate_hz"],
                              physics_hz)
    p[L.P_K_SPOOL] = lag_factor(h, p[L.P_TAU_SPOOL_S])
    p[L.P_K_THROTTLE] = lag_factor(h, p[L.P_TAU_THROTTLE_S])
    p[L.P_K_SHUTDOWN] = lag_factor(h, p[L.P_TAU_SHUTDOWN_S])
    p[L.P_K_OUT] = lag_factor(h, p[L.P_TAU_OUT_S])
    p[L.P_K_TVC] = lag_factor(h, p[L.P_TVC_TAU_S])
    p[L.P_TURB_DIV] = max(1, int(round(physics_hz / TURBULENCE_HZ)))
    for j in range(ct["legs"]):  # leg j at azimuth 2 pi j / n from +x_b
        ang = 2.0 * math.pi * j / ct["legs"]
        p[L.P_FOOT_XY + 2 * j] = ct["foot_radius_m"] * math.cos(ang)
        p[L.P_FOOT_XY + 2 * j + 1] = ct["foot_radius_m"] * math.sin(ang)
    return p


def _quat_mul(a, b):
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return (w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2)


def initial_attitude(tilt_x_rad, tilt_y_rad):
    """Quaternion leaning the nose toward +x by tilt_x and toward +y by tilt_y:
    R = R_y(tilt_x) R_x(-tilt_y)."""
    qy = (math.cos(tilt_x_rad / 2), 0.0, math.sin(tilt_x_rad / 2), 0.0)
    qx = (math.cos(-tilt_y_rad / 2), math.sin(-tilt_y_rad / 2), 0.0, 0.0)
    return _quat_mul(qy, qx)


class Plant:
    """The vehicle plant: 6-DOF dynamics, engines, TVC, aero, wind, contact, sensors."""

    def __init__(self, vehicle, seed=1, faults=(), wind=None, physics_hz=1000, initial=None):
        if not isinstance(vehicle, Vehicle):
            vehicle = load_vehicle(vehicle)
        self.vehicle = vehicle
        self.seed = int(seed)
        self.physics_hz = float(physics_hz)
        if not self.physics_hz > 0:
            raise ValueError(f"physics_hz: expected > 0, got {physics_hz!r}")
        self._h = 1.0 / self.physics_hz
        self.faults = faults = load_faults(faults) if not _all_faults(faults) else tuple(faults)
        cfg = vehicle.config
        wind_cfg = dict(cfg["wind"])
        for k, v in (wind or {}).items():
            if k not in SCHEMA["wind"]:
                raise ConfigError(f"<wind>: {k}: unknown key (known: {', '.join(SCHEMA['wind'])})")
            wind_cfg[k] = check_value("<wind>", "wind", k, SCHEMA["wind"][k], v)
        init = dict(vehicle.initial)
        for k, v in (initial or {}).items():
            if k not in INITIAL_KEYS:
                raise ConfigError(f"<initial>: {k}: unknown key (known: {', '.join(INITIAL_KEYS)})")
            init[k] = check_value("<initial>", "initial", k, SCHEMA["initial"][k], v)
        if init["propellant_kg"] is None or init["propellant_kg"] > vehicle.propellant_capacity_kg:
            raise ConfigError(f"<initial>: propellant_kg: expected <= "
                              f"{vehicle.propellant_capacity_kg:g}, got {init['propellant_kg']}")
        if vehicle.solid and abs(init["propellant_kg"] - vehicle.propellant_kg) > 1e-9:
            raise ConfigError(f"<initial>: propellant_kg: a solid motor starts full "
                              f"({vehicle.propellant_kg:g} kg)")
        self.initial = init
        self.wind = wind_cfg
        self._p = pack_params(vehicle, self.physics_hz, wind_cfg)
        self._cd = np.array(cfg["aero"]["cd_mach"], dtype=np.float64)
        self._motor = vehicle.motor.table() if vehicle.solid else np.zeros((2, 2))
        self._flt = pack_faults(faults, vehicle.n_engines)
        self._gbuf = np.zeros((L.GN_CAP, L.NG))
        self._evlog = np.zeros((L.EV_CAP, 3))
        self._rng = seed_streams(self.seed)
        self._eng = np.zeros((vehicle.n_engines, L.NE))
        for i, (ex, ey) in enumerate(cfg["engine"]["positions_m"]):
            self._eng[i, L.E_X] = ex
            self._eng[i, L.E_Y] = ey
        self._eng[:, L.E_SCALE] = 1.0
        self._eng[:, L.E_LIGHT_T] = -1.0
        self._wire_out = np.zeros(3 + _S1 - _S0, dtype=np.int64)
        self._x = self._initial_state(init)
        self._d = self._initial_discrete(init)
        self._prop0 = init["propellant_kg"]
        self.events = []
        self.engine_events = []
        self._fault_names = KIND_NAMES
        self._run(0, True)
        self.sensors_wire(0)  # load the compiled conversion now, not in a timed loop

    # ---- construction ---------------------------------------------------------
    def _initial_state(self, init):
        veh = self.vehicle
        _, cg, _, _ = veh.mass_properties(init["propellant_kg"])
        q = initial_attitude(init["tilt_x_rad"], init["tilt_y_rad"])
        # body origin at (x, y, alt) -> CG = origin + R (0, 0, cg)
        w, qx, qy, qz = q
        ax = 2.0 * (qx * qz + w * qy)
        ay = 2.0 * (qy * qz - w * qx)
        az = 1.0 - 2.0 * (qx * qx + qy * qy)
        x = np.zeros(L.NX)
        x[L.X_R:L.X_R + 3] = (init["x_m"] + cg * ax, init["y_m"] + cg * ay, init["alt_m"] + cg * az)
        x[L.X_V:L.X_V + 3] = (init["vx_mps"], init["vy_mps"], init["vz_mps"])
        x[L.X_Q:L.X_Q + 4] = q
        x[L.X_W:L.X_W + 3] = (init["wx_radps"], init["wy_radps"], init["wz_radps"])
        x[L.X_MP] = init["propellant_kg"]
        return x

    def _initial_discrete(self, init):
        d = np.zeros(L.ND)
        d[L.D_IGN_CMD_T] = -1.0
        d[L.D_IGNITION_T] = -1.0
        d[L.D_TVC_RATE_SCALE] = 1.0
        d[L.D_DIR + 2] = 1.0  # thrust along the axis until the first TVC update
        d[L.D_GUST_T0] = -1.0
        d[L.D_TD_VZ] = d[L.D_TD_VH] = d[L.D_TD_TILT] = d[L.D_TD_RATE] = math.nan
        d[L.D_TD_T] = d[L.D_TD_X] = d[L.D_TD_Y] = math.nan
        if init["legs_deployed"] or init["alt_m"] <= 0.0:
            d[L.D_LEGS_DEPLOY] = 1.0
            d[L.D_CMD_LEGS] = 1.0
        # starting in the air, the next ground contact is the touchdown; starting on
        # the pad (alt_m = 0), touchdown detection arms after 0.2 s airborne
        d[L.D_ARMED] = 1.0 if init["alt_m"] > 1e-3 else 0.0
        # turn-on biases, from the IMU stream before any noise sample
        p = self._p
        for j in range(3):
            d[L.D_ACC_BIAS + j] = p[L.P_ACC_BIAS_SIGMA] * normal_py(self._rng, L.RNG_IMU)
        for j in range(3):
            d[L.D_GYR_BIAS + j] = p[L.P_GYR_BIAS_SIGMA] * normal_py(self._rng, L.RNG_IMU)
        return d

    # ---- the compiled core ----------------------------------------------------
    def _run(self, n, init=False):
        n_ev = _advance(self._x, self._d, self._eng, self._p, self._cd, self._motor, self._flt,
                        self._gbuf, self._evlog, self._rng, n, init)
        if n_ev:
            self._collect(n_ev)

    def _collect(self, n_ev):
        n_eng = self.vehicle.n_engines
        for t, code, arg in self._evlog[:n_ev].tolist():
            ev = (t, event_text(code, arg, n_eng, self._fault_names))
            self.events.append(ev)
            if int(code) in ENGINE_EVENTS:
                self.engine_events.append(ev)
        if self._d[L.D_EV_LOST]:
            self.events.append((self.t_s, f"{int(self._d[L.D_EV_LOST])} events lost"))
            self._d[L.D_EV_LOST] = 0.0

    # ---- facade ---------------------------------------------------------------
    @property
    def t_s(self):
        return self._d.item(L.D_STEP) * self._h

    @property
    def step_s(self):
        return self._h

    def command(self, throttle_frac, gimbal_pitch_rad, gimbal_yaw_rad, roll_frac, engine_on,
                legs_down):
        d = self._d
        if not math.isfinite(throttle_frac + gimbal_pitch_rad + gimbal_yaw_rad + roll_frac):
            for name, v in (("throttle_frac", throttle_frac),
                            ("gimbal_pitch_rad", gimbal_pitch_rad),
                            ("gimbal_yaw_rad", gimbal_yaw_rad), ("roll_frac", roll_frac)):
                if not math.isfinite(v):
                    raise ValueError(f"command {name}: expected a finite number, got {v!r}")
        d[L.D_CMD_THROTTLE] = min(max(throttle_frac, 0.0), 1.0)
        d[L.D_CMD_PITCH] = gimbal_pitch_rad
        d[L.D_CMD_YAW] = gimbal_yaw_rad
        d[L.D_CMD_ROLL] = min(max(roll_frac, -1.0), 1.0)
        d[L.D_CMD_ENGINE_ON] = 1.0 if engine_on else 0.0
        d[L.D_CMD_LEGS] = 1.0 if legs_down else 0.0

    def advance(self, dt_s):
        n = dt_s * self.physics_hz
        k = int(round(n))
        if k < 0 or abs(n - k) > 1e-6:
            raise ValueError(f"advance: dt_s {dt_s!r} is not a multiple of the physics step "
                             f"{self._h!r} s")
        if k:
            self._run(k)

    def command_wire(self, throttle_pm, gimbal_pitch_urad, gimbal_yaw_urad, roll_pm, flags):
        """command() from an ACTUATORS frame's integer fields (the lockstep's
        per-step path: the same values command() would store, without the
        finiteness checks integers do not need)."""
        d = self._d
        thr = throttle_pm * 1e-3
        d[L.D_CMD_THROTTLE] = 0.0 if thr < 0.0 else (1.0 if thr > 1.0 else thr)
        d[L.D_CMD_PITCH] = gimbal_pitch_urad * 1e-6
        d[L.D_CMD_YAW] = gimbal_yaw_urad * 1e-6
        roll = roll_pm * 1e-3
        d[L.D_CMD_ROLL] = -1.0 if roll < -1.0 else (1.0 if roll > 1.0 else roll)
        d[L.D_CMD_ENGINE_ON] = 1.0 if flags & _msg.AF_ENGINE_ON else 0.0
        d[L.D_CMD_LEGS] = 1.0 if flags & _msg.AF_LEGS_DOWN else 0.0

    def sensors_wire(self, step):
        """sensors(step) as the SENSORS frame carries it: wire units, in table
        order, bit for bit what hostcodec's tuple_from_si makes of sensors()."""
        return tuple(self.sensors_wire_array(step).tolist())

    def sensors_wire_array(self, step):
        """sensors_wire(step) as an int64 array, for a writer's frame_ints (the
        lockstep's per-step path); the plant's own buffer, valid until the next
        call."""
        out = self._wire_out
        _wire(self._d, self._h, _S0, _WIRE_SCALE, _FLAG_MASKS, out)
        out[0] = step
        return out

    def sensors(self, step):
        d = self._d
        vals = d[_S0:_S1 + 4].tolist()
        out = dict(zip(_VALUE_FIELDS, vals))
        gnss, alt, thrust, legs = vals[-4:]
        flags = ((_GNSS_BIT if gnss > 0.5 else 0) | (_ALT_BIT if alt > 0.5 else 0)
                 | (_THRUST_BIT if thrust > 0.5 else 0) | (_LEG_BIT if legs > 0.5 else 0))
        out["step"] = int(step)
        out["t_us"] = int(round(d.item(L.D_STEP) * self._h * 1e6))
        out["flags"] = flags
        return out

    @property
    def done(self):
        return self._d.item(L.D_DONE) > 0.5

    def snapshot(self):
        """The state now, for truth(snapshot) later: a copy in well under a
        microsecond where truth() itself takes several (the lockstep samples
        its trace this way while the firmware computes)."""
        return self._x.copy(), self._d.copy(), self._eng.copy()

    def truth(self, snapshot=None):
        """Noise-free state in SI (now, or at a snapshot()).  Position and velocity
        are those of the body origin (centre of the feet plane: z_m = 0 standing
        on the pad); cg_* of the CG."""
        x, d, eng = snapshot if snapshot is not None else (self._x, self._d, self._eng)
        rx, ry, rz, vx, vy, vz, qw, qx, qy, qz, wx, wy, wz, mp = x.tolist()
        _, cg, _, _ = self.vehicle.mass_properties(mp)
        ax = 2.0 * (qx * qz + qw * qy)  # body axis in world
        ay = 2.0 * (qy * qz - qw * qx)
        az = 1.0 - 2.0 * (qx * qx + qy * qy)
        bx, by = -wy * cg, wx * cg      # w x (0, 0, -cg), body
        n = self.vehicle.n_engines
        thrust = float(d[L.D_THRUST_N])
        return {
            "t_s": d.item(L.D_STEP) * self._h,
            "x_m": rx - cg * ax, "y_m": ry - cg * ay, "z_m": rz - cg * az,
            "vx_mps": vx + (1 - 2 * (qy * qy + qz * qz)) * bx + 2 * (qx * qy - qw * qz) * by,
            "vy_mps": vy + 2 * (qx * qy + qw * qz) * bx + (1 - 2 * (qx * qx + qz * qz)) * by,
            "vz_mps": vz + 2 * (qx * qz - qw * qy) * bx + 2 * (qy * qz + qw * qx) * by,
            "cg_x_m": rx, "cg_y_m": ry, "cg_z_m": rz,
            "cg_vx_mps": vx, "cg_vy_mps": vy, "cg_vz_mps": vz,
            "qw": qw, "qx": qx, "qy": qy, "qz": qz,
            "wx_radps": wx, "wy_radps": wy, "wz_radps": wz,
            "mass_kg": self.vehicle.dry_mass_kg + mp, "propellant_kg": mp,
            "thrust_n": thrust,
            "throttle_frac": (thrust / self.vehicle.max_thrust_n if self.vehicle.solid
                              else float(eng[:n, L.E_F].sum()) / n),
            "throttle_cmd_frac": float(d[L.D_CMD_THROTTLE]),
            "gimbal_pitch_rad": float(d[L.D_TVC_P]), "gimbal_yaw_rad": float(d[L.D_TVC_Y]),
            "tilt_deg": math.degrees(math.acos(max(-1.0, min(1.0, az)))),
            "wind_x_mps": float(d[L.D_WIND_X]), "wind_y_mps": float(d[L.D_WIND_Y]),
            "wind_z_mps": float(d[L.D_WIND_Z]),
            "legs_deployed": bool(d[L.D_LEGS_DEPLOY] >= 1.0),
            "ground_contacts": int(d[L.D_N_CONTACT]),
        }

    def verdict(self):
        d = self._d
        cr = self.vehicle.criteria
        prop = float(self._x[L.X_MP])
        td = d[L.D_TD] > 0.5
        vz = float(d[L.D_TD_VZ])
        vh = float(d[L.D_TD_VH])
        tilt = math.degrees(d[L.D_TD_TILT])
        rate = math.degrees(d[L.D_TD_RATE])
        miss = math.hypot(d[L.D_TD_X], d[L.D_TD_Y]) if td else math.nan
        outcome_code = d[L.D_OUTCOME]
        reasons = []
        if outcome_code == L.OUT_SETTLED:
            if abs(vz) > cr["max_vz_mps"]:
                reasons.append(f"vertical speed {abs(vz):.2f} > {cr['max_vz_mps']:g} m/s")
            if vh > cr["max_vh_mps"]:
                reasons.append(f"horizontal speed {vh:.2f} > {cr['max_vh_mps']:g} m/s")
            if tilt > cr["max_tilt_deg"]:
                reasons.append(f"tilt {tilt:.1f} > {cr['max_tilt_deg']:g} deg")
            if rate > cr["max_rate_dps"]:
                reasons.append(f"rate {rate:.1f} > {cr['max_rate_dps']:g} deg/s")
            if miss > cr["max_miss_m"]:
                reasons.append(f"miss {miss:.1f} > {cr['max_miss_m']:g} m")
            outcome = "crashed" if reasons else "landed"
        elif outcome_code == L.OUT_CRASHED:
            outcome = "crashed"
            reasons.append({1: "body struck the ground", 2: "leg bottomed out"}
                           .get(int(d[L.D_CRASH_REASON]), "hit the ground"))
        elif outcome_code == L.OUT_TIPPED:
            outcome = "tipped"
            reasons.append("tipped over")
        else:
            outcome = "flying"
        return Verdict(
            outcome=outcome, landed=outcome == "landed", touchdown_vz_mps=vz,
            touchdown_vh_mps=vh, tilt_deg=tilt, rate_dps=rate, miss_m=miss,
            propellant_kg=prop, propellant_frac=prop / self._prop0 if self._prop0 > 0 else 0.0,
            t_s=float(d[L.D_TD_T]), max_vz_mps=cr["max_vz_mps"], max_vh_mps=cr["max_vh_mps"],
            max_tilt_deg=cr["max_tilt_deg"], max_rate_dps=cr["max_rate_dps"],
            max_miss_m=cr["max_miss_m"], reason="; ".join(reasons),
            bounces=int(d[L.D_BOUNCES]), max_leg_compression_m=float(d[L.D_MAX_PEN]))


def _all_faults(faults):
    return isinstance(faults, (tuple, list)) and all(isinstance(f, Fault) for f in faults)
