"""The plant bench returns well-formed records (the speed itself is `make bench`)."""
import pytest

from hil_rig.bench_plant import bench_plant


@pytest.mark.timeout(240)
def test_bench_plant_reports_steps_per_second_and_speedup():
    records = bench_plant(repeats=1, naive_steps=200, naive_repeats=1)
    names = [r["name"] for r in records]
    assert names == ["plant_steps_per_s", "plant_speedup_vs_numpy_naive"]
    for r in records:
        assert set(r) == {"name", "value", "unit", "target", "better"}
        assert r["better"] == "higher" and r["value"] > 1.0
    assert records[0]["target"] == 200000 and records[1]["target"] == 50
