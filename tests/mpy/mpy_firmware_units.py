# Unit tests of the flight software's logic, run on the MicroPython VM.
import gc
from protocol import messages as m
from protocol.parameters import index
import params as params_mod
from estimator import Estimator
from guidance import Guidance
from attitude import Attitude, RatePid
from sequencer import Sequencer
from fw_fakes import FakeSensors, EventLog


def _setup():
    p = params_mod.Params()
    log = EventLog()
    return p, Estimator(p), Guidance(p), Sequencer(p, log), log


def test_needed_accel_matches_hoverslam_relation():
    p, est, guid, seq, log = _setup()
    p.set(index("td_vz_mmps"), 0)
    guid.reset()
    assert guid.aim_mm == 0
    # v = 100 m/s, h = 1000 m -> v^2 / 2h = 5 m/s^2, plus g
    a = guid.needed_accel(1000000, -100000)
    assert abs(a - (5000 + 9807)) <= 2, a


def test_aim_point_gives_the_touchdown_speed_on_the_planned_burn():
    p, est, guid, seq, log = _setup()
    a_plan = p.get(index("accel_max_mmps2")) * p.get(index("ign_margin_pm")) // 1000 - 9807
    vtd = p.get(index("td_vz_mmps"))
    # on the planned burn, at the ground: v^2 = 2 a_plan aim
    assert abs(2 * a_plan * guid.aim_mm - vtd * vtd) <= 2 * a_plan
    # and the ratio v^2 / (h + aim) is what keeps the burn's deceleration constant
    a1 = guid.needed_accel(1000000, -100000)
    a2 = guid.needed_accel(250000 - guid.aim_mm * 3 // 4, -50000)
    assert abs(a1 - a2) < 30, (a1, a2)


def test_throttle_is_clamped_to_floor_and_full():
    p, est, guid, seq, log = _setup()
    est.alt_mm = 1000000
    est.vz_mmps = -1000  # almost nothing to brake: below the floor
    assert guid.vertical(est) == p.get(index("throttle_min_pm"))
    est.vz_mmps = -300000  # far more than full thrust can do
    est.alt_mm = 100000
    assert guid.vertical(est) == 1000


def test_ignition_waits_for_the_margin_point():
    p, est, guid, seq, log = _setup()
    p.set(index("ign_lead_ms"), 0)
    amax = p.get(index("accel_max_mmps2"))
    margin = p.get(index("ign_margin_pm"))
    v = -300000
    # height where the burn needs exactly margin * a_max: v^2 / 2(a - g)
    a_net = amax * margin // 1000 - 9807
    h = (v // 10) * (v // 10) * 5 // a_net * 10
    est.vz_mmps = v
    est.alt_mm = h + 50000
    assert not guid.should_ignite(est)
    est.alt_mm = h - 50000
    assert guid.should_ignite(est)


def _fly_to(seq, est, guid, s, t_us):
    s.t_us = t_us
    if seq.state in (m.ST_LANDING_BURN, m.ST_TERMINAL):
        # as the executive does: learn from the engine before the sequencer judges it
        guid.update_full_thrust(s.accel_z_mmps2, s.chamber_p_pm, seq.thr_ref_pm)
    return seq.step(t_us, s, est, guid)


def test_sequencer_nominal_path_emits_every_transition_with_reason():
    p, est, guid, seq, log = _setup()
    s = FakeSensors()
    assert seq.arm()
    est.alt_mm = 100000
    est.vz_mmps = -200000
    _fly_to(seq, est, guid, s, 0)           # ARMED -> COAST
    _fly_to(seq, est, guid, s, 10000)       # COAST -> IGNITION (needs > a_max)
    assert seq.state == m.ST_IGNITION and seq.engine_on
    s.flags |= m.SF_THRUST_SENSED
    s.chamber_p_pm = 900
    _fly_to(seq, est, guid, s, 20000)
    assert seq.state == m.ST_LANDING_BURN
    est.alt_mm = p.get(index("term_alt_mm")) - 1
    _fly_to(seq, est, guid, s, 30000)
    assert seq.state == m.ST_TERMINAL and seq.legs_down
    s.flags |= m.SF_LEG_CONTACT
    _fly_to(seq, est, guid, s, 40000)
    assert seq.state == m.ST_TOUCHDOWN and not seq.engine_on
    _fly_to(seq, est, guid, s, 40000 + 600000)
    assert seq.state == m.ST_SAFED
    assert log.states() == [m.ST_ARMED, m.ST_COAST, m.ST_IGNITION, m.ST_LANDING_BURN,
                            m.ST_TERMINAL, m.ST_TOUCHDOWN, m.ST_SAFED]
    for e in log.events:
        assert e[4], "every transition carries a reason"


def test_ignition_not_confirmed_relights_once_then_aborts_with_engine_cut():
    p, est, guid, seq, log = _setup()
    s = FakeSensors()
    seq.arm()
    est.alt_mm = 100000
    est.vz_mmps = -200000
    _fly_to(seq, est, guid, s, 0)
    _fly_to(seq, est, guid, s, 10000)
    assert seq.state == m.ST_IGNITION
    window_us = p.get(index("ign_confirm_ms")) * 1000
    t = 10000 + window_us + 20000
    _fly_to(seq, est, guid, s, t)
    assert seq.state == m.ST_IGNITION and not seq.engine_on  # off before the relight
    assert any(e[0] == m.EV_FAULT and e[4] == "no ignition: relight" for e in log.events)
    _fly_to(seq, est, guid, s, t + 150000)
    assert seq.engine_on  # relit
    _fly_to(seq, est, guid, s, t + 150000 + window_us + 20000)
    assert seq.state == m.ST_ABORT
    assert not seq.engine_on and seq.legs_down
    assert any(e[0] == m.EV_FAULT and e[4] == "ignition not confirmed" for e in log.events)


def test_late_thrust_inside_the_relight_window_still_lands_the_sequence():
    p, est, guid, seq, log = _setup()
    s = FakeSensors()
    seq.arm()
    est.alt_mm = 100000
    est.vz_mmps = -200000
    _fly_to(seq, est, guid, s, 0)
    _fly_to(seq, est, guid, s, 10000)
    window_us = p.get(index("ign_confirm_ms")) * 1000
    _fly_to(seq, est, guid, s, 10000 + window_us + 20000)  # first window missed
    _fly_to(seq, est, guid, s, 10000 + window_us + 200000)  # relit
    s.flags |= m.SF_THRUST_SENSED
    s.chamber_p_pm = 950
    _fly_to(seq, est, guid, s, 10000 + window_us + 300000)
    assert seq.state == m.ST_LANDING_BURN


def _burning(p, est, guid, seq, s):
    seq.arm()
    est.alt_mm = 2000000
    est.vz_mmps = -250000
    _fly_to(seq, est, guid, s, 0)
    while seq.state == m.ST_COAST:
        est.alt_mm -= 100000
        _fly_to(seq, est, guid, s, seq.t_us + 10000)
    s.flags |= m.SF_THRUST_SENSED
    s.chamber_p_pm = 1000
    _fly_to(seq, est, guid, s, seq.t_us + 10000)
    assert seq.state == m.ST_LANDING_BURN
    est.dt_us = 10000
    seq.thr_cmd_pm = 1000
    # past the spool-up grace period, engine delivering what it is asked
    t_end = seq.t_us + (p.get(index("ign_lead_ms")) + 50) * 1000
    while seq.t_us < t_end:
        _fly_to(seq, est, guid, s, seq.t_us + 10000)
    assert not seq.shortfall


def test_thrust_shortfall_is_reported_after_its_persistence_time():
    p, est, guid, seq, log = _setup()
    s = FakeSensors()
    _burning(p, est, guid, seq, s)
    seq.thr_cmd_pm = 1000
    s.chamber_p_pm = 800  # 20 % short
    t0 = seq.t_us
    ms = p.get(index("thrust_short_ms"))
    t = t0
    while t < t0 + (ms - 50) * 1000:
        t += 10000
        _fly_to(seq, est, guid, s, t)
    assert not seq.shortfall
    # then within the filter's settling (~100 ms) plus the persistence time
    for k in range(25):
        t += 10000
        _fly_to(seq, est, guid, s, t)
    assert seq.shortfall
    faults = [e for e in log.events if e[0] == m.EV_FAULT and e[4] == "thrust shortfall"]
    # reported with the engine efficiency it saw (sensed over expected, filtered)
    assert len(faults) == 1 and 800 <= faults[0][3] < p.get(index("thrust_short_pm"))


def test_absorbable_shortfall_keeps_flying():
    p, est, guid, seq, log = _setup()
    s = FakeSensors()
    _burning(p, est, guid, seq, s)
    seq.thr_cmd_pm = 700
    s.chamber_p_pm = 500
    est.vz_mmps = -50000
    est.alt_mm = 1000000  # needs ~1.25 m/s^2 + g, far below full thrust
    for k in range(60):
        _fly_to(seq, est, guid, s, seq.t_us + 10000)
    assert seq.shortfall and seq.state == m.ST_LANDING_BURN


def test_shortfall_that_cannot_stop_in_time_diverts_with_full_thrust():
    p, est, guid, seq, log = _setup()
    s = FakeSensors()
    _burning(p, est, guid, seq, s)
    seq.thr_cmd_pm = 1000
    s.chamber_p_pm = 300
    guid.a_full_mmps2 = 12000  # what the weak engine really gives
    est.vz_mmps = -250000
    est.alt_mm = 1500000  # needs 20.8 m/s^2 + g
    for k in range(60):
        _fly_to(seq, est, guid, s, seq.t_us + 10000)
    assert seq.state == m.ST_ABORT
    from sequencer import ACTION_DIVERT
    assert seq.action == ACTION_DIVERT and seq.engine_on


def test_altimeter_gnss_disagreement_aborts_as_estimator_divergence():
    p, est, guid, seq, log = _setup()
    s = FakeSensors()
    _burning(p, est, guid, seq, s)
    s.alt_mm = 500000
    s.gnss_z_mm = 500000 + p.get(index("est_div_mm")) + 1000
    for k in range(100):
        _fly_to(seq, est, guid, s, seq.t_us + 10000)
    assert seq.state == m.ST_ABORT
    assert any(e[0] == m.EV_FAULT and e[4] == "estimator divergence" for e in log.events)


def test_arming_only_from_safe():
    p, est, guid, seq, log = _setup()
    assert seq.arm()
    assert not seq.arm()
    assert seq.disarm()
    assert seq.state == m.ST_SAFE


def test_rate_pid_pushes_toward_target_with_positive_sign():
    p = params_mod.Params()
    pid = RatePid(p)
    # target lean +x, vehicle upright and still: positive pitch gimbal (torque about +y)
    g = pid.step(50000, 0, 0, 10000, 1000)
    assert g > 0
    g2 = pid.step(-50000, 0, 0, 10000, 1000)
    assert g2 < 0


def test_rate_pid_output_saturates_and_integrator_stops_winding():
    p = params_mod.Params()
    pid = RatePid(p)
    gmax = p.get(index("gimbal_max_urad"))
    for i in range(2000):
        g = pid.step(1000000, 0, 0, 10000, 1000)
    assert g == gmax
    i_sat = pid.i_urad
    for i in range(100):
        pid.step(1000000, 0, 0, 10000, 1000)
    assert pid.i_urad == i_sat  # no windup while saturated in the same direction


def test_pid_gimbal_scales_inversely_with_thrust():
    p = params_mod.Params()
    a = RatePid(p).step(20000, 0, 0, 10000, 1000)
    b = RatePid(p).step(20000, 0, 0, 10000, 500)
    assert abs(b - 2 * a) <= 2, (a, b)


def test_estimator_integrates_gyro_into_tilt():
    est = Estimator(params_mod.Params())
    s = FakeSensors(gyro_y_urads=100000)  # 0.1 rad/s about +y: lean toward +x grows
    for k in range(101):
        s.t_us = k * 10000
        est.update(s)
    assert abs(est.tilt_x_urad - 100000) <= 100, est.tilt_x_urad
    assert est.tilt_y_urad == 0


def test_estimator_dead_reckons_vertical_speed_in_gnss_dropout():
    est = Estimator(params_mod.Params())
    s = FakeSensors(accel_z_mmps2=19807, gnss_vz_mmps=-50000)
    s.t_us = 0
    est.update(s)
    s.flags = m.SF_ALT_VALID
    for k in range(1, 101):  # 1 s at +10 m/s^2 net
        s.t_us = k * 10000
        est.update(s)
    assert abs(est.vz_mmps - (-40000)) <= 50, est.vz_mmps


def test_control_step_allocates_nothing():
    p, est, guid, seq, log = _setup()
    att = Attitude(p)
    s = FakeSensors(flags=m.SF_GNSS_VALID | m.SF_ALT_VALID | m.SF_THRUST_SENSED, chamber_p_pm=800)
    seq.arm()
    est.alt_mm = 100000
    est.vz_mmps = -200000
    for k in range(5):
        s.t_us = k * 10000
        est.update(s)
        seq.step(s.t_us, s, est, guid)
    gc.collect()
    gc.disable()
    a0 = gc.mem_alloc()
    for k in range(5, 105):
        s.t_us = k * 10000
        est.update(s)
        seq.step(s.t_us, s, est, guid)
        guid.vertical(est)
        guid.lateral(est, False)
        att.update(est, guid.tilt_x_cmd_urad, guid.tilt_y_cmd_urad, 10000, 800)
    used = gc.mem_alloc() - a0
    gc.enable()
    assert used == 0, used
