"""Ground contact and the touchdown verdict computed by the plant."""
import math

import pytest

from host.plant import Plant, load_vehicle

G0 = 9.80665
CALM = {"w20_mps": 0.0, "turbulence": False}


def _drop(name, max_s=10.0, **initial):
    plant = Plant(load_vehicle(name), seed=1, wind=CALM, initial=initial)
    plant.command(0.0, 0.0, 0.0, 0.0, False, initial.get("legs_deployed", False))
    while not plant.done and plant.t_s < max_s:
        plant.advance(0.01)
    return plant


@pytest.mark.timeout(180)
def test_soft_vertical_touchdown_on_deployed_legs_is_landed():
    plant = _drop("falcon9", alt_m=0.05, vz_mps=-1.5, legs_deployed=True)
    vd = plant.verdict()
    assert plant.done and vd.outcome == "landed" and vd.landed, vd.reason
    # touchdown speed: free fall over the last 5 cm, sqrt(v0^2 + 2 g h), to one step
    assert abs(vd.touchdown_vz_mps) == pytest.approx(math.sqrt(1.5 ** 2 + 2 * G0 * 0.05), abs=0.02)
    assert vd.touchdown_vh_mps == pytest.approx(0.0, abs=1e-9)
    assert vd.bounces == 0 and 0.0 < vd.max_leg_compression_m < 0.6
    assert vd.miss_m == pytest.approx(0.0, abs=1e-6)
    assert vd.max_vz_mps == plant.vehicle.criteria["max_vz_mps"]
    assert plant.truth()["z_m"] < 0.0          # resting on compressed legs
    assert plant.sensors(0)["flags"] & 8       # SF_LEG_CONTACT


@pytest.mark.timeout(180)
def test_fast_touchdown_fails_the_vertical_speed_criterion():
    plant = _drop("falcon9", alt_m=0.05, vz_mps=-12.0, legs_deployed=True)
    vd = plant.verdict()
    assert vd.outcome == "crashed" and not vd.landed
    assert "vertical speed" in vd.reason and vd.touchdown_vz_mps < -11.9


@pytest.mark.timeout(180)
def test_touchdown_beyond_the_leg_stroke_is_a_crash():
    plant = _drop("hobby_f15", alt_m=0.05, vz_mps=-6.0, legs_deployed=True)
    vd = plant.verdict()
    assert vd.outcome == "crashed" and "leg bottomed out" in vd.reason
    assert any(text == "crashed: leg bottomed out" for _, text in plant.events)


@pytest.mark.timeout(180)
def test_touchdown_with_legs_stowed_is_a_body_strike():
    plant = _drop("falcon9", alt_m=0.5, vz_mps=-1.0, legs_deployed=False)
    vd = plant.verdict()
    assert vd.outcome == "crashed" and "body struck" in vd.reason


@pytest.mark.timeout(180)
def test_lateral_speed_at_touchdown_tips_the_hobby_lander_over():
    # the BPS failure mode: touchdown with horizontal velocity -> tip-over
    plant = _drop("hobby_f15", alt_m=0.05, vz_mps=-1.0, vx_mps=2.0, legs_deployed=True)
    vd = plant.verdict()
    assert vd.outcome == "tipped" and not vd.landed
    assert vd.touchdown_vh_mps == pytest.approx(2.0, abs=0.01)  # after one step of friction
    assert plant.truth()["tilt_deg"] > 15.0
    # the same touchdown without the drift lands
    assert _drop("hobby_f15", alt_m=0.05, vz_mps=-1.0, legs_deployed=True).verdict().landed


@pytest.mark.timeout(180)
def test_lightly_damped_legs_bounce():
    plant = _drop("hobby_f15", alt_m=0.05, vz_mps=-2.0, legs_deployed=True)
    vd = plant.verdict()
    assert vd.bounces >= 1
    assert any(text == "bounce 1" for _, text in plant.events)


@pytest.mark.timeout(180)
def test_landing_off_the_pad_fails_the_miss_criterion():
    plant = _drop("falcon9", alt_m=0.05, vz_mps=-1.0, x_m=40.0, y_m=-3.0, legs_deployed=True)
    vd = plant.verdict()
    assert vd.miss_m == pytest.approx(math.hypot(40.0, 3.0), abs=1e-3)
    assert vd.outcome == "crashed" and "miss" in vd.reason


@pytest.mark.timeout(180)
def test_vehicle_standing_on_the_pad_is_not_a_touchdown():
    plant = _drop("hobby_f15", max_s=3.0, alt_m=0.0)
    assert not plant.done and plant.verdict().outcome == "flying"
    tr = plant.truth()
    assert -0.01 < tr["z_m"] <= 0.0 and tr["ground_contacts"] == 4
