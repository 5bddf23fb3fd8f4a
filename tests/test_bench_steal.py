"""make bench reports, per area, the share of CPU time the hypervisor stole
while the area ran (on a shared VM every timed figure moves with it)."""
import io

import pytest

from hil_rig import bench

STAT = "cpu  {u} 0 100 {i} 5 0 7 {st} 0 0\ncpu0 1 0 1 1 0 0 0 0 0 0\nintr 1 2 3\n"


@pytest.mark.timeout(30)
def test_cpu_ticks_reads_total_and_steal_from_proc_stat_first_line():
    assert bench.cpu_ticks(STAT.format(u=800, i=1000, st=88)) == (800 + 100 + 1000 + 5 + 7 + 88, 88)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text", ["", "intr 1 2 3\n", "cpu 1 2 x 4 5 6 7 8\n", "cpu 1 2 3\n"])
def test_cpu_ticks_of_an_unreadable_stat_is_none_not_a_guess(text):
    assert bench.cpu_ticks(text) is None


@pytest.mark.timeout(30)
def test_steal_pct_is_the_stolen_share_of_the_ticks_between_two_readings():
    assert bench.steal_pct((1000, 10), (2000, 60)) == 5.0
    assert bench.steal_pct(None, (2000, 60)) is None
    assert bench.steal_pct((2000, 60), (2000, 60)) is None  # no time passed: no share


@pytest.mark.timeout(30)
def test_each_area_gets_its_steal_figure_and_a_warning_line_when_it_was_slowed(monkeypatch, tmp_path):
    readings = iter([(1000, 0), (2000, 0), (2000, 0), (3000, 80)])
    monkeypatch.setattr(bench, "cpu_ticks", lambda stat_text=None: next(readings))
    monkeypatch.setattr(bench, "areas", lambda: [
        ("calm", lambda: [bench.record("x_us", 1.0, "us", None, "lower")]),
        ("small-ints", lambda: [])])
    out = io.StringIO()
    records, failed = bench.run_bench(out=tmp_path / "b.json", stream=out)
    by = {r["name"]: r["value"] for r in records}
    assert by["machine_steal_pct_calm"] == 0.0
    assert by["machine_steal_pct_small_ints"] == 8.0
    assert not failed
    warned = [line for line in out.getvalue().splitlines() if "hypervisor" in line]
    assert len(warned) == 1 and warned[0].startswith("[bench] small-ints: the hypervisor took 8 %")
