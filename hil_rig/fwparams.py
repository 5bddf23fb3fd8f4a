"""Firmware parameters for a flight: derived from the vehicle file, plus the
vehicle's flight-software tuning file (hil_rig/tuning/<vehicle>.toml).

Physics the flight software needs but cannot sense before ignition comes
from the vehicle: full-thrust acceleration at burn start, throttle floor,
gimbal limit, TVC authority (thrust x arm / inertia), gravity, ignition lead
time; for a solid motor the ignition height.  Gains and thresholds are tuning.
"""
import math
import tomllib
from pathlib import Path

from host.errors import HoverslamError
from protocol.parameters import TABLE, index

TUNING_DIR = Path(__file__).resolve().parent / "tuning"


def load_tuning(name):
    path = TUNING_DIR / f"{name}.toml"
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise HoverslamError(f"{path}: {e}") from None
    for k, v in data.items():
        i = index(k)
        if i < 0:
            raise HoverslamError(f"{path}: {k}: not a firmware parameter (see protocol/parameters.py)")
        if isinstance(v, bool) or not isinstance(v, int):
            raise HoverslamError(f"{path}: {k}: expected an integer, got {v!r}")
        lo, hi = TABLE[i][2], TABLE[i][3]
        if not lo <= v <= hi:
            raise HoverslamError(f"{path}: {k}: {v} is outside [{lo}, {hi}]")
    return data


def solid_ignition_k(veh):
    """(t_b, K) for a solid motor: igniting at h0 = -v0 t_b + K with vertical
    speed v0 brings the vehicle to zero speed at the ground at burnout
    (constant mass, no drag), K = g t_b^2 / 2 - (t_b I - J) / m with the thrust
    curve's impulse I and first moment J (vehicles.md section 3)."""
    mot = veh.motor
    g = veh.config["environment"]["g_mps2"]
    m = veh.dry_mass_kg + veh.propellant_kg
    tb = mot.burn_s
    return tb, 0.5 * g * tb * tb - (tb * mot.impulse_ns - mot.first_moment_ns2) / m


def firmware_params(veh, initial=None):
    init = dict(veh.initial)
    if initial:
        init.update(initial)
    g = veh.config["environment"]["g_mps2"]
    mass = veh.dry_mass_kg + init.get("propellant_kg", veh.propellant_kg)
    _, _, ixx, _ = veh.mass_properties(init.get("propellant_kg", veh.propellant_kg))
    eng = veh.config["engine"]
    p = {
        "accel_max_mmps2": veh.max_thrust_n / mass * 1000,
        "throttle_min_pm": veh.min_throttle_frac * 1000,
        "gimbal_max_urad": veh.gimbal_max_rad * 1e6,
        "alpha_gimbal_pm": veh.max_thrust_n * veh.arm_m / ixx * 1000,
        "gravity_mmps2": g * 1000,
        "solid": 1 if veh.solid else 0,
        # sea-level air: 0.5 rho S CN_alpha / m, the side force per rad of lean per (m/s)^2,
        # as shielded by the plume during the burn
        "aero_k_upm": 0.5 * 1.225 * veh.config["aero"]["ref_area_m2"]
        * veh.config["aero"]["cn_alpha_per_rad"] / mass * 1e6
        * veh.config["engine"].get("plume_drag_frac", 1.0),
        "gnss_latency_ms": veh.config["sensors.gnss"]["latency_s"] * 1000,
    }
    if veh.solid:
        tb, k = solid_ignition_k(veh)
        p["solid_burn_ms"] = tb * 1000
        p["solid_k_mm"] = k * 1000
        p["ign_lead_ms"] = eng.get("ignition_delay_s", 0.0) * 1000
        p["throttle_min_pm"] = 1000
    else:
        p["ign_lead_ms"] = (eng.get("ignition_dead_time_s", 0.0) + eng.get("spool_time_constant_s", 0.0)) * 1000
    p.update(load_tuning(veh.name))
    return {k: int(round(v)) for k, v in p.items()}
