"""Plant events: the compiled core logs (t_s, code, arg) rows; the facade
turns them into (t_s, text) for people.
"""
from ._jit import jit
from .layout import (D_EV_LOST, D_N_EVENTS, EV_BOUNCE, EV_BURNOUT, EV_CAP, EV_CONFIRMED,
                     EV_CRASHED, EV_ENGINE_OUT, EV_FAULT, EV_FLAMEOUT, EV_IGN_CMD,
                     EV_LEGS_DEPLOYED, EV_LIT, EV_NO_IGNITION, EV_SETTLED, EV_SHUTDOWN,
                     EV_SHUTDOWN_CMD, EV_TIPPED, EV_TOUCHDOWN)


@jit
def push_event(evlog, d, t_s, code, arg):
    n = int(d[D_N_EVENTS])
    if n >= EV_CAP:
        d[D_EV_LOST] += 1.0
        return
    evlog[n, 0] = t_s
    evlog[n, 1] = code
    evlog[n, 2] = arg
    d[D_N_EVENTS] = n + 1


ENGINE_EVENTS = frozenset((EV_IGN_CMD, EV_LIT, EV_CONFIRMED, EV_NO_IGNITION, EV_SHUTDOWN_CMD,
                           EV_ENGINE_OUT, EV_FLAMEOUT, EV_BURNOUT, EV_FAULT, EV_SHUTDOWN))

_CRASH_REASONS = {1: "body strike", 2: "leg bottomed out", 3: "below ground"}


def event_text(code, arg, n_engines, fault_names):
    """Human-readable text of one logged event."""
    code = int(code)
    eng = "" if n_engines <= 1 else f"engine {int(arg)} "
    if code == EV_IGN_CMD:
        return "ignition commanded"
    if code == EV_LIT:
        return f"{eng}lit".strip() if eng else "ignition (thrust rising)"
    if code == EV_CONFIRMED:
        return "thrust confirmed"
    if code == EV_NO_IGNITION:
        return f"{eng}failed to ignite".strip() if eng else "no ignition"
    if code == EV_SHUTDOWN_CMD:
        return "shutdown commanded"
    if code == EV_SHUTDOWN:
        return "engine shut down"
    if code == EV_ENGINE_OUT:
        return f"engine-out (engine {int(arg)})"
    if code == EV_FLAMEOUT:
        return "flameout: propellant depleted"
    if code == EV_BURNOUT:
        return "motor burnout"
    if code == EV_FAULT:
        return "fault injected: " + fault_names.get(int(arg), "?")
    if code == EV_LEGS_DEPLOYED:
        return "legs deployed"
    if code == EV_TOUCHDOWN:
        return "touchdown"
    if code == EV_BOUNCE:
        return f"bounce {int(arg)}"
    if code == EV_SETTLED:
        return "at rest on the ground"
    if code == EV_TIPPED:
        return "tipped over"
    if code == EV_CRASHED:
        return "crashed: " + _CRASH_REASONS.get(int(arg), "?")
    return f"event {code} ({arg})"
