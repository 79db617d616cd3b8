"""Planner parcels: the door every parcel passes through, the fixes for problem parcels, and the
edits made on the map. The parcel table itself (columns, codes, ``normalise``, the stored form)
is ``geo.parcel_table``; its names are re-exported here.

A parcel enters a scenario drawn on the map, uploaded in a file (through the one importer,
``geo.imports.read_upload``), taken from an imported layer, or edited on the map. Every way in
goes through the same check (``geo.geometry_check.diagnose`` plus the attribute rules here):
a parcel with swapped axes, metres read as degrees, NaN/Infinity, no area, too many vertices,
a location outside Beijing or an unknown status is refused with a message that names the parcel
and the fix; an invalid ring is repaired and the repair is reported by the parcel's name.

A scenario stored by an older version or another tool may still hold such a parcel:
``parcels_from_geojson`` reads it anyway and ``diagnose_parcels`` says what is wrong, so the
page can show it as a problem row with its fix instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.datums import convert_geometries
from geo.errors import GeoError, ImportRefusedError, NoUsableRowsError, ParcelError  # noqa: F401  re-exported
from geo.geometry_check import DEFAULT_MAX_VERTICES, FIXES, GeometryProblem, diagnose, swap_axes
from geo.imports import LIMITS, ImportedLayer, ImportLimits, read_upload
from geo.measure import repair_geometries
from geo.parcel_table import (  # noqa: F401  re-exported: the parcel table's names are geo.parcels' too
    DEFAULT_PLOT_RATIO, LAND_USES, MAX_NAME_CHARS, MAX_PARCELS, PARCEL_COLUMNS, STATUSES, USES, _attribute_problem,
    _clean_name, _features_frame, add_parcels, empty_parcels, new_parcel_id, normalise, pack_parcels,
    parcels_from_geojson, parcels_to_geojson, unpack_parcels)
from geo.tables import check_input_datum, to_wgs84

MAX_VERTICES_PER_PARCEL = DEFAULT_MAX_VERTICES
# Parcel names read from columns with these names (case-insensitive), in this order.
NAME_COLUMNS: tuple[str, ...] = ("name", "名称", "地块名称", "地块", "parcel", "label", "title", "编号", "id")
# The map shows coordinates rounded to 5 decimals (layers.features): an outline that comes back within
# this many degrees (about 1 m) of the stored one was not edited.
_UNCHANGED_TOLERANCE_DEG = 1e-5


@dataclass(frozen=True)
class RefusedParcel:
    """A parcel kept out of a scenario: how the user knows it, what is wrong, and the fix."""

    label: str
    code: str
    message: str
    fix: str | None = None
    row: int | None = None  # the file's feature/row number, for a second import with the fix

    def text(self) -> str:
        return f"{self.label}: {self.message}"


@dataclass(frozen=True)
class ParcelIntake:
    """Parcels that passed the door (normalised, WGS84), those refused, and notes on repairs."""

    parcels: gpd.GeoDataFrame
    refused: tuple[RefusedParcel, ...] = ()
    notes: tuple[str, ...] = ()
    source: dict[str, Any] = field(default_factory=dict)

    def rows_with_fix(self, fix: str) -> tuple[int, ...]:
        return tuple(r.row for r in self.refused if r.fix == fix and r.row is not None)


# ----------------------------------------------------------------------------- attributes


# ----------------------------------------------------------------------------- the door

def _label(row: int | None, row_label: str, name: str) -> str:
    where = f"{row_label} {row}" if row is not None else row_label
    return f"{where} ({name!r})" if name else where


def _door(frame: gpd.GeoDataFrame, *, rows: list[int | None], row_label: str
          ) -> tuple[gpd.GeoDataFrame, list[RefusedParcel], list[str]]:
    """Check every candidate parcel: attributes, then geometry; repair invalid rings."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    problems = parcel_problems(geoms)
    names = [_clean_name(n) for n in frame["name"]] if "name" in frame else [""] * len(frame)
    refused: list[RefusedParcel] = []
    keep = np.ones(len(frame), dtype=bool)
    for position, (problem, (_, record)) in enumerate(zip(problems, frame.drop(columns=frame.geometry.name)
                                                          .iterrows(), strict=True)):
        label = _label(rows[position], row_label, names[position])
        attribute = _attribute_problem(record.to_dict())
        if problem is not None:
            refused.append(RefusedParcel(label, problem.code, problem.message, problem.fix, rows[position]))
        elif attribute is not None:
            refused.append(RefusedParcel(label, "attribute", attribute, None, rows[position]))
        else:
            continue
        keep[position] = False
    notes: list[str] = []
    kept = geoms[keep].copy()
    if len(kept):
        fixed, report = repair_geometries(kept)
        kept_positions = np.flatnonzero(keep)
        reasons = "; ".join(sorted({r.split("[")[0].strip() for r in report.reasons}))
        for local in report.repaired:
            position = kept_positions[local]
            notes.append(f"{_label(rows[position], row_label, names[position])}: invalid outline repaired"
                         f" ({reasons})")
        emptied = shapely.is_empty(fixed)
        for local in np.flatnonzero(emptied):
            position = kept_positions[local]
            refused.append(RefusedParcel(_label(rows[position], row_label, names[position]), "empty",
                                         "its outline encloses no area once repaired", None, rows[position]))
            keep[position] = False
        geoms = geoms.copy()
        geoms[kept_positions] = fixed
    accepted = frame[keep].copy()
    accepted[frame.geometry.name] = geoms[keep]
    accepted = gpd.GeoDataFrame(accepted, geometry=frame.geometry.name, crs=4326)
    return normalise(accepted.reset_index(drop=True)), refused, notes


