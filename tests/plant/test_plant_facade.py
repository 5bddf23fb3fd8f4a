"""The facade the closed loop calls: arguments, truth keys, events, initial attitude."""
import math

import pytest

from host.plant import Plant, load_vehicle

TRUTH_KEYS = {"x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps", "qw", "qx", "qy", "qz",
              "wx_radps", "wy_radps", "wz_radps", "mass_kg", "thrust_n", "throttle_frac",
              "gimbal_pitch_rad", "gimbal_yaw_rad", "tilt_deg"}


@pytest.mark.timeout(180)
def test_advance_takes_whole_physics_steps_only():
    plant = Plant("falcon9", seed=1)                 # a preset name works too
    plant.advance(0.013)
    assert plant.t_s == pytest.approx(0.013, abs=1e-12)
    with pytest.raises(ValueError, match="multiple of the physics step"):
        plant.advance(0.0105)
    with pytest.raises(ValueError, match="throttle_frac"):
        plant.command(math.nan, 0.0, 0.0, 0.0, True, False)


@pytest.mark.timeout(180)
def test_truth_has_the_documented_keys_in_plain_floats():
    tr = Plant(load_vehicle("zhuque3"), seed=1).truth()
    assert TRUTH_KEYS <= set(tr)
    assert all(type(tr[k]) is float for k in TRUTH_KEYS)


@pytest.mark.timeout(180)
def test_engine_events_tell_the_ignition_story():
    plant = Plant(load_vehicle("falcon9"), seed=1, wind={"w20_mps": 0.0})
    for _ in range(200):
        plant.command(0.8, 0.0, 0.0, 0.0, True, False)
        plant.advance(0.01)
    plant.command(0.8, 0.0, 0.0, 0.0, False, False)
    plant.advance(1.0)
    texts = [text for _, text in plant.engine_events]
    assert texts == ["ignition commanded", "ignition (thrust rising)", "thrust confirmed",
                     "shutdown commanded", "engine shut down"]
    assert [t for t, _ in plant.engine_events] == sorted(t for t, _ in plant.engine_events)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("key, axis, sign", [("tilt_x_rad", "x", 1.0), ("tilt_y_rad", "y", 1.0),
                                             ("tilt_x_rad", "x", -1.0)])
def test_initial_tilt_leans_the_nose_the_documented_way(key, axis, sign):
    plant = Plant(load_vehicle("falcon9"), seed=1, initial={key: sign * 0.1})
    tr = plant.truth()
    # the CG sits above the feet centre, displaced toward the lean
    lean = tr[f"cg_{axis}_m"] - tr[f"{axis}_m"]
    _, cg, _, _ = plant.vehicle.mass_properties(plant.vehicle.propellant_kg)
    assert lean == pytest.approx(sign * cg * math.sin(0.1), rel=1e-9)
    assert tr["tilt_deg"] == pytest.approx(math.degrees(0.1), rel=1e-9)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("vehicle", ["falcon9", "hobby_f15"])
def test_sensors_wire_is_bit_for_bit_the_sensors_frame_of_sensors(vehicle):
    # the lockstep sends sensors_wire(k); the codec's own SI -> wire conversion is the reference
    from protocol.hostcodec import spec
    sens = spec("SENSORS")
    plant = Plant(vehicle, seed=3)
    for k in range(400):
        plant.command(0.9 if k > 50 else 0.0, 0.002 * (k % 7 - 3), -0.001 * (k % 5), 0.1,
                      k > 50, k > 300)
        wire = plant.sensors_wire(k)
        assert wire == sens.tuple_from_si(plant.sensors(k)), k
        assert all(type(v) is int for v in wire)
        plant.advance(0.01)
