"""Sensors: the SENSORS dict, IMU, altimeter, GNSS, chamber pressure, seeding."""
import math
import statistics

import pytest

from host.plant import Plant, load_vehicle
from protocol import messages as msg

G0 = 9.80665
CALM = {"w20_mps": 0.0, "turbulence": False}
VACUUM = {"environment": {"atmosphere": "vacuum"}}


def _samples(plant, t_end_s, dt_s, cmd=None):
    out = []
    k = 0
    while plant.t_s < t_end_s - 1e-9:
        if cmd is not None:
            plant.command(*cmd)
        plant.advance(dt_s)
        k += 1
        out.append((plant.truth(), plant.sensors(k)))
    return out


@pytest.mark.timeout(180)
def test_sensor_dict_carries_the_si_names_of_the_sensors_message():
    plant = Plant(load_vehicle("falcon9"), seed=1)
    s = plant.sensors(7)
    row = msg.find(msg.SENSORS)
    expected = set()
    for name, _, _ in row[4]:
        base, _, unit = name.rpartition("_")
        expected.add(base + "_" + msg.SI_UNITS[unit][0] if unit in msg.SI_UNITS else name)
    assert set(s) == expected
    assert {"accel_x_mps2", "gyro_z_radps", "alt_m", "gnss_vx_mps", "chamber_p_frac"} <= set(s)
    assert s["step"] == 7 and s["t_us"] == 0 and isinstance(s["flags"], int)
    assert all(isinstance(s[k], float) for k in s if k not in ("step", "t_us", "flags"))
    plant.advance(0.25)
    assert plant.sensors(8)["t_us"] == 250000


@pytest.mark.timeout(180)
def test_imu_reads_plus_g_upright_on_the_pad_and_the_legs_report_contact():
    plant = Plant(load_vehicle("hobby_f15"), seed=2, wind=CALM, initial={"alt_m": 0.0})
    rows = _samples(plant, 3.0, 0.002)[-500:]        # after the legs have settled
    az = statistics.mean(s["accel_z_mps2"] for _, s in rows)
    ax = statistics.mean(s["accel_x_mps2"] for _, s in rows)
    bias = plant.vehicle.config["sensors.imu"]["accel_bias_mps2"]
    assert az == pytest.approx(G0, abs=5 * bias + 0.01)
    assert abs(ax) < 5 * bias + 0.01
    assert all(s["flags"] & msg.SF_LEG_CONTACT for _, s in rows)
    assert all(s["flags"] & msg.SF_ALT_VALID for _, s in rows)


@pytest.mark.timeout(180)
def test_imu_noise_follows_the_datasheet_noise_density_and_holds_between_samples():
    veh = load_vehicle("hobby_f15", overrides=VACUUM)   # MPU-6050 at 500 Hz
    plant = Plant(veh, seed=3, wind=CALM, initial={"alt_m": 5000.0})
    rows = _samples(plant, 4.0, 0.001)               # weightless: bias + noise only
    imu = veh.config["sensors.imu"]
    band = math.sqrt(imu["rate_hz"] / 2.0)
    acc = [s["accel_x_mps2"] for _, s in rows[::2]]
    gyr = [s["gyro_y_radps"] for _, s in rows[::2]]
    assert statistics.stdev(acc) == pytest.approx(imu["accel_noise_mps2_rthz"] * band, rel=0.08)
    assert statistics.stdev(gyr) == pytest.approx(
        math.radians(imu["gyro_noise_dps_rthz"]) * band, rel=0.08)
    # 500 Hz sensor read at 1 kHz: every value is held for two physics steps
    vals = [s["accel_x_mps2"] for _, s in rows]
    assert all(vals[i] == vals[i + 1] for i in range(1, len(vals) - 1, 2))
    assert vals[0] != vals[2]


@pytest.mark.timeout(180)
def test_gnss_reports_the_position_latency_s_late_at_its_rate():
    veh = load_vehicle("falcon9", overrides={
        **VACUUM, "sensors": {"gnss": {"pos_noise_h_m": 0.0, "pos_noise_v_m": 0.0,
                                       "vel_noise_mps": 0.0, "dropout_prob": 0.0}}})
    plant = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 3000.0, "vz_mps": -100.0})
    gnss = veh.config["sensors.gnss"]
    rows = _samples(plant, 1.0, 0.01)
    assert not rows[0][1]["flags"] & msg.SF_GNSS_VALID          # nothing released yet
    for tr, s in rows:
        t = tr["t_s"]
        if t < gnss["latency_s"] - 1e-9:
            continue
        assert s["flags"] & msg.SF_GNSS_VALID
        # the newest sample released: taken at the last multiple of 1/rate before t - latency
        t_sample = math.floor((t - gnss["latency_s"]) * gnss["rate_hz"] + 1e-9) / gnss["rate_hz"]
        z_then = 3000.0 - 100.0 * t_sample - 0.5 * G0 * t_sample ** 2
        assert s["gnss_z_m"] == pytest.approx(z_then, abs=1e-6)
        assert s["gnss_vz_mps"] == pytest.approx(-100.0 - G0 * t_sample, abs=1e-9)


