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
    from host.plant import load_fault_file, load_scenario
    if args.speed is not None and args.pace != "lockstep":
        raise HoverslamError("--speed applies to --pace lockstep only")
    if args.act_delay is not None and args.pace != "lockstep":
        raise HoverslamError("--act-delay applies to --pace lockstep only")
    vehicle, initial, wind, faults, link, crit = args.vehicle or "falcon9", None, None, (), None, None
    if args.scenario:
        if args.vehicle:
            raise HoverslamError("--vehicle and --scenario: the scenario names its vehicle; "
                                 "give one of the two")
        sc = load_scenario(args.scenario)
        vehicle, initial, wind, faults = sc.vehicle, sc.initial or None, sc.wind or None, sc.faults
        link, crit = sc.link, sc.link_criteria
    if args.faults:
        more, flink, fcrit = load_fault_file(args.faults)
        if (flink is not None and link is not None) or (fcrit is not None and crit is not None):
            raise HoverslamError(f"{args.faults}: [link] or [link_criteria] given by the scenario "
                                 "too; keep them in one file")
        faults = tuple(faults) + more
        link = link if flink is None else flink
        crit = crit if fcrit is None else fcrit
    key = read_key_file(args.key) if args.key else None
    what = args.scenario or vehicle
    print(f"flying {what} on {args.target} ({args.pace}, {args.rate_hz} Hz, seed {args.seed}); "
          "the first run compiles the plant (~30 s) ...", file=sys.stderr, flush=True)
    try:
        rep = run_flight(vehicle=vehicle, target=args.target, faults=faults, seed=args.seed,
                         rate_hz=args.rate_hz, heap=args.heap, max_time_s=args.max_time_s,
                         step_timeout_s=args.step_timeout_s, key=key, pace=args.pace,
                         speed=args.speed, act_delay=args.act_delay or "frame", initial=initial, wind=wind,
                         link_faults=link, link_criteria=crit,
                         check_hash=not args.any_firmware)
    except HoverslamError as e:
        raise with_key_hint(e) from None
    if args.json:
        print(json.dumps(flight_summary(rep), indent=2))
    else:
        print(format_flight(rep))
    return 0 if rep.passed else EXIT_FAIL


