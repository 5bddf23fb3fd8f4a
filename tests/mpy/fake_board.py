# A board for running the firmware App on the VM without a link: frames the
# test queues are read in; everything written is decoded for inspection.
import struct
from protocol import messages as m
from protocol.framing import Encoder, Decoder
from protocol.codec import fmt
from protocol.auth import Signer

KEY = b"k" * 32


class FakeBoard:
    name = "fake"

    def __init__(self):
        self.rx = bytearray()
        self.out = bytearray()
        self.now_us = 0
        self.enc = Encoder()
        self.counter = 0
        self.script = []  # callables run when the rx queue runs dry (advance time, inject)

    def ticks_us(self):
        return self.now_us

    def ticks_diff(self, a, b):
        return a - b

    def read_into(self, buf):
        if not self.rx:
            if not self.script:
                return -1
            self.script.pop(0)(self)
            return 0
        n = min(len(buf), len(self.rx))
        buf[0:n] = self.rx[0:n]
        self.rx = self.rx[n:]
        return n

    def wait_rx(self, ms):
        return False

    def write(self, mv):
        self.out.extend(mv)

    def start_watchdog(self):
        pass

    def feed_watchdog(self):
        pass

    def led(self, on):
        pass

    def keep_running(self):
        return True

    # --- building input ---------------------------------------------------
    def sensors(self, step, t_us, alt_mm=100000, vz_mmps=-50000, flags=3, chamber_p_pm=0,
                accel_z=9807):
        struct.pack_into(fmt(m.SENSORS), self.enc.raw, 4, step, t_us, 0, 0, accel_z, 0, 0, 0,
                         alt_mm, 0, 0, alt_mm, 0, 0, vz_mmps, chamber_p_pm, flags)
        self.rx.extend(self.enc.finish(m.SENSORS))

    def command(self, cmd, pid=0, value=0, key=KEY):
        self.counter += 1
        struct.pack_into(fmt(m.COMMAND), self.enc.raw, 4, cmd, pid, value, self.counter, bytes(16))
        if key is not None:
            body = bytes([m.COMMAND]) + bytes(self.enc.raw[4:15])
            tag = Signer(key).tag(body)
            self.enc.raw[15:31] = tag
        self.rx.extend(self.enc.finish(m.COMMAND))

    # --- reading output -----------------------------------------------------
    def messages(self):
        dec = Decoder()
        out = []
        data = bytes(self.out)
        pos = 0
        while pos < len(data):
            pos = dec.feed(data, pos, len(data))
            if dec.ready >= 0:
                row = m.find(dec.ready)
                out.append((dec.ready, struct.unpack_from(m.struct_format(row), dec.buf, 4)))
        return out

    def of(self, msg_id):
        return [v for i, v in self.messages() if i == msg_id]