def intake_features(features: list[dict[str, Any]], *, datum: str = "wgs84",
                    row_label: str = "drawn parcel") -> ParcelIntake:
    """Parcels from GeoJSON features drawn on the map (or given as plain dicts), in ``datum``.

    Features drawn on a GCJ-02 basemap come back in GCJ-02: pass ``datum="gcj02"`` so they are
    converted before anything is checked or measured.
    """
    frame = _features_frame(features)
    frame[frame.geometry.name] = gpd.GeoSeries(_convert(np.asarray(frame.geometry.values, dtype=object), datum),
                                               index=frame.index, crs=4326)
    accepted, refused, notes = _door(frame, rows=list(range(1, len(frame) + 1)), row_label=row_label)
    return ParcelIntake(accepted, tuple(refused), tuple(notes))


def _convert(geoms: np.ndarray, datum: str) -> np.ndarray:
    if datum == "wgs84" or not len(geoms):
        return geoms
    present = np.array([g is not None for g in geoms], dtype=bool)
    out = geoms.copy()
    if present.any():
        out[present] = convert_geometries(geoms[present], source=datum, target="wgs84")
    return out


def parcels_from_features(features: list[dict[str, Any]], *, datum: str = "wgs84") -> gpd.GeoDataFrame:
    """Parcels from GeoJSON features, all or nothing: the first refused parcel raises.

    Raises
    ------
    ParcelError
        Naming the first feature that cannot be a parcel and why.
    """
    intake = intake_features(features, datum=datum, row_label="feature")
    if intake.refused:
        raise ParcelError(intake.refused[0].text())
    return intake.parcels


def suggest_name_column(columns: list[str] | tuple[str, ...]) -> str | None:
    """The column a file most likely keeps its parcel names in (``NAME_COLUMNS``), or None."""
    lowered = {str(c).strip().lower(): c for c in columns}
    return next((lowered[c] for c in NAME_COLUMNS if c in lowered), None)


def _name_column(frame: pd.DataFrame, chosen: str | None) -> str | None:
    if chosen is not None and chosen not in frame:
        raise ParcelError(f"there is no column {chosen!r} to take parcel names from; the columns are"
                          f" {[c for c in frame.columns if c != 'geometry'][:20]}")
    return chosen


