"""Solid-motor thrust curves in RASP .eng format.

    ; comment lines start with ';'
    F15 29 114 0-4-6-8 0.060 0.102 Estes     <- name, diameter mm, length mm,
    0.050 6.0                                   delays, propellant kg, total kg,
    ...                                         maker; then "time_s thrust_n"
    3.450 0.0                                   rows, the last one at 0 N

A (0, 0) point is implied before the first row.  Derived figures: total
impulse, burn time, average and peak thrust, and the first moment
J = integral t F dt (for solid-motor guidance: see vehicles.md section 3).
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError, display_path

MOTOR_DIR = Path(__file__).resolve().parents[1] / "data" / "motors"


@dataclass(frozen=True)
class Motor:
    name: str
    maker: str
    diameter_mm: float
    length_mm: float
    propellant_kg: float
    total_kg: float
    curve: tuple  # ((t_s, thrust_n), ...) starting at (0, 0)

    @property
    def impulse_ns(self):
        c = self.curve
        return sum(0.5 * (c[i + 1][0] - c[i][0]) * (c[i + 1][1] + c[i][1])
                   for i in range(len(c) - 1))

    @property
    def first_moment_ns2(self):
        """J = integral of t F(t) dt, exact for the piecewise-linear curve."""
        c = self.curve
        j = 0.0
        for i in range(len(c) - 1):
            t0, f0 = c[i]
            t1, f1 = c[i + 1]
            h = t1 - t0
            j += h * (f0 * (2 * t0 + t1) + f1 * (t0 + 2 * t1)) / 6.0
        return j

    @property
    def burn_s(self):
        return self.curve[-1][0]

    @property
    def avg_thrust_n(self):
        return self.impulse_ns / self.burn_s

    @property
    def peak_thrust_n(self):
        return max(f for _, f in self.curve)

    def table(self):
        return np.array(self.curve, dtype=np.float64)


def resolve_motor(ref, relative_to=None):
    """A motor name ('estes_f15') or a path (absolute or relative to the vehicle file)."""
    p = Path(ref)
    if p.suffix != ".eng":
        p = MOTOR_DIR / (ref + ".eng")
    elif not p.is_absolute() and relative_to is not None and not p.exists():
        p = Path(relative_to).parent / p
    return p


def load_motor(path):
    path = Path(path)
    name = display_path(path)
    try:
        text = path.read_text()
    except OSError:
        raise ConfigError(f"{name}: motor file not found") from None
    header = None
    rows = []
    for ln, raw in enumerate(text.splitlines(), 1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if header is None:
            if len(parts) < 7:
                raise ConfigError(f"{name}: line {ln}: header: expected 'name diameter_mm "
                                  f"length_mm delays propellant_kg total_kg maker', got {line!r}")
            try:
                header = (parts[0], float(parts[1]), float(parts[2]), float(parts[4]),
                          float(parts[5]), " ".join(parts[6:]))
            except ValueError:
                raise ConfigError(f"{name}: line {ln}: header: expected numbers for diameter, "
                                  f"length, propellant and total mass, got {line!r}") from None
            continue
        try:
            t, f = (float(v) for v in parts)
        except ValueError:
            raise ConfigError(f"{name}: line {ln}: expected 'time_s thrust_n', "
                              f"got {line!r}") from None
        if rows and t <= rows[-1][0]:
            raise ConfigError(f"{name}: line {ln}: time {t} is not after the previous "
                              f"{rows[-1][0]}")
        if f < 0 or t <= 0:
            raise ConfigError(f"{name}: line {ln}: expected time > 0 and thrust >= 0, got {line!r}")
        rows.append((t, f))
    if header is None or len(rows) < 2:
        raise ConfigError(f"{name}: expected a header line and at least two data rows")
    if rows[-1][1] != 0.0:
        raise ConfigError(f"{name}: line of time {rows[-1][0]}: the last row must have thrust 0")
    mname, dia, length, prop, total, maker = header
    if not 0 < prop <= total:
        raise ConfigError(f"{name}: header: expected 0 < propellant_kg <= total_kg, "
                          f"got {prop}, {total}")
    return Motor(name=mname, maker=maker, diameter_mm=dia, length_mm=length, propellant_kg=prop,
                 total_kg=total, curve=((0.0, 0.0),) + tuple(rows))
