"""Injectable faults: the spec format, its loader, and their effect on the plant.

A fault file (or a scenario file) holds a list of tables:

    [[fault]]
    kind = "engine_out"          # see KINDS below
    trigger = "ignition+dt_s"    # or "t_s" (the default)
    dt_s = 3.0                   # with "ignition+dt_s": seconds after the first engine lit
    engine = 1

    [[fault]]
    kind = "gust"
    trigger = "t_s"
    t_s = 12.0                   # with "t_s": absolute sim time
    speed_mps = 8.0
    from_deg = 270.0
    duration_s = 2.0

"ignition" is the moment the first engine lights (thrust starts), not the
ignition command; an ignition-relative fault never fires if nothing lights.
Kinds and their parameters:
  no_ignition        engine (-1 = all)         ignitions after the trigger fail
  late_ignition      delay_s                   ignition dead time longer by delay_s
  thrust_shortfall   frac, engine (-1 = all)   thrust (and flow) x (1 - frac)
  engine_out         engine (default 0)        engine shuts down, cannot relight
  gimbal_stuck       axis ("pitch"|"yaw"|"both")   gimbal freezes where it is
  gimbal_slow        rate_scale (0..1]         gimbal rate limit x rate_scale
  gust               speed_mps, from_deg, duration_s   1-cosine horizontal gust
  sensor_dropout     sensor ("gnss"|"altimeter"), duration_s (default: forever)
"""
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._jit import jit
from .errors import ConfigError, fmt_value, read_toml
from .events import push_event
from .layout import (AXIS_BOTH, AXIS_PITCH, AXIS_YAW, D_ALT_OUT_UNTIL, D_GNSS_OUT_UNTIL,
                     D_GUST_DUR, D_GUST_FROM, D_GUST_SPEED, D_GUST_T0, D_IGN_EXTRA_S,
                     D_IGNITION_T, D_TVC_RATE_SCALE, D_TVC_STUCK_P, D_TVC_STUCK_Y, E_NOIGN,
                     E_PHASE, E_SCALE, EV_ENGINE_OUT, EV_FAULT, F_AT_S, F_AXIS, F_DIR,
                     F_DURATION, F_ENGINE, F_FIRED, F_KIND, F_SENSOR, F_TRIGGER, F_VALUE,
                     FK_ENGINE_OUT, FK_GIMBAL_SLOW, FK_GIMBAL_STUCK, FK_GUST,
                     FK_LATE_IGNITION, FK_NO_IGNITION, FK_SENSOR_DROPOUT,
                     FK_THRUST_SHORTFALL, NF, P_N_ENG, PH_BURNOUT, PH_FAILED, PH_OFF,
                     SENSOR_ALT, SENSOR_GNSS, TRIG_IGNITION, TRIG_T)

KINDS = {
    "no_ignition": FK_NO_IGNITION,
    "late_ignition": FK_LATE_IGNITION,
    "thrust_shortfall": FK_THRUST_SHORTFALL,
    "engine_out": FK_ENGINE_OUT,
    "gimbal_stuck": FK_GIMBAL_STUCK,
    "gimbal_slow": FK_GIMBAL_SLOW,
    "gust": FK_GUST,
    "sensor_dropout": FK_SENSOR_DROPOUT,
}
KIND_NAMES = {int(v): k for k, v in KINDS.items()}

# parameter name -> (required, check, description); checks return None if fine
_NUM = (int, float)


def _is_num(v):
    return isinstance(v, _NUM) and not isinstance(v, bool) and math.isfinite(v)


_PARAMS = {
    "no_ignition": {"engine": (False, "int>=-1")},
    "late_ignition": {"delay_s": (True, "num>0")},
    "thrust_shortfall": {"frac": (True, "0<num<=1"), "engine": (False, "int>=-1")},
    "engine_out": {"engine": (False, "int>=0")},
    "gimbal_stuck": {"axis": (False, ("pitch", "yaw", "both"))},
    "gimbal_slow": {"rate_scale": (True, "0<num<=1")},
    "gust": {"speed_mps": (True, "num>=0"), "from_deg": (False, "num"),
             "duration_s": (True, "num>0")},
    "sensor_dropout": {"sensor": (True, ("gnss", "altimeter")), "duration_s": (False, "num>0")},
}
_TRIGGERS = {"t_s": ("t_s", TRIG_T), "ignition+dt_s": ("dt_s", TRIG_IGNITION)}


