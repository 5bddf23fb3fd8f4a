"""Link statistics of a run, and the criteria a scenario sets on them.

A flight's `link` summary (hil_rig.flight) holds what both ends counted:
frames and bytes each way, the host decoder's drops by reason, the board's
drops (all reasons, CRC errors, sequence gaps: from its last STATUS), steps
re-sent, real-time misses, and the closure latency (SENSORS sent -> the
ACTUATORS answering it received).  A scenario's `[link_criteria]` table puts
limits on them, in the manner of OpenHTF's measurements with validators:

    [link_criteria]
    max_closure_p99_us = 1000     # closure latency, 99th percentile
    max_miss_rate = 0.001         # real time: ticks whose answer came too late
    max_crc_errors = 0            # both ends

Every check is a row (name, value, limit, ok); a flight passes its link
criteria when every row is ok.
"""
import math
from dataclasses import dataclass

from host.errors import HoverslamError

# key -> (what it limits, unit, how to read it from a flight's link summary)
CRITERIA = {
    "max_closure_p50_us": ("closure latency p50", "us", lambda lk: lk["closure"].get("p50_us")),
    "max_closure_p99_us": ("closure latency p99", "us", lambda lk: lk["closure"].get("p99_us")),
    "max_closure_max_us": ("closure latency max", "us", lambda lk: lk["closure"].get("max_us")),
    "max_jitter_us": ("closure jitter (sd)", "us", lambda lk: lk["closure"].get("jitter_us")),
    "max_miss_rate": ("deadline miss rate", "", lambda lk: lk["misses"] / max(lk["steps"], 1)),
    "max_late": ("late answers", "", lambda lk: lk["late"]),
    "max_retries": ("steps re-sent", "", lambda lk: lk["retries"]),
    "max_held": ("answers lost, command held", "", lambda lk: lk.get("held", 0)),
    "max_host_drops": ("frames dropped by the host", "", lambda lk: host_drops(lk)),
    "max_board_drops": ("frames dropped by the board", "", lambda lk: lk["board_drops"]),
    "max_crc_errors": ("CRC errors, both ends", "",
                       lambda lk: lk["host_drops"]["crc"] + (lk["board_crc_errors"] or 0)),
    "max_seq_gaps": ("sequence gaps, both ends", "",
                     lambda lk: lk["host_drops"]["seq_gap"] + (lk["board_seq_gaps"] or 0)),
}


def host_drops(lk):
    """Frames the host's decoder threw away (a sequence gap is a frame lost
    before it, not one it dropped)."""
    return sum(v for k, v in lk["host_drops"].items() if k != "seq_gap")


def closure_stats(closure_ns):
    """Closure latency summary in microseconds: p50, p99, max, jitter, histogram
    ([low, high, count] rows; the last row's high is None: no upper bound)."""
    if not closure_ns:
        return {}
    us = sorted(c / 1000.0 for c in closure_ns)
    n = len(us)

    def pct(q):
        return us[min(n - 1, int(round(q * (n - 1))))]

    mean = sum(us) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in us) / n)
    edges = [50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000]
    hist = []
    lo = 0
    i = 0
    for e in edges:
        c = 0
        while i < n and us[i] < e:
            c += 1
            i += 1
        hist.append([lo, e, c])
        lo = e
    hist.append([lo, None, n - i])
    return {"n": n, "p50_us": pct(0.5), "p99_us": pct(0.99), "max_us": us[-1],
            "mean_us": mean, "jitter_us": sd, "histogram_us": hist}


def histogram_line(hist):
    """'<50:14 50-100:2320 ... >=50000:0' without the empty bins at the ends."""
    rows = list(hist)
    while rows and rows[-1][2] == 0:
        rows.pop()
    while rows and rows[0][2] == 0:
        rows.pop(0)
    parts = []
    for lo, hi, c in rows:
        label = f">={lo:g}" if hi is None else (f"<{hi:g}" if lo == 0 else f"{lo:g}-{hi:g}")
        parts.append(f"{label}:{c}")
    return " ".join(parts) + " us"


@dataclass(frozen=True)
class Check:
    key: str
    what: str
    value: float
    limit: float
    unit: str

    @property
    def ok(self):
        return self.value is not None and self.value <= self.limit


class LinkCriteria:
    """Limits on a flight's link statistics (a scenario's [link_criteria])."""

    def __init__(self, limits=None):
        self.limits = dict(limits or {})

    @classmethod
    def from_table(cls, table, where="[link_criteria]"):
        if not isinstance(table, dict):
            raise HoverslamError(f"{where}: expected a table")
        for k, v in table.items():
            if k not in CRITERIA:
                raise HoverslamError(f"{where}: unknown key {k!r} (one of {', '.join(CRITERIA)})")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v != v:
                raise HoverslamError(f"{where}: {k}: expected a number >= 0, got {v!r}")
            if k == "max_miss_rate" and v > 1:
                raise HoverslamError(f"{where}: max_miss_rate: a rate must be <= 1, got {v!r}")
        return cls(table)

    def check(self, link):
        """One Check per limit, in the table's order."""
        out = []
        for k, limit in self.limits.items():
            what, unit, get = CRITERIA[k]
            out.append(Check(k, what, get(link), limit, unit))
        return out
