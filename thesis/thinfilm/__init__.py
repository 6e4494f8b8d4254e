"""Tears-of-wine thin-film model of thesis Part II (Chapter 4): dimensionless groups, an implicit
banded-Newton solver for (4.7)/(4.22), travelling waves and shock theory, figures."""
from .physics import EXPERIMENTS, Groups, dimensionless, experiment, format_table, table_rows
from .grid import f, fprime
from .stepper import Solution, StepFailure, StepperOptions
from .simulate import simulate, meniscus_initial, ruc_initial
from .shocks import classify_shock, rh_speed, rarefaction_profile
from .waves import travelling_wave, undercompressive_state, bifurcation_diagram, TravellingWave
from .analysis import find_fronts, plateau, front_speed

__all__ = ["EXPERIMENTS", "Groups", "dimensionless", "experiment", "format_table", "table_rows",
           "f", "fprime", "Solution", "StepFailure", "StepperOptions", "simulate",
           "meniscus_initial", "ruc_initial", "classify_shock", "rh_speed", "rarefaction_profile",
           "travelling_wave", "undercompressive_state", "bifurcation_diagram", "TravellingWave",
           "find_fronts", "plateau", "front_speed"]
