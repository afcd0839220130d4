"""The validation package's exceptions (data problems are Issue records, never these)."""

from __future__ import annotations


class ValidationStageError(Exception):
    """Base of the validation package's errors: a call that cannot run at all."""


class NoFormModelError(ValidationStageError):
    """No FormModel is known for a form, so its submissions cannot be validated."""
