"""Vehicle, motor, fault and scenario files: presets and one-line errors."""
import math
import shutil
from pathlib import Path

import pytest

from host.plant import (ConfigError, Plant, load_faults, load_motor, load_scenario,
                        load_vehicle)

DATA = Path(__file__).resolve().parents[2] / "host" / "data"


@pytest.mark.timeout(60)
def test_presets_load_with_their_published_figures():
    f9 = load_vehicle("falcon9")
    assert (f9.dry_mass_kg, f9.max_thrust_n, f9.isp_s, f9.isp_vac_s) == (25600.0, 845000.0,
                                                                       282.0, 311.0)
    assert f9.min_throttle_frac == 0.57 and not f9.solid and f9.n_engines == 1
    assert 5.0 < f9.arm_m < 20.0 and f9.gimbal_max_rad == pytest.approx(math.radians(6.0))
    assert f9.initial["alt_m"] == 4000.0 and f9.initial["vz_mps"] == -305.0
    assert set(f9.criteria) == {"max_vz_mps", "max_vh_mps", "max_tilt_deg", "max_rate_dps",
                                "max_miss_m"}
    zq = load_vehicle(DATA / "vehicles" / "zhuque3.toml")
    assert zq.n_engines == 3 and zq.max_thrust_n == 3 * 814000.0
    hob = load_vehicle("hobby_f15")
    assert hob.solid and hob.propellant_kg == 0.060 and hob.motor.name == "F15"
    assert hob.gimbal_max_rad == pytest.approx(math.radians(5.0))
    assert hob.isp_s == pytest.approx(49.6 / (0.060 * 9.80665), rel=1e-3)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["falcon9", "zhuque3"])
def test_boosters_cannot_hover_at_minimum_throttle(name):
    veh = load_vehicle(name)
    assert veh.min_thrust_to_weight(0.0) > 1.0                 # empty
    assert veh.min_thrust_to_weight() > 1.0                    # at the burn start


@pytest.mark.timeout(60)
def test_estes_f15_curve_matches_the_published_figures():
    mot = load_motor(DATA / "motors" / "estes_f15.eng")
    assert mot.impulse_ns == pytest.approx(49.6, abs=0.05)
    assert mot.avg_thrust_n == pytest.approx(14.4, abs=0.05)
    assert mot.peak_thrust_n == pytest.approx(25.3, abs=1e-9)
    assert mot.burn_s == pytest.approx(3.45, abs=1e-9)
    assert (mot.propellant_kg, mot.total_kg) == (0.060, 0.102)
    assert 0.0 < mot.first_moment_ns2 < mot.impulse_ns * mot.burn_s


def _mutated(tmp_path, text_edit, name="f9.toml"):
    src = (DATA / "vehicles" / "falcon9.toml").read_text()
    path = tmp_path / name
    path.write_text(text_edit(src))
    return path


def _error(fn, *args, **kw):
    with pytest.raises(ConfigError) as ei:
        fn(*args, **kw)
    msg = str(ei.value)
    assert "\n" not in msg
    return msg


@pytest.mark.timeout(60)
@pytest.mark.parametrize("edit, expected", [
    (lambda s: s.replace("isp_s = 282.0", 'isp_s = "abc"'),
     "[engine] isp_s: expected a number > 0, got 'abc'"),
    (lambda s: s.replace("isp_s = 282.0", "isp_s = -3"),
     "[engine] isp_s: expected a number > 0, got -3"),
    (lambda s: s.replace("dry_kg = 25600.0", ""),
     "[mass] dry_kg: missing (required)"),
    (lambda s: s.replace("max_deg = 6.0", "max_deg = 6.0\nmax_dge = 7.0"),
     "[tvc] max_dge: unknown key"),
    (lambda s: s.replace('kind = "radar"', 'kind = "lidar"'),
     "[sensors.altimeter] kind: expected one of 'baro', 'radar', got 'lidar'"),
    (lambda s: s.replace("min_throttle_frac = 0.57", "min_throttle_frac = 1.5"),
     "[engine] min_throttle_frac: expected a number in (0, 1], got 1.5"),
    (lambda s: s.replace("cd_mach = [[0.0, 1.00]", "cd_mach = [[0.7, 1.00]"),
     "[aero] cd_mach: expected a list of [mach, cd] pairs, mach increasing"),
    (lambda s: s.replace("legs = 4", "legs = 2"),
     "[contact] legs: expected an integer in [3, 8], got 2"),
    (lambda s: s.replace("isp_vac_s = 311.0", "isp_vac_s = 250.0"),
     "[engine] isp_vac_s: expected >= isp_s (282), got 250"),
    (lambda s: s.replace("propellant_kg = 9000.0", "propellant_kg = 500000.0"),
     "[initial] propellant_kg: expected <= [mass] propellant_capacity_kg"),
    (lambda s: s.replace('type = "liquid"', 'type = "liquid"\nmotor = "estes_f15"'),
     "[engine] motor: not used by a liquid engine"),
    (lambda s: s.replace("[wind]", "[wnd]"),
     "wnd: unknown key or table"),
    (lambda s: s.replace("rate_hz = 200.0", "rate_hz = 200.0 x"),
     "TOML syntax error"),
])
def test_bad_vehicle_file_gives_one_line_naming_the_file_and_the_key(tmp_path, edit, expected):
    path = _mutated(tmp_path, edit)
    msg = _error(load_vehicle, path)
    assert msg.startswith(f"{path}: ") or msg.startswith(str(path.resolve()))
    assert expected in msg