def intake_frame(frame: gpd.GeoDataFrame, *, name_column: str | None = None, row_label: str = "feature",
                 polygons_only: bool = False) -> ParcelIntake:
    """Parcels from a WGS84 layer (an imported layer's frame): every feature passes the door;
    points, lines and anything unusable are refused by their ``source_row`` number.

    With ``polygons_only`` a layer's points and lines are left out without a word (a layer of
    sites and parcels together): only its polygons are candidates.
    """
    if polygons_only:
        types = shapely.get_type_id(np.asarray(frame.geometry.values, dtype=object))
        frame = frame[np.isin(types, [3, 6])]
    column = _name_column(frame, name_column)
    candidates = gpd.GeoDataFrame(
        {"name": frame[column].to_numpy() if column else [None] * len(frame),
         **{c: frame[c].to_numpy() for c in ("status", "use", "floor_area_m2", "plot_ratio") if c in frame}},
        geometry=np.asarray(frame.geometry.values, dtype=object), crs=4326)
    numbers = ([int(r) for r in frame["source_row"]] if "source_row" in frame
               else list(range(1, len(frame) + 1)))
    accepted, refused, notes = _door(candidates, rows=numbers, row_label=row_label)
    return ParcelIntake(accepted, tuple(refused), tuple(notes))


def corners_to_polygons(frame: gpd.GeoDataFrame, *, corner_column: str, row_label: str = "row"
                        ) -> tuple[gpd.GeoDataFrame, list[RefusedParcel]]:
    """A table of corner points (one row per corner, in order around the parcel) as one polygon per
    value of ``corner_column``: the parcel's name; the row numbers of its corners are kept.

    Groups with fewer than three distinct corners are refused by name. The first row of each group
    gives the parcel's other attributes (status, use, floor figures).

    Raises
    ------
    ParcelError
        If the column does not exist or the layer is not points.
    """
    if corner_column not in frame:
        raise ParcelError(f"there is no column {corner_column!r} to group corner points by; the columns are"
                          f" {[c for c in frame.columns if c != 'geometry'][:20]}")
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if not len(frame) or not (shapely.get_type_id(geoms) == 0).all():
        raise ParcelError("corner points must be a table of points (longitude/latitude columns), one row per corner")
    keys = frame[corner_column].astype(str).str.strip().to_numpy()
    rows = frame["source_row"].to_numpy() if "source_row" in frame else np.arange(1, len(frame) + 1)
    xy = shapely.get_coordinates(geoms)
    records, polygons, refused = [], [], []
    for key in dict.fromkeys(keys):
        members = np.flatnonzero(keys == key)
        ring = xy[members]
        distinct = np.unique(ring, axis=0)
        span = f"{row_label}s {rows[members[0]]}-{rows[members[-1]]}"
        if len(distinct) < 3:
            refused.append(RefusedParcel(f"{span} ({key!r})", "empty", f"it has {len(distinct)} distinct corner(s);"
                                         " a parcel needs at least 3", None, int(rows[members[0]])))
            continue
        if (ring[0] == ring[-1]).all():
            ring = ring[:-1]
        polygons.append(shapely.Polygon(ring))
        first = frame.iloc[members[0]]
        records.append({"name": key, "source_row": int(rows[members[0]]),
                        **{c: first[c] for c in ("status", "use", "floor_area_m2", "plot_ratio") if c in frame}})
    out = gpd.GeoDataFrame(pd.DataFrame.from_records(records) if records else pd.DataFrame({"name": [], "source_row": []}),
                           geometry=gpd.GeoSeries(polygons, crs=4326), crs=4326)
    return out, refused


def parcels_from_layer(layer: gpd.GeoDataFrame, *, name_column: str | None = None) -> gpd.GeoDataFrame:
    """The polygons of a WGS84 layer that pass the door, as parcels (other features are left out).

    Raises
    ------
    ParcelError
        If the layer has no polygons.
    """
    types = shapely.get_type_id(np.asarray(layer.geometry.values, dtype=object))
    if not np.isin(types, [3, 6]).any():
        raise ParcelError("the layer has no polygons: parcels must be polygons (points and lines cannot be parcels)")
    return intake_frame(layer, name_column=name_column).parcels


