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


def _burn_drop_m(veh, v0, dt=0.001):
    """Height a solid-motor vehicle loses during its burn, starting at vertical
    speed v0, down to the lowest point of its path (where it stops: the F15's
    tail-off still exceeds the weight, so the lowest point is the touchdown)
    (1-D: thrust curve, propellant burn-off, drag, gravity)."""
    mot = veh.motor
    g = veh.config["environment"]["g_mps2"]
    aero = veh.config["aero"]
    cd0 = aero["cd_mach"][0][1]
    k_drag = 0.5 * 1.225 * aero["ref_area_m2"] * cd0
    curve = mot.curve
    impulse = mot.impulse_ns
    m0 = veh.dry_mass_kg + veh.propellant_kg
    t, h, v, burned = 0.0, 0.0, v0, 0.0
    h_min = 0.0
    j = 0
    while t < mot.burn_s and v < 0:
        while j + 1 < len(curve) and curve[j + 1][0] <= t:
            j += 1
        (t0, f0), (t1, f1) = curve[j], curve[min(j + 1, len(curve) - 1)]
        f = f0 + (f1 - f0) * (t - t0) / (t1 - t0) if t1 > t0 else f0
        m = m0 - veh.propellant_kg * burned / impulse
        drag = k_drag * v * abs(v)  # opposes the motion
        a = (f - drag) / m - g
        v += a * dt
        h += v * dt
        burned += f * dt
        t += dt
        h_min = min(h_min, h)
    return -h_min


def _crossing_speed(veh, dt=0.001):
    """Speed at which a drop from the nominal start (with drag) meets the
    ignition condition h = burn drop."""
    g = veh.config["environment"]["g_mps2"]
    aero = veh.config["aero"]
    k_drag = 0.5 * 1.225 * aero["ref_area_m2"] * aero["cd_mach"][0][1]
    m = veh.dry_mass_kg + veh.propellant_kg
    h = veh.initial.get("alt_m", 100.0)
    v = veh.initial.get("vz_mps", 0.0)
    while h > 0:
        if v < -5 and h <= _burn_drop_m(veh, v, dt=0.005):
            return v
        v += (-g - k_drag * v * abs(v) / m) * 0.01
        h += v * 0.01
    return -40.0


def solid_ignition_k(veh):
    """(t_b, K) for a solid motor: igniting at h0 = -v0 t_b + K with vertical
    speed v0 brings the vehicle to rest at the ground.  Without drag and mass
    loss, for a stop at burnout, K = g t_b^2 / 2 - (t_b I - J) / m (impulse I,
    first moment J, vehicles.md section 3); here the line is fitted to a 1-D
    simulation of the burn with the thrust curve, burn-off and drag, over the
    speeds a lander falls at (drag is what the closed form misses: ~4 N on a
    14 N motor)."""
    # the drop is not linear in v0 over a wide range: fit it where the path from
    # the vehicle's nominal start crosses it (+-8 m/s), so the line is good
    # to a few cm where it is used
    vc = _crossing_speed(veh)
    vs = [vc - 3.0 + 0.5 * i for i in range(13)]
    hs = [_burn_drop_m(veh, v) for v in vs]
    n = len(vs)
    mv = sum(vs) / n
    mh = sum(hs) / n
    slope = sum((v - mv) * (h - mh) for v, h in zip(vs, hs)) / sum((v - mv) ** 2 for v in vs)
    return -slope, mh - slope * mv


N_KNOTS = 8          # solid_t1..t8 / solid_a1..a8 in protocol/parameters.py
CONFIRM_PM = 300     # firmware/sequencer.py: chamber pressure that counts as burning


def solid_accel_curve(veh, dt=0.001):
    """[(t_s, a_mps2)] every dt: the motor's thrust over the vehicle's mass as the
    propellant burns off (RASP convention: in proportion to impulse delivered)."""
    mot = veh.motor
    m0 = veh.dry_mass_kg + veh.propellant_kg
    out = []
    burned = 0.0
    t = 0.0
    c = mot.curve
    j = 0
    while t <= mot.burn_s + 1e-9:
        while j + 1 < len(c) and c[j + 1][0] <= t:
            j += 1
        (t0, f0), (t1, f1) = c[j], c[min(j + 1, len(c) - 1)]
        f = f0 + (f1 - f0) * (t - t0) / (t1 - t0) if t1 > t0 else 0.0
        out.append((t, f / (m0 - veh.propellant_kg * burned / mot.impulse_ns)))
        burned += f * dt
        t += dt
    return out


def solid_knots(veh, n=N_KNOTS):
    """n knots (t_s, a_mps2) of a piecewise-linear thrust acceleration that starts at
    (0, 0) and ends at burnout (a = 0): greedy, each new knot where the line
    through the others is furthest off."""
    dense = solid_accel_curve(veh)
    end = len(dense) - 1
    idx = [0, end]
    while len(idx) < n + 1:
        worst, wi = -1.0, None
        for a, b in zip(idx, idx[1:]):
            (ta, aa), (tb, ab) = dense[a], dense[b]
            for i in range(a + 1, b):
                t, v = dense[i]
                e = abs(v - (aa + (ab - aa) * (t - ta) / (tb - ta)))
                if e > worst:
                    worst, wi = e, i
        if wi is None:
            break
        idx = sorted(idx + [wi])
    knots = [(dense[i][0], dense[i][1]) for i in idx[1:]]
    knots[-1] = (knots[-1][0], 0.0)
    return knots


def solid_confirm_s(veh):
    """Burn time at which the firmware confirms thrust: the chamber pressure (thrust
    over the nominal peak) reaches CONFIRM_PM, plus half a 100 Hz sample."""
    peak = veh.engine_thrust_n
    c = veh.motor.curve
    for (t0, f0), (t1, f1) in zip(c, c[1:]):
        if f1 >= CONFIRM_PM / 1000 * peak:
            return t0 + (t1 - t0) * (CONFIRM_PM / 1000 * peak - f0) / (f1 - f0) + 0.005
    return 0.0


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
    # thrust-vector dumping is off unless the vehicle's tuning turns it on (parameters
    # persist on a board: every flight says what it wants)
    p["dump_tilt_urad"] = 0
    if veh.solid:
        tb, k = solid_ignition_k(veh)
        p["solid_burn_ms"] = tb * 1000
        p["solid_k_mm"] = k * 1000
        p["solid_lit_ms"] = solid_confirm_s(veh) * 1000
        for i, (t, a) in enumerate(solid_knots(veh), 1):
            p[f"solid_t{i}_ms"] = t * 1000
            p[f"solid_a{i}_mmps2"] = a * 1000
        aero = veh.config["aero"]
        p["drag_k_upm"] = 0.5 * 1.225 * aero["ref_area_m2"] * aero["cd_mach"][0][1] / mass * 1e6
        p["ign_lead_ms"] = eng.get("ignition_delay_s", 0.0) * 1000
        p["throttle_min_pm"] = 1000
    else:
        p["ign_lead_ms"] = (eng.get("ignition_dead_time_s", 0.0) + eng.get("spool_time_constant_s", 0.0)) * 1000
        p["thr_lag_ms"] = max(1.0, eng.get("throttle_time_constant_s", 0.15) * 1000)
    p.update(load_tuning(veh.name))
    return {k: int(round(v)) for k, v in p.items()}
