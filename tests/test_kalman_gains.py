"""The vertical Kalman filter's fixed gains come from the sensors' noise
(hil_rig/kalman.py), and the hobby tuning's gains are that computation's."""
import pytest

from hil_rig import kalman
from hil_rig.fwparams import load_tuning
from host.plant import load_vehicle


@pytest.mark.timeout(60)
def test_hobby_tuning_gains_are_the_steady_state_of_its_sensors_noise():
    # if the vehicle's altimeter or GNSS changes, so must the gains:
    #   python -m hil_rig.kalman hobby_f15
    want = kalman.vehicle_gains(load_vehicle("hobby_f15"))
    have = load_tuning("hobby_f15")
    assert have["est_kf"] == 1
    for name in kalman.GAIN_NAMES:
        assert have[name] == pytest.approx(want[name], rel=0.05), (name, have[name], want[name])


@pytest.mark.timeout(60)
def test_a_better_sensor_takes_more_of_its_innovation():
    base = kalman.vertical_gains(0.25, 50, 0.1, 10)
    sharp_alt = kalman.vertical_gains(0.02, 50, 0.1, 10)
    sharp_vel = kalman.vertical_gains(0.25, 50, 0.02, 10)
    assert sharp_alt["est_kf_hh_upm"] > 3 * base["est_kf_hh_upm"]
    assert sharp_alt["est_kf_vv_upm"] < base["est_kf_vv_upm"]  # the altimeter now carries vz too
    assert sharp_vel["est_kf_vv_upm"] > 3 * base["est_kf_vv_upm"]
    # every gain is a fraction of its innovation the firmware can hold (x1e-6, < 1e6)
    for g in (base, sharp_alt, sharp_vel):
        assert all(0 <= v < 1000000 for v in g.values()), g


@pytest.mark.timeout(60)
def test_gains_the_firmware_cannot_hold_are_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"est_kf_vh_upm: the filter wants \d+ .*outside"):
        kalman.vertical_gains(1e-4, 100, 0.1, 10)  # a near-perfect altimeter: vz gain > 1/s


@pytest.mark.timeout(60)
def test_the_command_prints_tuning_lines_or_one_error_line(capsys):
    assert kalman.main(["hobby_f15"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" = ")[0] for line in out] == list(kalman.GAIN_NAMES)
    assert kalman.main(["no_such_vehicle"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no_such_vehicle" in err[0] and "not found" in err[0]
