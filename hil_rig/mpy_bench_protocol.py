# Protocol benchmark that runs ON the MicroPython VM (not a CPython module).
#
# Run by hil_rig.bench_protocol with MICROPYPATH=<firmware>:<lib with protocol>
# and the Pico-sized heap; prints one line "BENCH {json}" with:
#   mpy_encode_us        ACTUATORS encode: struct.pack_into + Encoder.finish, per frame
#   mpy_decode_us        SENSORS decode: Decoder.feed of the framed bytes + reading
#                        every field through codec.view (what the firmware does)
#   mpy_framing_alloc_bytes            Encoder.finish + Decoder.feed, every message type
#   mpy_actuators_encode_alloc_bytes   pack_into + finish of ACTUATORS
#   mpy_sensors_decode_alloc_bytes     feed + every SENSORS field read via codec.view
#   mpy_sensors_unpack_alloc_bytes     for comparison: the same payload via unpack_from
# Byte figures are gc.mem_alloc() differences with the GC disabled, per frame
# (runs of n and 2n frames differenced, so constant loop overhead cancels).
import gc
import json
import struct
import sys
import time

from protocol import messages as m
from protocol.codec import fmt, view
from protocol.framing import Decoder, Encoder

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000

_FMT_ACT = fmt(m.ACTUATORS)
_FMT_SEN = fmt(m.SENSORS)
SENSOR_VALUES = (1234, 5678000, 150, -220, 9810, 1200, -3400, 560, 152400, 1200, -800, 152300,
                 15, -7, -51000, 820, 3)


def sensors_frame():
    enc = Encoder()
    enc.seq = 77
    struct.pack_into(_FMT_SEN, enc.raw, 4, *SENSOR_VALUES)
    return bytearray(enc.finish(m.SENSORS))


def encode_actuators(enc, n):
    raw = enc.raw
    pack_into = struct.pack_into
    f = _FMT_ACT
    finish = enc.finish
    mid = m.ACTUATORS
    for i in range(n):
        pack_into(f, raw, 4, i, 650, -1200, 3400, 0, 3, 4)
        finish(mid)


def decode_sensors(dec, s, frame, n):
    end = len(frame)
    feed = dec.feed
    acc = 0
    for i in range(n):
        pos = 0
        while pos < end:
            pos = feed(frame, pos, end)
        # every field, as the control cycle reads them
        acc += (s.step + s.t_us + s.accel_x_mmps2 + s.accel_y_mmps2 + s.accel_z_mmps2
                + s.gyro_x_urads + s.gyro_y_urads + s.gyro_z_urads + s.alt_mm + s.gnss_x_mm
                + s.gnss_y_mm + s.gnss_z_mm + s.gnss_vx_mmps + s.gnss_vy_mmps + s.gnss_vz_mmps
                + s.chamber_p_pm + s.flags)
    return acc


def unpack_sensors(dec, frame, n):
    end = len(frame)
    feed = dec.feed
    unpack_from = struct.unpack_from
    f = _FMT_SEN
    buf = dec.buf
    for i in range(n):
        pos = 0
        while pos < end:
            pos = feed(frame, pos, end)
        unpack_from(f, buf, 4)


def framing_all_types(enc, dec, frames, n):
    for i in range(n):
        for mid, frame in frames:
            enc.finish(mid)
            end = len(frame)
            pos = 0
            while pos < end:
                pos = dec.feed(frame, pos, end)


def _alloc(fn, n):
    gc.collect()
    gc.disable()
    a0 = gc.mem_alloc()
    fn(n)
    used = gc.mem_alloc() - a0
    gc.enable()
    return used


def alloc_per_call(fn, n, per):
    """Bytes allocated per frame: (alloc of 2n calls - alloc of n calls) / n,
    which cancels the loop's constant cost (e.g. its range object)."""
    fn(3)  # warm up (first calls may intern or grow things)
    a1 = _alloc(fn, n)
    a2 = _alloc(fn, 2 * n)
    return (a2 - a1) / (n * per)


def time_per_call(fn, n, per):
    best = None
    for r in range(5):
        gc.collect()
        t0 = time.ticks_us()
        fn(n)
        dt = time.ticks_diff(time.ticks_us(), t0)
        if best is None or dt < best:
            best = dt
    return best / (n * per)


def main():
    enc = Encoder()
    dec = Decoder()
    s = view(dec.buf, m.SENSORS)
    sframe = sensors_frame()
    frames = []
    e2 = Encoder()
    for row in m.MESSAGES:
        frames.append((row[0], bytearray(e2.finish(row[0]))))
    out = {
        "mpy_encode_us": time_per_call(lambda k: encode_actuators(enc, k), N, 1),
        "mpy_decode_us": time_per_call(lambda k: decode_sensors(dec, s, sframe, k), N, 1),
        "mpy_framing_alloc_bytes": alloc_per_call(
            lambda k: framing_all_types(enc, dec, frames, k), 200, len(frames)),
        "mpy_actuators_encode_alloc_bytes": alloc_per_call(lambda k: encode_actuators(enc, k), 500, 1),
        "mpy_sensors_decode_alloc_bytes": alloc_per_call(
            lambda k: decode_sensors(dec, s, sframe, k), 500, 1),
        "mpy_sensors_unpack_alloc_bytes": alloc_per_call(
            lambda k: unpack_sensors(dec, sframe, k), 150, 1),
        "frames_decoded": dec.frames,
        "drops": dec.drops,
        "implementation": sys.implementation.name,
        "platform": sys.platform,
    }
    print("BENCH " + json.dumps(out))


if __name__ == "__main__":
    main()
