"""Slot layout of the plain float arrays the compiled core works on.

The numba core takes no objects, only flat numpy arrays; these integer
constants name every slot (numba reads module-level ints as compile-time
constants).  One place, so the Python facade, the compiled core and the naive
reference step agree on what x[3] or p[17] means.

Arrays:
  x     float64[NX]          continuous state, integrated by RK4
  d     float64[ND]          discrete state: commands, actuators, wind filters,
                             contact/verdict bookkeeping, held sensor outputs
  eng   float64[n_eng, NE]   one row per engine
  p     float64[NP]          parameters (constant during a run)
  flt   float64[n_fault, NF] injected faults (F_FIRED is written)
  gbuf  float64[GN_CAP, NG]  GNSS samples waiting out their latency
  evlog float64[EV_CAP, 3]   (t_s, event code, argument) logged in one advance
  rng   uint64[N_RNG]        one splitmix64 stream per concept
"""

# ---- continuous state x ------------------------------------------------------
X_R = 0    # CG position, world frame (x east, y north, z up), m      [0..2]
X_V = 3    # CG velocity, world frame, m/s                            [3..5]
X_Q = 6    # attitude quaternion body->world, (w, x, y, z)            [6..9]
X_W = 10   # angular rate, body frame, rad/s                          [10..12]
X_MP = 13  # propellant mass, kg
NX = 14

# ---- parameters p ------------------------------------------------------------
P_H_S = 0               # physics step
P_G_MPS2 = 1            # gravity
P_ATMOSPHERE = 2        # ATM_ISA / ATM_VACUUM / ATM_UNIFORM
P_PAD_ALT_M = 3         # pad height above mean sea level (for the ISA)
# mass properties (body frame origin: on the axis, in the plane of the feet)
P_DRY_MASS_KG = 4
P_CG_DRY_M = 5          # height of the dry CG above the body origin
P_IXX_DRY = 6           # lateral inertia about the dry CG, kg m^2
P_IZZ_DRY = 7           # axial inertia, kg m^2
P_PROP_CAP_KG = 8       # propellant that fills the tank model
P_TANK_BOTTOM_M = 9
P_TANK_LENGTH_M = 10
P_TANK_RADIUS_M = 11
# engines
P_SOLID = 12            # 1.0 for a solid motor
P_N_ENG = 13
P_GIMBAL_Z_M = 14       # height of the gimbal pivot / thrust point above the origin
P_THRUST_SL_N = 15      # one engine, full throttle, sea level
P_ISP_SL_S = 16
P_ISP_VAC_S = 17
P_MIN_THROTTLE = 18
P_DEAD_TIME_S = 19      # ignition command -> first thrust
P_TAU_SPOOL_S = 20      # first-order lag while spooling up
P_TAU_THROTTLE_S = 21   # first-order lag of throttle changes once running
P_TAU_SHUTDOWN_S = 22   # thrust decay after a shutdown command
P_TAU_OUT_S = 23        # thrust decay after a failure (engine-out)
P_CONFIRM_FRAC = 24     # thrust/commanded that counts as "thrust confirmed"
P_IGN_DELAY_S = 25      # solid: mean ignition delay
P_IGN_JITTER_S = 26     # solid: 1-sigma ignition delay jitter
P_MOTOR_IMPULSE_NS = 27
P_MOTOR_PROP_KG = 28
P_MOTOR_BURN_S = 29
P_PLUME_DRAG_FRAC = 30  # axial drag left when the retro plume is fully developed
# TVC
P_GIMBAL_MAX_RAD = 31
P_GIMBAL_RATE_RADPS = 32
P_GIMBAL_RES_RAD = 33   # quantisation step (0 = none)
P_SERVO_DIV = 34        # physics steps per servo update (zero-order hold)
P_TVC_TAU_S = 35
P_ROLL_TORQUE_NM = 36
# aerodynamics
P_REF_AREA_M2 = 37
P_CN_ALPHA = 38         # normal-force slope per rad
P_CP_Z_M = 39           # centre of pressure above the origin
# ground contact
P_N_LEGS = 40
P_FOOT_RADIUS_M = 41
P_BASE_Z_M = 42         # engine exit / tail above the origin (a body strike point)
P_NOSE_Z_M = 43         # top of the vehicle (a body strike point)
P_LEG_K = 44            # N/m per leg
P_LEG_C = 45            # N s/m per leg
P_FRICTION_MU = 46
P_STROKE_M = 47         # leg compression beyond which the leg bottoms out
P_DEPLOY_S = 48
# wind
P_W20_MPS = 49          # mean wind at 20 ft (6.1 m)
P_WIND_FROM_RAD = 50    # direction the wind blows from, clockwise from north
P_TURBULENCE = 51       # 1.0 = Dryden turbulence on
# sensors
P_IMU_DIV = 52
P_ACC_SIGMA = 53        # per-sample white noise, m/s^2
P_ACC_BIAS_SIGMA = 54
P_ACC_RANGE = 55
P_GYR_SIGMA = 56        # rad/s
P_GYR_BIAS_SIGMA = 57
P_GYR_RANGE = 58
P_ALT_DIV = 59
P_ALT_RADAR = 60        # 1.0 radar (slant range along -z_b), 0.0 baro
P_ALT_SIGMA = 61
P_ALT_MAX_M = 62
P_ALT_MAX_TILT_RAD = 63
P_ALT_DROP_P = 64
P_GNSS_DIV = 65
P_GNSS_LAT_STEPS = 66
P_GNSS_SIGMA_H = 67
P_GNSS_SIGMA_V = 68
P_GNSS_SIGMA_VEL = 69
P_GNSS_DROP_P = 70
P_CH_DIV = 71
P_CH_SIGMA = 72
P_CH_SENSED_FRAC = 73
P_LEG_DIV = 74
# per-step factors precomputed from the above (first-order lag: 1 - exp(-h / tau))
P_K_SPOOL = 75
P_K_THROTTLE = 76
P_K_SHUTDOWN = 77
P_K_OUT = 78
P_K_TVC = 79
P_TURB_DIV = 80         # physics steps per Dryden filter update
P_FOOT_XY = 81          # body (x, y) of foot j at P_FOOT_XY + 2 j, j < MAX_LEGS
MAX_LEGS = 8
NP = P_FOOT_XY + 2 * MAX_LEGS

