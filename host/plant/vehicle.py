"""Vehicle files: TOML -> validated plain `Vehicle` object.

A vehicle file lists every parameter of the plant (mass, engine, TVC, aero,
legs, wind, sensors), the initial conditions of its nominal landing scenario
and the touchdown criteria.  SCHEMA below is the single definition of the
format: key, type, range and default.  Any problem raises ConfigError whose
str is one line naming the file and the key, e.g.
  host/data/vehicles/f9.toml: [engine] isp_s: expected a number > 0, got 'abc'
Unknown keys are errors too (a typo must not silently fall back to a default).
"""
import copy
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, display_path, fmt_value
from .massprops import mass_properties as _mass_properties_jit
from .motor import load_motor, resolve_motor

VEHICLE_DIR = Path(__file__).resolve().parents[1] / "data" / "vehicles"
REQUIRED = object()
_mass_properties = _mass_properties_jit.py_func  # plain Python, no compile needed here


@dataclass(frozen=True)
class Key:
    """One schema entry: kind is num|int|bool|str|choice|pairs|cd_table."""
    kind: str
    default: object = REQUIRED
    lo: float = None
    lo_open: bool = False
    hi: float = None
    hi_open: bool = False
    choices: tuple = ()
    only: str = None  # "liquid" / "solid": key used by that engine type only

    def expect(self):
        if self.kind == "num":
            if self.lo is not None and self.hi is not None:
                return (f"a number in {'(' if self.lo_open else '['}{self.lo:g}, "
                        f"{self.hi:g}{')' if self.hi_open else ']'}")
            if self.lo is not None:
                return f"a number {'>' if self.lo_open else '>='} {self.lo:g}"
            return "a number"
        if self.kind == "int":
            if self.hi is not None:
                return f"an integer in [{self.lo:g}, {self.hi:g}]"
            return f"an integer >= {self.lo:g}" if self.lo is not None else "an integer"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "str":
            return "a string"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "pairs":
            return "a list of [x_m, y_m] pairs"
        if self.kind == "cd_table":
            return "a list of [mach, cd] pairs, mach increasing, cd >= 0"
        return self.kind


def _num(lo=None, hi=None, default=REQUIRED, lo_open=False, hi_open=False, only=None):
    return Key("num", default, lo, lo_open, hi, hi_open, only=only)


def _pos(default=REQUIRED, only=None):
    return _num(0.0, default=default, lo_open=True, only=only)


def _nonneg(default=REQUIRED, only=None):
    return _num(0.0, default=default, only=only)


def _frac(default=REQUIRED, lo_open=True, only=None):
    return _num(0.0, 1.0, default=default, lo_open=lo_open, only=only)


