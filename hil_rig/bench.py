"""`make bench`: every speed and memory figure with its target, as a table and
as bench-results.json (a list of {name, value, unit, target, better}).

Each area contributes a function returning records; a failing area is
reported and the others still run.
"""
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def record(name, value, unit, target, better):
    return {"name": name, "value": value, "unit": unit, "target": target, "better": better}


def ratio(rec):
    v, t = rec["value"], rec["target"]
    if t is None or v is None:
        return None
    if t == 0:  # "exactly none" targets (bytes allocated): met or not, no ratio
        return float("inf") if (v <= 0 if rec["better"] == "lower" else v >= 0) else 0.0
    return v / t if rec["better"] == "higher" else (t / v if v else float("inf"))


def _echo_port():
    from hil_rig.targets import SitlTarget
    from host.link import open_port
    t = SitlTarget(script="echo.py").start()
    return t, open_port(t.url)


def _sensors_frame():
    from protocol import messages as m
    from protocol.framing import framed_size
    n = framed_size(m.SENSORS)
    return bytes([0]) + bytes(range(1, n - 1)) + bytes([0])


def _echo_steps(port, n_steps):
    """Round trips of a SENSORS frame through the echo firmware, sent and
    awaited by the lockstep's own code (host.link.Link: framing, fd I/O,
    decoding, matching the step), so the limit has the loop's host costs in
    it and nothing else: no plant, no control cycle."""
    from host.link import Link
    from protocol import messages as m
    from protocol.hostcodec import spec
    link = Link(port)
    fields = [0] * len(spec("SENSORS").fields)
    samples = []
    for k in range(n_steps):
        fields[0] = k
        frame = link.writer.frame(m.SENSORS, fields)
        t0 = time.perf_counter_ns()
        link.write(frame)
        link.await_step("SENSORS", k, 2.0)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    return samples


def bare_link_roundtrip_us(n_steps=1200, warmup=200):
    """Median round trip of the bare link: an echo firmware on the same kind of
    pty, same board layer, started for this measurement only."""
    t, port = _echo_port()
    try:
        samples = _echo_steps(port, n_steps + warmup)[warmup:]
        port.close()
    finally:
        t.stop()
    return statistics.median(samples)


def echo_realtime(rate_hz=500, duration_s=30.0):
    """The bare echo firmware paced like fly_realtime: (its deadline-miss rate,
    the closure of every frame in ns: written -> its echo back in full)."""
    frame = _sensors_frame()
    t, port = _echo_port()
    try:
        port.timeout = 2.0
        out = _echo_realtime(port, frame, rate_hz, duration_s)
        port.close()
    finally:
        t.stop()
    return out


def _echo_realtime(port, frame, rate_hz, duration_s):
    """Fraction of ticks whose echo had not come back by the next tick, paced
    exactly like host.loop.fly_realtime, and each frame's closure (ns)."""
    n = len(frame)
    dt = 1.0 / rate_hz
    steps = int(duration_s * rate_hz)
    misses = 0
    pending = 0  # bytes of echo still owed
    sent_ns = []  # when frame i went out; its echo is complete at (i + 1) * n bytes back
    closure = []
    rx = 0
    t0 = time.perf_counter()
    for k in range(steps):
        tick = t0 + k * dt
        if k > 0 and pending > 0:
            misses += 1
        pending += n
        sent_ns.append(time.perf_counter_ns())
        port.write(frame)
        next_tick = tick + dt
        while True:
            now = time.perf_counter()
            if now >= next_tick:
                break
            if pending > 0:
                port.timeout = min(next_tick - now, 0.005)
                got = port.read(1)
                if got:
                    w = port.in_waiting
                    if w:
                        got += port.read(w)
                    pending -= len(got)
                    rx += len(got)
                    t_ns = time.perf_counter_ns()
                    while len(closure) < len(sent_ns) and rx >= (len(closure) + 1) * n:
                        closure.append(t_ns - sent_ns[len(closure)])
            else:
                time.sleep(min(next_tick - now, 0.005))
        pending = max(pending, 0)
    return misses / steps, closure


LOCKSTEP_RUNS = 5