@dataclass(frozen=True)
class Fault:
    """One injected fault. `at_s` is t_s or dt_s depending on `trigger`."""
    kind: str
    trigger: str = "t_s"
    at_s: float = 0.0
    params: dict = field(default_factory=dict)

    def describe(self):
        when = (f"t={self.at_s:g} s" if self.trigger == "t_s"
                else f"ignition+{self.at_s:g} s")
        ps = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.kind} at {when}" + (f" ({ps})" if ps else "")


def _check(where, key, rule, v):
    def bad(expect):
        raise ConfigError(f"{where} {key}: expected {expect}, got {fmt_value(v)}")
    if isinstance(rule, tuple):
        if v not in rule:
            bad("one of " + ", ".join(repr(r) for r in rule))
        return v
    if rule.startswith("int"):
        if not isinstance(v, int) or isinstance(v, bool):
            bad("an integer" + (" >= -1" if rule == "int>=-1" else " >= 0"))
        if v < (-1 if rule == "int>=-1" else 0):
            bad("an integer" + (" >= -1" if rule == "int>=-1" else " >= 0"))
        return v
    if not _is_num(v):
        bad("a number" + {"num": "", "num>0": " > 0", "num>=0": " >= 0",
                          "0<num<=1": " in (0, 1]"}[rule])
    ok = {"num": True, "num>0": v > 0, "num>=0": v >= 0, "0<num<=1": 0 < v <= 1}[rule]
    if not ok:
        bad({"num>0": "a number > 0", "num>=0": "a number >= 0",
             "0<num<=1": "a number in (0, 1]"}[rule])
    return float(v)