ATM_ISA = 0.0
ATM_VACUUM = 1.0
ATM_UNIFORM = 2.0  # sea-level ISA values at every height (for analytic checks)

# ---- per-engine rows eng -----------------------------------------------------
E_X = 0          # lateral position of the engine, body x, m
E_Y = 1          # body y, m
E_PHASE = 2      # PH_*
E_F = 3          # liquid: mass flow as a fraction of full-throttle flow
E_TIMER = 4      # time left in the ignition dead time
E_SCALE = 5      # thrust multiplier (1 - shortfall)
E_NOIGN = 6      # 1.0: this engine will not light
E_LIGHT_T = 7    # time this engine lit, s (-1 if not)
NE = 8

PH_OFF = 0.0
PH_IGNITING = 1.0   # in the dead time
PH_SPOOL = 2.0      # lit, spooling up, thrust not yet confirmed
PH_RUNNING = 3.0
PH_SHUTDOWN = 4.0   # thrust decaying after a shutdown command
PH_FAILED = 5.0     # failed to ignite / engine-out / flameout: no relight
PH_BURNOUT = 6.0    # solid motor burnt out

# ---- discrete state d --------------------------------------------------------
D_STEP = 0              # physics steps taken
D_CMD_THROTTLE = 1
D_CMD_PITCH = 2
D_CMD_YAW = 3
D_CMD_ROLL = 4
D_CMD_ENGINE_ON = 5
D_CMD_LEGS = 6
D_PREV_ENGINE_ON = 7
D_IGN_EXTRA_S = 8       # late-ignition fault delay
D_IGN_CMD_T = 9         # first ignition command, s (-1)
D_IGNITION_T = 10       # first engine lit, s (-1): reference of "ignition+dt_s"
D_CONFIRMED = 11
D_SOLID_FIRED = 12
D_FLAMEOUT = 13
D_LEGS_DEPLOY = 14      # 0..1
D_TVC_HELD_P = 15       # zero-order-held, quantised command
D_TVC_HELD_Y = 16
D_TVC_RL_P = 17         # after the rate limit
D_TVC_RL_Y = 18
D_TVC_P = 19            # actual gimbal angle (after the lag)
D_TVC_Y = 20
D_TVC_STUCK_P = 21
D_TVC_STUCK_Y = 22
D_TVC_RATE_SCALE = 23
D_TURB_U = 24           # Dryden filter states
D_TURB_V1 = 25
D_TURB_V2 = 26
D_TURB_W1 = 27
D_TURB_W2 = 28
D_GUST_T0 = 29
D_GUST_DUR = 30
D_GUST_SPEED = 31
D_GUST_FROM = 32
D_WIND_X = 33           # wind at the vehicle this step, world, m/s
D_WIND_Y = 34
D_WIND_Z = 35
D_ARMED = 36            # touchdown detection armed (vehicle has been airborne)
D_TD = 37               # touchdown happened
D_TD_T = 38
D_TD_VZ = 39
D_TD_VH = 40
D_TD_TILT = 41          # rad
D_TD_RATE = 42          # rad/s
D_TD_X = 43
D_TD_Y = 44
D_N_CONTACT = 45        # contact points touching the ground
D_LEG_CONTACT = 46      # feet touching the ground
D_AIR_S = 47            # time since last ground contact
D_BOUNCES = 48
D_SETTLE_S = 49
D_OUTCOME = 50          # OUT_*
D_DONE = 51
D_MAX_PEN = 52          # largest leg compression seen, m
D_ACC_BIAS = 53         # [53..55]
D_GYR_BIAS = 56         # [56..58]
D_GNSS_OUT_UNTIL = 59   # sensor-dropout fault windows, s
D_ALT_OUT_UNTIL = 60
D_GNSS_HEAD = 61
D_GNSS_COUNT = 62
D_S_ACC = 63            # held sensor outputs [63..65]
D_S_GYR = 66            # [66..68]
D_S_ALT = 69
D_S_GNSS_POS = 70       # [70..72]
D_S_GNSS_VEL = 73       # [73..75]
D_S_CHAMBER = 76
D_S_GNSS_VALID = 77
D_S_ALT_VALID = 78
D_S_THRUST_SENSED = 79
D_S_LEG_CONTACT = 80
D_N_EVENTS = 81         # rows of evlog written by the last advance
D_THRUST_N = 82         # total thrust at the end of the last step
D_MASS_KG = 83
D_SF = 84               # specific force, body, end of last step [84..86]
D_EV_LOST = 87          # events dropped because evlog was full
D_CRASH_REASON = 88     # 1 body strike, 2 leg bottomed out, 3 below ground
D_RHO = 89              # air at the CG, held over the step: density kg/m^3
D_P_AMB = 90            # pressure, Pa
D_A_SND = 91            # speed of sound, m/s
D_DIR = 92              # thrust direction in body axes from the gimbal angles [92..94]
ND = 95

