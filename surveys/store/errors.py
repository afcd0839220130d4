"""Exceptions of the submission store."""

from __future__ import annotations

from surveys.errors import SurveysError


class StoreError(SurveysError):
    """The store cannot be opened, migrated or written."""


class StoreBusyError(StoreError):
    """Another pull or import holds the store's lock for the same form."""