@pytest.mark.timeout(180)
def test_gnss_dropout_fault_clears_the_valid_bit_and_holds_the_values():
    veh = load_vehicle("falcon9", overrides={"sensors": {"gnss": {"dropout_prob": 0.0}}})
    plant = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 3000.0, "vz_mps": -100.0},
                  faults=[{"kind": "sensor_dropout", "sensor": "gnss", "trigger": "t_s",
                           "t_s": 1.0, "duration_s": 0.5}])
    rows = _samples(plant, 2.0, 0.01)
    lat = veh.config["sensors.gnss"]["latency_s"]
    # samples taken in (1.0, 1.5) s are invalid; they show up latency_s later
    out = [(tr["t_s"], s) for tr, s in rows if 1.1 + lat - 1e-9 < tr["t_s"] < 1.5 + lat - 1e-9]
    assert out and all(not s["flags"] & msg.SF_GNSS_VALID for _, s in out)
    assert len({s["gnss_z_m"] for _, s in out}) == 1               # held
    assert rows[-1][1]["flags"] & msg.SF_GNSS_VALID                # back afterwards


@pytest.mark.timeout(180)
def test_radar_altimeter_reads_slant_range_within_its_range_and_beam():
    veh = load_vehicle("falcon9", overrides={
        **VACUUM, "sensors": {"altimeter": {"noise_m": 0.0, "dropout_prob": 0.0}}})
    alt = veh.config["sensors.altimeter"]
    high = Plant(veh, seed=1, wind=CALM, initial={"alt_m": alt["max_range_m"] + 500.0,
                                                  "vz_mps": 0.0})
    assert not high.sensors(0)["flags"] & msg.SF_ALT_VALID
    tilt = math.radians(10.0)
    plant = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 1000.0, "vz_mps": 0.0,
                                                   "tilt_x_rad": tilt})
    s = plant.sensors(0)
    assert s["flags"] & msg.SF_ALT_VALID
    assert s["alt_m"] == pytest.approx(1000.0 / math.cos(tilt), rel=1e-12)
    beyond = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 1000.0, "vz_mps": 0.0,
                                                    "tilt_y_rad": math.radians(35.0)})
    assert not beyond.sensors(0)["flags"] & msg.SF_ALT_VALID


@pytest.mark.timeout(180)
def test_chamber_pressure_tracks_thrust_and_sets_the_thrust_flag():
    veh = load_vehicle("falcon9", overrides=VACUUM)
    plant = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 3000.0, "vz_mps": 0.0})
    assert not plant.sensors(0)["flags"] & msg.SF_THRUST_SENSED
    rows = _samples(plant, 3.0, 0.01, cmd=(0.8, 0.0, 0.0, 0.0, True, False))
    tr, s = rows[-1]
    sigma = veh.config["sensors.chamber"]["noise_frac"]
    assert s["chamber_p_frac"] == pytest.approx(tr["thrust_n"] / veh.max_thrust_n, abs=5 * sigma)
    assert s["flags"] & msg.SF_THRUST_SENSED
    first = next(t["t_s"] for t, s in rows if s["flags"] & msg.SF_THRUST_SENSED)
    assert first > veh.config["engine"]["ignition_dead_time_s"]


def _record(seed):
    plant = Plant(load_vehicle("falcon9"), seed=seed,
                  initial={"alt_m": 1500.0, "vz_mps": -150.0},
                  faults=[{"kind": "gust", "t_s": 0.5, "speed_mps": 5.0, "duration_s": 1.0}])
    out = []
    for k in range(300):
        plant.command(0.7, 0.002 * math.sin(k / 10), -0.001, 0.1, True, k > 100)
        plant.advance(0.01)
        out.append((plant.sensors(k), plant.truth()))
    return out


@pytest.mark.timeout(180)
def test_seeded_runs_are_bit_identical():
    assert _record(11) == _record(11)


@pytest.mark.timeout(180)
def test_a_different_seed_changes_the_noise_and_the_turbulence():
    a, b = _record(11), _record(12)
    assert a != b
    diff_acc = sum(sa["accel_x_mps2"] != sb["accel_x_mps2"] for (sa, _), (sb, _) in zip(a, b))
    assert diff_acc > 290
    assert a[-1][1]["wind_x_mps"] != b[-1][1]["wind_x_mps"]
    # same physics, different realisations: the trajectories stay close
    assert a[-1][1]["z_m"] == pytest.approx(b[-1][1]["z_m"], abs=5.0)


@pytest.mark.timeout(180)
def test_imu_saturates_at_its_range():
    veh = load_vehicle("hobby_f15", overrides={"sensors": {"imu": {"accel_range_mps2": 5.0,
                                                                   "gyro_range_dps": 1.0}}})
    on_pad = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 0.0})
    on_pad.advance(0.1)
    assert on_pad.sensors(1)["accel_z_mps2"] == 5.0     # +g, clipped
    spinning = Plant(veh, seed=1, wind=CALM, initial={"alt_m": 100.0, "wz_radps": 0.5})
    spinning.advance(0.1)
    assert spinning.sensors(1)["gyro_z_radps"] == pytest.approx(math.radians(1.0), rel=1e-12)
