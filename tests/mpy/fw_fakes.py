# Small fakes for firmware unit tests (run on the MicroPython VM and CPython).
from protocol import messages as m


class FakeSensors:
    """Stands in for the uctypes view of a SENSORS payload."""

    def __init__(self, **kw):
        self.step = 0
        self.t_us = 0
        self.accel_x_mmps2 = 0
        self.accel_y_mmps2 = 0
        self.accel_z_mmps2 = 9807
        self.gyro_x_urads = 0
        self.gyro_y_urads = 0
        self.gyro_z_urads = 0
        self.alt_mm = 1000000
        self.gnss_x_mm = 0
        self.gnss_y_mm = 0
        self.gnss_z_mm = 1000000
        self.gnss_vx_mmps = 0
        self.gnss_vy_mmps = 0
        self.gnss_vz_mmps = -100000
        self.chamber_p_pm = 0
        self.flags = m.SF_GNSS_VALID | m.SF_ALT_VALID
        for k in kw:
            setattr(self, k, kw[k])


class EventLog:
    def __init__(self):
        self.events = []

    def __call__(self, code, s_from, s_to, arg, text):
        self.events.append((code, s_from, s_to, arg, text))

    def states(self):
        return [e[2] for e in self.events if e[0] == m.EV_STATE]
