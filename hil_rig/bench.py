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
    if t in (None, 0) or v is None:
        return None
    return v / t if rec["better"] == "higher" else (t / v if v else float("inf"))


def bench_link():
    """bare_link_roundtrip_us: echo firmware on the same kind of pty."""
    from hil_rig.targets import SitlTarget
    from host.link import open_port
    from protocol import messages as m
    from protocol.framing import framed_size

    n = framed_size(m.SENSORS)
    payload = bytes(range(1, n + 1))
    t = SitlTarget(script="echo.py").start()
    try:
        port = open_port(t.url)
        samples = []
        for i in range(3000):
            t0 = time.perf_counter_ns()
            port.write(payload)
            got = 0
            port.timeout = 2.0
            while got < n:
                chunk = port.read(n - got)
                if not chunk:
                    t.check_alive()
                    raise RuntimeError("echo firmware did not answer")
                got += len(chunk)
            if i >= 200:
                samples.append((time.perf_counter_ns() - t0) / 1000)
        port.close()
    finally:
        t.stop()
    return [record("bare_link_roundtrip_us", round(statistics.median(samples), 1), "us", None, "lower")]


def bench_demo():
    """demo_lockstep_rtf: the `make demo` flight, sim seconds per wall second."""
    from hil_rig.flight import run_flight
    rep = run_flight()
    return [record("demo_lockstep_rtf", round(rep.loop.rtf, 1), "x", None, "higher")]


def _areas():
    areas = [("link", bench_link), ("demo", bench_demo)]
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
        from hil_rig.bench_firmware import bench_firmware
        areas.append(("firmware", bench_firmware))
    except ImportError:
        pass
    return areas


def run_bench(only=None, out=ROOT / "bench-results.json", stream=sys.stdout):
    records = []
    failed = []
    for area, fn in _areas():
        if only and area not in only:
            continue
        print(f"[bench] {area} ...", file=stream, flush=True)
        try:
            records.extend(fn())
        except Exception as e:  # noqa: BLE001 - one broken area must not hide the rest
            failed.append(area)
            print(f"[bench] {area} failed: {type(e).__name__}: {e}", file=stream)
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
        vs = f"{v:,.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else f"{v:,}"
        rows.append([r["name"], vs, r["unit"], tgt, "-" if q is None else f"{q:.2f}", verdict])
    return table(rows, ["figure", "value", "unit", "target", "ratio", ""])
