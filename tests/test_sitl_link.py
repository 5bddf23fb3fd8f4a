"""The SITL target: firmware on the real MicroPython VM behind a pty, reached
through pyserial like a board on /dev/ttyACM0."""
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from hil_rig.session import Session
from hil_rig.targets import SitlTarget, TargetError, make_target
from host.errors import HoverslamError, LinkError, LinkTimeout
from host.loop import fly_lockstep
from protocol import messages as m

sys.path.insert(0, str(Path(__file__).parent / "fakes"))
from planar import PlanarPlant  # noqa: E402

PLANAR_PARAMS = {"accel_max_mmps2": 28571, "throttle_min_pm": 400, "ign_lead_ms": 200,
                 "term_alt_mm": 5000, "alpha_gimbal_pm": 30000, "td_vz_mmps": 500,
                 "link_timeout_ms": 5000, "gnss_latency_ms": 0,  # the fake has no GNSS latency
                 "term_accel_max_mmps2": 15000}  # and no engine lag: it can stop hard


@pytest.mark.timeout(60)
def test_firmware_reports_it_runs_on_the_micropython_vm():
    with Session(SitlTarget()) as s:
        assert s.hello["impl"] == "micropython"
        assert s.hello["proto_version"] == m.PROTOCOL_VERSION


@pytest.mark.timeout(120)
def test_planar_landing_in_lockstep_reaches_safed():
    with Session(SitlTarget()) as s:
        s.configure(PLANAR_PARAMS)
        s.arm()
        plant = PlanarPlant()
        r = fly_lockstep(s.link, plant, rate_hz=100, max_time_s=60)
        states = [e["state_to"] for e in s.link.events if e["code"] == m.EV_STATE]
    assert r.ended_by == "plant"
    assert states == [m.ST_ARMED, m.ST_COAST, m.ST_IGNITION, m.ST_LANDING_BURN, m.ST_TERMINAL,
                      m.ST_TOUCHDOWN, m.ST_SAFED]
    vz, vx, tilt = plant.verdict()
    assert -2.0 < vz <= 0.0


@pytest.mark.timeout(120)
def test_killing_the_firmware_mid_flight_is_reported_within_a_second():
    target = SitlTarget()
    killed = {}

    def kill_at_step_200(k, plant, act):
        if k == 200:
            os.kill(target.proc.pid, signal.SIGKILL)
            killed["t"] = time.monotonic()

    with Session(target) as s:
        s.configure(PLANAR_PARAMS)
        s.arm()
        with pytest.raises(LinkError) as e:
            fly_lockstep(s.link, PlanarPlant(), rate_hz=100, max_time_s=60, step_timeout_s=5.0,
                         on_step=kill_at_step_200)
        reported = time.monotonic()
    assert reported - killed["t"] < 1.0
    assert "killed by signal 9" in str(e.value)


@pytest.mark.timeout(60)
def test_handshake_with_silent_firmware_fails_with_one_clear_line():
    # tests/mpy/silent.py imports the board layer from firmware/ via MICROPYPATH
    target = SitlTarget(firmware_dir=Path(__file__).parent.parent / "firmware", script="../tests/mpy/silent.py")
    with pytest.raises(HoverslamError) as e:
        Session(target).open()
    assert "no HELLO" in str(e.value)
    assert target.proc.poll() is not None  # the child was reaped


@pytest.mark.timeout(30)
def test_missing_micropython_binary_is_a_clear_error():
    with pytest.raises(TargetError) as e:
        SitlTarget(micropython="/nonexistent/micropython").start()
    assert "cannot start the MicroPython VM" in str(e.value)


@pytest.mark.timeout(30)
def test_unknown_target_spec_is_a_clear_error():
    with pytest.raises(TargetError) as e:
        make_target("bogus")
    assert "unknown target 'bogus'" in str(e.value)


@pytest.mark.timeout(60)
def test_firmware_that_stops_answering_mid_flight_times_out_with_a_clear_error():
    target = SitlTarget()

    def freeze_at_step_100(k, plant, act):
        if k == 100:
            os.kill(target.proc.pid, signal.SIGSTOP)

    try:
        with Session(target) as s:
            s.configure(PLANAR_PARAMS)
            s.arm()
            with pytest.raises(LinkTimeout) as e:
                fly_lockstep(s.link, PlanarPlant(), rate_hz=100, max_time_s=60, step_timeout_s=0.5,
                             on_step=freeze_at_step_100)
    finally:
        if target.proc and target.proc.poll() is None:
            os.kill(target.proc.pid, signal.SIGCONT)
    assert "no ACTUATORS from the board within 0.5 s" in str(e.value)