OUT_FLYING = 0.0
OUT_SETTLED = 1.0   # at rest on its legs; landed or not is decided by the criteria
OUT_CRASHED = 2.0
OUT_TIPPED = 3.0

# ---- faults flt ------------------------------------------------------------
F_KIND = 0
F_TRIGGER = 1     # TRIG_*
F_AT_S = 2        # absolute time, or delay after ignition
F_ENGINE = 3      # engine index, -1 = all
F_VALUE = 4       # delay_s / frac / rate_scale / speed_mps
F_DIR = 5         # gust: from direction, rad
F_DURATION = 6    # gust / dropout duration, s (inf = permanent)
F_AXIS = 7        # AXIS_*
F_SENSOR = 8      # SENSOR_*
F_FIRED = 9
NF = 10

TRIG_T = 0.0
TRIG_IGNITION = 1.0

FK_NO_IGNITION = 1.0
FK_LATE_IGNITION = 2.0
FK_THRUST_SHORTFALL = 3.0
FK_ENGINE_OUT = 4.0
FK_GIMBAL_STUCK = 5.0
FK_GIMBAL_SLOW = 6.0
FK_GUST = 7.0
FK_SENSOR_DROPOUT = 8.0

AXIS_BOTH = 0.0
AXIS_PITCH = 1.0
AXIS_YAW = 2.0

SENSOR_GNSS = 0.0
SENSOR_ALT = 1.0

# ---- GNSS latency ring gbuf ------------------------------------------------
GN_CAP = 64
G_RELEASE = 0     # physics step at which the sample becomes visible
G_VALID = 1
G_POS = 2         # [2..4]
G_VEL = 5         # [5..7]
NG = 8

# ---- event log ------------------------------------------------------------
EV_CAP = 256
EV_IGN_CMD = 1
EV_LIT = 2
EV_CONFIRMED = 3
EV_NO_IGNITION = 4
EV_SHUTDOWN_CMD = 5
EV_ENGINE_OUT = 6
EV_FLAMEOUT = 7
EV_BURNOUT = 8
EV_FAULT = 9          # arg = fault kind
EV_LEGS_DEPLOYED = 10
EV_TOUCHDOWN = 11
EV_BOUNCE = 12
EV_SETTLED = 13
EV_TIPPED = 14
EV_CRASHED = 15       # arg: 1 body strike, 2 leg bottomed out, 3 below ground
EV_SHUTDOWN = 16      # thrust decayed to zero after a shutdown

# ---- rng streams ------------------------------------------------------------
RNG_WIND = 0
RNG_IMU = 1
RNG_ALT = 2
RNG_GNSS = 3
RNG_ENGINE = 4
N_RNG = 5

# ---- aux vector filled by the derivative -----------------------------------
A_SF = 0          # specific force, body [0..2]
A_THRUST = 3
A_N_CONTACT = 4
A_LEG_CONTACT = 5
A_MAX_PEN = 6
A_STRIKE = 7      # 1 body point on the ground, 2 a leg bottomed out
A_MASS = 8
A_CG_Z = 9
NA = 10


def slots(prefix):
    """{name: index} of this module's constants starting with `prefix`."""
    return {k: v for k, v in globals().items() if k.startswith(prefix) and isinstance(v, int)}
