"""Exception hierarchy of the geo core.

Every error says what was wrong, quotes the offending value, and where it can, how to fix it.
Catch ``GeoError`` to handle them all.
"""

from __future__ import annotations


class GeoError(Exception):
    """Base class of every error raised by the geo core."""


class DatumError(GeoError, ValueError):
    """An unknown datum name or coordinates that cannot be in the stated datum."""


class CRSError(GeoError, ValueError):
    """A missing or unusable coordinate reference system."""


class MeasurementError(GeoError, ValueError):
    """A measurement that would be wrong, such as an area taken in degrees."""


class SnapshotError(GeoError):
    """The data snapshot is missing, incomplete or does not match its manifest."""


class ValidationError(GeoError):
    """One or more tables break the snapshot's rules; ``problems`` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        head = "; ".join(self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{len(self.problems)} validation problem(s): {head}{more}")


class ExportError(GeoError, ValueError):
    """A layer cannot be written in the requested format or datum."""
