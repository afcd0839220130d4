"""The fieldwork simulator: Central-shaped submissions, audit logs and planted problems.

    from surveys.simulate import simulate_fieldwork, write_simulation
    result = simulate_fieldwork(form, assigned, config.enumerators, seed=1,
                                start=date(2027, 7, 1), end=date(2027, 8, 31))
    write_simulation(result, Path("sim"))   # pages/<formId>/page-0001.json, audits/, ground truth

See :mod:`surveys.simulate.fieldwork` (the plan of visits), :mod:`.engine` (filling through
the form logic), :mod:`.models` and :mod:`.demography` (answer models), :mod:`.profiles`
(planted problems), :mod:`.output` (files) and :mod:`.openrosa` (submitting to Central).
"""

from surveys.simulate.demography import DemographyParams
from surveys.simulate.fieldwork import SimulationResult, simulate_fieldwork
from surveys.simulate.profiles import DEFAULT_SHARES, PROFILES

__all__ = [
    "DEFAULT_SHARES",
    "PROFILES",
    "DemographyParams",
    "SimulationResult",
    "simulate_fieldwork",
]
