"""The firmware benchmark must time a real flight, not idle cycles.

`make bench` records the host->board bytes of a demo flight and replays them
through the firmware on the VM.  The stream starts with a burst of signed
parameter commands back to back: a firmware that never collects garbage
between them ran out of heap, refused to arm and the bench timed SAFE-state
cycles; the replay must fly the flight the host flew."""
import pytest

from hil_rig.bench_firmware import record_stream, replay_on_vm


@pytest.mark.timeout(240)
def test_firmware_bench_replay_flies_the_recorded_flight_to_its_end_state():
    key, stream, rep = record_stream()
    end = [e for e in rep.events if e[1] == "state"][-1][3]
    r = replay_on_vm(key, stream, times=True)
    assert r["exceptions"] == 0
    assert r["cycles"] == rep.loop.steps == len(r["times"])
    assert r["state"] == end
    assert r["alloc_bytes_mean"] == 0