def intake_layer(layer: ImportedLayer, *, name_column: str | None = None,
                 rows: tuple[int, ...] | None = None) -> ParcelIntake:
    """Parcels from an imported layer (``geo.imports.read_upload``): its polygons pass the door,
    anything else is refused by its feature/row number; rows the importer skipped are listed too.

    ``rows`` keeps only those feature/row numbers (a second import with a fix applied).
    """
    frame = layer.frame
    if rows is not None:
        frame = frame[frame["source_row"].isin(rows)]
    intake = intake_frame(frame, name_column=name_column, row_label=layer.row_label)
    skipped = [_refused_row(row, reason, layer.row_label) for row, reason in layer.refused
               if rows is None or row in rows]
    # The importer's own repairs and warnings (e.g. a ring repaired at feature 5), not its skipped rows,
    # which are listed above with their reasons.
    warnings = tuple(n.text for n in layer.notes if n.level == "warning" and not n.text.startswith("skipped "))
    return ParcelIntake(intake.parcels, tuple(skipped) + intake.refused, warnings + intake.notes,
                        source={"name": layer.name, "sha256": layer.sha256, "format": layer.source_format,
                                "datum": layer.source_datum})


# The importer reports unusable rows with geo.geometry_check's sentences: these recognise them.
_IMPORT_PROBLEMS = (("axes are swapped", "swapped_axes"), ("look like metres", "projected"),
                    ("NaN or Infinity", "non_finite"), ("has no geometry", "missing"),
                    ("geometry is missing", "missing"), ("geometry is empty", "empty"))


def _refused_row(row: int, reason: str, row_label: str) -> RefusedParcel:
    code = next((code for text, code in _IMPORT_PROBLEMS if text in reason), "import")
    return RefusedParcel(_label(row, row_label, ""), code, reason, FIXES.get(code), row)


def intake_upload(data: bytes, *, filename: str, datum: str | None = None, swap_axes: bool = False,
                  rows: tuple[int, ...] | None = None, name_column: str | None = None,
                  corner_column: str | None = None, limits: ImportLimits = LIMITS) -> ParcelIntake:
    """Parcels from an uploaded file's bytes, through the one importer and the one door.

    A table of corner points (longitude/latitude per row, in order around each parcel) becomes one
    parcel per value of ``corner_column`` (``corners_to_polygons``).

    Raises
    ------
    ImportRefusedError
        What the importer refuses for the whole file (format, size, a table without a datum...);
        a file none of whose rows is usable gives an intake with every row refused instead.
    """
    try:
        layer = read_upload(data, filename=filename, datum=datum, swap_axes=swap_axes, limits=limits)
    except NoUsableRowsError as exc:
        if not exc.refused:
            raise ImportRefusedError("the file contains no features: there is nothing to add") from exc
        return ParcelIntake(empty_parcels(), tuple(_refused_row(row, reason, exc.row_label)
                                                   for row, reason in exc.refused if rows is None or row in rows))
    if corner_column is not None:
        polygons, too_few = corners_to_polygons(layer.frame, corner_column=corner_column, row_label=layer.row_label)
        intake = intake_frame(polygons, name_column="name", row_label=layer.row_label)
        skipped = tuple(_refused_row(row, reason, layer.row_label) for row, reason in layer.refused)
        return ParcelIntake(intake.parcels, skipped + tuple(too_few) + intake.refused, intake.notes)
    return intake_layer(layer, name_column=name_column, rows=rows)


# ----------------------------------------------------------------------------- stored scenarios

def parcel_problems(geometries: object) -> list[GeometryProblem | None]:
    """What stops each outline from being a parcel (None: nothing): the rules of the door, for
    candidates, stored parcels, fixes and measurements alike."""
    return diagnose(geometries, polygons_only=True, beijing=True, max_vertices=MAX_VERTICES_PER_PARCEL)


