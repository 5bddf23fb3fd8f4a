"""Firmware end of the serial link: frames in, frames out, commands checked.

Owns the frame decoder and encoder, the in-place view of the latest SENSORS
payload, command authentication (signed, replay-protected, two-step arm) and
the senders for ACTUATORS, STATUS, EVENT, HELLO and ACK.  Hot path
(`poll`, `send_actuators`) allocates nothing.
"""
import struct
import micropython
from micropython import const
from protocol import messages as m
from protocol.framing import Decoder, Encoder, framed_size, DROP_CRC, DROP_SEQ_GAP
from protocol.codec import view, fmt
from protocol.auth import Signer, TAG_LEN

ARM_WINDOW_US = const(2000000)  # ARM_CONFIRM must follow ARM within this
_KEY_FILE = "hoverslam.key"
_CTR_FILE = "counter.dat"

_FMT_ACT = fmt(m.ACTUATORS)
_FMT_STATUS = fmt(m.STATUS)
_FMT_EVENT = fmt(m.EVENT)
_FMT_HELLO = fmt(m.HELLO)
_FMT_ACK = fmt(m.ACK)
_FMT_CMD = fmt(m.COMMAND)
_BODY_LEN = const(11)  # COMMAND fields before the tag


class Link:
    def __init__(self, board):
        self.board = board
        self.dec = Decoder()
        self.enc = Encoder()
        # one SENSORS frame of room per read: the unix VM's readinto reads until
        # its buffer is full or the link is empty, so a frame-sized buffer takes
        # the step's frame in one read() syscall instead of two (a longer burst
        # just takes more reads; the decoder does not care how it is cut)
        self.rx = bytearray(framed_size(m.SENSORS))
        self.rx_n = 0
        self.rx_pos = 0
        self.sensors = view(self.dec.buf, m.SENSORS)
        self.closed = False
        self.signer = None
        self.last_counter = 0
        self.arm_pending_us = -1
        self.nacks = 0
        self._load_key()

    def _load_key(self):
        try:
            with open(_KEY_FILE, "rb") as f:
                key = f.read()
            self.signer = Signer(key)
        except (OSError, ValueError):
            self.signer = None  # no key provisioned: every signed command is refused
        try:
            with open(_CTR_FILE, "rb") as f:
                self.last_counter = struct.unpack("<I", f.read(4))[0]
        except (OSError, ValueError):
            self.last_counter = 0

    def drops(self):
        d = self.dec.drops
        return d[0] + d[1] + d[2] + d[3] + d[4]

    @micropython.native
    def poll(self):
        """Next complete frame's message id, or -1 if none is waiting."""
        dec = self.dec
        rx = self.rx
        pos = self.rx_pos
        n = self.rx_n
        while True:
            if pos >= n:
                n = self.board.read_into(rx)
                if n <= 0:
                    if n < 0:
                        self.closed = True
                    return -1
                self.rx_n = n
                pos = 0
            pos = dec.feed(rx, pos, n)
            self.rx_pos = pos
            if dec.ready >= 0:
                return dec.ready

    # --- outgoing -------------------------------------------------------
    @micropython.native
    def send_actuators(self, step, throttle_pm, gp_urad, gy_urad, roll_pm, flags, state):
        enc = self.enc
        struct.pack_into(_FMT_ACT, enc.raw, 4, step, throttle_pm, gp_urad, gy_urad, roll_pm,
                         flags, state)
        self.board.write(enc.finish(m.ACTUATORS))

    @micropython.native
    def send_status(self, step, state, est, guid, att, cycle_us, cycle_max_us, heap_free, gc_count):
        enc = self.enc
        struct.pack_into(_FMT_STATUS, enc.raw, 4, step, state, est.alt_mm, est.vz_mmps,
                         est.x_mm, est.y_mm, est.vx_mmps, est.vy_mmps, est.tilt_x_urad,
                         est.tilt_y_urad, guid.accel_cmd_mmps2, att.pitch.i_urad,
                         att.yaw.i_urad, min(cycle_us, 65535), min(cycle_max_us, 65535),
                         heap_free, gc_count & 0xFFFF, self.dec.frames, self.drops() & 0xFFFF,
                         self.dec.drops[DROP_CRC] & 0xFFFF, self.dec.drops[DROP_SEQ_GAP] & 0xFFFF)
        self.board.write(enc.finish(m.STATUS))

    def send_event(self, step, code, s_from, s_to, arg, text, ev_no):
        enc = self.enc
        struct.pack_into(_FMT_EVENT, enc.raw, 4, step, code, s_from, s_to, arg, text, ev_no)
        self.board.write(enc.finish(m.EVENT))

    def send_hello(self, fw_version, fw_hash, params_hash, impl, platform):
        enc = self.enc
        struct.pack_into(_FMT_HELLO, enc.raw, 4, m.PROTOCOL_VERSION, fw_version, fw_hash,
                         params_hash, impl, platform)
        self.board.write(enc.finish(m.HELLO))

    def send_ack(self, cmd, status, counter, value):
        enc = self.enc
        struct.pack_into(_FMT_ACK, enc.raw, 4, cmd, status, counter, value)
        self.board.write(enc.finish(m.ACK))

    # --- commands -------------------------------------------------------
    def check_command(self):
        """Decode the COMMAND in the decoder buffer and authenticate it.

        Returns (cmd, param_id, value, counter, status): status is ACK_OK or
        the NACK reason.  Signed commands need a valid tag and a counter above
        every counter accepted before (persisted, so a reboot doesn't reopen
        replays).
        """
        buf = self.dec.buf
        cmd, pid, value, counter, tag = struct.unpack_from(_FMT_CMD, buf, 4)
        if cmd not in m.SIGNED_COMMANDS:
            return cmd, pid, value, counter, m.ACK_OK
        if tag == bytes(TAG_LEN):
            return cmd, pid, value, counter, m.NACK_NO_TAG
        if self.signer is None or not self.signer.check(bytes(buf[0:1]) + bytes(buf[4:4 + _BODY_LEN]), tag):
            return cmd, pid, value, counter, m.NACK_BAD_TAG
        if counter <= self.last_counter:
            return cmd, pid, value, counter, m.NACK_REPLAY
        self.last_counter = counter
        try:
            with open(_CTR_FILE, "wb") as f:
                f.write(struct.pack("<I", counter))
        except OSError:
            pass
        return cmd, pid, value, counter, m.ACK_OK
