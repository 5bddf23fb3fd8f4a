"""Firmware figures on the MicroPython VM with a Pico-sized heap.

Records the host->board byte stream of a real demo flight, then replays it
through the unchanged firmware on the VM (hil_rig/mpy_bench_firmware.py),
timing every control cycle and counting the bytes it allocates.
"""
import os
import subprocess
import tempfile
from pathlib import Path

from hil_rig.bench import record
from hil_rig.targets import FIRMWARE_DIR, PICO_HEAP, PROTOCOL_DIR, find_micropython

HERE = Path(__file__).resolve().parent


def record_stream(vehicle="falcon9", seed=1):
    from hil_rig.flight import run_flight
    key = os.urandom(32)
    chunks = []
    rep = run_flight(vehicle=vehicle, seed=seed, key=key, on_tx=lambda data, t: chunks.append(data))
    return key, b"".join(chunks), rep


def replay_on_vm(key, stream, heap=PICO_HEAP, times=False):
    with tempfile.TemporaryDirectory(prefix="hoverslam-fwbench-") as d:
        d = Path(d)
        (d / "frames.bin").write_bytes(stream)
        (d / "hoverslam.key").write_bytes(key)
        (d / "lib").mkdir()
        (d / "lib" / "protocol").symlink_to(PROTOCOL_DIR, target_is_directory=True)
        env = dict(os.environ, MICROPYPATH=f"{FIRMWARE_DIR}:{d / 'lib'}")
        p = subprocess.run([find_micropython(), "-X", f"heapsize={heap}",
                            str(HERE / "mpy_bench_firmware.py"), "frames.bin"]
                           + (["--times"] if times else []),
                           cwd=d, env=env, capture_output=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"firmware bench failed on the VM ({p.returncode}): "
                           f"{p.stderr.decode()[-500:]} {p.stdout.decode()[-500:]}")
    out = {"times": []}
    for line in p.stdout.decode().splitlines():
        k, _, v = line.partition(" ")
        if v:
            out[k] = float(v)
        else:
            out["times"].append(int(k))
    return out


REPLAYS = 5


def bench_firmware(replays=REPLAYS):
    """The cycle of a whole flight, replayed `replays` times.  The replay is
    deterministic (same frames, same cycles), so for each cycle the fastest of
    the replays is its own cost and the rest is the host OS preempting the VM
    (a shared 2-core VM stalls for tens of us now and then, which a board's
    bare-metal loop never sees).  The figures with the target are per-cycle
    minima; fw_cycle_us_max_raw is the longest cycle of the first replay as
    measured, preemption included."""
    import numpy as np
    key, stream, rep = record_stream()
    end = rep.events and [e for e in rep.events if e[1] == "state"][-1][3]
    runs = []
    for _ in range(replays):
        r = replay_on_vm(key, stream, times=True)
        # a replay that did not fly the flight (a refused command, an exception)
        # would time idle cycles: fail instead of reporting them
        if r["exceptions"] or r["state"] != end or r["cycles"] != rep.loop.steps:
            raise RuntimeError(f"the replay did not fly the recorded flight: {r['cycles']:.0f} "
                               f"cycles of {rep.loop.steps}, end state {r['state']:.0f} (flight: "
                               f"{end}), {r['exceptions']:.0f} exceptions")
        runs.append(r)
    t = np.array([r["times"] for r in runs])
    own = t.min(axis=0)
    p50 = float(np.percentile(own, 50))
    return [
        record("fw_cycle_us_p50", p50, "us", None, "lower"),
        record("fw_cycle_us_p99", float(np.percentile(own, 99)), "us", None, "lower"),
        record("fw_cycle_us_max", float(own.max()), "us", round(3 * p50, 1), "lower"),
        record("fw_cycle_us_max_raw", float(t[0].max()), "us", None, "lower"),
        record("fw_cycle_us_p50_raw", float(np.percentile(t[0], 50)), "us", None, "lower"),
        record("fw_alloc_bytes_per_cycle", round(max(r["alloc_bytes_mean"] for r in runs), 1), "B",
               256, "lower"),
        record("fw_alloc_bytes_max_cycle", max(r["alloc_bytes_max"] for r in runs), "B", None, "lower"),
        record("fw_gc_pause_us_max", max(r["gc_pause_us_max"] for r in runs), "us", None, "lower"),
    ]


def bench_small_ints():
    """The small-int audit (hil_rig.intaudit): sites of the firmware that made
    an int outside rp2's small-int range (a bigint: an allocation on a Pico)
    during the standard flights, and results that were floats."""
    from hil_rig.intaudit import audit
    rep = audit()
    return [record("fw_small_int_violations", len(rep.violations) + len(rep.wire_violations)
                   + len(rep.literals), "sites", 0, "lower"),
            record("fw_float_results", len(rep.floats), "sites", 0, "lower"),
            record("fw_small_int_sites_run", f"{len(rep.covered)} of {len(rep.sites)}", "", None,
                   "higher")]
