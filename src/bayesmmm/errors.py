"""The exception hierarchy of BayesMMM.

Every error a user can cause derives from :class:`BayesMMMError`, so surfaces
(CLI, service) can catch one type and show its message without a stack trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from bayesmmm.data._validate import ValidationReport

__all__ = [
    "BayesMMMError",
    "DataLoadError",
    "DataValidationError",
    "SpecError",
    "NotFittedError",
    "FitFileError",
]


class BayesMMMError(Exception):
    """Base class of every error BayesMMM raises on purpose."""


class DataLoadError(BayesMMMError):
    """The input could not be read as a table (wrong format, empty, binary, ...)."""


class DataValidationError(BayesMMMError):
    """The table was read but breaks one or more rules; ``report`` lists all of them."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(report.format())


class SpecError(BayesMMMError, ValueError):
    """A model specification, prior or option is invalid."""


class NotFittedError(BayesMMMError):
    """An answer was requested from a model that has not been fitted."""


class FitFileError(BayesMMMError):
    """A saved fit file is missing, corrupt or of an unknown version."""