SCHEMA = {
    "": {"name": Key("str"), "description": Key("str", "")},
    "environment": {
        "g_mps2": _pos(9.80665),
        "atmosphere": Key("choice", "isa", choices=("isa", "vacuum", "uniform")),
        "pad_alt_m": _num(default=0.0),
    },
    "mass": {
        "dry_kg": _pos(), "cg_dry_m": _pos(), "ixx_dry_kgm2": _pos(), "izz_dry_kgm2": _pos(),
        "propellant_capacity_kg": _pos(None),
        "tank_bottom_m": _nonneg(), "tank_length_m": _pos(), "tank_radius_m": _pos(),
    },
    "engine": {
        "type": Key("choice", choices=("liquid", "solid")),
        "positions_m": Key("pairs", [[0.0, 0.0]]),
        "gimbal_z_m": _nonneg(),
        "max_thrust_n": _pos(only="liquid"),
        "isp_s": _pos(only="liquid"),
        "isp_vac_s": _pos(None, only="liquid"),
        "min_throttle_frac": _frac(only="liquid"),
        "ignition_dead_time_s": _nonneg(0.0, only="liquid"),
        "spool_time_constant_s": _nonneg(0.0, only="liquid"),
        "throttle_time_constant_s": _nonneg(0.0, only="liquid"),
        "shutdown_time_constant_s": _nonneg(0.0, only="liquid"),
        "out_time_constant_s": _nonneg(0.05),
        "confirm_frac": _frac(0.9),
        "motor": Key("str", only="solid"),
        "ignition_delay_s": _nonneg(0.0, only="solid"),
        "ignition_jitter_s": _nonneg(0.0, only="solid"),
        "plume_drag_frac": _frac(1.0, lo_open=False),
    },
    "tvc": {
        "max_deg": _num(0.0, 90.0, lo_open=True, hi_open=True),
        "rate_dps": _pos(),
        "resolution_deg": _nonneg(0.0),
        "update_hz": _pos(),
        "time_constant_s": _nonneg(0.0),
        "max_roll_torque_nm": _nonneg(0.0),
    },
    "aero": {
        "ref_area_m2": _nonneg(),
        "cd_mach": Key("cd_table"),
        "cn_alpha_per_rad": _nonneg(0.0),
        "cp_m": _num(),
    },
    "contact": {
        "legs": Key("int", lo=3, hi=8),
        "foot_radius_m": _pos(), "base_m": _pos(), "length_m": _pos(),
        "leg_stiffness_npm": _pos(), "leg_damping_nspm": _nonneg(),
        "friction_mu": _nonneg(0.5), "stroke_m": _pos(), "deploy_time_s": _nonneg(0.0),
    },
    "wind": {
        "w20_mps": _nonneg(0.0), "from_deg": _num(default=0.0), "turbulence": Key("bool", True),
    },
    "sensors.imu": {
        "rate_hz": _pos(),
        "accel_noise_mps2_rthz": _nonneg(), "accel_bias_mps2": _nonneg(0.0),
        "accel_range_mps2": _pos(),
        "gyro_noise_dps_rthz": _nonneg(), "gyro_bias_dps": _nonneg(0.0), "gyro_range_dps": _pos(),
    },
    "sensors.altimeter": {
        "kind": Key("choice", choices=("baro", "radar")),
        "rate_hz": _pos(), "noise_m": _nonneg(), "max_range_m": _pos(),
        "max_tilt_deg": _num(0.0, 90.0, default=90.0, lo_open=True),
        "dropout_prob": _frac(0.0, lo_open=False),
    },
    "sensors.gnss": {
        "rate_hz": _pos(), "latency_s": _nonneg(0.0),
        "pos_noise_h_m": _nonneg(), "pos_noise_v_m": _nonneg(), "vel_noise_mps": _nonneg(),
        "dropout_prob": _frac(0.0, lo_open=False),
    },
    "sensors.chamber": {
        "rate_hz": _pos(), "noise_frac": _nonneg(0.0), "sensed_frac": _frac(0.2),
    },
    "sensors.legs": {"rate_hz": _pos()},
    "initial": {
        "alt_m": _num(), "vz_mps": _num(default=0.0),
        "x_m": _num(default=0.0), "y_m": _num(default=0.0),
        "vx_mps": _num(default=0.0), "vy_mps": _num(default=0.0),
        "tilt_x_rad": _num(-1.5, 1.5, default=0.0), "tilt_y_rad": _num(-1.5, 1.5, default=0.0),
        "wx_radps": _num(default=0.0), "wy_radps": _num(default=0.0), "wz_radps": _num(default=0.0),
        "propellant_kg": _nonneg(None),
        "legs_deployed": Key("bool", False),
    },
    "criteria": {
        "max_vz_mps": _pos(), "max_vh_mps": _pos(), "max_tilt_deg": _pos(),
        "max_rate_dps": _pos(), "max_miss_m": _pos(),
    },
}
INITIAL_KEYS = tuple(SCHEMA["initial"])


@dataclass(frozen=True)
class Vehicle:
    """A validated vehicle: plain attributes for guidance, `config` for the plant."""
    name: str
    description: str
    path: str
    solid: bool
    dry_mass_kg: float
    propellant_kg: float          # at the start of the nominal scenario
    propellant_capacity_kg: float
    n_engines: int
    engine_thrust_n: float        # one engine, full throttle, sea level (solid: peak)
    max_thrust_n: float           # all engines
    min_throttle_frac: float      # solid: 1.0 (no throttle)
    isp_s: float                  # sea level (solid: impulse / (propellant g0))
    isp_vac_s: float
    gimbal_max_rad: float
    gimbal_rate_radps: float
    arm_m: float                  # gimbal pivot to CG at the initial propellant load
    max_roll_torque_nm: float
    initial: dict
    criteria: dict
    config: dict = field(repr=False)
    motor: object = field(default=None, repr=False)

    def mass_properties(self, propellant_kg):
        """(mass kg, CG height above the feet plane m, Ixx=Iyy, Izz kg m^2)."""
        m = self.config["mass"]
        return _mass_properties(float(propellant_kg), m["dry_kg"], m["cg_dry_m"],
                                m["ixx_dry_kgm2"], m["izz_dry_kgm2"], self.propellant_capacity_kg,
                                m["tank_bottom_m"], m["tank_length_m"], m["tank_radius_m"])

    def min_thrust_to_weight(self, propellant_kg=None):
        """T/W at minimum throttle (> 1: the vehicle cannot hover)."""
        mp = self.propellant_kg if propellant_kg is None else propellant_kg
        g = self.config["environment"]["g_mps2"]
        return self.max_thrust_n * self.min_throttle_frac / ((self.dry_mass_kg + mp) * g)


