"""Small-int audit: does the flight software stay inside rp2's small ints?

On the rp2 port (Pico) MicroPython's small ints are 31-bit signed: an int
outside [-2**30, 2**30) is a heap-allocated bigint, an allocation and a slow
path inside the control cycle (never a wrong answer).  The unix VM the rig
runs is 64-bit and hides it; this module makes it visible.  It owns:

- the instrumenter: firmware/ and the deployed protocol/ modules rewritten
  with `ast` into a temporary tree in which every int-producing operation
  (binary operator, augmented assignment, unary minus and invert) goes
  through `_iw(value, site)`, which returns the value unchanged.  A
  `@micropython.viper` function without pointer casts is audited as bytecode
  (its decorator becomes the checker's `_iwb`, which returns the function as
  it is): its machine-word ints give the same values as Python ints while
  they stay in range, and on rp2 a 32-bit word does not turn into a bigint
  past it but wraps, so the range matters even more there.  Left as they
  are: viper functions that cast pointers (ptr8/ptr16/ptr32: byte-level
  code such as the CRC and COBS, which bytecode cannot run as written), the
  arguments of `const()`
  (compile-time constants), operations on literals only (folded by the
  compiler: the literal check covers them), operations on a line ending in
  `# intaudit-ok: <reason>` (listed in the report with the reason; for values
  the 64-bit VM cannot judge, such as a RAM address) and board_rp2.py (never
  imported on the VM; copied unchanged);
- the checker module added to that tree (`intwatch.py`, MicroPython), which
  reports on the VM's stderr: `INTW <site> <hits> <max |v|>` the first time a
  site leaves the range and again whenever its hits or its max |v| double
  (so the hits are a lower bound, exact up to a factor of 2), `INTC <site>`
  the first time a site runs (coverage), `INTF <site>` the first time it
  gives a float (a heap object, and single precision, on rp2);
- two static checks for ints that enter without arithmetic: int literals
  (and literal-only expressions) outside the range, and the int32/uint32
  fields the firmware decodes from the wire, bounded by the sensors' ranges
  in the vehicle files and the rig's flight envelope (`wire_ranges`; a
  static check rather than wrapped reads: the uctypes view is read in place
  and the bound is a property of the sensors, not of one flight).  Other
  ints from C (ticks_us, gc.mem_free, struct.unpack_from) show only where
  arithmetic on them leaves the range;
- `audit(flights)`: real closed-loop flights (hil_rig.flight.run_flight) on
  the instrumented tree, and the report: every site out of range with its
  file:line, source, max |value|, hits and flights.

    python -m hil_rig.intaudit [FLIGHT ...]    # exit status 1 on a violation
"""
import argparse
import ast
import copy
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hil_rig.targets import FIRMWARE_DIR, PROTOCOL_DIR, SitlTarget, find_tool

SMALL_MIN = -(1 << 30)     # rp2 small ints: [-2**30, 2**30)
SMALL_MAX = (1 << 30) - 1
CHECKER = "intwatch"       # the checker module's name in the instrumented tree
CALL = "_iw"               # what instrumented modules call it by
AS_BYTECODE = "_iwb"       # the decorator a viper function is audited under (returns it as is)
POINTER_CASTS = ("ptr8", "ptr16", "ptr32")
NOT_INSTRUMENTED = ("board_rp2.py",)  # firmware modules copied unchanged (never run on the VM)
# the instrumented code is ~13 KB bigger: give the VM that back (and more), so
# that the audit measures ints, not a heap the checker itself made tighter
HEAP = "256K"


def protocol_modules(pdir=PROTOCOL_DIR):
    """The protocol modules deployed to the board (the rule of protocol.treehash)."""
    return sorted(p for p in Path(pdir).glob("*.py")
                  if not p.name.startswith("host") and p.name != "docs.py")


def in_range(v):
    return SMALL_MIN <= v <= SMALL_MAX


@dataclass
class Site:
    id: int
    file: str          # firmware/guidance.py
    line: int
    col: int
    source: str        # the expression as written
    kind: str          # binop, unary, augassign

    @property
    def where(self):
        return f"{self.file}:{self.line}"


@dataclass
class Literal:
    """An int literal (or literal-only expression) outside the small-int range."""
    file: str
    line: int
    source: str
    value: int