def parse_fault(table, where):
    """One [[fault]] table -> Fault. `where` prefixes errors, e.g. 'f.toml: [[fault]] #2'."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, got {fmt_value(table)}")
    kind = table.get("kind")
    if kind is None:
        raise ConfigError(f"{where} kind: missing (required)")
    if kind not in KINDS:
        raise ConfigError(f"{where} kind: expected one of {', '.join(KINDS)}, "
                          f"got {fmt_value(kind)}")
    trig = table.get("trigger", "t_s")
    if trig not in _TRIGGERS:
        raise ConfigError(f"{where} trigger: expected 't_s' or 'ignition+dt_s', "
                          f"got {fmt_value(trig)}")
    at_key = _TRIGGERS[trig][0]
    at = table.get(at_key, 0.0)
    if at_key == "dt_s" and at_key not in table:
        raise ConfigError(f"{where} dt_s: missing (required with trigger 'ignition+dt_s')")
    at = _check(where, at_key, "num>=0", at)
    spec = _PARAMS[kind]
    params = {}
    for k, v in table.items():
        if k in ("kind", "trigger", at_key):
            continue
        if k not in spec:
            raise ConfigError(f"{where} {k}: unknown key for kind {kind!r} "
                              f"(allowed: {', '.join(['trigger', at_key] + list(spec))})")
        params[k] = _check(where, k, spec[k][1], v)
    for k, (req, _) in spec.items():
        if req and k not in params:
            raise ConfigError(f"{where} {k}: missing (required for kind {kind!r})")
    return Fault(kind=kind, trigger=trig, at_s=at, params=params)


def load_faults(path_or_list):
    """Faults from a TOML file with [[fault]] tables, or from a list of dicts / Faults."""
    if path_or_list is None:
        return ()
    if isinstance(path_or_list, (str, Path)):
        data, name = read_toml(path_or_list)
        tables = data.get("fault", [])
        if not isinstance(tables, list):
            raise ConfigError(f"{name}: fault: expected a list of [[fault]] tables")
        return tuple(parse_fault(t, f"{name}: [[fault]] #{i + 1}") for i, t in enumerate(tables))
    out = []
    for i, f in enumerate(path_or_list):
        out.append(f if isinstance(f, Fault) else parse_fault(f, f"<faults>: [[fault]] #{i + 1}"))
    return tuple(out)


def pack_faults(faults, n_engines, where="<faults>"):
    """Faults -> float64[n, NF] table for the compiled core."""
    flt = np.zeros((len(faults), NF))
    for i, f in enumerate(faults):
        ps = f.params
        flt[i, F_KIND] = KINDS[f.kind]
        flt[i, F_TRIGGER] = _TRIGGERS[f.trigger][1]
        flt[i, F_AT_S] = f.at_s
        eng = ps.get("engine", 0 if f.kind == "engine_out" else -1)
        if eng >= n_engines:
            raise ConfigError(f"{where}: [[fault]] #{i + 1} engine: expected an index below "
                              f"{n_engines} (engines of this vehicle), got {eng}")
        flt[i, F_ENGINE] = eng
        flt[i, F_VALUE] = ps.get("delay_s", ps.get("frac", ps.get("rate_scale",
                                 ps.get("speed_mps", 0.0))))
        flt[i, F_DIR] = math.radians(ps.get("from_deg", 0.0))
        flt[i, F_DURATION] = ps.get("duration_s", math.inf)
        flt[i, F_AXIS] = {"pitch": AXIS_PITCH, "yaw": AXIS_YAW}.get(ps.get("axis"), AXIS_BOTH)
        flt[i, F_SENSOR] = SENSOR_ALT if ps.get("sensor") == "altimeter" else SENSOR_GNSS
    return flt


@jit(inline=True)
def apply_faults(t_s, flt, d, eng, p, evlog):
    """Fire the faults whose trigger time has come (called once per physics step)."""
    n_eng = int(p[P_N_ENG])
    for k in range(flt.shape[0]):
        if flt[k, F_FIRED] > 0.5:
            continue
        if flt[k, F_TRIGGER] == TRIG_IGNITION:
            if d[D_IGNITION_T] < 0.0:
                continue
            t_fire = d[D_IGNITION_T] + flt[k, F_AT_S]
        else:
            t_fire = flt[k, F_AT_S]
        if t_s < t_fire - 1e-9:
            continue
        flt[k, F_FIRED] = 1.0
        kind = flt[k, F_KIND]
        e = int(flt[k, F_ENGINE])
        push_event(evlog, d, t_s, EV_FAULT, kind)
        if kind == FK_NO_IGNITION:
            for i in range(n_eng):
                if e < 0 or i == e:
                    eng[i, E_NOIGN] = 1.0
        elif kind == FK_LATE_IGNITION:
            d[D_IGN_EXTRA_S] += flt[k, F_VALUE]
        elif kind == FK_THRUST_SHORTFALL:
            for i in range(n_eng):
                if e < 0 or i == e:
                    eng[i, E_SCALE] = 1.0 - flt[k, F_VALUE]
        elif kind == FK_ENGINE_OUT:
            if eng[e, E_PHASE] != PH_OFF and eng[e, E_PHASE] != PH_BURNOUT:
                push_event(evlog, d, t_s, EV_ENGINE_OUT, e)
            eng[e, E_PHASE] = PH_FAILED
        elif kind == FK_GIMBAL_STUCK:
            if flt[k, F_AXIS] != AXIS_YAW:
                d[D_TVC_STUCK_P] = 1.0
            if flt[k, F_AXIS] != AXIS_PITCH:
                d[D_TVC_STUCK_Y] = 1.0
        elif kind == FK_GIMBAL_SLOW:
            d[D_TVC_RATE_SCALE] = flt[k, F_VALUE]
        elif kind == FK_GUST:
            d[D_GUST_T0] = t_s
            d[D_GUST_DUR] = flt[k, F_DURATION]
            d[D_GUST_SPEED] = flt[k, F_VALUE]
            d[D_GUST_FROM] = flt[k, F_DIR]
        elif kind == FK_SENSOR_DROPOUT:
            if flt[k, F_SENSOR] == SENSOR_ALT:
                d[D_ALT_OUT_UNTIL] = t_s + flt[k, F_DURATION]
            else:
                d[D_GNSS_OUT_UNTIL] = t_s + flt[k, F_DURATION]
