"""Link fault injection between host and firmware: a pyserial-like port
wrapper that drops, duplicates, corrupts, delays (with jitter), buries frames
in garbage, or cuts the link for a window — as set by a scenario's [link]
table.  Everything is seeded and counted, so the firmware's drop counters
and the host's can be checked against what was injected.

Uplink (host -> board) faults act per frame (the host writes one frame per
write); downlink faults act on the byte stream as it is read.  Outage windows
are in the clock the loop gives (`set_time`: sim time in lockstep, wall in
real time); delays are wall-clock, as on a real wire.  In lockstep the loop
does not wait for an answer an outage has cut (`cut()`): it holds the
command in effect and steps on, so sim time runs through the window and the
board sees the gap in the SENSORS timestamps, as it would on the wall clock.
"""
import math
import random
import time
from dataclasses import dataclass, field

from host.errors import HoverslamError

KEYS = {"drop_prob": float, "dup_prob": float, "ber": float, "delay_ms": float,
        "jitter_ms": float, "garbage_prob": float, "garbage_max": int, "outages": list,
        "direction": str, "seed": int}


@dataclass
class LinkFaults:
    drop_prob: float = 0.0       # uplink frames lost
    dup_prob: float = 0.0        # uplink frames sent twice
    ber: float = 0.0             # bit error rate, both directions
    delay_ms: float = 0.0        # uplink frames held back
    jitter_ms: float = 0.0       # ... plus a uniform 0..jitter
    garbage_prob: float = 0.0    # a burst of random bytes before a frame / a read
    garbage_max: int = 64
    outages: list = field(default_factory=list)  # [[start_s, end_s], ...]: nothing passes
    direction: str = "both"      # which way ber, garbage and outages act: up, down, both
    seed: int = 1

    @classmethod
    def from_table(cls, table, where="[link]"):
        for k, v in table.items():
            if k not in KEYS:
                raise HoverslamError(f"{where}: unknown key {k!r} (one of {', '.join(KEYS)})")
            typ = KEYS[k]
            if typ is float and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
                raise HoverslamError(f"{where}: {k}: expected a number >= 0, got {v!r}")
            if typ is int and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise HoverslamError(f"{where}: {k}: expected an integer >= 0, got {v!r}")
            if k.endswith("_prob") and v > 1:
                raise HoverslamError(f"{where}: {k}: a probability must be <= 1, got {v!r}")
            if k == "direction" and v not in ("up", "down", "both"):
                raise HoverslamError(f"{where}: direction: expected 'up', 'down' or 'both', got {v!r}")
            if k == "outages":
                if not all(isinstance(w, list) and len(w) == 2 and all(isinstance(x, (int, float)) for x in w)
                           and w[0] < w[1] for w in v):
                    raise HoverslamError(f"{where}: outages: expected a list of [start_s, end_s], got {v!r}")
        return cls(**table)

    @property
    def active(self):
        return any((self.drop_prob, self.dup_prob, self.ber, self.delay_ms, self.jitter_ms,
                    self.garbage_prob, self.outages))


class FaultyPort:
    """Wraps an open pyserial port; the Link uses it as it would the port."""

    def __init__(self, port, faults):
        self.port = port
        self.f = faults
        self.rng = random.Random(faults.seed)
        self.now_s = 0.0
        self.queue = []  # (release_time_s, bytes)
        self.counts = {"dropped": 0, "duplicated": 0, "corrupted_bytes": 0, "delayed": 0,
                       "garbage_bursts": 0, "outage_frames": 0, "outage_bytes": 0}

    def set_time(self, t_s):
        self.now_s = t_s
        self._release()

    def cut(self):
        """True while an outage window covers the loop's time: a frame sent now
        gets no answer (the uplink loses it, or the downlink the answer)."""
        return any(a <= self.now_s < b for a, b in self.f.outages)

    def _acts(self, way):
        return self.f.direction in (way, "both")

    def _corrupt(self, data):
        ber = self.f.ber
        if ber <= 0:
            return data
        out = bytearray(data)
        nbits = len(out) * 8
        # geometric gaps between flipped bits: exact BER without a draw per bit
        i = self._gap(ber)
        while i < nbits:
            out[i >> 3] ^= 1 << (i & 7)
            self.counts["corrupted_bytes"] += 1
            i += 1 + self._gap(ber)
        return bytes(out)

    def _gap(self, p):
        u = self.rng.random()
        return int(math.log(1.0 - u) / math.log(1.0 - p)) if p < 1 else 0

    def _garbage(self):
        if self.f.garbage_prob and self.rng.random() < self.f.garbage_prob:
            self.counts["garbage_bursts"] += 1
            n = self.rng.randint(1, max(1, self.f.garbage_max))
            return bytes(self.rng.getrandbits(8) for _ in range(n))
        return b""

    # --- pyserial surface used by host.link ----------------------------------
    def write(self, data):
        f = self.f
        if self._acts("up") and self.cut():
            self.counts["outage_frames"] += 1
            return len(data)
        if f.drop_prob and self.rng.random() < f.drop_prob:
            self.counts["dropped"] += 1
            return len(data)
        out = data
        if self._acts("up"):
            out = self._garbage() + self._corrupt(data)
        copies = 1
        if f.dup_prob and self.rng.random() < f.dup_prob:
            self.counts["duplicated"] += 1
            copies = 2
        delay = f.delay_ms + (self.rng.random() * f.jitter_ms if f.jitter_ms else 0.0)
        for _ in range(copies):
            if delay > 0:
                self.counts["delayed"] += 1
                self.queue.append((time.perf_counter() + delay / 1000.0, out))
            else:
                self.port.write(out)
        self._release()
        return len(data)

    def _release(self):
        if not self.queue:
            return
        now = time.perf_counter()
        due = [q for q in self.queue if q[0] <= now]
        if due:
            self.queue = [q for q in self.queue if q[0] > now]
            for _, data in sorted(due, key=lambda q: q[0]):
                self.port.write(data)

    @property
    def in_waiting(self):
        self._release()
        return self.port.in_waiting

    @property
    def timeout(self):
        return self.port.timeout

    @timeout.setter
    def timeout(self, v):
        self.port.timeout = v

    def read(self, n=1):
        data = self.port.read(n)
        if not data or not self._acts("down"):
            return data
        if self.cut():
            self.counts["outage_bytes"] += len(data)
            return b""
        return self._garbage() + self._corrupt(data)

    def close(self):
        self.port.close()