def _segment(src, node):
    s = ast.get_source_segment(src, node) or ast.unparse(node)
    return " ".join(s.split())


def _is_viper_decorator(d):
    return (isinstance(d, ast.Attribute) and d.attr == "viper" and isinstance(d.value, ast.Name)
            and d.value.id == "micropython") or (isinstance(d, ast.Name) and d.id == "viper")


def _is_viper(fn):
    return any(_is_viper_decorator(d) for d in fn.decorator_list)


def _casts_pointers(fn):
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
               and n.func.id in POINTER_CASTS for n in ast.walk(fn))


def _literal_only(node):
    """True for a literal or an operator expression made of literals only."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return _literal_only(node.operand)
    if isinstance(node, ast.BinOp):
        return _literal_only(node.left) and _literal_only(node.right)
    return False


def _pure(node):
    """Reading this target again has no side effect (names, attributes, subscripts)."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.Attribute):
        return _pure(node.value)
    if isinstance(node, ast.Subscript):
        return _pure(node.value) and _pure(node.slice)
    if isinstance(node, ast.BinOp):
        return _pure(node.left) and _pure(node.right)
    if isinstance(node, ast.UnaryOp):
        return _pure(node.operand)
    if isinstance(node, ast.Tuple):
        return all(_pure(e) for e in node.elts)
    if isinstance(node, ast.Slice):
        return all(p is None or _pure(p) for p in (node.lower, node.upper, node.step))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == CALL:
        return _pure(node.args[0])  # an operation instrumented already
    return False


def _as_load(node):
    node = copy.deepcopy(node)
    for n in ast.walk(node):
        if hasattr(n, "ctx"):
            n.ctx = ast.Load()
    return node


PRAGMA = re.compile(r"#\s*intaudit-ok:\s*(.*?)\s*$")


class _Instrumenter(ast.NodeTransformer):
    def __init__(self, src, relpath, sites):
        self.src = src
        self.lines = src.splitlines()
        self.relpath = relpath
        self.sites = sites
        self.viper = []       # names of the (pointer-casting) viper functions left alone
        self.as_bytecode = []  # names of the viper functions audited as bytecode
        self.unchecked = []   # augmented assignments whose target cannot be read again safely
        self.exempt = []      # (file:line, source, reason) of operations under the pragma

    def _exempt(self, node):
        """An operation on a line that ends in `# intaudit-ok: <reason>` (a value
        the VM cannot judge: e.g. a RAM address, 64-bit here, < 2**30 on rp2)."""
        mt = PRAGMA.search(self.lines[node.lineno - 1])
        if mt:
            self.exempt.append((f"{self.relpath}:{node.lineno}", _segment(self.src, node),
                                mt.group(1)))
        return mt is not None

    def _site(self, node, kind):
        s = Site(len(self.sites), self.relpath, node.lineno, node.col_offset,
                 _segment(self.src, node), kind)
        self.sites.append(s)
        return s.id

    def _wrap(self, node, kind):
        if self._exempt(node):
            return node
        sid = self._site(node, kind)
        call = ast.Call(ast.Name(CALL, ast.Load()), [node, ast.Constant(sid)], [])
        return ast.copy_location(call, node)

    def visit_FunctionDef(self, node):
        if _is_viper(node):
            if _casts_pointers(node):
                self.viper.append(node.name)
                return node
            self.as_bytecode.append(node.name)
            node.decorator_list = [ast.Name(AS_BYTECODE, ast.Load()) if _is_viper_decorator(d)
                                   else d for d in node.decorator_list]
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id == "const":
            return node  # a compile-time constant: MicroPython needs the expression as written
        return self.generic_visit(node)

    def visit_BinOp(self, node):
        if _literal_only(node):
            return node
        self.generic_visit(node)
        return self._wrap(node, "binop")

    def visit_UnaryOp(self, node):
        if not isinstance(node.op, (ast.USub, ast.Invert)) or _literal_only(node):
            return self.generic_visit(node)
        self.generic_visit(node)
        return self._wrap(node, "unary")

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if self._exempt(node):
            return node
        if not _pure(node.target):
            self.unchecked.append(f"{self.relpath}:{node.lineno}")
            return node
        # keep the in-place operation (lists, bytearrays) and check what it stored
        sid = self._site(node, "augassign")
        check = ast.Expr(ast.Call(ast.Name(CALL, ast.Load()),
                                  [_as_load(node.target), ast.Constant(sid)], []))
        return [node, ast.copy_location(check, node)]


