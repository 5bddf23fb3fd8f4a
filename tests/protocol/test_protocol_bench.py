"""hil_rig.bench_protocol returns every protocol figure in the bench format.
Speeds are not asserted (the machine is shared); allocation is deterministic."""
import pytest

from hil_rig.bench_protocol import bench_protocol

NAMES = {"host_encode_fps", "host_decode_fps", "host_decode_fps_dict", "host_encode_fps_construct",
         "host_decode_fps_construct", "bulk_decode_fps", "mpy_encode_us", "mpy_decode_us",
         "mpy_framing_alloc_bytes", "mpy_actuators_encode_alloc_bytes",
         "mpy_sensors_decode_alloc_bytes", "mpy_sensors_unpack_alloc_bytes"}


@pytest.mark.timeout(300)
def test_bench_protocol_reports_every_figure():
    recs = bench_protocol(quick=True)
    assert {r["name"] for r in recs} == NAMES and len(recs) == len(NAMES)
    by = {r["name"]: r for r in recs}
    for r in recs:
        assert set(r) == {"name", "value", "unit", "target", "better"}
        assert r["better"] in ("higher", "lower")
        assert isinstance(r["value"], (int, float)) and r["value"] >= 0
    assert by["host_decode_fps"]["target"] == 500_000
    assert by["bulk_decode_fps"]["target"] == 1_000_000
    for name in ("mpy_framing_alloc_bytes", "mpy_actuators_encode_alloc_bytes",
                 "mpy_sensors_decode_alloc_bytes"):
        assert by[name]["value"] == 0, (name, by[name])
    # the comparison path really allocates (a tuple per frame): the measurement works
    assert by["mpy_sensors_unpack_alloc_bytes"]["value"] > 0
