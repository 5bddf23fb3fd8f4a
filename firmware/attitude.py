"""Attitude control: cascaded angle -> rate PID per axis, output as TVC angle.

Outer loop: rate target = att_kp * angle error.  Inner loop: PID on the rate
error with a clamped integrator (anti-windup: it stops integrating while the
output saturates), derivative on the measurement (not the error, so target
steps don't kick) through a first-order low-pass.  The PID output is an angular
acceleration; dividing by the gimbal authority at the sensed thrust gives the
gimbal angle, so the gains hold from ignition to throttle-down (gain
scheduling on thrust).  Output saturated and rate limited.
Integer fixed point: urad, urad/s, urad/s^2, per mille gains.
"""
import micropython
from micropython import const
from protocol.parameters import index

_P_ATTKP = index("att_kp_pm")
_P_KP = index("rate_kp_pm")
_P_KI = index("rate_ki_pm")
_P_KD = index("rate_kd_pm")
_P_ALPHA = index("alpha_gimbal_pm")
_P_GMAX = index("gimbal_max_urad")
_P_ACTD = index("act_delay_ms")
_P_LEADK = index("att_lead_pm")

_I_LIMIT = const(200000)  # integrator limit, urad/s * s


class RatePid:
    """One axis. State in ints; `step` allocates nothing."""

    def __init__(self, params):
        self.p = params.values
        self.reset()

    def reset(self):
        self.i_urad = 0          # integral of rate error (urad)
        self.d_uradps2 = 0       # filtered derivative of the measured rate
        self.prev_rate = 0
        self.out_urad = 0
        self.saturated = 0

    @micropython.native
    def step(self, angle_cmd_urad, angle_urad, rate_uradps, dt_us, thrust_pm, rate_ff=0, acc_ff=0):
        """rate_ff / acc_ff: the target's own rate and angular acceleration
        (a moving target, e.g. a cone), fed forward."""
        p = self.p
        lead = p[_P_ACTD] * p[_P_LEADK] // 1000  # ms
        if lead > 0:
            # the answer takes effect `lead` later: steer the lean it will have then
            angle_urad += rate_uradps // 1000 * lead
        # x * k // 1000 is computed as x // 1000 * k + x % 1000 * k // 1000, the
        # same value without the product x * k, which leaves rp2's small ints
        # (2**30) on agile vehicles (rate error x rate_kp: 2e10 on the hobby lander)
        e = angle_cmd_urad - angle_urad
        k = p[_P_ATTKP]
        rate_cmd = e // 1000 * k + e % 1000 * k // 1000 + rate_ff
        err = rate_cmd - rate_uradps
        dt_ms = dt_us // 1000
        if dt_ms < 1:
            dt_ms = 1
        # anti-windup: integrate only when it would move the output out of saturation
        if self.saturated == 0 or (self.saturated > 0) != (err > 0):
            i = self.i_urad + err * dt_ms // 1000
            self.i_urad = _I_LIMIT if i > _I_LIMIT else (-_I_LIMIT if i < -_I_LIMIT else i)
        d_raw = -(rate_uradps - self.prev_rate) * 1000 // dt_ms
        self.prev_rate = rate_uradps
        self.d_uradps2 += (d_raw - self.d_uradps2) // 4  # low-pass on the derivative
        kp = p[_P_KP]
        ki = p[_P_KI]
        kd = p[_P_KD]
        iu = self.i_urad
        d = self.d_uradps2
        # (err kp + iu ki + d kd) // 1000 split the same way (the remainders'
        # sum stays a small int while kp + ki + kd < 1e6)
        alpha = (err // 1000 * kp + iu // 1000 * ki + d // 1000 * kd
                 + (err % 1000 * kp + iu % 1000 * ki + d % 1000 * kd) // 1000) + acc_ff
        if thrust_pm < 100:
            thrust_pm = 100  # without thrust there is no authority; avoid dividing by zero
        auth = p[_P_ALPHA] * thrust_pm // 1000  # rad/s^2 per rad x1000 at this thrust
        # alpha * 1000 // auth as (q auth + r) 1000 / auth: the same value
        # without alpha * 1000 (r * 1000 stays a small int while auth < 1e6)
        g = alpha // auth * 1000 + alpha % auth * 1000 // auth
        gmax = p[_P_GMAX]
        if g > gmax:
            g = gmax
            self.saturated = 1
        elif g < -gmax:
            g = -gmax
            self.saturated = -1
        else:
            self.saturated = 0
        self.out_urad = g
        return g


class Attitude:
    """Pitch (lean toward +x) and yaw (lean toward +y) loops."""

    def __init__(self, params):
        self.pitch = RatePid(params)
        self.yaw = RatePid(params)
        self.gimbal_pitch_urad = 0
        self.gimbal_yaw_urad = 0

    def reset(self):
        self.pitch.reset()
        self.yaw.reset()
        self.gimbal_pitch_urad = 0
        self.gimbal_yaw_urad = 0

    @micropython.native
    def update(self, est, tilt_x_cmd, tilt_y_cmd, dt_us, thrust_pm, guid=None):
        """guid: a Guidance whose rate_ff_* / acc_ff_* feed the loops forward."""
        rfx = rfy = afx = afy = 0
        if guid is not None:
            rfx = guid.rate_ff_x
            rfy = guid.rate_ff_y
            afx = guid.acc_ff_x
            afy = guid.acc_ff_y
        # the loops run on the lean in world axes (est.tilt_*, est.rate_*): the
        # guidance's targets and the cone are in world axes, and a coning or rolling
        # body turns its own axes away from the world's.  Their outputs are lean
        # demands in world axes, mapped to the body by M^T (M: est.r00..r11, 2**14).
        gx = self.pitch.step(tilt_x_cmd, est.tilt_x_urad, est.rate_x_uradps, dt_us,
                             thrust_pm, rfx, afx)
        gy = self.yaw.step(tilt_y_cmd, est.tilt_y_urad, est.rate_y_uradps, dt_us,
                           thrust_pm, rfy, afy)
        # (|g| <= gimbal_max <= 2**29: the products by 2**14 are split)
        bx = (gx >> 14) * est.r00 + ((gx & 16383) * est.r00 >> 14) \
            + (gy >> 14) * est.r10 + ((gy & 16383) * est.r10 >> 14)
        by = (gx >> 14) * est.r01 + ((gx & 16383) * est.r01 >> 14) \
            + (gy >> 14) * est.r11 + ((gy & 16383) * est.r11 >> 14)
        gmax = self.pitch.p[_P_GMAX]
        bx = gmax if bx > gmax else (-gmax if bx < -gmax else bx)
        by = gmax if by > gmax else (-gmax if by < -gmax else by)
        # positive gimbal_pitch -> torque about body +y -> lean toward body +x grows;
        # lean toward +y is rotation about -x, so the yaw gimbal acts with a minus sign
        self.gimbal_pitch_urad = bx
        self.gimbal_yaw_urad = -by