def find_literals(tree, src, relpath):
    """Int literals and literal-only expressions whose value is not a small int."""
    out = []

    def visit(node):
        if _literal_only(node):
            try:
                v = eval(compile(ast.Expression(node), relpath, "eval"), {"__builtins__": {}})
            except Exception:  # noqa: BLE001 - e.g. a string literal in an operator
                return
            if isinstance(v, int) and not isinstance(v, bool) and not in_range(v):
                out.append(Literal(relpath, node.lineno, _segment(src, node), v))
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def instrument_source(src, relpath, sites):
    """Source of the instrumented module -> (text, instrumenter, literals)."""
    tree = ast.parse(src)
    literals = find_literals(tree, src, relpath)
    ins = _Instrumenter(src, relpath, sites)
    tree = ins.visit(tree)
    body = tree.body
    at = 1 if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
        and isinstance(body[0].value.value, str) else 0
    body.insert(at, ast.ImportFrom(CHECKER, [ast.alias("iw", CALL), ast.alias("iwb", AS_BYTECODE)],
                                   0))
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n", ins, literals


CHECKER_SOURCE = '''\
# The small-int checker of an instrumented build (written by hil_rig.intaudit).
# iw(v, site) returns v.  An int outside rp2's small-int range is reported on
# stderr: "INTW <site> <hits> <max |v|>" the first time, then whenever the
# site's hits or max |v| double; "INTC <site>" the first time a site runs,
# "INTF <site>" the first time it gives a float (a heap object on rp2).
import sys
from micropython import const

_HI = const({hi})
_LO = const({lo})
_ran = bytearray({n})
_flt = bytearray({n})
_hits = {{}}


def _hit(v, site):
    a = -v if v < 0 else v
    r = _hits.get(site)
    if r is None:
        r = [0, 0, 0, 0]  # hits, max |v|, both as last reported
        _hits[site] = r
    r[0] += 1
    if a > r[1]:
        r[1] = a
    if r[0] >= 2 * r[2] or r[1] >= 2 * r[3]:
        r[2] = r[0]
        r[3] = r[1]
        sys.stderr.write("INTW %d %d %d\\n" % (site, r[0], r[1]))


def iwb(f):
    # a viper function audited as bytecode: the function as it is, undecorated
    return f


def iw(v, site):
    if not _ran[site]:
        _ran[site] = 1
        sys.stderr.write("INTC %d\\n" % site)
    t = type(v)
    if t is int:
        if v > _HI or v < _LO:
            _hit(v, site)
    elif t is float and not _flt[site]:
        _flt[site] = 1
        sys.stderr.write("INTF %d\\n" % site)
    return v


sys.stderr.write("INTW ready {n}\\n")
'''


def write_checker(dst, n_sites):
    """The checker module, for n_sites sites, into directory dst."""
    path = Path(dst) / f"{CHECKER}.py"
    path.write_text(CHECKER_SOURCE.format(hi=SMALL_MAX, lo=SMALL_MIN, n=max(1, n_sites)))
    return path


