"""Closed-loop SITL flights: the firmware on the MicroPython VM flying the
6-DOF plant.  Nominal landings land within each vehicle's criteria; every
injected fault ends in its documented state (README: fault responses), with
the detecting EVENT within a stated time of the fault."""
import math

import pytest

from hil_rig.flight import run_flight
from host.linkfaults import LinkFaults
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
@pytest.mark.parametrize("vehicle", ["falcon9", "zhuque3", "hobby_f15"])
def test_nominal_landing_lands_within_the_vehicle_criteria(vehicle):
    rep = run_flight(vehicle=vehicle, seed=1)
    v = rep.verdict
    assert v.landed, v.reason
    assert abs(v.touchdown_vz_mps) <= v.max_vz_mps and v.touchdown_vh_mps <= v.max_vh_mps
    assert v.miss_m <= v.max_miss_m and v.tilt_deg <= v.max_tilt_deg
    assert rep.state_path() == LANDED_PATH
    assert rep.hello["impl"] == "micropython"


@pytest.mark.timeout(180)
@pytest.mark.parametrize("vehicle", ["falcon9", "zhuque3", "hobby_f15"])
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


@pytest.mark.timeout(180)
def test_link_lost_in_the_burn_aborts_with_the_engine_cut_at_the_first_sensors_after_the_gap():
    # 2 s without SENSORS (15-17 s, in the landing burn) against the 0.5 s link timeout.
    # In lockstep the plant's time stands still with the link, so the board sees the gap
    # in the next SENSORS' time stamp: detection is at that frame (on the wall clock, in
    # real time, it is link_timeout_ms after the last one)
    box, on_step = _capture()
    rep = run_flight(vehicle="falcon9", on_step=on_step,
                     link_faults=LinkFaults(outages=[[15.0, 17.0]], direction="up"))
    lost = [e for e in rep.events if e[1] == "link_lost"]
    assert len(lost) == 1 and 1990 <= lost[0][4] <= 2020  # the gap, ms
    assert 17.0 <= lost[0][0] <= 17.02
    assert rep.state_path()[-1] == "ABORT"
    cut = _engine_event(box["plant"], "shutdown commanded")
    assert 0.0 <= cut - lost[0][0] <= 0.02


@pytest.mark.timeout(180)
def test_link_outage_shorter_than_the_timeout_in_the_burn_is_flown_through_and_lands():
    rep = run_flight(vehicle="falcon9",
                     link_faults=LinkFaults(outages=[[15.0, 15.3]], direction="up"))
    assert not [e for e in rep.events if e[1] in ("link_lost", "fault")]
    assert rep.verdict.landed, rep.verdict.reason
    assert rep.state_path() == LANDED_PATH


def _wilson_low(k, n, z=1.645):
    """One-sided 95 % lower confidence bound of a success rate k / n (Wilson score)."""
    p = k / n
    c = p + z * z / (2 * n)
    r = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (c - r) / (1 + z * z / n)


def test_wilson_bound_matches_known_values():
    assert _wilson_low(30, 40) == pytest.approx(0.623, abs=0.002)
    assert _wilson_low(40, 40) == pytest.approx(0.937, abs=0.002)
    assert _wilson_low(0, 40) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.timeout(900)
def test_hobby_lander_monte_carlo_lands_most_seeds_and_every_flight_ends_defined():
    # An F15 cannot throttle and lights 50 +- 10 ms after the command; the firmware lights
    # early and burns the excess off by coning (thrust-vector dumping), a loop on the
    # predicted stop that aims it just above the pad in the motor's tail-off, then holds
    # the vehicle upright.  Seed 1 is its nominal landing (test above); over dispersed
    # seeds (ignition delay, sensor noise and biases, wind and turbulence) it lands about
    # 4/5: 195 of seeds 1-240 with the default frame of actuation delay, 30 of 1-40.
    # What the rest do (README: "solid motor"): the stop is decided when the cone ends,
    # ~1.3 s before it, from an estimate whose predicted stop is off by ~7 cm (sd), and
    # ending a 9-14 deg cone costs a burst of thrust tilt the loop sees late; a stop
    # below the pad touches down with the thrust at ~2x the weight and hops the vehicle
    # off its bouncy legs, one above ~0.3 m drops it too fast; a motor that lights ~20 ms
    # sooner than its mean delay leaves more excess than a 14 deg cone can take off.
    # This holds the Monte Carlo criterion a campaign would: at 95 % confidence at least
    # 55 % of such flights land (28 of these 40), and every flight ends in a defined
    # state with its first touchdown under 4 m/s (a 20 ms ignition error without
    # dumping gives ~5 m/s: vehicles.md, acceptance check 6).
    n, landed, failed = 40, 0, []
    for seed in range(1, n + 1):
        rep = run_flight(vehicle="hobby_f15", seed=seed)
        path = rep.state_path()
        assert path[:4] == ["ARMED", "COAST", "IGNITION", "LANDING_BURN"], (seed, path)
        assert path[-1] in ("SAFED", "ABORT"), (seed, path)
        assert abs(rep.verdict.touchdown_vz_mps) < 4.0, (seed, rep.verdict)
        landed += rep.verdict.landed
        if not rep.verdict.landed:
            failed.append((seed, rep.verdict.reason))
    low = _wilson_low(landed, n)
    assert low >= 0.55, (landed, n, round(low, 3), failed)