@pytest.mark.timeout(60)
def test_exact_error_line_for_a_non_numeric_isp(tmp_path, monkeypatch):
    path = _mutated(tmp_path, lambda s: s.replace("isp_s = 282.0", 'isp_s = "abc"'))
    monkeypatch.chdir(tmp_path)
    assert _error(load_vehicle, path) == "f9.toml: [engine] isp_s: expected a number > 0, got 'abc'"


@pytest.mark.timeout(60)
def test_sensor_rate_that_does_not_divide_the_physics_rate_is_named(tmp_path):
    path = _mutated(tmp_path, lambda s: s.replace("rate_hz = 10.0\nlatency_s",
                                                  "rate_hz = 3.0\nlatency_s"))
    msg = _error(Plant, load_vehicle(path))
    assert f"{path}" in msg and "[sensors.gnss] rate_hz" in msg and "1000" in msg


@pytest.mark.timeout(60)
def test_unknown_preset_lists_the_presets():
    msg = _error(load_vehicle, "falcon10")
    assert "falcon10.toml: vehicle file not found" in msg and "falcon9" in msg


@pytest.mark.timeout(60)
@pytest.mark.parametrize("spec, expected", [
    ([{"kind": "engine_fire"}], "[[fault]] #1 kind: expected one of"),
    ([{"kind": "engine_out", "trigger": "ignition+dt_s"}], "[[fault]] #1 dt_s: missing"),
    ([{"kind": "thrust_shortfall", "frac": 2.0}],
     "[[fault]] #1 frac: expected a number in (0, 1], got 2.0"),
    ([{"kind": "late_ignition"}], "[[fault]] #1 delay_s: missing (required"),
    ([{"kind": "no_ignition"}, {"kind": "gimbal_stuck", "axis": "roll"}],
     "[[fault]] #2 axis: expected one of 'pitch', 'yaw', 'both', got 'roll'"),
    ([{"kind": "gust", "speed_mps": 5, "duration_s": 1, "colour": "red"}],
     "[[fault]] #1 colour: unknown key"),
    ([{"kind": "engine_out", "trigger": "at_ignition", "dt_s": 1}],
     "[[fault]] #1 trigger: expected 't_s' or 'ignition+dt_s'"),
])
def test_bad_fault_spec_gives_one_line(spec, expected):
    assert expected in _error(load_faults, spec)


@pytest.mark.timeout(60)
def test_fault_index_beyond_the_engines_is_rejected():
    msg = _error(Plant, load_vehicle("falcon9"), faults=[{"kind": "engine_out", "engine": 2}])
    assert "engine: expected an index below 1" in msg


@pytest.mark.timeout(60)
def test_bad_fault_file_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[fault]]\nkind = "engine_out"\ntrigger = "ignition+dt_s"\ndt_s = "3"\n')
    msg = _error(load_faults, path)
    assert msg.startswith(str(path)) and "[[fault]] #1 dt_s: expected a number >= 0, got '3'" in msg


@pytest.mark.timeout(60)
def test_zq3_replay_scenario_file_loads():
    sc = load_scenario(DATA / "scenarios" / "zq3_y1_replay.toml")
    assert sc.vehicle == "zhuque3" and sc.initial["alt_m"] == 3000.0
    (f,) = sc.faults
    assert (f.kind, f.trigger, f.at_s, f.params) == ("engine_out", "ignition+dt_s", 3.0,
                                                    {"engine": 1})
    assert load_faults(DATA / "scenarios" / "zq3_y1_replay.toml") == sc.faults


@pytest.mark.timeout(60)
def test_bad_scenario_file_names_the_file_and_key(tmp_path):
    path = tmp_path / "sc.toml"
    shutil.copy(DATA / "scenarios" / "zq3_y1_replay.toml", path)
    path.write_text(path.read_text().replace("alt_m = 3000.0", "altitude_m = 3000.0"))
    msg = _error(load_scenario, path)
    assert msg.startswith(str(path)) and "[initial] altitude_m: unknown key" in msg


@pytest.mark.timeout(60)
def test_bad_motor_file_names_the_file_and_line(tmp_path):
    src = (DATA / "motors" / "estes_f15.eng").read_text()
    path = tmp_path / "m.eng"
    path.write_text(src.replace("   0.500 24.200", "   0.300 24.200"))
    msg = _error(load_motor, path)
    assert msg.startswith(str(path)) and "line" in msg and "is not after" in msg


@pytest.mark.timeout(60)
def test_initial_override_with_an_unknown_key_is_rejected():
    msg = _error(Plant, load_vehicle("falcon9"), initial={"altitude": 5.0})
    assert msg.startswith("<initial>: altitude: unknown key")

