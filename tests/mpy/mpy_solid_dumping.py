# Unit tests of solid-motor thrust-vector dumping (firmware/guidance.py), on the VM.
import gc
from protocol.parameters import index
import params as params_mod
from guidance import Guidance, sin16, isqrt
from attitude import Attitude


class Est:
    def __init__(self):
        self.alt_mm = 0
        self.vz_mmps = 0
        self.x_mm = 0
        self.y_mm = 0
        self.vx_mmps = 0
        self.vy_mmps = 0
        self.tilt_x_urad = 0
        self.tilt_y_urad = 0
        self.rate_x_uradps = 0
        self.rate_y_uradps = 0
        self.accel_z_mmps2 = 20000
        self.r00 = 16384  # upright: world lean axes are the body's
        self.r01 = 0
        self.r10 = 0
        self.r11 = 16384


def _flat_motor(a_mmps2, burn_ms, drag=0):
    """Params for a motor of constant thrust acceleration (knots 1..7 on the plateau,
    knot 8 the drop to zero), no drag unless asked."""
    p = params_mod.Params()
    p.set(index("solid"), 1)
    p.set(index("drag_k_upm"), drag)
    for i in range(1, 9):
        p.set(index("solid_t%d_ms" % i), 1 + (burn_ms - 501) * (i - 1) // 6 if i < 8 else burn_ms)
        p.set(index("solid_a%d_mmps2" % i), a_mmps2 if i < 8 else 0)
    return p


def test_sin16_table():
    assert sin16(0) == 0
    assert sin16(16384) == 16384          # quarter turn
    assert abs(sin16(8192) - 11585) <= 1  # 45 deg
    assert sin16(32768) == 0
    assert sin16(49152) == -16384
    assert sin16(65536 + 16384) == 16384  # wraps


def test_thrust_accel_interpolates_the_knots():
    p = _flat_motor(20000, 3000)
    g = Guidance(p)
    assert g.thrust_accel(0) < 20000       # rising from (0, 0) to the first knot at 1 ms
    assert g.thrust_accel(1500) == 20000
    assert g.thrust_accel(3000) == 0 and g.thrust_accel(5000) == 0
    # half-way down the last segment (0.5 s long)
    t7 = p.get(index("solid_t7_ms"))
    assert t7 == 2500
    assert abs(g.thrust_accel((t7 + 3000) // 2) - 10000) <= 10
    # the search hint gives the same answer
    assert g.thrust_accel(2000, 3) == g.thrust_accel(2000)


def test_predicted_stop_matches_constant_deceleration():
    # a = 20 m/s^2 thrust, g = 9.807: net 10.193 m/s^2; from 30 m/s the stop is
    # v^2 / 2a = 44.15 m lower, 2.943 s later
    p = _flat_motor(20000, 10000)
    g = Guidance(p)
    g.predict_stop(50000, -30000, 100)
    assert abs(g.stop_mm - (50000 - 44150)) <= 50, g.stop_mm
    assert abs(g.stop_ms - (100 + 2943)) <= 10, g.stop_ms
    # through the ground: a negative stop height
    g.predict_stop(40000, -30000, 100)
    assert abs(g.stop_mm - (40000 - 44150)) <= 50, g.stop_mm


def test_drag_raises_the_predicted_stop():
    p0 = _flat_motor(20000, 10000)
    p1 = _flat_motor(20000, 10000, drag=2300)
    g0 = Guidance(p0)
    g1 = Guidance(p1)
    g0.predict_stop(50000, -40000, 100)
    g1.predict_stop(50000, -40000, 100)
    assert g1.stop_mm > g0.stop_mm + 1000, (g0.stop_mm, g1.stop_mm)


def test_burnout_while_falling_is_far_below():
    p = _flat_motor(20000, 1000)
    g = Guidance(p)
    g.predict_stop(50000, -40000, 100)
    assert g.stop_mm < -10000


def test_predicted_rise_in_the_tail_off():
    # 20 m/s^2 until 2.5 s, then down to 0 at 3 s: a stop at 2.5 s is followed by a
    # climb while the thrust still exceeds g (to 2.755 s, at 1.3 m/s), then it
    # coasts up to ~0.42 m before it falls
    p = _flat_motor(20000, 3000)
    g = Guidance(p)
    g.rise(2500)
    assert 380 < g.rise_mm < 460, g.rise_mm
    g.rise(2900)  # the thrust is already below the weight: no climb
    assert g.rise_mm == 0, g.rise_mm
    # predict_stop sets it for the stop it finds
    g.predict_stop(40000, -24000, 100)  # the 3 s motor: a stop at ~2.45 s, just before its tail-off
    assert 2400 < g.stop_ms < 2500 and g.rise_mm > 400, (g.stop_ms, g.rise_mm)


def _plan(p, stop_mm, tau_ms, rise_mm=0, vz=-20000):
    p.set(index("dump_tilt_urad"), 230000)
    g = Guidance(p)
    g.stop_mm = stop_mm
    g.stop_ms = 3050
    g.rise_mm = rise_mm
    est = Est()
    est.vz_mmps = vz
    est.alt_mm = 20000
    g.dump_plan(tau_ms, est)
    return g.plan_urad


def test_dump_plan_is_zero_at_or_below_the_aim_and_grows_with_the_excess():
    p = _flat_motor(20000, 3450)
    aim = p.get(index("dump_stop_mm"))
    assert _plan(p, aim, 500) == 0
    assert _plan(p, aim - 500, 500) == 0
    a1 = _plan(p, aim + 300, 500)
    a2 = _plan(p, aim + 1200, 500)
    assert 0 < a1 < a2, (a1, a2)
    # the same excess with less time left asks for more cone
    assert _plan(p, aim + 300, 1500) > a1
    # past the window's end: nothing
    assert _plan(p, aim + 1200, p.get(index("dump_end_ms"))) == 0


def test_dump_plan_waits_for_a_small_excess_and_starts_early_for_a_large_one():
    p = _flat_motor(20000, 3450)
    p.set(index("dump_from_ms"), 1200)
    p.set(index("dump_end_ms"), 2700)
    p.set(index("dump_taper_ms"), 1000)
    small = _plan(p, 300, 200)
    large = _plan(p, 3000, 200)
    assert small == 0, small    # 0.3 m can be burnt off later, and later is more impulse
    assert large > 0, large     # 3 m cannot wait
    assert _plan(p, 300, 1300) > 0   # the small one does come, after dump_from


def test_dump_plan_aims_the_drop_from_the_tail_off_climb():
    p = _flat_motor(20000, 3450)
    p.set(index("dump_stop_mm"), 80)
    p.set(index("dump_apex_mm"), 220)
    # a stop 0.2 m up: with no climb after it, within the apex aim (nothing to do) ...
    assert _plan(p, 200, 1500, rise_mm=0) == 0
    # ... climbing 0.1 m after it, 0.08 m too high: dump
    assert _plan(p, 200, 1500, rise_mm=100) > 0
    # the floor holds whatever the climb: a stop at 0.08 m is never pushed lower
    assert _plan(p, 80, 1500, rise_mm=400) == 0


def test_dump_plan_asks_more_cone_where_the_air_gives_some_back():
    # falling tail first, the air's push at the angle of attack has an upward part
    p = _flat_motor(20000, 3450)
    p.set(index("aero_k_upm"), 7732)
    slow = _plan(p, 1000, 1000, vz=-5000)
    fast = _plan(p, 1000, 1000, vz=-30000)
    assert fast > slow, (slow, fast)


def test_cone_amplitude_within_its_budget_with_feedforward():
    p = _flat_motor(30000, 10000)
    p.set(index("dump_tilt_urad"), 230000)
    p.set(index("tilt_cmd_max_urad"), 87000)
    g = Guidance(p)
    est = Est()
    est.alt_mm = 33300   # net 20.2 m/s^2 from 35 m/s: the full-thrust stop ~3 m up
    est.vz_mmps = -35000
    est.vx_mmps = 2000
    tau = 300
    big = 0
    for k in range(150):
        g.lateral(est, False)
        g.solid_burn(est, tau + 10 * k, 10)
        tx = g.tilt_x_cmd_urad
        ty = g.tilt_y_cmd_urad
        n = isqrt(tx * tx // 100 + ty * ty // 100) * 10
        assert n <= 230000 + 3000, n
        big = n if n > big else big
    assert big > 150000, big          # it does cone
    assert g.rate_ff_x or g.rate_ff_y
    # the way out: the amplitude falls to zero over dump_taper, then no cone
    end = p.get(index("dump_end_ms"))
    ramp = p.get(index("dump_taper_ms"))
    tau = end - ramp
    amps = []
    while tau < end:
        g.lateral(est, False)
        g.solid_burn(est, tau, 10)
        amps.append(g.cone_urad)
        tau += 10
    assert all(a >= b for a, b in zip(amps, amps[1:])), amps
    assert amps[-1] < amps[0] // 10, amps
    g.solid_burn(est, end + 10, 10)
    assert g.cone_urad == 0 and g.rate_ff_x == 0 and g.acc_ff_y == 0


def test_dumping_cycle_allocates_nothing():
    p = _flat_motor(30000, 10000)
    p.set(index("dump_tilt_urad"), 230000)
    g = Guidance(p)
    att = Attitude(p)
    est = Est()
    est.alt_mm = 33300
    est.vz_mmps = -35000
    g.lateral(est, False)
    g.solid_burn(est, 300, 10)
    gc.collect()
    gc.disable()
    a0 = gc.mem_alloc()
    for k in range(1, 120):
        g.lateral(est, False)
        g.solid_burn(est, 300 + 10 * k, 10)
        att.update(est, g.tilt_x_cmd_urad, g.tilt_y_cmd_urad, 10000, 600, g)
    used = gc.mem_alloc() - a0
    gc.enable()
    assert used == 0, used
    assert g.cone_urad > 0  # the cycles above did cone
