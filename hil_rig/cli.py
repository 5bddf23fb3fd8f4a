"""The `hoverslam` command: fly, flash, bench (and the host's own commands).

Every subcommand has --help; bad input ends in one line and exit status 2, a
flight that does not land in exit status 1.
"""
import json
import sys

from host.cli import EXIT_FAIL, make_parser, run, table
from host.errors import HoverslamError


def cmd_fly(args):
    from hil_rig.flight import run_flight
    from hil_rig.targets import read_key_file
    from host.plant import load_faults
    faults = load_faults(args.faults) if args.faults else ()
    key = read_key_file(args.key) if args.key else None
    if args.speed is not None and args.pace != "lockstep":
        raise HoverslamError("--speed applies to --pace lockstep only")
    if args.act_delay != "none" and args.pace != "lockstep":
        raise HoverslamError("--act-delay applies to --pace lockstep only")
    print(f"flying {args.vehicle} on {args.target} ({args.pace}, {args.rate_hz} Hz, seed {args.seed}); "
          "the first run compiles the plant (~30 s) ...", file=sys.stderr, flush=True)
    try:
        rep = run_flight(vehicle=args.vehicle, target=args.target, faults=faults, seed=args.seed,
                         rate_hz=args.rate_hz, heap=args.heap, max_time_s=args.max_time_s,
                         step_timeout_s=args.step_timeout_s, key=key, pace=args.pace,
                         speed=args.speed, act_delay=args.act_delay,
                         check_hash=not args.any_firmware)
    except HoverslamError as e:
        raise with_key_hint(e) from None
    if args.json:
        print(json.dumps(flight_summary(rep), indent=2))
    else:
        print(format_flight(rep))
    return 0 if rep.landed else EXIT_FAIL


def flight_summary(rep):
    v = rep.verdict
    return {
        "vehicle": rep.vehicle, "seed": rep.seed, "rate_hz": rep.rate_hz, "target": rep.target,
        "verdict": "LANDED" if v.landed else v.outcome.upper(),
        "outcome": v.outcome,
        "touchdown_vz_mps": v.touchdown_vz_mps, "touchdown_vh_mps": v.touchdown_vh_mps,
        "tilt_deg": v.tilt_deg, "rate_dps": v.rate_dps, "miss_m": v.miss_m,
        "propellant_kg": v.propellant_kg, "propellant_frac": v.propellant_frac,
        "sim_time_s": rep.loop.sim_time_s, "wall_time_s": rep.loop.wall_time_s,
        "rtf": rep.loop.rtf, "steps": rep.loop.steps, "pace": rep.loop.pace,
        "firmware": {"impl": rep.hello["impl"], "fw_hash": rep.hello["fw_hash"]},
        "states": rep.state_path(),
        "events": [list(e) for e in rep.events],
        "link": rep.link,
    }


def format_flight(rep):
    s = flight_summary(rep)
    v = rep.verdict
    def lim(key):
        v = getattr(rep.verdict, key, None)
        return f"<= {v:g}" if v is not None else ""

    rows = [
        ["touchdown vertical speed", f"{abs(s['touchdown_vz_mps']):.2f} m/s", lim("max_vz_mps")],
        ["touchdown lateral speed", f"{s['touchdown_vh_mps']:.2f} m/s", lim("max_vh_mps")],
        ["tilt", f"{s['tilt_deg']:.2f} deg", lim("max_tilt_deg")],
        ["angular rate", f"{s['rate_dps']:.2f} deg/s", lim("max_rate_dps")],
        ["miss distance", f"{s['miss_m']:.2f} m", lim("max_miss_m")],
        ["propellant left", f"{s['propellant_kg']:.1f} kg ({100 * s['propellant_frac']:.1f} %)", ""],
        ["flight time (sim)", f"{s['sim_time_s']:.2f} s", ""],
        ["wall time", f"{s['wall_time_s']:.2f} s", ""],
        ["real-time factor", f"{s['rtf']:.1f}x", ""],
    ]
    lk = rep.link
    c = lk.get("closure") or {}
    if c:
        rows.append(["closure latency p50/p99/max",
                     f"{c['p50_us']:.0f}/{c['p99_us']:.0f}/{c['max_us']:.0f} us", ""])
    rows.append(["frames to/from board", f"{lk['frames_tx']}/{lk['frames_rx']}", ""])
    drops = sum(v for k, v in lk["host_drops"].items() if k != "seq_gap")
    rows.append(["dropped host/board", f"{drops}/{lk['board_drops'] or 0}", ""])
    if rep.loop.pace == "realtime":
        rows.append(["deadline misses / late", f"{lk['misses']}/{lk['late']} of {rep.loop.steps}", ""])
    elif lk["retries"]:
        rows.append(["steps re-sent", f"{lk['retries']}", ""])
    out = [f"Hoverslam: {rep.vehicle}, firmware on {s['firmware']['impl']} ({rep.target}), "
           f"{rep.loop.pace} {rep.rate_hz} Hz, seed {rep.seed}", ""]
    out.append(table(rows, ["", "value", "criterion"]))
    out.append("")
    out.append("states: " + " -> ".join(s["states"]))
    faults = [e for e in rep.events if e[1] in ("fault", "exception", "link_lost")]
    for e in faults:
        out.append(f"event t={e[0]:.2f}s {e[1]}: {e[5]}")
    out.append("")
    out.append(f"verdict: {s['verdict']}" + ("" if v.landed else f" ({v.outcome})"))
    return "\n".join(out)


