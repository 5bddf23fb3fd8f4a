"""Wire-protocol figures: host encode/decode speed (struct and construct paths),
bulk decoding of recordings, and the MicroPython VM's per-frame time and
allocation (hil_rig/mpy_bench_protocol.py, Pico-sized heap).

What is measured (each host figure is the median of REPEATS runs):
  host_encode_fps            SENSORS frames built per second by hostfast.FastWriter
                             (struct.pack + binascii.crc_hqx + C cobs), what the host sends
  host_decode_fps            frames per second through hostfast.FastDecoder("tuple") on a
                             downlink stream (ACTUATORS every cycle, STATUS every 10th),
                             fed in 4 KiB reads like a serial port: split, C COBS, CRC,
                             struct unpack to a tuple of field values, drop counting
  host_decode_fps_dict       same, each frame into a wire-unit dict (FrameReader API)
  host_encode_fps_construct  compiled construct FRAME.build (header, payload, CRC via
                             Checksum) + C cobs, per SENSORS frame
  host_decode_fps_construct  split + C cobs + compiled construct FRAME.parse (checks the
                             CRC) per downlink frame
  bulk_decode_fps            hostfast.bulk_decode (numpy) of a recorded downlink stream
  mpy_*                      see hil_rig/mpy_bench_protocol.py
"""
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from hil_rig.bench import record
from hil_rig.targets import FIRMWARE_DIR, PICO_HEAP, PROTOCOL_DIR, find_micropython

HERE = Path(__file__).resolve().parent
REPEATS = 7

SENSOR_VALUES = [1234, 5678000, 150, -220, 9810, 1200, -3400, 560, 152400, 1200, -800, 152300,
                 15, -7, -51000, 820, 3]


def _downlink(n):
    """A recorded downlink: ACTUATORS each cycle, STATUS every 10th, with realistic values."""
    from protocol import hostfast as hf
    from protocol import messages as m
    w = hf.FastWriter()
    out = []
    for i in range(n):
        if i % 11 == 10:
            out.append(w.frame(m.STATUS, [i, 4, 152400 - i, -51000, 1200, -800, 15, -7, 1500,
                                          -2200, 9000, 120, -80, 180, 2400, 150000, 3, i, 0, 0, 0]))
        else:
            out.append(w.frame(m.ACTUATORS, [i, 650 + (i % 300), -1200 + i % 5000, 3400 - i % 7000,
                                             0, 1, 4]))
    return out


def _median_rate(fn, count):
    rates = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        rates.append(count / (time.perf_counter() - t0))
    return statistics.median(rates)


def host_figures(n_live=50_000, n_bulk=500_000):
    from cobs import cobs

    from protocol import hostconstruct as hc
    from protocol import hostfast as hf
    from protocol import messages as m
    from protocol.hostcodec import SPECS

    out = {}
    w = hf.FastWriter()

    def enc_struct():
        frame = w.frame
        mid = m.SENSORS
        v = SENSOR_VALUES
        for _ in range(n_live):
            frame(mid, v)
    out["host_encode_fps"] = _median_rate(enc_struct, n_live)

    sen_names = SPECS[m.SENSORS].fields
    sen_dict = dict(zip(sen_names, SENSOR_VALUES))
    build = hc.COMPILED_FRAME.build
    encode = cobs.encode

    n_con = n_live // 5  # construct is slow: fewer frames, same rate

    def enc_construct():
        for i in range(n_con):
            raw = build({"body": {"value": {"msg_id": m.SENSORS, "seq": i & 0xFFFF,
                                            "payload": sen_dict}}})
            b"\x00" + encode(raw) + b"\x00"
    out["host_encode_fps_construct"] = _median_rate(enc_construct, n_con)

    stream = b"".join(_downlink(n_live))
    reads = [stream[i:i + 4096] for i in range(0, len(stream), 4096)]

    def dec(mode):
        def run():
            d = hf.FastDecoder(mode)
            feed = d.feed
            for r in reads:
                feed(r)
            assert d.frames == n_live and not any(d.drops), d.drops
        return run
    out["host_decode_fps"] = _median_rate(dec("tuple"), n_live)
    out["host_decode_fps_dict"] = _median_rate(dec("dict"), n_live)

    parse = hc.COMPILED_FRAME.parse
    decode = cobs.decode
    small = b"".join(_downlink(n_con))

    def dec_construct():
        got = 0
        for seg in small.split(b"\x00"):
            if seg:
                parse(decode(seg))
                got += 1
        assert got == n_con
    out["host_decode_fps_construct"] = _median_rate(dec_construct, n_con)

    big = b"".join(_downlink(n_bulk))
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = hf.bulk_decode(big)
        rates.append(n_bulk / (time.perf_counter() - t0))
        assert res.frames == n_bulk and not any(res.drops[:5]), res.drops
    out["bulk_decode_fps"] = statistics.median(rates)
    return out