def flight_summary(rep):
    v = rep.verdict
    return {
        "vehicle": rep.vehicle, "seed": rep.seed, "rate_hz": rep.rate_hz, "target": rep.target,
        "verdict": "LANDED" if v.landed else v.outcome.upper(),
        "outcome": v.outcome,
        "passed": rep.passed,
        "touchdown_vz_mps": v.touchdown_vz_mps, "touchdown_vh_mps": v.touchdown_vh_mps,
        "tilt_deg": v.tilt_deg, "rate_dps": v.rate_dps, "miss_m": v.miss_m,
        "propellant_kg": v.propellant_kg, "propellant_frac": v.propellant_frac,
        "sim_time_s": rep.loop.sim_time_s, "wall_time_s": rep.loop.wall_time_s,
        "rtf": rep.loop.rtf, "steps": rep.loop.steps, "pace": rep.loop.pace,
        "act_delay": rep.loop.act_delay or None,
        "firmware": {"impl": rep.hello["impl"], "fw_hash": rep.hello["fw_hash"]},
        "states": rep.state_path(),
        "downlink_frames_missing": rep.link.get("host_drops", {}).get("seq_gap", 0),
        "events": [list(e) for e in rep.events],
        "link": rep.link,
        "link_criteria": [{"key": c.key, "value": c.value, "limit": c.limit, "ok": c.ok}
                          for c in rep.link_checks],
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
    delay = f", act-delay {rep.loop.act_delay}" if rep.loop.act_delay else ""
    out = [f"Hoverslam: {rep.vehicle}, firmware on {s['firmware']['impl']} ({rep.target}), "
           f"{rep.loop.pace} {rep.rate_hz} Hz{delay}, seed {rep.seed}", ""]
    out.append(table(rows, ["", "value", "criterion"]))
    out.append("")
    out.append(table(link_rows(rep), ["link", "value", "criterion"]))
    out += link_notes(rep)
    out.append("")
    line = "states: " + " -> ".join(s["states"])
    got = rep.link.get("events_recovered") or 0
    gone = rep.link.get("events_unrecovered")
    if got or gone:
        # the EVENTs the noisy downlink lost were asked for again after the flight
        line += f"  ({got} event{'s' if got != 1 else ''} the link lost, asked for again"
        line += (f"; {gone} could not be recovered: this log misses them)" if gone else ")")
    elif gone is None and s["downlink_frames_missing"]:
        line += ("  (the board could not be asked which events the link lost: "
                 "this log may miss some)")
    out.append(line)
    faults = [e for e in rep.events if e[1] in ("fault", "exception", "link_lost")]
    for e in faults:
        out.append(f"event t={e[0]:.2f}s {e[1]}: {e[5]}")
    out.append("")
    verdict = f"verdict: {s['verdict']}" + ("" if v.landed else f" ({v.outcome})")
    bad = [c for c in rep.link_checks if not c.ok]
    if bad:
        verdict += "; link criteria FAILED: " + ", ".join(
            f"{c.what} {_fmt(c.value)} > {_fmt(c.limit)}" for c in bad)
    out.append(verdict)
    return "\n".join(out)


def _fmt(x):
    if x is None:
        return "unknown"
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def link_rows(rep):
    """The link statistics of a flight, both ends, with the criteria they were held to."""
    from host.linkstats import host_drops
    lk = rep.link
    limit = {c.key: ("ok " if c.ok else "FAIL ") + f"<= {_fmt(c.limit)}" for c in rep.link_checks}
    rows = []
    c = lk.get("closure") or {}
    if c:
        rows += [["closure latency p50", f"{c['p50_us']:.0f} us", limit.get("max_closure_p50_us", "")],
                 ["closure latency p99", f"{c['p99_us']:.0f} us", limit.get("max_closure_p99_us", "")],
                 ["closure latency max", f"{c['max_us']:.0f} us", limit.get("max_closure_max_us", "")],
                 ["jitter (sd)", f"{c['jitter_us']:.0f} us", limit.get("max_jitter_us", "")]]
    rows.append(["frames to/from board", f"{lk['frames_tx']}/{lk['frames_rx']}", ""])
    hd = lk["host_drops"]
    why = ", ".join(f"{k} {v}" for k, v in hd.items() if v and k != "seq_gap")
    rows.append(["dropped by host", f"{host_drops(lk)}" + (f" ({why})" if why else ""),
                 limit.get("max_host_drops", "")])
    bd = lk.get("board_drops")
    rows.append(["dropped by board", "unknown" if bd is None else str(bd),
                 limit.get("max_board_drops", "")])
    bc = lk.get("board_crc_errors")
    rows.append(["CRC errors host/board", f"{hd['crc']}/{'?' if bc is None else bc}",
                 limit.get("max_crc_errors", "")])
    bg = lk.get("board_seq_gaps")
    rows.append(["sequence gaps host/board", f"{hd['seq_gap']}/{'?' if bg is None else bg}",
                 limit.get("max_seq_gaps", "")])
    if rep.loop.pace == "realtime":
        rows.append(["deadline misses", f"{lk['misses']} of {rep.loop.steps} "
                     f"({100 * lk['misses'] / max(rep.loop.steps, 1):.2f} %)",
                     limit.get("max_miss_rate", "")])
        rows.append(["late answers / host overruns", f"{lk['late']}/{lk['overruns']}",
                     limit.get("max_late", "")])
    else:
        rows.append(["steps re-sent", str(lk["retries"]), limit.get("max_retries", "")])
        if lk.get("held"):
            rows.append(["answers lost, command held", str(lk["held"]),
                         limit.get("max_held", "")])
    return rows


def link_notes(rep):
    """Lines under the link table: the closure histogram and what was injected."""
    from host.linkstats import histogram_line
    lk = rep.link
    out = []
    c = lk.get("closure") or {}
    if c:
        out.append("closure histogram: " + histogram_line(c["histogram_us"]))
    inj = {k: v for k, v in (lk.get("injected") or {}).items() if v}
    if inj:
        out.append("injected: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in inj.items()))
    return out


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
    from hil_rig.bench import AREA_ALIASES, areas, run_bench
    only = None
    if args.only:
        known = [name for name, _ in areas()]
        only = {AREA_ALIASES.get(a.strip(), a.strip()) for a in args.only.split(",")}
        bad = sorted(only - set(known))
        if bad:
            raise HoverslamError(f"--only {args.only}: unknown area {', '.join(bad)} "
                                 f"(known: {', '.join(known)})")
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
    f.add_argument("--vehicle", default=None,
                   help="preset name (falcon9, zhuque3, hobby_f15) or a vehicle TOML file (default: falcon9)")
    f.add_argument("--scenario", metavar="NAME|TOML",
                   help="a scenario: its vehicle, initial state, wind, [[fault]]s, [link] faults and "
                        "[link_criteria] (preset: zq3_y1_replay, or a TOML file)")
    f.add_argument("--faults", metavar="TOML",
                   help="fault file for any vehicle: [[fault]] tables, and optionally [link] faults "
                        "and [link_criteria]")
    f.add_argument("--target", default="sitl",
                   help="'sitl' (MicroPython VM, default), a serial port (/dev/ttyACM0, COM3) "
                        "or a pyserial URL (socket://host:port)")
    f.add_argument("--rate-hz", type=int, default=100, help="control rate (default: 100)")
    f.add_argument("--pace", choices=("lockstep", "realtime"), default="lockstep",
                   help="lockstep: sim time waits for the firmware (deterministic, fast); "
                        "realtime: the plant runs on the wall clock (default: lockstep)")
    f.add_argument("--speed", type=float, default=None,
                   help="lockstep only: at most this many times real time (default: flat out)")
    f.add_argument("--act-delay", choices=("frame", "none"), default=None,
                   help="lockstep only: the firmware's answer to step k acts one control period "
                        "later (frame, default: the conservative case, and ~1.8x faster because "
                        "the plant steps while the firmware computes) or at once (none: zero "
                        "latency, as PX4/ArduPilot SITL lockstep)")
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
    b.add_argument("--only", help="comma-separated areas: lockstep,realtime,protocol,plant,firmware,small-ints")
    b.add_argument("--out", default="bench-results.json", help="JSON output (default: bench-results.json)")
    b.set_defaults(func=cmd_bench)
    return p


def main(argv=None):
    sys.exit(run(build_parser(), argv))


if __name__ == "__main__":
    main()
