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


class ImportRefusedError(GeoError, ValueError):
    """An uploaded file that cannot be imported; the message says what was found and what to do."""


class UnsafeFileError(ImportRefusedError):
    """A file that could make the server read other files, open connections or run out of memory."""


class LimitExceededError(ImportRefusedError):
    """A file over one of the import limits; ``limit``, ``actual`` and ``allowed`` say which."""

    def __init__(self, limit: str, *, actual: float, allowed: float, advice: str = "",
                 more_than: bool = False) -> None:
        self.limit, self.actual, self.allowed = limit, actual, allowed
        has = f"more than {allowed:,.0f}" if more_than else f"{actual:,.0f}"
        text = f"the file is over the {limit} limit: it has {has}, the limit is {allowed:,.0f}"
        super().__init__(text + (f"; {advice}" if advice else ""))


class DatumRequiredError(ImportRefusedError):
    """A table of coordinates whose coordinate system must be chosen; ``suggestion`` proposes one."""

    def __init__(self, message: str, *, suggestion: object = None) -> None:
        self.suggestion = suggestion
        super().__init__(message)


class NoUsableRowsError(ImportRefusedError):
    """A file none of whose rows has a usable geometry; ``refused`` lists (row number, reason)."""

    def __init__(self, message: str, *, refused: tuple[tuple[int, str], ...] = (),
                 row_label: str = "feature") -> None:
        self.refused, self.row_label = refused, row_label
        super().__init__(message)


class BriefError(GeoError, ValueError):
    """A park brief that cannot be made: an unknown park or language, or no CJK font to embed."""


class FigureError(GeoError, ValueError):
    """A table of figures without the columns or dates ``geo.figures`` needs."""


class AliasError(GeoError):
    """The curated alias table is malformed (missing column, unknown subject, no source or note)."""


class OSMError(GeoError):
    """Base class of the OpenStreetMap errors (``geo.osm``, ``geo.osm_store``)."""


class OSMFileError(OSMError, ValueError):
    """A file that is not a readable OpenStreetMap extract: wrong kind, damaged or too large."""


class OSMUnavailableError(OSMError):
    """OpenStreetMap could not be reached, did not answer in time, or refused the request."""


class OSMQueryError(OSMError, ValueError):
    """A query that cannot be answered: an unknown place, a bad polygon or tag filter."""


class OSMMatchError(OSMError, ValueError):
    """An unknown park or OSM id, or a feature that cannot be a park boundary."""


class ParkGeometryError(OSMError):
    """No park outline override to restore, or an override store that changed under the caller."""


class OrgPlacementError(OSMError, ValueError):
    """An organisation that cannot be placed on an OSM feature (unknown, has a site, not a candidate),
    nothing to restore, or a placement that changed under the caller."""


class StreetGraphError(GeoError, ValueError):
    """A street network file that cannot be read or holds no usable roads."""


class SiteError(GeoError, ValueError):
    """Bad input to a site metric or an isochrone: an unknown option or an unusable point."""


class AddressDataError(GeoError, ValueError):
    """The curated address tables are malformed; the message lists every problem and how to fix it."""


class GeocoderError(GeoError):
    """A provider that cannot be used: no key, unreachable, or an error answer (quoted)."""


class LocateError(AddressDataError):
    """A table that cannot be located (no name or address column, an unknown column)."""


class ParcelError(GeoError, ValueError):
    """A parcel that cannot be used: not a polygon, bad status, use or floor figures."""


class ScenarioError(GeoError):
    """A scenario name that is not allowed, or a scenario that does not exist."""


class ScenarioExistsError(ScenarioError):
    """A new scenario (or a rename) under a name another live scenario already has."""


class ScenarioConflictError(ScenarioError):
    """The scenario changed since it was loaded: another session saved it first."""


class StoreError(GeoError):
    """A store address that cannot be used."""


class StoreUnavailableError(StoreError):
    """The shared database cannot be reached (down, wrong address, refused login)."""


class StoreCopyError(StoreError):
    """The target holds changes the source does not have, or the copy does not verify."""
