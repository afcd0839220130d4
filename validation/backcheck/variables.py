"""Which questions a back-check asks again, and how a difference counts (bcstats's types).

A question is marked in the XLSForm's survey sheet with a ``bcheck_type`` column (1, 2 or 3;
pyxform ignores the column), or, for a questionnaire that cannot be edited, in survey.toml.

- type 1: answers that should never change (household size, the respondent's age, whether
  the interview took place): they show whether the enumerator did the interview, with the
  right respondent; high error rates call for action against the enumerator.
- type 2: questions that are hard to administer (skip patterns, long lists): differences
  point to training needs; their reliability ratio is reported.
- type 3: key outcomes whose stability is watched; not used to judge enumerators.

Error rates by enumerator count types 1 and 2 (IPA's guidance: type 3 does not hold
surveyors accountable); every type is reported by variable and by back-checker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from forms.model import FormModel
from validation.backcheck.errors import BackcheckError

MARK_COLUMN = "bcheck_type"
TYPES = (1, 2, 3)
ACCOUNTABLE_TYPES = (1, 2)


@dataclass(frozen=True)
class BackcheckVariable:
    """A question asked again in the back-check, its type and its numeric tolerance.

    ``tolerance``: a back-check value within ``tolerance`` of the original is not an error
    (absolute units, or a share of the original value when ``relative``), as bcstats's
    ``okrange``.
    """

    name: str
    type: int
    tolerance: float = 0.0
    relative: bool = False

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise BackcheckError(
                f"back-check variable {self.name}: type {self.type} is not 1, 2 or 3"
            )
        if self.tolerance < 0:
            raise BackcheckError(f"back-check variable {self.name}: negative tolerance")


def marked_variables(
    form: FormModel,
    tolerances: Mapping[str, float | str] | None = None,
    extra: Mapping[str, int] | None = None,
) -> list[BackcheckVariable]:
    """The form's questions marked for back-checks (``bcheck_type`` column), plus ``extra``
    (name -> type) from survey.toml, with tolerances (a number, or ``"10%"``)."""
    tolerances = dict(tolerances or {})
    types: dict[str, int] = {}
    for question in form.questions:
        mark = (question.extras.get(MARK_COLUMN) or "").strip()
        if not mark:
            continue
        try:
            types[question.name] = int(float(mark))
        except ValueError:
            raise BackcheckError(
                f"{form.form_id}: survey row {question.row}: "
                f"{MARK_COLUMN} '{mark}' is not 1, 2 or 3"
            ) from None
    for name, kind in (extra or {}).items():
        if form.get(name) is None:
            raise BackcheckError(f"{form.form_id}: back-check variable '{name}' is not a question")
        types[name] = int(kind)
    unknown = sorted(set(tolerances) - set(types))
    if unknown:
        raise BackcheckError(
            f"back-check tolerance for {', '.join(unknown)}: not a back-check variable"
        )
    return [_variable(name, kind, tolerances.get(name)) for name, kind in types.items()]


def _variable(name: str, kind: int, tolerance: float | str | None) -> BackcheckVariable:
    if tolerance is None:
        return BackcheckVariable(name, kind)
    text = str(tolerance).strip()
    relative = text.endswith("%")
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise BackcheckError(
            f"back-check tolerance of {name}: '{tolerance}' is not a number"
        ) from None
    return BackcheckVariable(name, kind, value / 100 if relative else value, relative)


def by_type(variables: Iterable[BackcheckVariable]) -> dict[int, list[str]]:
    """Variable names by type."""
    out: dict[int, list[str]] = {t: [] for t in TYPES}
    for variable in variables:
        out[variable.type].append(variable.name)
    return out
