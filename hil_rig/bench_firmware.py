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


def replay_on_vm(key, stream, heap=PICO_HEAP):
    with tempfile.TemporaryDirectory(prefix="hoverslam-fwbench-") as d:
        d = Path(d)
        (d / "frames.bin").write_bytes(stream)
        (d / "hoverslam.key").write_bytes(key)
        (d / "lib").mkdir()
        (d / "lib" / "protocol").symlink_to(PROTOCOL_DIR, target_is_directory=True)
        env = dict(os.environ, MICROPYPATH=f"{FIRMWARE_DIR}:{d / 'lib'}")
        p = subprocess.run([find_micropython(), "-X", f"heapsize={heap}",
                            str(HERE / "mpy_bench_firmware.py"), "frames.bin"],
                           cwd=d, env=env, capture_output=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"firmware bench failed on the VM ({p.returncode}): "
                           f"{p.stderr.decode()[-500:]} {p.stdout.decode()[-500:]}")
    out = {}
    for line in p.stdout.decode().splitlines():
        k, _, v = line.partition(" ")
        out[k] = float(v)
    return out


def bench_firmware():
    key, stream, rep = record_stream()
    r = replay_on_vm(key, stream)
    p50 = r["cycle_us_p50"]
    return [
        record("fw_cycle_us_p50", p50, "us", None, "lower"),
        record("fw_cycle_us_p99", r["cycle_us_p99"], "us", None, "lower"),
        record("fw_cycle_us_max", r["cycle_us_max"], "us", round(3 * p50, 1), "lower"),
        record("fw_alloc_bytes_per_cycle", round(r["alloc_bytes_mean"], 1), "B", 256, "lower"),
        record("fw_gc_pause_us_max", r["gc_pause_us_max"], "us", None, "lower"),
    ]