@dataclass
class Instrumented:
    root: Path
    sites: list
    literals: list
    viper: list          # file:function left alone
    unchecked: list      # file:line of augmented assignments not checked
    exempt: list         # (file:line, source, reason) under the intaudit-ok pragma
    as_bytecode: list = field(default_factory=list)  # file:function (viper) audited as bytecode

    @property
    def firmware_dir(self):
        return self.root / "firmware"

    @property
    def protocol_dir(self):
        return self.root / "protocol"

    def target(self, heap=HEAP, **kw):
        """A SITL target that runs this tree (and expects its hash in HELLO)."""
        fw, pr = self.firmware_dir, self.protocol_dir
        return SitlTarget(heap=heap, firmware_dir=fw, protocol_dir=pr, expect_dirs=(fw, pr), **kw)

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def instrument(out_dir=None, firmware_dir=FIRMWARE_DIR, protocol_dir=PROTOCOL_DIR):
    """Write the instrumented copy of firmware/ and protocol/ (plus the checker)
    under out_dir (a new temp dir if None)."""
    root = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="hoverslam-intaudit-"))
    fw_out = root / "firmware"
    pr_out = root / "protocol"
    for d in (fw_out, pr_out):
        shutil.rmtree(d, ignore_errors=True)  # no module of an earlier tree may stay
        d.mkdir(parents=True)
    sites, literals, viper, unchecked, exempt, as_bytecode = [], [], [], [], [], []
    jobs = [(p, fw_out, "firmware") for p in sorted(Path(firmware_dir).glob("*.py"))]
    jobs += [(p, pr_out, "protocol") for p in protocol_modules(protocol_dir)]
    for path, dst, pkg in jobs:
        rel = f"{pkg}/{path.name}"
        src = path.read_text()
        if path.name in NOT_INSTRUMENTED and pkg == "firmware":
            (dst / path.name).write_text(src)
            continue
        text, ins, lits = instrument_source(src, rel, sites)
        (dst / path.name).write_text(text)
        literals += lits
        viper += [f"{rel}:{name}" for name in ins.viper]
        as_bytecode += [f"{rel}:{name}" for name in ins.as_bytecode]
        unchecked += ins.unchecked
        exempt += ins.exempt
    write_checker(fw_out, len(sites))
    (root / "sites.json").write_text(json.dumps([s.__dict__ for s in sites], indent=1))
    return Instrumented(root, sites, literals, viper, unchecked, exempt, as_bytecode)


def compile_errors(inst, march="armv6m"):
    """mpy-cross (for the Pico's architecture) over every module of the tree:
    what MicroPython's compiler refuses in the ast.unparse output (empty if
    mpy-cross is not installed)."""
    tool = find_tool("mpy-cross")
    if tool is None:
        return []
    errors = []
    with tempfile.TemporaryDirectory() as out:
        for py in sorted(inst.firmware_dir.glob("*.py")) + sorted(inst.protocol_dir.glob("*.py")):
            mpy = Path(out) / (py.stem + ".mpy")
            p = subprocess.run([tool, f"-march={march}", "-o", str(mpy), str(py)],
                               capture_output=True, text=True)
            if p.returncode != 0:
                errors.append(f"{py.parent.name}/{py.name}: {p.stderr.strip()}")
    return errors


# --- what the VM reported --------------------------------------------------

_LINE = re.compile(r"^INT([WCF]) (\d+)(?: (\d+) (\d+))?$")


def parse_report(text):
    """stderr of an instrumented run -> (ready, covered site ids,
    {site: (hits, max |v|)}, site ids that gave a float)."""
    ready = False
    covered = set()
    floats = set()
    hits = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("INTW ready"):
            ready = True
            continue
        mt = _LINE.match(line)
        if not mt:
            continue
        sid = int(mt.group(2))
        if mt.group(1) == "C":
            covered.add(sid)
        elif mt.group(1) == "F":
            floats.add(sid)
        elif mt.group(3) is not None:
            h, mx = int(mt.group(3)), int(mt.group(4))
            old = hits.get(sid, (0, 0))
            hits[sid] = (max(h, old[0]), max(mx, old[1]))
    return ready, covered, hits, floats


# --- ints from the wire ----------------------------------------------------

# Where a wire field has no sensor limit, the envelope of the landings the rig
# flies (every vehicle's and scenario's initial state is checked against it).
ENVELOPE_POS_M = 100e3      # GNSS position: within 100 km of the pad
ENVELOPE_VEL_MPS = 3000.0   # GNSS velocity
RATE_HZ_MAX = 1000          # fastest control rate assumed (the rig flies 100-200 Hz)


@dataclass
class WireField:
    message: str
    field: str
    code: str
    bound: int          # largest |value| the field can carry in the rig's flights
    why: str
    cycle: bool         # read in the control cycle (SENSORS), else in the command path

    @property
    def ok(self):
        return in_range(self.bound) and in_range(-self.bound)


