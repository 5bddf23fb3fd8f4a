"""Plant speed for `make bench`: physics steps per second of the 6-DOF plant
with every effect on, and its speed-up over the naive numpy step.

Scenario (both measurements): the falcon9 preset 150 m above the pad, falling
at 50 m/s with a small lean and drift, default wind with Dryden turbulence, a
gust and a slow-gimbal fault, a 100 Hz controller on truth (constant-deceleration
throttle, PD attitude control through the gimbal, legs down), landing and
settling on its legs.  Every sensor samples at its own rate.

  plant_steps_per_s: the whole run, timing only the plant calls the closed
      loop makes per 10 ms tick (command, advance(0.01), sensors); median of
      `repeats` runs after a JIT warm-up.
  plant_speedup_vs_numpy_naive: the first `naive_steps` physics steps of the
      same run, advance() of the compiled plant against host.plant.naive
      (same model, plain CPython + small numpy arrays), same commands; ratio
      of the medians.
"""
import math
import statistics
import time

_SCENARIO = {"alt_m": 150.0, "vz_mps": -50.0, "vx_mps": 0.5, "tilt_x_rad": 0.01,
             "propellant_kg": 3000.0}
_FAULTS = [{"kind": "gust", "trigger": "t_s", "t_s": 2.0, "speed_mps": 6.0, "from_deg": 200.0,
            "duration_s": 2.0},
           {"kind": "gimbal_slow", "trigger": "t_s", "t_s": 1.0, "rate_scale": 0.5}]
_TICK_S = 0.01


def _controller(alt_m, vz_mps, mass_kg, max_thrust_n, in_contact, lean=(0.0, 0.0),
                rates=(0.0, 0.0), vh=(0.0, 0.0)):
    """Constant-deceleration throttle to 1 m/s at the ground; PD on the lean (body axis
    x, y components in world) toward a lean that kills the horizontal velocity."""
    a = (vz_mps * vz_mps - 1.0) / (2.0 * max(alt_m, 0.05)) + 9.80665
    thr = mass_kg * a / max_thrust_n
    want_x = max(-0.05, min(0.05, -0.02 * vh[0]))
    want_y = max(-0.05, min(0.05, -0.02 * vh[1]))
    pitch = 1.0 * (want_x - lean[0]) - 1.5 * rates[1]   # + pitch: nose toward +x
    yaw = -1.0 * (want_y - lean[1]) - 1.5 * rates[0]    # + yaw: nose toward -y
    return (thr, pitch, yaw, 0.0, not in_contact, True)


def _make(seed=7):
    from host.plant import Plant, load_vehicle
    return Plant(load_vehicle("falcon9"), seed=seed, initial=_SCENARIO, faults=_FAULTS)


def _plant_run(max_s=20.0):
    """One landing; returns (physics steps, seconds spent in plant calls)."""
    plant = _make()
    veh = plant.vehicle
    spent = 0.0
    k = 0
    n0 = round(plant.t_s / plant.step_s)
    while not plant.done and plant.t_s < max_s:
        tr = plant.truth()
        qw, qx, qy, qz = tr["qw"], tr["qx"], tr["qy"], tr["qz"]
        lean = (2.0 * (qx * qz + qw * qy), 2.0 * (qy * qz - qw * qx))
        cmd = _controller(tr["z_m"], tr["vz_mps"], tr["mass_kg"], veh.max_thrust_n,
                          tr["ground_contacts"] > 0 or plant.done, lean,
                          (tr["wx_radps"], tr["wy_radps"]), (tr["vx_mps"], tr["vy_mps"]))
        t0 = time.perf_counter()
        plant.command(*cmd)
        plant.advance(_TICK_S)
        plant.sensors(k)
        spent += time.perf_counter() - t0
        k += 1
    return round(plant.t_s / plant.step_s) - n0, spent


def _segment(x, command, advance, n_steps, cg0_m, dry_kg, max_thrust_n):
    """The first n_steps (1 kHz) of the run; seconds spent in advance().

    x is the state array the object integrates (for the controller)."""
    from host.plant import layout as L
    per_tick = int(round(_TICK_S * 1000))
    spent = 0.0
    for k in range(n_steps // per_tick):
        qw, qx, qy, qz = x[L.X_Q:L.X_Q + 4]
        command(*_controller(x[L.X_R + 2] - cg0_m, x[L.X_V + 2], dry_kg + x[L.X_MP],
                             max_thrust_n, False,
                             (2.0 * (qx * qz + qw * qy), 2.0 * (qy * qz - qw * qx)),
                             (x[L.X_W], x[L.X_W + 1]), (x[L.X_V], x[L.X_V + 1])))
        t0 = time.perf_counter()
        advance(per_tick)
        spent += time.perf_counter() - t0
    return spent


def bench_plant(repeats=5, naive_steps=1000, naive_repeats=3):
    from host.plant.naive import NaivePlant

    _plant_run(2.0)  # JIT warm-up (compile, or load the cache)
    rates = []
    for _ in range(repeats):
        n, s = _plant_run()
        rates.append(n / s)
    steps_per_s = statistics.median(rates)

    veh = _make().vehicle
    cg0 = veh.mass_properties(_SCENARIO["propellant_kg"])[1]
    args = (naive_steps, cg0, veh.dry_mass_kg, veh.max_thrust_n)
    fast, slow = [], []
    for _ in range(max(repeats, naive_repeats)):
        p = _make()
        fast.append(_segment(p._x, p.command, lambda n, p=p: p.advance(n * p.step_s), *args))
    for _ in range(naive_repeats):
        nv = NaivePlant(_make())
        slow.append(_segment(nv.x, nv.command, nv.advance_steps, *args))
    speedup = statistics.median(slow) / statistics.median(fast)
    return [
        {"name": "plant_steps_per_s", "value": round(steps_per_s), "unit": "steps/s",
         "target": 200000, "better": "higher"},
        {"name": "plant_speedup_vs_numpy_naive", "value": round(speedup, 1), "unit": "x",
         "target": 50, "better": "higher"},
    ]


if __name__ == "__main__":
    for r in bench_plant():
        print(f"{r['name']}: {r['value']} {r['unit']} (target {r['target']}, {r['better']})")
