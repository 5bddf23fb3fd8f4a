# Firmware cycle benchmark, run ON MicroPython (the unix VM, or a board via
# `mpremote run`).  Replays a recorded host->board byte stream (parameter
# commands, arming, then every SENSORS frame of a real flight) through the
# unchanged firmware App, and measures every control cycle: duration and bytes
# allocated; plus the longest garbage collection the executive ran in slack.
#
#   micropython -X heapsize=192K hil_rig/mpy_bench_firmware.py frames.bin [--times]
#   (on a board: mpremote cp frames.bin hoverslam.key : + run hil_rig/mpy_bench_firmware.py)
#
# Needs `hoverslam.key` (the key the stream was signed with) in the current dir.
import gc
import sys
import time

_MAX_CYCLES = 8000  # 80 s at 100 Hz; uint16 each, to fit beside the firmware


class ReplayBoard:
    name = "replay"

    def __init__(self, f):
        self.f = f  # streamed: a whole flight does not fit a Pico-sized heap
        self.mv = None
        self.ticks_us = time.ticks_us
        self.ticks_diff = time.ticks_diff

    def read_into(self, buf):
        if self.mv is None:
            self.mv = memoryview(buf)[0:80]  # about one frame per read, as the link delivers
        n = self.f.readinto(self.mv)
        return n if n else -1

    def wait_rx(self, ms):
        return False

    def write(self, mv):
        pass

    def start_watchdog(self):
        pass

    def feed_watchdog(self):
        pass

    def led(self, on):
        pass

    def keep_running(self):
        return True


class U16s:
    """n uint16 in one bytearray: one contiguous allocation, no growth copies
    (an array grown by append fragments a Pico-sized heap)."""

    def __init__(self, n):
        self.b = bytearray(2 * n)

    def __getitem__(self, i):
        return self.b[2 * i] | (self.b[2 * i + 1] << 8)

    def __setitem__(self, i, v):
        self.b[2 * i] = v & 0xFF
        self.b[2 * i + 1] = v >> 8


# taken before the firmware is imported: once its objects are spread over the
# heap, 99 KB free may hold no contiguous 16 KB
_TIMES = U16s(_MAX_CYCLES)
_ALLOCS = U16s(_MAX_CYCLES)

import app as app_mod  # noqa: E402


class BenchApp(app_mod.App):
    def __init__(self, board):
        app_mod.App.__init__(self, board, ())
        self.times = _TIMES
        self.allocs = _ALLOCS
        self.n = 0

    def cycle(self):
        ticks_us = time.ticks_us
        a0 = gc.mem_alloc()
        t0 = ticks_us()
        app_mod.App.cycle(self)
        t1 = ticks_us()
        a1 = gc.mem_alloc()
        n = self.n
        if n < _MAX_CYCLES:
            self.times[n] = min(time.ticks_diff(t1, t0), 65535)
            self.allocs[n] = min(a1 - a0, 65535)
            self.n = n + 1


def pct(times, n, q):
    """q-quantile of times[0:n] by counting (a sort of 8000 values does not
    fit beside the firmware in a Pico-sized heap)."""
    k = int(q * (n - 1) + 0.5)  # rank wanted
    lo = 0
    hi = 65535
    while lo < hi:  # smallest v with count(times <= v) > k
        mid = (lo + hi) // 2
        c = 0
        for i in range(n):
            if times[i] <= mid:
                c += 1
        if c > k:
            hi = mid
        else:
            lo = mid + 1
    return lo


def main(path, dump=False):
    with open(path, "rb") as f:
        a = BenchApp(ReplayBoard(f))
        a.run()
    n = a.n
    # the pause of a collection with the heap as the flight left it
    t0 = time.ticks_us()
    gc.collect()
    forced = time.ticks_diff(time.ticks_us(), t0)
    gc.enable()
    times = a.times
    allocs = a.allocs
    print("cycles", n)
    print("cycle_us_p50", pct(times, n, 0.5))
    print("cycle_us_p99", pct(times, n, 0.99))
    print("cycle_us_max", pct(times, n, 1.0))
    total = 0
    worst = 0
    for i in range(n):
        total += allocs[i]
        if allocs[i] > worst:
            worst = allocs[i]
    print("alloc_bytes_mean", total / n)
    print("alloc_bytes_max", worst)
    print("gc_pause_us_max", max(a.gc_max_us, forced))
    print("gc_count", a.gc_count)
    print("state", a.seq.state)
    print("exceptions", a.exceptions)
    if dump:  # every cycle's time, for the host to compare replays cycle by cycle
        for i in range(n):
            sys.stdout.write("%d\n" % times[i])


main(sys.argv[1] if len(sys.argv) > 1 else "frames.bin", "--times" in sys.argv)