def wire_ranges(vehicles=("falcon9", "zhuque3", "hobby_f15"), scenarios=("zq3_y1_replay",),
                flight_s=None):
    """Every 4-byte int field the firmware decodes (SENSORS in the cycle through
    the uctypes view, COMMAND in the command path) with the largest |value| it
    carries in the rig's flights.  A field with no rule here is reported with
    an unbounded range, so a new field cannot slip through."""
    from host.plant import load_scenario, load_vehicle
    from protocol import messages as m
    from protocol.parameters import TABLE

    from hil_rig.flight import DEFAULT_MAX_FLIGHT_S

    vehs = [load_vehicle(v) for v in vehicles]
    inits = [v.initial for v in vehs]
    for sc in scenarios:
        s = load_scenario(sc)
        inits.append({**load_vehicle(s.vehicle).initial, **(s.initial or {})})
    if flight_s is None:
        flight_s = max(getattr(v, "max_flight_s", DEFAULT_MAX_FLIGHT_S) for v in vehs)
    for init in inits:
        pos = math.sqrt(sum(init.get(k, 0.0) ** 2 for k in ("x_m", "y_m", "alt_m")))
        vel = math.sqrt(sum(init.get(k, 0.0) ** 2 for k in ("vx_mps", "vy_mps", "vz_mps")))
        if pos > ENVELOPE_POS_M or vel > ENVELOPE_VEL_MPS:
            raise ValueError(f"an initial state ({pos:.0f} m, {vel:.0f} m/s) is outside the "
                             "envelope wire_ranges assumes")

    def sens(key):
        return [v.config[key] for v in vehs]

    acc = max(s["accel_range_mps2"] for s in sens("sensors.imu"))
    gyr = max(s["gyro_range_dps"] for s in sens("sensors.imu"))
    alt = 0.0
    for a in sens("sensors.altimeter"):
        radar = a.get("kind") == "radar"
        slant = 1.0 / math.cos(math.radians(a.get("max_tilt_deg", 0.0))) if radar else 1.0
        alt = max(alt, a["max_range_m"] * slant + 10 * a.get("noise_m", 0.0))
    pmax = max(max(abs(r[2]), abs(r[3])) for r in TABLE)
    rules = {
        ("SENSORS", "step"): (RATE_HZ_MAX * flight_s, f"{RATE_HZ_MAX} Hz x {flight_s:g} s flight"),
        ("SENSORS", "t_us"): (flight_s * 1e6, f"{flight_s:g} s flight (stays small below "
                                              f"{(SMALL_MAX + 1) / 1e6:.0f} s)"),
        ("SENSORS", "accel"): (acc * 1e3, f"IMU range {acc:g} m/s^2 (the plant clips there)"),
        ("SENSORS", "gyro"): (math.radians(gyr) * 1e6, f"IMU range {gyr:g} deg/s"),
        ("SENSORS", "alt_mm"): (alt * 1e3, "altimeter range (slant, + 10 sigma)"),
        ("SENSORS", "gnss_mm"): (ENVELOPE_POS_M * 1e3, f"envelope {ENVELOPE_POS_M / 1e3:g} km"),
        ("SENSORS", "gnss_mmps"): (ENVELOPE_VEL_MPS * 1e3, f"envelope {ENVELOPE_VEL_MPS:g} m/s"),
        ("COMMAND", "value"): (pmax, "parameter limits (a PING carries what the host sends)"),
        ("COMMAND", "counter"): (0xFFFFFFFF, "host: clock ms & 0x3FFFFFFF, +1 per command; "
                                             "the board keeps the highest for good"),
    }
    out = []
    for row in m.MESSAGES:
        if row[2] != m.UP:
            continue
        for f in row[4]:
            name, code = f[0], f[1]
            if code not in ("i", "I"):
                continue
            key = (row[1], name)
            if key not in rules:
                if name.startswith("gnss_"):
                    key = (row[1], "gnss_mmps" if name.endswith("_mmps") else "gnss_mm")
                elif name.startswith(("accel_", "gyro_")):
                    key = (row[1], name.split("_")[0])
            bound, why = rules.get(key, (0x7FFFFFFF if code == "i" else 0xFFFFFFFF,
                                         "no rule: the whole field range"))
            out.append(WireField(row[1], name, code, int(math.ceil(bound)), why,
                                 cycle=row[0] == m.SENSORS))
    return out


# --- flights ---------------------------------------------------------------

@dataclass
class Flight:
    name: str
    kwargs: dict = field(default_factory=dict)   # run_flight keyword arguments


