"""The message table: the one definition of every message on the wire.

Plain tuples of ints and strings so that MicroPython imports it unchanged;
both codecs (firmware `protocol.codec`, host `protocol.hostcodec`) are derived
from it and nothing else.

Values on the wire are fixed-point integers whose unit is the suffix of the
field name (`alt_mm`, `gyro_x_urads`, `throttle_pm`).  Integers decode without
allocating on MicroPython and are exact on every interpreter, so the firmware's
control maths is bit-identical on the VM, on an RP2040 and under CPython.
`SI_UNITS` maps each wire unit to its SI name and scale for the host side.

Row layout: (msg_id, NAME, direction, crc_bytes, fields)
field: (name_with_unit, struct_code, description)
"""

PROTOCOL_VERSION = 3

# direction
UP = 0  # host -> board
DOWN = 1  # board -> host

# flags in SENSORS.flags
SF_GNSS_VALID = 1
SF_ALT_VALID = 2
SF_THRUST_SENSED = 4
SF_LEG_CONTACT = 8

# flags in ACTUATORS.flags
AF_ENGINE_ON = 1
AF_LEGS_DOWN = 2

# COMMAND.cmd codes
CMD_PING = 1
CMD_ARM = 2
CMD_ARM_CONFIRM = 3
CMD_DISARM = 4
CMD_ABORT = 5
CMD_SET_PARAM = 6
CMD_GET_PARAM = 7
CMD_TIME_SYNC = 8
CMD_HELLO = 9
CMD_GET_EVENT = 10  # value = an EVENT's ev_no: the board sends that EVENT again (from the
#                     last EVENT_RING it emitted), then ACKs; value = -1: ACK value = the
#                     ev_no its next EVENT will have
EVENT_RING = 32
# commands that change vehicle state must carry a valid tag
SIGNED_COMMANDS = (CMD_ARM, CMD_ARM_CONFIRM, CMD_DISARM, CMD_ABORT, CMD_SET_PARAM)

# ACK.status codes (0 = accepted, anything else is a NACK reason)
ACK_OK = 0
NACK_UNKNOWN_CMD = 1
NACK_NO_TAG = 2
NACK_BAD_TAG = 3
NACK_REPLAY = 4
NACK_BAD_STATE = 5
NACK_BAD_PARAM = 6
NACK_BAD_VALUE = 7
NACK_TIMEOUT = 8
NACK_NAMES = ("ok", "unknown command", "no tag", "bad tag", "replayed counter",
              "not allowed in this state", "unknown parameter", "value out of range",
              "confirm window expired")

HELLO = 0x01
SENSORS = 0x10
ACTUATORS = 0x11
STATUS = 0x12
EVENT = 0x13
COMMAND = 0x20
ACK = 0x21

MESSAGES = (
    (HELLO, "HELLO", DOWN, 2, (
        ("proto_version", "H", "protocol version of the firmware"),
        ("fw_version", "H", "firmware version, major*100+minor"),
        ("fw_hash", "I", "first 4 bytes of the SHA-256 of the firmware sources"),
        ("params_hash", "I", "first 4 bytes of the SHA-256 of the parameter table"),
        ("impl", "12s", "sys.implementation.name of the interpreter"),
        ("platform", "8s", "sys.platform of the board"),
    )),
    (SENSORS, "SENSORS", UP, 2, (
        ("step", "I", "lockstep index of this control cycle"),
        ("t_us", "I", "simulation time"),
        ("accel_x_mmps2", "i", "IMU specific force, body x"),
        ("accel_y_mmps2", "i", "IMU specific force, body y"),
        ("accel_z_mmps2", "i", "IMU specific force, body z (vehicle axis, nose up)"),
        ("gyro_x_urads", "i", "IMU angular rate about body x"),
        ("gyro_y_urads", "i", "IMU angular rate about body y"),
        ("gyro_z_urads", "i", "IMU angular rate about body z (roll)"),
        ("alt_mm", "i", "altimeter height above the pad"),
        ("gnss_x_mm", "i", "GNSS position east of the pad"),
        ("gnss_y_mm", "i", "GNSS position north of the pad"),
        ("gnss_z_mm", "i", "GNSS height above the pad"),
        ("gnss_vx_mmps", "i", "GNSS velocity east"),
        ("gnss_vy_mmps", "i", "GNSS velocity north"),
        ("gnss_vz_mmps", "i", "GNSS velocity up"),
        ("chamber_p_pm", "H", "engine chamber pressure, per mille of nominal full thrust"),
        ("flags", "B", "SF_* bits: gnss valid, altimeter valid, thrust sensed, leg contact"),
    )),
    (ACTUATORS, "ACTUATORS", DOWN, 2, (
        ("step", "I", "lockstep index of the SENSORS frame this answers"),
        ("throttle_pm", "H", "throttle command, per mille of full thrust"),
        ("gimbal_pitch_urad", "i", "TVC angle giving positive torque about body y"),
        ("gimbal_yaw_urad", "i", "TVC angle giving positive torque about body x"),
        ("roll_pm", "h", "roll control command, per mille of full authority"),
        ("flags", "B", "AF_* bits: engine on, legs down"),
        ("state", "B", "flight state after this cycle"),
    )),
    (STATUS, "STATUS", DOWN, 2, (
        ("step", "I", "lockstep index"),
        ("state", "B", "flight state"),
        ("est_alt_mm", "i", "estimated height above the pad"),
        ("est_vz_mmps", "i", "estimated vertical velocity"),
        ("est_x_mm", "i", "estimated position east"),
        ("est_y_mm", "i", "estimated position north"),
        ("est_vx_mmps", "i", "estimated velocity east"),
        ("est_vy_mmps", "i", "estimated velocity north"),
        ("tilt_x_urad", "i", "estimated lean toward +x (rotation about body y)"),
        ("tilt_y_urad", "i", "estimated lean toward +y (rotation about -x)"),
        ("accel_cmd_mmps2", "i", "guidance vertical acceleration command"),
        ("pitch_i_urad", "i", "pitch PID integrator"),
        ("yaw_i_urad", "i", "yaw PID integrator"),
        ("cycle_us", "H", "duration of the last control cycle"),
        ("cycle_max_us", "H", "longest control cycle so far"),
        ("heap_free", "I", "free heap bytes"),
        ("gc_count", "H", "garbage collections run in slack time"),
        ("rx_frames", "I", "frames received"),
        ("rx_drops", "H", "frames dropped by the decoder, all reasons"),
        ("rx_crc_errors", "H", "... of which for a bad CRC"),
        ("rx_seq_gaps", "H", "frames missing by the host's sequence numbers"),
    )),
    (EVENT, "EVENT", DOWN, 2, (
        ("step", "I", "lockstep index"),
        ("code", "B", "event code (firmware events table)"),
        ("state_from", "B", "flight state before"),
        ("state_to", "B", "flight state after"),
        ("arg", "i", "event argument (unit given by the event)"),
        ("text", "24s", "short human-readable reason"),
        ("ev_no", "H", "the board's event number since boot (CMD_GET_EVENT sends one again)"),
    )),
    (COMMAND, "COMMAND", UP, 4, (
        ("cmd", "B", "CMD_* code"),
        ("param_id", "H", "parameter index for set/get"),
        ("value", "i", "argument: parameter value or time"),
        ("counter", "I", "monotonic command counter (replay protection)"),
        ("tag", "16s", "HMAC-SHA256 tag truncated to 128 bits; zeros if unsigned"),
    )),
    (ACK, "ACK", DOWN, 4, (
        ("cmd", "B", "command this answers"),
        ("status", "B", "ACK_OK or a NACK_* reason"),
        ("counter", "I", "counter of the command this answers"),
        ("value", "i", "result: parameter value, time, ..."),
    )),
)