def _section(data, sec):
    if sec == "":
        return data
    cur = data
    for part in sec.split("."):
        cur = cur.get(part, {}) if isinstance(cur, dict) else {}
    return cur


def _label(sec, key):
    return f"[{sec}] {key}" if sec else key


def check_value(where, sec, key, spec, v):
    """Validate one value against its Key; returns the normalised value."""
    def bad():
        raise ConfigError(f"{where}: {_label(sec, key)}: expected {spec.expect()}, "
                          f"got {fmt_value(v)}")
    k = spec.kind
    if k == "num":
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            bad()
        if spec.lo is not None and (v <= spec.lo if spec.lo_open else v < spec.lo):
            bad()
        if spec.hi is not None and (v >= spec.hi if spec.hi_open else v > spec.hi):
            bad()
        return float(v)
    if k == "int":
        if (isinstance(v, bool) or not isinstance(v, int) or (spec.lo is not None and v < spec.lo)
                or (spec.hi is not None and v > spec.hi)):
            bad()
        return v
    if k == "bool":
        if not isinstance(v, bool):
            bad()
        return v
    if k == "str":
        if not isinstance(v, str) or not v.strip():
            bad()
        return v
    if k == "choice":
        if v not in spec.choices:
            bad()
        return v
    if k in ("pairs", "cd_table"):
        if not isinstance(v, list) or not v:
            bad()
        out = []
        for row in v:
            if (not isinstance(row, list) or len(row) != 2
                    or any(isinstance(c, bool) or not isinstance(c, (int, float))
                           or not math.isfinite(c) for c in row)):
                bad()
            out.append([float(row[0]), float(row[1])])
        if k == "cd_table":
            if any(b[0] <= a[0] for a, b in zip(out, out[1:])) or any(r[1] < 0 for r in out):
                bad()
        return out
    raise AssertionError(k)