def standard_flights():
    """Nominal landings of the three vehicles and the fault flights of
    tests/test_closed_loop.py (which includes the divert path)."""
    from host.plant import load_faults, load_scenario
    sc = load_scenario("zq3_y1_replay")
    return [
        Flight("falcon9 nominal", {"vehicle": "falcon9", "seed": 1}),
        Flight("zhuque3 nominal", {"vehicle": "zhuque3", "seed": 1}),
        Flight("hobby_f15 nominal", {"vehicle": "hobby_f15", "seed": 1}),
        Flight("falcon9 10% thrust shortfall", {"vehicle": "falcon9", "faults": load_faults([
            {"kind": "thrust_shortfall", "frac": 0.10, "trigger": "ignition+dt_s", "dt_s": 2.0}])}),
        Flight("zhuque3 Y1 engine-out replay", {"vehicle": sc.vehicle, "faults": sc.faults,
                                                "initial": sc.initial, "wind": sc.wind}),
        Flight("falcon9 10 m/s gust", {"vehicle": "falcon9", "faults": load_faults([
            {"kind": "gust", "trigger": "t_s", "t_s": 15.0, "speed_mps": 10.0,
             "from_deg": 270.0, "duration_s": 3.0}])}),
        Flight("falcon9 GNSS dropout 4 s", {"vehicle": "falcon9", "faults": load_faults([
            {"kind": "sensor_dropout", "sensor": "gnss", "trigger": "t_s", "t_s": 8.0,
             "duration_s": 4.0}])}),
        Flight("falcon9 late ignition 0.5 s", {"vehicle": "falcon9", "faults": load_faults([
            {"kind": "late_ignition", "delay_s": 0.5}])}),
        Flight("falcon9 no ignition", {"vehicle": "falcon9", "max_time_s": 60,
                                       "faults": load_faults([{"kind": "no_ignition"}])}),
    ]


@dataclass
class FlightResult:
    name: str
    states: list
    landed: bool
    steps: int
    wall_s: float
    exceptions: list     # EVENT texts of exceptions the firmware caught


@dataclass
class Violation:
    site: Site
    max_abs: int
    hits: int            # lower bound (see the module docstring)
    flights: list


@dataclass
class AuditReport:
    sites: list
    violations: list
    covered: set
    flights: list
    literals: list
    wire: list
    viper: list
    unchecked: list
    exempt: list
    compile_errors: list
    floats: set          # site ids that gave a float (the firmware claims integer maths)
    as_bytecode: list = field(default_factory=list)  # viper functions audited as bytecode

    @property
    def wire_violations(self):
        return [w for w in self.wire if w.cycle and not w.ok]

    @property
    def ok(self):
        return not (self.violations or self.literals or self.wire_violations or self.compile_errors
                    or any(f.exceptions for f in self.flights))

    def not_run(self):
        return [s for s in self.sites if s.id not in self.covered]

    def summary(self, list_not_run=False):
        out = []
        n = len(self.sites)
        out.append(f"small-int audit: {n} instrumented sites, {len(self.covered)} ran "
                   f"({len(self.flights)} flights); viper functions audited as bytecode: "
                   f"{', '.join(self.as_bytecode) or 'none'}; left alone (pointer casts): "
                   f"{', '.join(self.viper) or 'none'}")
        for f in self.flights:
            exc = f"  EXCEPTIONS: {', '.join(f.exceptions)}" if f.exceptions else ""
            out.append(f"  flight {f.name:32s} {f.states[-1] if f.states else '?':8s} "
                       f"{'landed' if f.landed else 'not landed':10s} {f.steps:5d} steps "
                       f"{f.wall_s:5.1f} s{exc}")
        if self.violations:
            out.append(f"OUT OF RANGE at {len(self.violations)} sites (max |v|, hits >=):")
            for v in self.violations:
                out.append(f"  {v.site.where:28s} {v.max_abs:>14d} {v.hits:>6d}  {v.site.source}"
                           f"   [{'; '.join(v.flights)}]")
        else:
            out.append("no int left [-2**30, 2**30) at any instrumented site")
        for sid in sorted(self.floats):
            out.append(f"FLOAT result (a heap object, single precision on rp2): "
                       f"{self.sites[sid].where} {self.sites[sid].source}")
        for lit in self.literals:
            out.append(f"LITERAL out of range: {lit.file}:{lit.line} {lit.source} = {lit.value}")
        for w in self.wire:
            if not w.ok:
                where = "CONTROL CYCLE" if w.cycle else "command path (allocates anyway)"
                out.append(f"WIRE {w.message}.{w.field} ({w.code}) can reach {w.bound}: {w.why} "
                           f"[{where}]")
        for e in self.compile_errors:
            out.append(f"COMPILE {e}")
        for where, src, why in self.exempt:
            out.append(f"not instrumented (intaudit-ok): {where} {src}: {why}")
        for u in self.unchecked:
            out.append(f"augmented assignment not checked (target has side effects): {u}")
        idle = self.not_run()
        if idle:
            per = {}
            for s in idle:
                per[s.file] = per.get(s.file, 0) + 1
            out.append(f"{len(idle)} sites did not run in these flights (proven nothing there): "
                       + ", ".join(f"{f} {n}" for f, n in sorted(per.items())))
            if list_not_run:
                out += [f"  {s.where:28s} {s.source}" for s in idle]
        out.append("OK" if self.ok else "FAILED")
        return "\n".join(out)


