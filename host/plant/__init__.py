"""Vehicle plant: a 6-DOF landing-phase model with engine transients, TVC,
aerodynamics, wind, ground contact and sensors, compiled with numba.

    from host.plant import load_vehicle, Plant, ConfigError, load_faults
    veh = load_vehicle("falcon9")
    plant = Plant(veh, seed=1)

Modules, one concept each: vehicle (files), motor (.eng curves), faults,
scenario, atmosphere, massprops, engine, tvc, aero, wind, contact, sensors,
dynamics (RK4 core), plant (facade), naive (numpy reference for the bench);
layout names the slots of the arrays the compiled core works on.
"""
from .errors import ConfigError
from .faults import Fault, load_faults
from .motor import Motor, load_motor
from .plant import SENSOR_FIELDS, Plant, Verdict
from .scenario import Scenario, load_fault_file, load_scenario
from .vehicle import Vehicle, load_vehicle

__all__ = ["ConfigError", "Fault", "load_faults", "Motor", "load_motor", "Plant", "Verdict",
           "SENSOR_FIELDS", "Scenario", "load_fault_file", "load_scenario", "Vehicle", "load_vehicle"]