def diagnose_parcels(parcels: gpd.GeoDataFrame) -> list[GeometryProblem | None]:
    """What stops each stored parcel from being measured (None: nothing)."""
    return parcel_problems(np.asarray(parcels.geometry.values, dtype=object))


def fix_parcels(parcels: gpd.GeoDataFrame, parcel_ids: list[str], *, fix: str,
                datum: str | None = None) -> gpd.GeoDataFrame:
    """Apply a fix to the chosen parcels: ``swap_axes``, or ``choose_datum`` (their coordinates are
    read in ``datum``, e.g. ``gcj02`` or ``epsg:4548``, and converted to WGS84).

    Raises
    ------
    ParcelError
        For an unknown fix, a missing datum, or a fix that still leaves a parcel unusable.
    """
    out = parcels.copy()
    chosen = out["parcel_id"].isin(parcel_ids).to_numpy()
    geoms = np.asarray(out.geometry.values, dtype=object)
    if fix == "swap_axes":
        fixed = swap_axes(geoms[chosen])
    elif fix == "choose_datum":
        if not datum:
            raise ParcelError("choose the coordinate system the parcel's coordinates are in")
        code = check_input_datum(datum)
        fixed = shapely.transform(geoms[chosen], lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], datum=code)))
    else:
        raise ParcelError(f"unknown fix {fix!r}: use swap_axes or choose_datum")
    still = [(pid, p) for pid, p in zip(out.loc[chosen, "parcel_id"], parcel_problems(fixed), strict=True)
             if p is not None]
    if still:
        raise ParcelError(f"after the fix, parcel {still[0][0]!r} is still unusable: {still[0][1].message}")
    repaired, _ = repair_geometries(fixed)
    geoms = geoms.copy()
    geoms[chosen] = repaired
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=4326)
    return out


# ----------------------------------------------------------------------------- edits on the map

@dataclass(frozen=True)
class MapEdit:
    """What the map's drawing tools changed: the new parcel table and what happened."""

    parcels: gpd.GeoDataFrame
    added: int
    edited: int
    deleted: int
    refused: tuple[RefusedParcel, ...]
    notes: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.edited or self.deleted)


def apply_map_edits(parcels: gpd.GeoDataFrame, features: list[dict[str, Any]], *, shown_ids: list[str],
                    datum: str = "wgs84") -> MapEdit:
    """Merge what the Draw layer returns (every feature it holds) into the scenario's parcels.

    ``shown_ids`` are the parcels that were put on the map as editable: those missing from
    ``features`` were deleted, those whose outline moved were edited (and pass the door again),
    features without a ``parcel_id`` are new. Parcels not shown (problem rows) are never touched.
    Outlines that came back unchanged (within about 1 m: the map rounds coordinates) keep their
    stored coordinates exactly.
    """
    by_id = {str((f.get("properties") or {}).get("parcel_id")): f for f in features
             if isinstance(f, dict) and (f.get("properties") or {}).get("parcel_id")}
    new_features = [f for f in features if isinstance(f, dict) and not (f.get("properties") or {}).get("parcel_id")]
    shown = set(shown_ids)
    deleted_ids = [pid for pid in shown_ids if pid not in by_id]
    out = parcels[~parcels["parcel_id"].isin(deleted_ids)].copy()
    edited, refused, notes = 0, [], []
    candidates = [(pid, f) for pid, f in by_id.items() if pid in shown]
    if candidates:
        positions = {pid: i for i, pid in enumerate(out["parcel_id"])}
        # Thousands of parcels come back after every edit: those given back as they were shown
        # are known at once; only the others pass the door.
        as_shown = _returned_as_shown(np.asarray(out.geometry.values, dtype=object)[[positions[pid] for pid, _ in
                                                                                     candidates]],
                                      [f.get("geometry") for _, f in candidates], datum=datum)
        candidates = [candidate for candidate, same in zip(candidates, as_shown, strict=True) if not same]
    if candidates:
        check = intake_features([{"type": "Feature", "properties": {}, "geometry": f.get("geometry")}
                                 for _, f in candidates], datum=datum, row_label="edited parcel")
        stored = np.asarray(out.geometry.values, dtype=object).copy()
        refused_rows = {r.row for r in check.refused}
        accepted = iter(check.parcels.geometry.values)
        for number, (pid, _) in enumerate(candidates, start=1):
            if number in refused_rows:
                problem = next(r for r in check.refused if r.row == number)
                refused.append(RefusedParcel(f"parcel {_display(out, positions[pid])}", problem.code,
                                             problem.message + " (the edit was not saved)", problem.fix))
                continue
            geometry = next(accepted)
            old = stored[positions[pid]]
            if old is not None and shapely.equals_exact(shapely.normalize(old), shapely.normalize(geometry),
                                                        tolerance=_UNCHANGED_TOLERANCE_DEG):
                continue
            stored[positions[pid]] = geometry
            edited += 1
        notes.extend(check.notes)
        out[out.geometry.name] = gpd.GeoSeries(stored, index=out.index, crs=4326)
    added = intake_features(new_features, datum=datum)
    refused.extend(added.refused)
    notes.extend(added.notes)
    result = add_parcels(gpd.GeoDataFrame(out.reset_index(drop=True), geometry=out.geometry.name, crs=4326),
                         added.parcels) if len(added.parcels) else out.reset_index(drop=True)
    return MapEdit(result, len(added.parcels), edited, len(deleted_ids), tuple(refused), tuple(notes))


