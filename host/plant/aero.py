"""Aerodynamics: axial drag from a Cd(Mach) table, normal force at the centre
of pressure, and the drag a retro-propulsion plume hides.

With v_b the air-relative velocity at the centre of pressure in body axes and
V = |v_b|, q S = 0.5 rho V^2 S:
  axial force   F_z  = -0.5 rho V S Cd(M) v_bz            (drag along the axis)
  normal force  F_xy = -0.5 rho V S CN_alpha v_bxy        (CN_alpha * sin(alpha))
The normal force acts at the CP, so a CP above the CG is statically stable for
a tail-first descent.  When engines fire into the oncoming flow (descending,
v_bz < 0) the plume pushes the bow shock off the base and most axial drag
disappears; the aerodynamic force is scaled down linearly with thrust to
`plume_drag_frac` of its value at the minimum-throttle thrust (supersonic
retro-propulsion literature: a single central nozzle loses most of its drag).
The same factor scales the normal force: the plume displaces the flow around
the whole aft body, not only ahead of the base [assumption: with the normal
force unshielded, a 5 m/s crosswind at 300 m/s makes the side force from a
few degrees of lean larger than the thrust's, which no landing burn flown with
a 6 deg gimbal could correct].
"""
import math

from ._jit import jit


@jit
def cd_at_mach(mach, cd_tab):
    """Linear interpolation in the (Mach, Cd) table, clamped at both ends."""
    n = cd_tab.shape[0]
    if mach <= cd_tab[0, 0]:
        return cd_tab[0, 1]
    for j in range(1, n):
        if mach < cd_tab[j, 0]:
            m0 = cd_tab[j - 1, 0]
            c0 = cd_tab[j - 1, 1]
            return c0 + (cd_tab[j, 1] - c0) * (mach - m0) / (cd_tab[j, 0] - m0)
    return cd_tab[n - 1, 1]


@jit
def plume_drag_factor(vbz_mps, thrust_n, full_thrust_n, plume_drag_frac):
    """Multiplier on axial drag: 1 with no retro thrust, plume_drag_frac at full_thrust_n."""
    if vbz_mps >= 0.0 or thrust_n <= 0.0 or full_thrust_n <= 0.0:
        return 1.0
    s = thrust_n / full_thrust_n
    if s > 1.0:
        s = 1.0
    return 1.0 - (1.0 - plume_drag_frac) * s


@jit
def aero_force_body(vbx, vby, vbz, rho, a_snd, area_m2, cn_alpha, cd_tab, axial_factor):
    """Aerodynamic force in body axes (N) for air-relative velocity v_b (m/s)."""
    v = math.sqrt(vbx * vbx + vby * vby + vbz * vbz)
    if v < 1e-9 or rho <= 0.0 or area_m2 <= 0.0:
        return 0.0, 0.0, 0.0
    k = 0.5 * rho * v * area_m2
    cd = cd_at_mach(v / a_snd, cd_tab)
    kn = k * cn_alpha * axial_factor
    return -kn * vbx, -kn * vby, -k * cd * vbz * axial_factor
