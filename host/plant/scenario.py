"""Scenario files: a vehicle, initial-condition and wind overrides, and faults.

    [scenario]
    name = "zq3_y1_replay"
    vehicle = "zhuque3"            # preset name or path
    description = "..."
    [initial]                      # keys of the vehicle's [initial] table
    alt_m = 3000.0
    [wind]                         # keys of the vehicle's [wind] table
    w20_mps = 4.0
    [[fault]]                      # faults.py
    kind = "engine_out"
    ...
    [link]                         # link faults between host and board (host/linkfaults.py)
    drop_prob = 0.01
    [link_criteria]                # limits on the link statistics (host/linkstats.py)
    max_closure_p99_us = 1000
"""
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, read_toml
from .faults import parse_fault
from .vehicle import SCHEMA, check_value

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "data" / "scenarios"


@dataclass(frozen=True)
class Scenario:
    name: str
    vehicle: str
    description: str = ""
    initial: dict = field(default_factory=dict)
    wind: dict = field(default_factory=dict)
    faults: tuple = ()
    path: str = ""
    link: object = None            # host.linkfaults.LinkFaults, or None
    link_criteria: object = None   # host.linkstats.LinkCriteria, or None


def load_scenario(name_or_path):
    p = Path(name_or_path)
    if p.suffix != ".toml" and len(p.parts) == 1:
        p = SCENARIO_DIR / (str(name_or_path) + ".toml")
    data, where = read_toml(p, "scenario file not found")
    for k in data:
        if k not in ("scenario", "initial", "wind", "fault", "link", "link_criteria"):
            raise ConfigError(f"{where}: {k}: unknown key or table (known: [scenario], [initial], "
                              f"[wind], [[fault]], [link], [link_criteria])")
    sc = data.get("scenario")
    if not isinstance(sc, dict):
        raise ConfigError(f"{where}: [scenario]: missing (required)")
    for k in sc:
        if k not in ("name", "vehicle", "description"):
            raise ConfigError(f"{where}: [scenario] {k}: unknown key (known: name, vehicle, "
                              f"description)")
    for k in ("name", "vehicle"):
        if not isinstance(sc.get(k), str) or not sc[k].strip():
            raise ConfigError(f"{where}: [scenario] {k}: expected a string, got {sc.get(k)!r}")
    out = {}
    for sec in ("initial", "wind"):
        tab = data.get(sec, {})
        if not isinstance(tab, dict):
            raise ConfigError(f"{where}: [{sec}]: expected a table")
        vals = {}
        for k, v in tab.items():
            if k not in SCHEMA[sec]:
                raise ConfigError(f"{where}: [{sec}] {k}: unknown key "
                                  f"(known: {', '.join(SCHEMA[sec])})")
            vals[k] = check_value(where, sec, k, SCHEMA[sec][k], v)
        out[sec] = vals
    tables = data.get("fault", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{where}: fault: expected a list of [[fault]] tables")
    faults = tuple(parse_fault(t, f"{where}: [[fault]] #{i + 1}") for i, t in enumerate(tables))
    link, link_criteria = link_tables(data, where)
    vehicle = sc["vehicle"]
    vp = Path(vehicle)
    if vp.suffix == ".toml" and not vp.is_absolute() and not vp.exists():
        vehicle = str(p.parent / vp)
    return Scenario(name=sc["name"], vehicle=vehicle, description=sc.get("description", ""),
                    initial=out["initial"], wind=out["wind"], faults=faults, path=where,
                    link=link, link_criteria=link_criteria)


def link_tables(data, where):
    """The [link] and [link_criteria] tables of a scenario or fault file (None
    where absent), checked; any error as one ConfigError line."""
    # the link is the host's, not the plant's: its parsers live beside it
    from host.errors import HoverslamError
    from host.linkfaults import LinkFaults
    from host.linkstats import LinkCriteria
    link = crit = None
    try:
        if "link" in data:
            if not isinstance(data["link"], dict):
                raise HoverslamError("[link]: expected a table")
            link = LinkFaults.from_table(data["link"])
        if "link_criteria" in data:
            crit = LinkCriteria.from_table(data["link_criteria"])
    except HoverslamError as e:
        raise ConfigError(f"{where}: {e}") from None
    return link, crit


def load_fault_file(path):
    """A fault file for `fly --faults`: [[fault]] tables and optionally [link]
    and [link_criteria], flown on any vehicle.  Returns (faults, link,
    link_criteria)."""
    data, where = read_toml(path)
    if "scenario" in data:
        raise ConfigError(f"{where}: a scenario file (it has [scenario]): fly it with --scenario")
    for k in data:
        if k not in ("fault", "link", "link_criteria"):
            raise ConfigError(f"{where}: {k}: unknown key or table "
                              "(known: [[fault]], [link], [link_criteria])")
    tables = data.get("fault", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{where}: fault: expected a list of [[fault]] tables")
    faults = tuple(parse_fault(t, f"{where}: [[fault]] #{i + 1}") for i, t in enumerate(tables))
    link, crit = link_tables(data, where)
    return faults, link, crit
