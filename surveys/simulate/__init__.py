"""The fieldwork simulator: Central-shaped submissions, audit logs and planted problems.

    from surveys.simulate import simulate_survey
    # config: SurveyConfig; assigned: assign_configured_sample(config).assigned
    result = simulate_survey(config, assigned, form, Path("sim"), seed=1)
    # -> sim/pages/<formId>/page-0001.json, sim/audits/<instanceID>/audit.csv,
    #    sim/ground_truth/<formId>.{csv,json}; result.submissions, .audits, .ground_truth()

    # the lower level: simulate_fieldwork(form, assigned, roster, seed=, start=, end=) and
    # write_simulation(result, out_dir); simulate_to_directory() for big runs (chunks,
    # worker processes, bounded memory).

See :mod:`surveys.simulate.fieldwork` (the plan of visits), :mod:`.engine` (filling through
the form logic), :mod:`.models` and :mod:`.demography` (answer models), :mod:`.profiles`
(planted problems), :mod:`.output` (files) and :mod:`.openrosa` (submitting to Central).
"""

from surveys.simulate.demography import DemographyParams
from surveys.simulate.fieldwork import SimulationResult, simulate_fieldwork
from surveys.simulate.output import simulate_survey, simulate_to_directory, write_simulation
from surveys.simulate.profiles import DEFAULT_SHARES, PROFILES, ProfileError

__all__ = [
    "DEFAULT_SHARES",
    "PROFILES",
    "DemographyParams",
    "ProfileError",
    "SimulationResult",
    "simulate_fieldwork",
    "simulate_survey",
    "simulate_to_directory",
    "write_simulation",
]