def fly_instrumented(inst, flight):
    """One flight on the instrumented tree -> (FlightResult, stderr text)."""
    from hil_rig.flight import run_flight
    target = inst.target()
    try:
        rep = run_flight(target=target, **flight.kwargs)
    except Exception as e:
        # the VM's own words, without the audit's INT* report lines
        said = [ln.strip() for ln in (target.stderr_text(limit=4000) or "").splitlines()
                if ln.strip() and not ln.startswith("INT")]
        why = f" (VM stderr: {said[-1]})" if said else ""
        raise RuntimeError(f"instrumented flight {flight.name!r} failed: {e}{why}") from e
    text = target.stderr_text(limit=None)
    res = FlightResult(flight.name, rep.state_path(), rep.landed, rep.loop.steps,
                       rep.loop.wall_time_s,
                       [e[5] for e in rep.events if e[1] == "exception"])
    return res, text


def audit(flights=None, inst=None, on_flight=None):
    """Fly `flights` (default: standard_flights()) on the instrumented tree
    (`inst`, made and removed here if None) and report."""
    if flights is None:
        flights = standard_flights()
    own = inst is None
    if own:
        inst = instrument()
    try:
        errors = compile_errors(inst)
        results = []
        covered = set()
        floats = set()
        agg = {}
        for fl in flights:
            res, text = fly_instrumented(inst, fl)
            ready, cov, hits, flt = parse_report(text)
            if not ready:
                raise RuntimeError(f"flight {fl.name!r}: the VM did not run the instrumented "
                                   f"tree (no checker on stderr)\n{text[-2000:]}")
            results.append(res)
            covered |= cov
            floats |= flt
            for sid, (h, mx) in hits.items():
                a = agg.setdefault(sid, [0, 0, []])
                a[0] += h
                a[1] = max(a[1], mx)
                a[2].append(fl.name)
            if on_flight:
                on_flight(res)
        viol = [Violation(inst.sites[sid], a[1], a[0], a[2]) for sid, a in agg.items()]
        viol.sort(key=lambda v: -v.max_abs)
        return AuditReport(inst.sites, viol, covered, results, inst.literals, wire_ranges(),
                           inst.viper, inst.unchecked, inst.exempt, errors, floats,
                           inst.as_bytecode)
    finally:
        if own:
            inst.cleanup()


def main(argv=None):
    flights = standard_flights()
    ap = argparse.ArgumentParser(prog="python -m hil_rig.intaudit",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("flight", nargs="*", help="flights to run, by name prefix (default: all): "
                    + "; ".join(f.name for f in flights).replace("%", "%%"))
    ap.add_argument("--keep", metavar="DIR", help="write the instrumented tree here and keep it")
    ap.add_argument("--not-run", action="store_true", help="list the sites no flight ran")
    args = ap.parse_args(argv)
    if args.flight:
        flights = [f for f in flights if any(f.name.startswith(p) for p in args.flight)]
        if not flights:
            ap.error("no flight matches")
    inst = instrument(args.keep) if args.keep else None
    rep = audit(flights, inst=inst,
                on_flight=lambda r: print(f"flew {r.name}", file=sys.stderr, flush=True))
    print(rep.summary(list_not_run=args.not_run))
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main())
