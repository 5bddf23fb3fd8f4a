"""Gains of the firmware's vertical Kalman filter (`est_kf`), from the sensors.

The firmware (firmware/estimator.py `_kf_update`) runs a steady-state filter on
height, vertical speed and a vertical accelerometer bias: every control cycle
it integrates the IMU, then corrects by a fixed gain vector for each fresh
GNSS vertical speed and each fresh altimeter sample.  Fixed gains cost nothing
on a Pico; they are the periodic steady state of the Riccati recursion for the
sensors' noise and rates, which is what this module computes, so a vehicle
whose sensors change gets its gains from its vehicle file instead of by hand:

    python -m hil_rig.kalman hobby_f15      # est_kf_* lines for the tuning file

The process model is the tuning's: white acceleration error per control cycle
(`accel_sigma_mps2`: the IMU's noise is far smaller, but the coning of a
thrust-dumping solid motor adds vertical error nothing models) and a random
walk of the bias (`bias_walk_mps2_rts`).
"""
import sys

import numpy as np

from protocol.parameters import TABLE, index

GAIN_NAMES = ("est_kf_hh_upm", "est_kf_vh_upm", "est_kf_bh_upm",   # altimeter innovation
              "est_kf_hv_upm", "est_kf_vv_upm", "est_kf_bv_upm")   # GNSS vz innovation


def vertical_gains(alt_sigma_m, alt_rate_hz, vel_sigma_mps, gnss_rate_hz, control_hz=100.0,
                   accel_sigma_mps2=0.3, bias_walk_mps2_rts=0.01, periods=400):
    """{est_kf_*_upm: gain x 1e6} for state (height, vz, accel bias): the mean over
    one period of the periodic steady-state Kalman gains of each measurement."""
    dt = 1.0 / control_hz
    alt_every = max(1, round(control_hz / alt_rate_hz))
    gnss_every = max(1, round(control_hz / gnss_rate_hz))
    period = int(np.lcm(alt_every, gnss_every))
    f = np.array([[1.0, dt, dt * dt / 2], [0.0, 1.0, dt], [0.0, 0.0, 1.0]])
    g = np.array([dt * dt / 2, dt, 0.0])
    q = np.outer(g, g) * accel_sigma_mps2 ** 2
    q[2, 2] += bias_walk_mps2_rts ** 2 * dt
    p = np.eye(3)
    gains = {"h": {}, "v": {}}
    for k in range(periods * period):
        p = f @ p @ f.T + q
        step = k % period
        # the firmware's order within a cycle: the GNSS fix, then the altimeter
        for kind, every, row, sigma in (("v", gnss_every, 1, vel_sigma_mps),
                                        ("h", alt_every, 0, alt_sigma_m)):
            if step % every == 0:
                gain = p[:, row] / (p[row, row] + sigma ** 2)
                p = p - np.outer(gain, p[row, :])
                gains[kind][step] = gain  # the last period's: converged
    kh = np.mean(list(gains["h"].values()), axis=0)
    kv = np.mean(list(gains["v"].values()), axis=0)
    out = {name: int(round(v * 1e6)) for name, v in zip(GAIN_NAMES, list(kh) + list(kv))}
    for name, v in out.items():
        lo, hi = TABLE[index(name)][2:4]
        if not lo <= v <= hi:
            raise ValueError(f"{name}: the filter wants {v} (x1e-6), outside the firmware's "
                             f"[{lo}, {hi}]: sensors this precise need another filter")
    return out


def vehicle_gains(veh, control_hz=100.0, **process):
    """vertical_gains for a Vehicle's altimeter and GNSS."""
    alt = veh.config["sensors.altimeter"]
    gnss = veh.config["sensors.gnss"]
    return vertical_gains(alt["noise_m"], alt["rate_hz"], gnss["vel_noise_mps"], gnss["rate_hz"],
                          control_hz, **process)


def main(argv=None):
    from host.errors import HoverslamError
    from host.plant import load_vehicle
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m hil_rig.kalman VEHICLE (a preset name or a TOML path)",
              file=sys.stderr)
        return 2
    try:
        gains = vehicle_gains(load_vehicle(args[0]))
    except (HoverslamError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for name, v in gains.items():
        print(f"{name} = {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