def with_key_hint(e):
    """A board refusing signed commands for their tag holds another key than the host."""
    from protocol import messages as m
    text = str(e)
    refused = (m.NACK_NAMES[m.NACK_NO_TAG], m.NACK_NAMES[m.NACK_BAD_TAG])
    if any(text.endswith(": " + r) for r in refused):
        return HoverslamError(f"{text}: the host does not hold this board's command key; "
                              "run hoverslam flash or pass --key")
    return e


def cmd_flash(args):
    from hil_rig.flash import flash
    res = flash(args.port, chip=args.chip, key_file=args.key, uart_baud=args.uart,
                uart_port=args.uart_port, log=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"flashed {len(res.files)} files to {res.port} ({res.chip}); firmware hash 0x{res.fw_hash:08x}")
    print(f"command key: {res.key_path}")
    if res.hello:
        print(f"HELLO ok: {res.hello['impl']} on {res.hello['platform']}, firmware hash matches")
    for note in res.notes:
        print(note)
    return 0


def cmd_bench(args):
    from hil_rig.bench import run_bench
    only = set(args.only.split(",")) if args.only else None
    records, failed = run_bench(only=only, out=args.out)
    return EXIT_FAIL if failed else 0


def build_parser():
    from hil_rig.targets import PICO_HEAP
    p, sub = make_parser(
        "Hardware-in-the-loop rig for rocket-landing flight software.\n"
        "The firmware runs on the MicroPython VM (default) or on a Pico over serial.")
    f = sub.add_parser("fly", help="fly one landing and print the verdict",
                       description="Fly one landing in lockstep and print the touchdown verdict. "
                                   "Exit status 0 landed, 1 not landed, 2 error.")
    f.add_argument("--vehicle", default="falcon9",
                   help="preset name (falcon9, zhuque3, hobby_f15) or a vehicle TOML file (default: falcon9)")
    f.add_argument("--faults", metavar="TOML", help="fault scenario file ([[fault]] tables)")
    f.add_argument("--target", default="sitl",
                   help="'sitl' (MicroPython VM, default), a serial port (/dev/ttyACM0, COM3) "
                        "or a pyserial URL (socket://host:port)")
    f.add_argument("--rate-hz", type=int, default=100, help="control rate (default: 100)")
    f.add_argument("--pace", choices=("lockstep", "realtime"), default="lockstep",
                   help="lockstep: sim time waits for the firmware (deterministic, fast); "
                        "realtime: the plant runs on the wall clock (default: lockstep)")
    f.add_argument("--speed", type=float, default=None,
                   help="lockstep only: at most this many times real time (default: flat out)")
    f.add_argument("--act-delay", choices=("none", "frame"), default="none",
                   help="lockstep only: the firmware's answer to step k acts at once (none, default) "
                        "or one control period later (frame: conservative, and ~1.7x faster "
                        "because the plant steps while the firmware computes)")
    f.add_argument("--seed", type=int, default=1, help="random seed for noise and dispersions (default: 1)")
    f.add_argument("--heap", default=PICO_HEAP, help=f"VM heap size for sitl (default: {PICO_HEAP})")
    f.add_argument("--max-time-s", type=float, default=None, help="give up after this much sim time")
    f.add_argument("--step-timeout-s", type=float, default=2.0,
                   help="fail if the firmware does not answer a step within this time (default: 2)")
    f.add_argument("--key", metavar="FILE",
                   help="the board's command key (default: the one hoverslam flash saved for this port)")
    f.add_argument("--any-firmware", action="store_true",
                   help="fly whatever firmware the board runs (default: refuse one that is not "
                        "this checkout's, by the firmware hash in its HELLO)")
    f.add_argument("--json", action="store_true", help="print the result as JSON")
    f.set_defaults(func=cmd_fly)

    fl = sub.add_parser(
        "flash", help="put the flight firmware on a Pico over USB and check it runs",
        description="Build the flight image for the chip (mpy-cross), copy it to the board with "
                    "mpremote together with the command key (hoverslam.key), read back the SHA-256 "
                    "of every file, reset the board and check its HELLO and firmware hash. "
                    "The key is generated on first flash and kept on this machine, 0600, under "
                    "~/.config/hoverslam/keys/<board id>.key, where `hoverslam fly --target PORT` "
                    "finds it. The running firmware ignores Ctrl-C: to re-flash, re-plug the board and "
                    "hold BOOTSEL right after (so main.py skips the firmware). Parameters are not "
                    "flashed; they are set before each flight.")
    fl.add_argument("--port", required=True,
                    help="the board's USB serial port (/dev/ttyACM0, COM3) or an rfc2217:// URL")
    fl.add_argument("--chip", choices=("rp2040", "rp2350"), default="rp2040",
                    help="rp2040 (Pico, default) or rp2350 (Pico 2)")
    fl.add_argument("--key", metavar="FILE",
                    help="use this command key (16+ bytes) instead of the saved or a new random one")
    fl.add_argument("--uart", type=int, metavar="BAUD",
                    help="make the firmware talk on UART0 (GP0 TX, GP1 RX) at BAUD, e.g. 921600, "
                         "instead of USB (writes uart.cfg)")
    fl.add_argument("--uart-port", metavar="PORT",
                    help="with --uart: the USB-serial adapter's port, to check HELLO after the reset")
    fl.set_defaults(func=cmd_flash)

    b = sub.add_parser("bench", help="measure speed and memory figures against their targets",
                       description="Run the benchmarks, print each figure with its target and "
                                   "ratio, and write them as JSON.")
    b.add_argument("--only", help="comma-separated areas: link,demo,realtime,protocol,plant,firmware,small-ints")
    b.add_argument("--out", default="bench-results.json", help="JSON output (default: bench-results.json)")
    b.set_defaults(func=cmd_bench)
    return p


def main(argv=None):
    sys.exit(run(build_parser(), argv))


if __name__ == "__main__":
    main()
