"""Exceptions of the Central client. Messages never contain credentials or tokens."""

from __future__ import annotations

from surveys.errors import SurveysError


class CentralError(SurveysError):
    """ODK Central could not be reached or answered with an error."""

    problem: str | None = None
    """Central's problem code (``"409.6"``...) when it answered with one."""


class CentralAuthError(CentralError):
    """Central refused the credentials (or the user may not read this project/form)."""


class CentralResponseError(CentralError):
    """Central answered with something that is not what its API documents (garbage)."""


class CentralNotFoundError(CentralError):
    """Central answered 404: the resource does not exist (or is not kept, such as the
    XLSForm of a form uploaded as XForm XML)."""


class DeployError(CentralError):
    """A deployment that cannot go on: a version Central already holds for other content,
    an attachment with no local file, a project that does not exist."""