def _merge(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def validate(data, where, engine_type=None):
    """Check `data` against SCHEMA; return a complete nested dict with defaults filled in."""
    if engine_type is None:
        eng = data.get("engine", {})
        engine_type = eng.get("type") if isinstance(eng, dict) else None
        if engine_type is None:
            raise ConfigError(f"{where}: [engine] type: missing (required)")
        engine_type = check_value(where, "engine", "type", SCHEMA["engine"]["type"], engine_type)
    # unknown sections / keys
    known_top = {s.split(".")[0] for s in SCHEMA if s} | set(SCHEMA[""])
    for k, v in data.items():
        if k not in known_top:
            raise ConfigError(f"{where}: {k}: unknown key or table (known tables: "
                              f"{', '.join(sorted(s for s in SCHEMA if s))})")
    sens = data.get("sensors", {})
    if not isinstance(sens, dict):
        raise ConfigError(f"{where}: sensors: expected a table")
    for k in sens:
        if "sensors." + k not in SCHEMA:
            raise ConfigError(f"{where}: [sensors.{k}]: unknown sensor (known: imu, altimeter, "
                              f"gnss, chamber, legs)")
    out = {}
    for sec, keys in SCHEMA.items():
        src = _section(data, sec)
        if sec and sec != "sensors" and not isinstance(src, dict):
            raise ConfigError(f"{where}: [{sec}]: expected a table, got {fmt_value(src)}")
        for k in src:
            if k not in keys:
                if sec == "" and isinstance(src[k], dict):
                    continue  # a table, checked above
                raise ConfigError(f"{where}: {_label(sec, k)}: unknown key "
                                  f"(known: {', '.join(keys)})")
        vals = {}
        for k, spec in keys.items():
            if spec.only is not None and spec.only != engine_type:
                if k in src:
                    raise ConfigError(f"{where}: {_label(sec, k)}: not used by a "
                                      f"{engine_type} engine (remove it)")
                continue
            if k in src:
                vals[k] = check_value(where, sec, k, spec, src[k])
            elif spec.default is REQUIRED:
                raise ConfigError(f"{where}: {_label(sec, k)}: missing (required)")
            else:
                vals[k] = copy.deepcopy(spec.default)
        out[sec] = vals
    return out


def _cross_checks(cfg, where, solid):
    e = cfg["engine"]
    c = cfg["contact"]
    m = cfg["mass"]
    if not solid:
        if e["isp_vac_s"] is None:
            e["isp_vac_s"] = e["isp_s"]
        if e["isp_vac_s"] < e["isp_s"]:
            raise ConfigError(f"{where}: [engine] isp_vac_s: expected >= isp_s ({e['isp_s']:g}), "
                              f"got {e['isp_vac_s']:g}")
        if m["propellant_capacity_kg"] is None:
            raise ConfigError(f"{where}: [mass] propellant_capacity_kg: missing (required)")
    if c["base_m"] >= c["length_m"]:
        raise ConfigError(f"{where}: [contact] base_m: expected below length_m "
                          f"({c['length_m']:g}), got {c['base_m']:g}")
    if c["stroke_m"] >= c["base_m"]:
        raise ConfigError(f"{where}: [contact] stroke_m: expected below base_m "
                          f"({c['base_m']:g}: the tail would strike first), got {c['stroke_m']:g}")
    if m["cg_dry_m"] >= c["length_m"]:
        raise ConfigError(f"{where}: [mass] cg_dry_m: expected below [contact] length_m "
                          f"({c['length_m']:g}), got {m['cg_dry_m']:g}")
    if cfg["initial"]["alt_m"] < 0:
        raise ConfigError(f"{where}: [initial] alt_m: expected a number >= 0, "
                          f"got {cfg['initial']['alt_m']:g}")


def resolve_vehicle(name_or_path):
    p = Path(name_or_path)
    if p.suffix != ".toml" and len(p.parts) == 1:
        p = VEHICLE_DIR / (str(name_or_path) + ".toml")
    return p


def load_vehicle(name_or_path, overrides=None):
    """A preset name ('falcon9') or a TOML path -> Vehicle.

    `overrides` is a nested dict merged over the file before validation,
    e.g. {"aero": {"ref_area_m2": 0.0}, "environment": {"atmosphere": "vacuum"}}."""
    path = resolve_vehicle(name_or_path)
    where = display_path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        presets = ", ".join(sorted(f.stem for f in VEHICLE_DIR.glob("*.toml")))
        raise ConfigError(f"{where}: vehicle file not found (presets: {presets})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: TOML syntax error: {e}") from None
    if overrides:
        data = _merge(data, overrides)
    cfg = validate(data, where)
    solid = cfg["engine"]["type"] == "solid"
    _cross_checks(cfg, where, solid)
    e = cfg["engine"]
    m = cfg["mass"]
    n_eng = len(e["positions_m"])
    motor = None
    if solid:
        motor = load_motor(resolve_motor(e["motor"], path))
        engine_thrust = motor.peak_thrust_n
        min_thr = 1.0
        isp = motor.impulse_ns / (motor.propellant_kg * 9.80665)
        isp_vac = isp
        cap = m["propellant_capacity_kg"] or motor.propellant_kg * n_eng
        m["propellant_capacity_kg"] = cap
        prop = cfg["initial"]["propellant_kg"]
        if prop is None:
            prop = motor.propellant_kg * n_eng
        if abs(prop - motor.propellant_kg * n_eng) > 1e-9:
            raise ConfigError(f"{where}: [initial] propellant_kg: a solid motor starts full "
                              f"({motor.propellant_kg * n_eng:g} kg from {motor.name}), "
                              f"got {prop:g}")
    else:
        engine_thrust = e["max_thrust_n"]
        min_thr = e["min_throttle_frac"]
        isp = e["isp_s"]
        isp_vac = e["isp_vac_s"]
        cap = m["propellant_capacity_kg"]
        prop = cfg["initial"]["propellant_kg"]
        if prop is None:
            raise ConfigError(f"{where}: [initial] propellant_kg: missing (required)")
        if prop > cap:
            raise ConfigError(f"{where}: [initial] propellant_kg: expected <= [mass] "
                              f"propellant_capacity_kg ({cap:g}), got {prop:g}")
    cfg["initial"]["propellant_kg"] = prop
    _, cg, _, _ = _mass_properties(prop, m["dry_kg"], m["cg_dry_m"], m["ixx_dry_kgm2"],
                                   m["izz_dry_kgm2"], cap, m["tank_bottom_m"],
                                   m["tank_length_m"], m["tank_radius_m"])
    t = cfg["tvc"]
    return Vehicle(
        name=cfg[""]["name"], description=cfg[""]["description"], path=where, solid=solid,
        dry_mass_kg=m["dry_kg"], propellant_kg=prop, propellant_capacity_kg=cap,
        n_engines=n_eng, engine_thrust_n=engine_thrust, max_thrust_n=engine_thrust * n_eng,
        min_throttle_frac=min_thr, isp_s=isp, isp_vac_s=isp_vac,
        gimbal_max_rad=math.radians(t["max_deg"]), gimbal_rate_radps=math.radians(t["rate_dps"]),
        arm_m=cg - e["gimbal_z_m"], max_roll_torque_nm=t["max_roll_torque_nm"],
        initial=dict(cfg["initial"]), criteria=dict(cfg["criteria"]), config=cfg, motor=motor)
