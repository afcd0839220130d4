"""Exceptions of the surveys package (configuration, Central, store, pipeline)."""

from __future__ import annotations


class SurveysError(Exception):
    """Base of every exception raised by the surveys package."""


class ConfigError(SurveysError):
    """A survey.toml (or other configuration) that is missing, malformed or invalid."""