def bench_lockstep(runs=LOCKSTEP_RUNS):
    """The `make demo` flight in lockstep at 100 Hz against the bare link, in
    `runs` rounds of: the bare link's round trip, then the flight as flown by
    default (the answer acts one frame later, so the plant steps while the
    firmware computes), then with --act-delay none.

    The real-time factor is the fastest flight (as timeit reports: on a
    shared machine the slower runs measure the other processes), the median
    beside it.  This machine's speed also drifts by a third over tens of
    seconds (the bare round trip alone reads 30-45 us), so each flight is set
    against the link measured just before it: the fraction of the link limit
    is the fastest flight's, with the median of the rounds' beside it and
    every round's listed.

    --act-delay none is sequential by construction (round trip + firmware
    cycle + plant step), so it has no target: the round trip and the cycle
    alone cap it near 150x."""
    from hil_rig.flight import run_flight
    rounds = []
    for _ in range(runs):
        rt_us = bare_link_roundtrip_us()
        rounds.append((rt_us, run_flight(rate_hz=100).loop,
                       run_flight(rate_hz=100, act_delay="none").loop))
    rt = statistics.median(r[0] for r in rounds)
    out = [record("bare_link_roundtrip_us", round(rt, 1), "us", None, "lower"),
           record("bare_link_steps_per_s", round(1e6 / rt), "steps/s", None, "higher"),
           record("bare_link_roundtrip_us_runs", " ".join(f"{r[0]:.1f}" for r in rounds), "us",
                  None, "lower")]
    for col, suffix, rtf_target, frac_target in ((1, "", 150, 0.5), (2, "_act_delay_none", None, None)):
        loops = sorted((r[col] for r in rounds), key=lambda loop: loop.wall_time_s)
        fracs = [r[col].steps / r[col].wall_time_s * r[0] / 1e6 for r in rounds]
        best = min(range(runs), key=lambda i: rounds[i][col].wall_time_s)
        if not suffix:
            out.append(record("demo_lockstep_rtf", round(loops[0].rtf, 1), "x", None, "higher"))
        out += [record(f"lockstep_rtf_100hz{suffix}", round(loops[0].rtf, 1), "x", rtf_target,
                       "higher"),
                record(f"lockstep_rtf_100hz{suffix}_median", round(loops[len(loops) // 2].rtf, 1),
                       "x", None, "higher"),
                record(f"lockstep_fraction_of_link_limit{suffix}", round(fracs[best], 3), "",
                       frac_target, "higher"),
                record(f"lockstep_fraction_of_link_limit{suffix}_median",
                       round(statistics.median(fracs), 3), "", None, "higher"),
                record(f"lockstep_fraction_of_link_limit{suffix}_runs",
                       " ".join(f"{f:.3f}" for f in fracs), "", None, "higher")]
    return out


RT_ROUNDS = 3


def bench_realtime(rounds=RT_ROUNDS):
    """Real-time pacing over whole landings at 200 and 500 Hz.

    At 500 Hz the yardstick is the bare echo firmware paced identically.  The
    misses of both come mostly from stalls of the shared host (tens of ms now
    and then, at random), so one echo run against one flight compares two
    draws of that noise: the bench alternates echo and flight `rounds` times
    and compares the medians; the closure figures pool all 500 Hz flights, and
    the echo's closure (same pacing, same rounds) is listed beside them as a
    yardstick of the machine's stalls (no target)."""
    from hil_rig.flight import run_flight
    from host.linkstats import closure_stats
    rep = run_flight(rate_hz=200, pace="realtime")
    out = [record("rt200_miss_rate", round(rep.loop.miss_rate, 5), "", None, "lower")]
    flights, echoes, closure, echo_closure = [], [], [], []
    for _ in range(rounds):
        rate, ec = echo_realtime(500, 30.0)
        echoes.append(rate)
        echo_closure += ec
        rep = run_flight(rate_hz=500, pace="realtime")
        flights.append(rep.loop.miss_rate)
        closure += rep.loop.closure_ns
    c = closure_stats(closure)
    e = closure_stats(echo_closure)
    out += [record("rt500_miss_rate", round(statistics.median(flights), 5), "", None, "lower"),
            record("rt500_echo_miss_rate", round(statistics.median(echoes), 5), "", None, "lower"),
            record("rt500_miss_rate_runs", " ".join(f"{x:.5f}" for x in flights), "", None, "lower"),
            record("rt500_echo_miss_rate_runs", " ".join(f"{x:.5f}" for x in echoes), "", None,
                   "lower"),
            record("rt500_closure_us_p50", round(c["p50_us"], 1), "us", None, "lower"),
            record("rt500_closure_us_p99", round(c["p99_us"], 1), "us", 1000, "lower"),
            record("rt500_closure_us_max", round(c["max_us"], 1), "us", None, "lower"),
            # a yardstick, as for the miss rate: the echo's closure at the same pacing (its
            # reader sleeps in pyserial between bytes where the flight's spins, so its
            # tail can be the longer: it shows what the machine does, not a floor)
            record("rt500_echo_closure_us_p50", round(e["p50_us"], 1), "us", None, "lower"),
            record("rt500_echo_closure_us_p99", round(e["p99_us"], 1), "us", None, "lower")]
    return out


def _derive(records):
    """Figures whose target depends on another figure of the same run."""
    by = {r["name"]: r for r in records}
    if "rt500_echo_miss_rate" in by and "rt500_miss_rate" in by:
        echo = by["rt500_echo_miss_rate"]["value"]
        r = by["rt500_miss_rate"]
        # target: no worse than 1.5x the echo's, with a floor of one miss in 10,000
        r["target"] = round(max(1.5 * echo, 1e-4), 5)
    return records


AREA_ALIASES = {"link": "lockstep", "demo": "lockstep"}  # the areas' names before they merged


def cpu_ticks(stat_text=None):
    """(all, steal) CPU ticks so far from /proc/stat's first line, or None off
    Linux.  Steal is the time a virtual machine's CPUs were ready to run but
    the hypervisor ran something else: on a shared VM every timed figure
    moves with it, so each area reports its share (machine_steal_pct_*)."""
    try:
        if stat_text is None:
            stat_text = Path("/proc/stat").read_text()
        f = stat_text.split("\n", 1)[0].split()
        if f[0] != "cpu" or len(f) < 9:
            return None
        ticks = [int(x) for x in f[1:9]]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError, IndexError):
        return None
    return sum(ticks), ticks[7]


def steal_pct(before, after):
    """Percent of the CPU time between two cpu_ticks() the hypervisor stole."""
    if before is None or after is None or after[0] <= before[0]:
        return None
    return round(100.0 * (after[1] - before[1]) / (after[0] - before[0]), 1)


def areas():
    areas = [("lockstep", bench_lockstep), ("realtime", bench_realtime)]
    try:
        from hil_rig.bench_protocol import bench_protocol
        areas.append(("protocol", bench_protocol))
    except ImportError:
        pass
    try:
        from hil_rig.bench_plant import bench_plant
        areas.append(("plant", bench_plant))
    except ImportError:
        pass
    try:
        from hil_rig.bench_firmware import bench_firmware, bench_small_ints
        areas.append(("firmware", bench_firmware))
        areas.append(("small-ints", bench_small_ints))
    except ImportError:
        pass
    return areas


def run_bench(only=None, out=ROOT / "bench-results.json", stream=sys.stdout):
    records = []
    failed = []
    for area, fn in areas():
        if only and area not in only:
            continue
        print(f"[bench] {area} ...", file=stream, flush=True)
        t0 = cpu_ticks()
        try:
            records.extend(fn())
        except Exception as e:  # noqa: BLE001 - one broken area must not hide the rest
            failed.append(area)
            print(f"[bench] {area} failed: {type(e).__name__}: {e}", file=stream)
        stolen = steal_pct(t0, cpu_ticks())
        if stolen is not None:
            records.append(record(f"machine_steal_pct_{area.replace('-', '_')}", stolen, "%",
                                  None, "lower"))
            if stolen >= 1.0:
                print(f"[bench] {area}: the hypervisor took {stolen:g} % of this machine's CPU "
                      f"time meanwhile (steal): its timed figures are slower for it",
                      file=stream, flush=True)
    records = _derive(records)
    print(format_table(records), file=stream)
    doc = records
    Path(out).write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out} ({len(records)} figures; python {platform.python_version()})", file=stream)
    return records, failed


def format_table(records):
    from host.cli import table
    rows = []
    for r in records:
        q = ratio(r)
        tgt = "-" if r["target"] is None else f"{'>=' if r['better'] == 'higher' else '<='} {r['target']:g}"
        verdict = "" if q is None else ("ok" if q >= 1 else "MISS")
        v = r["value"]
        if isinstance(v, str):  # a list of per-run values
            vs = v
        else:
            vs = f"{v:,.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else f"{v:,}"
        qs = "-" if q is None else ("inf" if q == float("inf") else f"{q:.2f}")
        rows.append([r["name"], vs, r["unit"], tgt, qs, verdict])
    return table(rows, ["figure", "value", "unit", "target", "ratio", ""])
