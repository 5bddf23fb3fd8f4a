"""The parameter dictionary: every tunable flight parameter, shared by both ends.

Like F Prime's command/telemetry dictionary, the table is part of the interface:
the host sets parameters by index (COMMAND SET_PARAM), so both sides must read
the same table.  Every value is an int in the unit its name ends with
(mm, mmps, mmps2, urad, ms, pm = per mille) so the firmware's maths stays in
small integers.  Row: (name, default, min, max).
"""

# name, default, min, max
TABLE = (
    ("accel_max_mmps2", 30000, 1000, 200000),   # full-thrust acceleration at burn start
    ("throttle_min_pm", 570, 0, 1000),          # throttle floor
    ("ign_margin_pm", 850, 300, 1000),          # ignite when the burn needs this fraction of full thrust
    ("ign_lead_ms", 400, 0, 5000),              # ignition delay + spool-up to anticipate
    ("ign_confirm_ms", 1500, 50, 10000),        # thrust must be sensed within this window
    ("term_alt_mm", 40000, 0, 1000000),         # start of the terminal phase (vertical attitude)
    ("legs_alt_mm", 300000, 0, 10000000),       # deploy the legs below this height
    ("td_vz_mmps", 1000, 0, 10000),             # target descent speed at touchdown
    ("term_accel_max_mmps2", 8000, 500, 100000),  # gentlest-of deceleration for the final profile
    ("tilt_abort_urad", 500000, 10000, 1570000),  # attitude limit (abort beyond)
    ("tilt_cmd_max_urad", 87000, 0, 500000),    # lateral guidance tilt limit
    ("lat_kp_pm", 40, 0, 100000),               # lateral accel per metre of offset, 1/s^2 x1000
    ("lat_kd_pm", 400, 0, 100000),              # lateral accel per m/s, 1/s x1000
    ("att_kp_pm", 1500, 0, 100000),             # angle -> rate, 1/s x1000
    ("rate_kp_pm", 3000, 0, 1000000),           # rate -> angular accel, 1/s x1000
    ("rate_ki_pm", 500, 0, 1000000),
    ("rate_kd_pm", 100, 0, 1000000),
    ("alpha_gimbal_pm", 3000, 1, 100000000),    # rad/s^2 per rad of gimbal at full thrust, x1000
    ("gimbal_max_urad", 105000, 0, 500000),
    ("link_timeout_ms", 500, 10, 60000),
    ("gravity_mmps2", 9807, 0, 30000),
    ("solid", 0, 0, 1),                         # 1: solid motor, ignition timing only
    ("solid_burn_ms", 0, 0, 100000),            # solid motor: burn time t_b
    ("solid_k_mm", 0, -10000000, 10000000),     # ... and K: ignition height h = -v t_b + K
    ("burn_timeout_ms", 60000, 1000, 600000),   # longest landing burn before it counts as hung
    ("coast_timeout_ms", 120000, 1000, 3600000),
    ("thrust_short_pm", 850, 0, 1000),          # sensed thrust below this fraction of commanded ...
    ("thrust_short_ms", 300, 10, 10000),        # ... for this long is a shortfall
    ("thr_lag_ms", 150, 1, 5000),               # the engine follows throttle commands this slowly
    ("est_div_mm", 50000, 100, 10000000),       # altimeter and GNSS disagreeing by more ...
    ("est_div_ms", 500, 10, 10000),             # ... for this long is estimator divergence
    ("divert_x_mm", 60000, -10000000, 10000000),  # safe point (east of the pad) for a divert
    ("divert_y_mm", 0, -10000000, 10000000),
    ("relight_max", 1, 0, 5),                   # relight attempts after an unconfirmed ignition
    ("arm_timeout_ms", 60000, 1000, 3600000),   # armed but no SENSORS this long: disarm
    ("gnss_latency_ms", 100, 0, 600),           # age of a GNSS fix when it arrives
    ("est_gnss_k_pm", 300, 0, 1000),            # estimator: share of a GNSS innovation taken per fix
    ("est_alt_k_pm", 300, 0, 1000),             # ... of an altimeter innovation per sample
    ("roll_kd_pm", 0, 0, 1000000),              # roll rate damping: roll_pm per rad/s x1000
    ("aero_k_upm", 0, 0, 100000000),            # sea-level 0.5 rho S CN_alpha / m, 1/m x1e6: aero
                                                # side force per rad of lean is aero_k V^2
    ("drag_k_upm", 0, 0, 100000),               # sea-level 0.5 rho S Cd / m, 1/m x1e6: drag decel is drag_k V^2
    ("solid_lit_ms", 0, 0, 1000),               # solid: burn time when thrust is confirmed
    ("solid_t1_ms", 0, 0, 100000),              # solid: thrust-curve knot 1: burn time ...
    ("solid_t2_ms", 0, 0, 100000),
    ("solid_t3_ms", 0, 0, 100000),
    ("solid_t4_ms", 0, 0, 100000),
    ("solid_t5_ms", 0, 0, 100000),
    ("solid_t6_ms", 0, 0, 100000),
    ("solid_t7_ms", 0, 0, 100000),
    ("solid_t8_ms", 0, 0, 100000),
    ("solid_a1_mmps2", 0, 0, 200000),           # ... and the thrust acceleration there (0 after the last)
    ("solid_a2_mmps2", 0, 0, 200000),
    ("solid_a3_mmps2", 0, 0, 200000),
    ("solid_a4_mmps2", 0, 0, 200000),
    ("solid_a5_mmps2", 0, 0, 200000),
    ("solid_a6_mmps2", 0, 0, 200000),
    ("solid_a7_mmps2", 0, 0, 200000),
    ("solid_a8_mmps2", 0, 0, 200000),
    ("solid_margin_mm", 0, -100000, 100000),    # solid: light so the full-thrust stop is this far up
    ("dump_tilt_urad", 0, 0, 300000),           # thrust-vector dumping: cone + lateral tilt (0: off)
    ("dump_rate_urads", 6000000, 100000, 20000000),  # ... the cone's rotation rate
    ("dump_from_ms", 0, 0, 100000),             # ... the cone waits for this burn time while a full one from then would do
    ("dump_end_ms", 2400, 0, 100000),           # ... burn time by which the cone is gone
    ("dump_taper_ms", 520, 1, 100000),          # ... its amplitude ramps to zero over this long (a whole turn: no drift left)
    ("dump_tau_ms", 400, 50, 10000),            # ... shortest time constant of the loop on the predicted stop
    ("dump_stop_mm", 0, -10000, 10000),         # aim: the full-thrust stop at least this far above the ground
    ("dump_ts_ms", 3150, 0, 100000),            # ... at about this burn time (the lever's end)
    ("dump_apex_mm", 0, 0, 10000),              # ... and where the tail-off lifts it from there, up to this (0: off)
    ("upright_ms", 0, 0, 100000),               # solid: hold upright from this burn time on (0: in the terminal phase only)
    ("est_tilt_k_pm", 0, 0, 10000),             # estimator: tilt correction from GNSS velocity under thrust, 1/s x1000 (0: off)
    ("act_delay_ms", 0, 0, 1000),               # actuation latency: a command takes effect this long after its SENSORS (the rig says)
    ("att_lead_pm", 0, 0, 2000),                # attitude loop on the lean predicted act_delay x this per mille ahead (0: off)
    ("est_kf", 0, 0, 1),                        # estimator: vertical Kalman filter (height, vz, accel bias), gains est_kf_* x1e-6 (0: est_alt_k / est_gnss_k)
    ("est_kf_hh_upm", 0, 0, 999999),            # ... height per mm of altimeter innovation, per sample
    ("est_kf_vh_upm", 0, 0, 999999),            # ... vz (mm/s) per mm of altimeter innovation, 1/s
    ("est_kf_bh_upm", 0, 0, 999999),            # ... accel bias (mm/s^2) per mm of altimeter innovation, 1/s^2
    ("est_kf_hv_upm", 0, 0, 999999),            # ... height (mm) per mm/s of GNSS vz innovation, s
    ("est_kf_vv_upm", 0, 0, 999999),            # ... vz per mm/s of GNSS vz innovation, per fix
    ("est_kf_bv_upm", 0, 0, 999999),            # ... accel bias (mm/s^2) per mm/s of GNSS vz innovation, 1/s
    ("est_lever_mm", 0, 0, 10000),              # estimator: GNSS antenna (body origin) this far below the IMU on the axis, w x r compensated (0: off)
    ("dump_slew_uradps", 2000000, 10000, 20000000),  # thrust-vector dumping: the cone's amplitude changes at most this fast
)


def index(name):
    for i, row in enumerate(TABLE):
        if row[0] == name:
            return i
    return -1