# wire unit suffix -> (SI unit suffix, scale): si = wire * scale
SI_UNITS = {
    "mm": ("m", 1e-3),
    "mmps": ("mps", 1e-3),
    "mmps2": ("mps2", 1e-3),
    "urad": ("rad", 1e-6),
    "urads": ("radps", 1e-6),
    "pm": ("frac", 1e-3),
}

HEADER_SIZE = 4  # <BHB: msg_id, seq, payload length


def find(msg_id):
    for row in MESSAGES:
        if row[0] == msg_id:
            return row
    return None


def struct_format(row):
    """`<` + field codes, the same string on MicroPython and CPython."""
    return "<" + "".join(f[1] for f in row[4])


def payload_size(row):
    n = 0
    for f in row[4]:
        c = f[1]
        if c[-1] == "s":
            n += int(c[:-1])
        elif c in "Bb":
            n += 1
        elif c in "Hh":
            n += 2
        else:
            n += 4
    return n


def field_index(row, name):
    for i, f in enumerate(row[4]):
        if f[0] == name:
            return i
    raise KeyError(name)


def max_frame_size():
    """Largest unstuffed frame: header + payload + CRC."""
    m = 0
    for row in MESSAGES:
        n = HEADER_SIZE + payload_size(row) + row[3]
        if n > m:
            m = n
    return m


# Flight states reported in ACTUATORS.state / STATUS.state / EVENT.state_*.
# The firmware's sequencer owns the transitions; the numbers live here because
# both ends must agree on them.
ST_SAFE = 0
ST_ARMED = 1
ST_COAST = 2
ST_IGNITION = 3
ST_LANDING_BURN = 4
ST_TERMINAL = 5
ST_TOUCHDOWN = 6
ST_SAFED = 7
ST_ABORT = 8
STATE_NAMES = ("SAFE", "ARMED", "COAST", "IGNITION", "LANDING_BURN", "TERMINAL",
               "TOUCHDOWN", "SAFED", "ABORT")

# EVENT.code values
EV_BOOT = 1          # firmware started (arg: heap free)
EV_STATE = 2         # state transition (text: reason)
EV_FAULT = 3         # a fault detected (text: what; arg: measured value)
EV_COMMAND = 4       # a command accepted or refused (arg: NACK reason)
EV_EXCEPTION = 5     # an exception caught in the control loop (text: its type)
EV_LINK_LOST = 6     # no SENSORS within link_timeout_ms (arg: ms since last)
EV_PARAM = 7         # a parameter changed (arg: new value, text: name)
EVENT_NAMES = {EV_BOOT: "boot", EV_STATE: "state", EV_FAULT: "fault", EV_COMMAND: "command",
               EV_EXCEPTION: "exception", EV_LINK_LOST: "link_lost", EV_PARAM: "param"}