def mpy_figures(n=2000, heap=PICO_HEAP, timeout=300):
    """Run hil_rig/mpy_bench_protocol.py on the VM; returns its figures."""
    with tempfile.TemporaryDirectory(prefix="hoverslam-protobench-") as d:
        d = Path(d)
        (d / "lib").mkdir()
        (d / "lib" / "protocol").symlink_to(PROTOCOL_DIR, target_is_directory=True)
        env = dict(os.environ, MICROPYPATH=f"{FIRMWARE_DIR}:{d / 'lib'}")
        p = subprocess.run([find_micropython(), "-X", f"heapsize={heap}",
                            str(HERE / "mpy_bench_protocol.py"), str(n)],
                           cwd=d, env=env, capture_output=True, timeout=timeout)
    text = p.stdout.decode()
    for line in text.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    raise RuntimeError(f"protocol bench failed on the VM ({p.returncode}): "
                       f"{p.stderr.decode()[-500:]} {text[-500:]}")


def bench_protocol(quick=False):
    """Records {name, value, unit, target, better} of every protocol figure.

    quick=True uses small sizes (for tests of this function: figures are then
    not meaningful as speeds)."""
    if quick:
        h = host_figures(n_live=2000, n_bulk=5000)
        v = mpy_figures(n=50)
    else:
        h = host_figures()
        v = mpy_figures()
    r = round
    return [
        record("host_encode_fps", r(h["host_encode_fps"]), "frames/s", None, "higher"),
        record("host_decode_fps", r(h["host_decode_fps"]), "frames/s", 500_000, "higher"),
        record("host_decode_fps_dict", r(h["host_decode_fps_dict"]), "frames/s", None, "higher"),
        record("host_encode_fps_construct", r(h["host_encode_fps_construct"]), "frames/s", None,
               "higher"),
        record("host_decode_fps_construct", r(h["host_decode_fps_construct"]), "frames/s", None,
               "higher"),
        record("bulk_decode_fps", r(h["bulk_decode_fps"]), "frames/s", 1_000_000, "higher"),
        record("mpy_encode_us", r(v["mpy_encode_us"], 2), "us", None, "lower"),
        record("mpy_decode_us", r(v["mpy_decode_us"], 2), "us", None, "lower"),
        record("mpy_framing_alloc_bytes", r(v["mpy_framing_alloc_bytes"], 2), "B/frame", 0,
               "lower"),
        record("mpy_actuators_encode_alloc_bytes", r(v["mpy_actuators_encode_alloc_bytes"], 2),
               "B/frame", 0, "lower"),
        # SENSORS carries integers only: decoding hands out no float objects, so the
        # allowance ("no more than the floats it hands out") is 0 bytes
        record("mpy_sensors_decode_alloc_bytes", r(v["mpy_sensors_decode_alloc_bytes"], 2),
               "B/frame", 0, "lower"),
        record("mpy_sensors_unpack_alloc_bytes", r(v["mpy_sensors_unpack_alloc_bytes"], 2),
               "B/frame", None, "lower"),
    ]


if __name__ == "__main__":
    for rec in bench_protocol():
        print(rec)
