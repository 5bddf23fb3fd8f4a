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
        self.m00 = 16384  # upright: world lean axes are the body's
        self.m01 = 0
        self.m10 = 0
        self.m11 = 16384


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


def _dumping(p, stop_mm, tau_ms, stop_ms=3050):
    p.set(index("dump_tilt_urad"), 230000)
    g = Guidance(p)
    g.stop_mm = stop_mm
    g.stop_ms = stop_ms
    return g.dump_law(tau_ms)


def test_dump_law_is_zero_at_or_below_the_aim_and_full_when_far_too_high():
    p = _flat_motor(20000, 3450)
    ulim = p.get(index("dump_accel_mmps2"))
    assert _dumping(p, p.get(index("dump_stop_mm")), 500) == 0
    assert _dumping(p, -500, 500) == 0
    assert _dumping(p, 15000, 500) == ulim * 3 // 2


def test_dump_law_waits_for_a_small_excess_and_starts_early_for_a_large_one():
    p = _flat_motor(20000, 3450)
    small = _dumping(p, 300, 200)
    large = _dumping(p, 2000, 200)
    assert small == 0, small    # 0.3 m can be burnt off later, as late as the cone allows
    assert large > 0, large
    # the late block for the small excess does come, before the cone's end
    t_de = p.get(index("dump_end_ms")) - p.get(index("dump_taper_ms")) * 3 // 4
    assert _dumping(p, 300, t_de - 100) > 0


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
    # past dump_end: no cone
    g.solid_burn(est, p.get(index("dump_end_ms")) + 10, 10)
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