def _returned_as_shown(stored: np.ndarray, geometries: list[Any], *, datum: str) -> np.ndarray:
    """For each stored outline and the GeoJSON geometry the map gave back for it, whether it
    came back as it was shown: the same vertices in the same order, each within
    ``_UNCHANGED_TOLERANCE_DEG`` in the map's datum. Anything else (a moved vertex, another
    order, malformed coordinates) is left to the door and the full comparison."""
    same = np.zeros(len(stored), dtype=bool)
    if not len(stored):
        return same
    shown = stored if datum == "wgs84" else convert_geometries(stored, source="wgs84", target=datum)
    expected, owner = shapely.get_coordinates(shown, return_index=True)
    expected_counts = np.bincount(owner, minlength=len(stored))
    vertices = [_vertex_list(geometry) for geometry in geometries]
    counts = np.array([-1 if v is None else len(v) for v in vertices])
    comparable = np.flatnonzero((counts == expected_counts) & (counts > 0))
    if not len(comparable):
        return same
    try:  # one array of every vertex given back, whole-array from here on
        returned = np.array([pair for index in comparable.tolist() for pair in vertices[index]], dtype=np.float64)
    except (TypeError, ValueError):
        returned = None
    if returned is None or returned.ndim != 2 or returned.shape[1] != 2:
        return same  # ragged or malformed somewhere: every one goes through the door
    starts = np.concatenate([[0], np.cumsum(expected_counts)[:-1]])
    wanted = np.concatenate([np.arange(starts[i], starts[i] + expected_counts[i]) for i in comparable.tolist()])
    off = np.abs(returned - expected[wanted]).max(axis=1)
    off[~np.isfinite(off)] = np.inf
    bounds = np.concatenate([[0], np.cumsum(counts[comparable])[:-1]])
    same[comparable] = np.maximum.reduceat(off, bounds) <= _UNCHANGED_TOLERANCE_DEG
    return same


def _vertex_list(geometry: Any) -> list | None:
    """A GeoJSON Polygon's or MultiPolygon's vertices in order (rings as given), as a list of
    positions; None for anything else."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    polygons = geometry.get("coordinates")
    if not isinstance(polygons, list):
        return None
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    try:
        return [position for polygon in polygons for ring in polygon for position in ring]
    except TypeError:
        return None


def _display(parcels: pd.DataFrame, position: int) -> str:
    number, name = parcels["number"].iloc[position], parcels["name"].iloc[position]
    return f"{number} ({name!r})" if name else str(number)

