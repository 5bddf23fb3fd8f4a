"""Mass, centre of gravity and inertia as propellant burns.

Dry vehicle: mass, CG height and inertia about its own CG, from the vehicle
file.  Propellant: one settled column of liquid (or grain) of radius r in a
tank model starting at `tank_bottom_m`; its height is proportional to the
propellant left.  The combined CG and lateral inertia follow from the
parallel-axis theorem.  The vehicle is axisymmetric: Ixx = Iyy.
"""
from ._jit import jit


@jit
def mass_properties(prop_kg, dry_kg, cg_dry_m, ixx_dry, izz_dry,
                    cap_kg, tank_bottom_m, tank_length_m, tank_radius_m):
    """(mass kg, CG height above the body origin m, Ixx=Iyy kg m^2, Izz kg m^2)."""
    if prop_kg < 0.0:
        prop_kg = 0.0
    fill = prop_kg / cap_kg if cap_kg > 0.0 else 0.0
    col_m = fill * tank_length_m
    zp = tank_bottom_m + 0.5 * col_m
    m = dry_kg + prop_kg
    cg = (dry_kg * cg_dry_m + prop_kg * zp) / m
    r2 = tank_radius_m * tank_radius_m
    ixx = (ixx_dry + dry_kg * (cg_dry_m - cg) ** 2
           + prop_kg * (r2 / 4.0 + col_m * col_m / 12.0) + prop_kg * (zp - cg) ** 2)
    izz = izz_dry + 0.5 * prop_kg * r2
    return m, cg, ixx, izz
