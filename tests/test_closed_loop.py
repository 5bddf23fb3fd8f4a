"""Closed-loop SITL flights: the firmware on the MicroPython VM flying the
6-DOF plant.  Nominal landings land within each vehicle's criteria; every
injected fault ends in its documented state (README: fault responses), with
the detecting EVENT within a stated time of the fault."""
import pytest

from hil_rig.flight import run_flight
from host.plant import load_faults, load_scenario
from protocol import messages as m

LANDED_PATH = ["ARMED", "COAST", "IGNITION", "LANDING_BURN", "TERMINAL", "TOUCHDOWN", "SAFED"]


def _faults(*tables):
    return load_faults(list(tables))


def _fault_events(rep, text):
    return [e for e in rep.events if e[1] == "fault" and e[5].startswith(text)]


def _capture():
    box = {}

    def on_step(k, plant, act):
        box["plant"] = plant
    return box, on_step


def _engine_event(plant, text):
    return next(t for t, what in plant.engine_events if what.startswith(text))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("vehicle", ["falcon9", "zhuque3"])
def test_nominal_landing_lands_within_the_vehicle_criteria(vehicle):
    rep = run_flight(vehicle=vehicle, seed=1)
    v = rep.verdict
    assert v.landed, v.reason
    assert abs(v.touchdown_vz_mps) <= v.max_vz_mps and v.touchdown_vh_mps <= v.max_vh_mps
    assert v.miss_m <= v.max_miss_m and v.tilt_deg <= v.max_tilt_deg
    assert rep.state_path() == LANDED_PATH
    assert rep.hello["impl"] == "micropython"


@pytest.mark.timeout(180)
@pytest.mark.parametrize("vehicle", ["falcon9", "zhuque3"])
def test_nominal_landing_lands_with_zero_actuation_delay(vehicle):
    # every other flight here has the default frame of delay (each answer acts 10 ms
    # late); with --act-delay none it acts at once, and the vehicle lands that way too
    rep = run_flight(vehicle=vehicle, seed=1, act_delay="none")
    v = rep.verdict
    assert v.landed, v.reason
    assert rep.state_path() == LANDED_PATH


@pytest.mark.timeout(180)
def test_late_ignition_half_a_second_is_absorbed_and_lands():
    rep = run_flight(vehicle="falcon9", faults=_faults({"kind": "late_ignition", "delay_s": 0.5}))
    assert rep.verdict.landed, rep.verdict.reason
    assert rep.state_path() == LANDED_PATH


@pytest.mark.timeout(180)
def test_ten_percent_thrust_shortfall_is_detected_within_1s_and_flown_on_the_rest():
    box, on_step = _capture()
    rep = run_flight(vehicle="falcon9", on_step=on_step,
                     faults=_faults({"kind": "thrust_shortfall", "frac": 0.10,
                                     "trigger": "ignition+dt_s", "dt_s": 2.0}))
    t_fault = _engine_event(box["plant"], "fault injected")
    ev = _fault_events(rep, "thrust shortfall")
    assert ev, rep.events
    assert 0.0 <= ev[0][0] - t_fault <= 1.0
    assert rep.verdict.landed, rep.verdict.reason


@pytest.mark.timeout(180)
def test_zhuque3_y1_replay_engine_out_is_detected_within_half_a_second_and_diverts():
    sc = load_scenario("zq3_y1_replay")
    box, on_step = _capture()
    rep = run_flight(vehicle=sc.vehicle, faults=sc.faults, initial=sc.initial, wind=sc.wind,
                     on_step=on_step)
    t_out = _engine_event(box["plant"], "engine-out")
    ev = _fault_events(rep, "thrust shortfall")
    assert ev and 0.0 <= ev[0][0] - t_out <= 0.5
    # two engines cannot stop it from where the third was lost: divert, away from the pad
    assert _fault_events(rep, "shortfall: divert")
    assert rep.state_path()[-1] == "ABORT"
    assert not rep.verdict.landed
    assert rep.verdict.miss_m > 30.0


@pytest.mark.timeout(180)
def test_no_ignition_relights_once_then_aborts_with_the_engine_cut():
    rep = run_flight(vehicle="falcon9", faults=_faults({"kind": "no_ignition"}), max_time_s=60)
    relight = _fault_events(rep, "no ignition: relight")
    final = _fault_events(rep, "ignition not confirmed")
    assert relight and final
    window = rep.params.get("ign_confirm_ms", 1500) / 1000.0
    ign = next(e[0] for e in rep.events if e[1] == "state" and e[3] == m.ST_IGNITION)
    assert final[0][0] - ign <= 2 * window + 0.2
    assert rep.state_path()[-1] == "ABORT"


@pytest.mark.timeout(180)
def test_gnss_dropout_of_4s_in_the_burn_is_flown_on_the_imu_and_lands():
    rep = run_flight(vehicle="falcon9", faults=_faults(
        {"kind": "sensor_dropout", "sensor": "gnss", "trigger": "t_s", "t_s": 8.0, "duration_s": 4.0}))
    assert rep.verdict.landed, rep.verdict.reason


@pytest.mark.timeout(180)
def test_10mps_gust_in_the_burn_lands():
    rep = run_flight(vehicle="falcon9", faults=_faults(
        {"kind": "gust", "trigger": "t_s", "t_s": 15.0, "speed_mps": 10.0, "from_deg": 270.0,
         "duration_s": 3.0}))
    assert rep.verdict.landed, rep.verdict.reason


@pytest.mark.timeout(300)
def test_hobby_lander_dumps_thrust_and_lands_some_of_its_seeds():
    # An F15 cannot throttle and lights 50 +- 10 ms after the command; the firmware lights
    # early and burns the excess off by coning (thrust-vector dumping), a loop on the
    # predicted stop that aims it just above the pad in the motor's tail-off, and holds
    # the vehicle upright from then on.  Within the 15 deg tilt abort and the 5 deg gimbal
    # that lands about 4/5 of the flights.  With the default frame of actuation delay
    # (which the firmware anticipates through act_delay_ms): 7/10 of seeds 1-10, 30/40
    # of seeds 1-40, 30/40 of 41-80, 70/80 of 81-160, 65/80 of 161-240 (zero delay:
    # 29/40, 29/40, 71/80).  Before the stop was planned at 3.35 s of burn (dump_ts_ms):
    # frame 25/40, 29/40, 66/80, 62/80; before the vertical Kalman filter, the GNSS lever
    # arm, the 14 deg cone at 6.5 rad/s and act_delay_ms: frame 20/40, 21/40, 46/80.
    # This asserts what is true today, not the goal.  What is left: the stop's
    # height spreads by ~0.14 m (sd) against a window of ~0.25 m; low stops touch down
    # while the motor still pushes ~2x the weight and hop off the legs, high ones drop
    # too fast.  Every flight still ends in a defined state, and none of these touches
    # down as hard as before the dumping (up to 4.6 m/s on seeds 1-5).
    landed = 0
    for seed in range(1, 11):
        rep = run_flight(vehicle="hobby_f15", seed=seed)
        path = rep.state_path()
        assert path[:4] == ["ARMED", "COAST", "IGNITION", "LANDING_BURN"], (seed, path)
        assert path[-1] in ("SAFED", "ABORT"), (seed, path)
        assert abs(rep.verdict.touchdown_vz_mps) < 4.0, (seed, rep.verdict)
        landed += rep.verdict.landed
    assert landed >= 6, landed
