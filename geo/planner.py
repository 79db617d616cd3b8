"""Planner measurements: geodesic areas, overlaps counted once, the park each parcel lies in,
and progress against the plan's land and factory-space targets, per city, district and hub.

Targets (Action Plan 2024-2026, item 30): at least 3,000 mu of new industrial land, 1.2 million
m2 of standard factory buildings completed and 1.8 million m2 more started.

All areas are computed once, in an equal-area projection fitted to the scenario
(``geo.measure.project_equal_area``): a parcel's own area, the areas of its overlaps with other
parcels and with parks, and its *counted* area, the part not already counted by an earlier parcel
(so the counted areas of a scenario add up to the area of the union of its parcels).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.geometry_check import GeometryProblem
from geo.export import ExportedFile, ExportMetadata, export_filename, export_frame, source_records
from geo.joins import assign_areas
from geo.measure import M2_PER_MU, project_equal_area, repair_geometries
from geo.parcels import (  # noqa: F401  re-exported: the planner's public names
    DEFAULT_PLOT_RATIO, LAND_USES, MAX_PARCELS, PARCEL_COLUMNS, STATUSES, USES, ParcelError, empty_parcels,
    diagnose_parcels, new_parcel_id, normalise, parcel_problems, parcels_from_features, parcels_from_geojson,
    parcels_from_layer, parcels_to_geojson)
from geo.shapes import is_drawn
from geo.snapshot import Snapshot

# Overlaps smaller than this (m2) are shared edges seen through floating point, not overlaps.
MIN_OVERLAP_M2 = 0.5


@dataclass(frozen=True)
class Target:
    key: str
    value: float
    unit: str
    fact_id: str


TARGETS: tuple[Target, ...] = (
    Target("new_industrial_land", 3000.0, "mu", "plan_industrial_land"),
    Target("standard_factory_completed", 1_200_000.0, "m2", "plan_factory_completed"),
    Target("standard_factory_started", 1_800_000.0, "m2", "plan_factory_started"),
)
MEASURED_COLUMNS: tuple[str, ...] = (
    "area_m2", "area_ha", "area_mu", "counted_m2", "counted_mu", "overlaps_with", "district_id", "hub_id",
    "park_id", "park_share", "floor_area_effective_m2", "problem", "problem_message", "problem_fix")


class OverlapPairs:
    """The overlapping pairs of a measured scenario, kept in ``measured.attrs["overlaps"]``:
    parcel numbers ``a`` < ``b`` and the overlap in m2, sorted.

    Immutable (read-only arrays), so a deep copy is the object itself: pandas deep-copies
    ``attrs`` on every column access and copy, and a scenario of 2,000 overlapping parcels has
    tens of thousands of pairs (as a tuple of tuples that cost 1 s per Planner rerun).
    """

    __slots__ = ("a", "b", "overlap_m2")

    def __init__(self, a: np.ndarray, b: np.ndarray, overlap_m2: np.ndarray) -> None:
        order = np.lexsort((np.asarray(b), np.asarray(a)))
        for name, values, dtype in (("a", a, np.int64), ("b", b, np.int64), ("overlap_m2", overlap_m2, float)):
            array = np.array(values, dtype=dtype)[order]
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("OverlapPairs is immutable")

    def __len__(self) -> int:
        return len(self.a)

    def __iter__(self):
        return zip(self.a.tolist(), self.b.tolist(), self.overlap_m2.tolist(), strict=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OverlapPairs):
            return NotImplemented
        return (np.array_equal(self.a, other.a) and np.array_equal(self.b, other.b)
                and np.array_equal(self.overlap_m2, other.overlap_m2))

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple:
        return OverlapPairs, (self.a, self.b, self.overlap_m2)

    def __copy__(self) -> OverlapPairs:
        return self

    def __deepcopy__(self, memo: dict) -> OverlapPairs:
        return self

    def __repr__(self) -> str:
        return f"OverlapPairs({len(self)} pairs)"


def union_area_m2(parcels: gpd.GeoDataFrame) -> float:
    """The area (m2) of the union of a scenario's usable parcels: each square metre counted once
    (the sum of the parcels' counted areas, as ``measure_parcels`` computes them)."""
    problems = diagnose_parcels(parcels)
    geoms = np.asarray(parcels.geometry.values, dtype=object)[[p is None for p in problems]]
    if not len(geoms):
        return 0.0
    fixed, _ = repair_geometries(geoms)
    _, counted, _ = _own_and_counted(project_equal_area(fixed))
    return float(counted.sum())


@dataclass(frozen=True)
class ScenarioTotals:
    """A scenario's totals: the union of its usable parcels counted once, and the overlap."""

    parcels: int
    problems: int
    area_m2: float  # union of the usable parcels
    area_mu: float
    area_sum_m2: float  # each parcel's own area added up
    overlap_m2: float  # area_sum_m2 - area_m2: counted twice if summed
    overlap_mu: float
    overlapping_pairs: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _own_and_counted(projected: np.ndarray) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Own area, counted area (net of overlaps with earlier parcels) and the overlapping pairs."""
    own = shapely.area(projected)
    counted = own.copy()
    pairs = pd.DataFrame({"a": pd.Series(dtype=np.int64), "b": pd.Series(dtype=np.int64),
                          "overlap_m2": pd.Series(dtype=float)})
    if len(projected) < 2:
        return own, counted, pairs
    tree = shapely.STRtree(projected)
    left, right = tree.query(projected, predicate="intersects")
    earlier = left > right
    left, right = left[earlier], right[earlier]
    if not len(left):
        return own, counted, pairs
    overlap = shapely.area(shapely.intersection(projected[left], projected[right]))
    real = overlap > MIN_OVERLAP_M2
    left, right, overlap = left[real], right[real], overlap[real]
    pairs = pd.DataFrame({"a": right, "b": left, "overlap_m2": overlap}).sort_values(["a", "b"], ignore_index=True)
    for position in np.unique(left):
        before = right[left == position]
        covered = shapely.intersection(projected[position], shapely.union_all(projected[before]))
        counted[position] = own[position] - shapely.area(covered)
    return own, np.maximum(counted, 0.0), pairs


def _park_shares(projected: np.ndarray, parks_projected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each parcel, the park it overlaps most (its position, -1 for none) and the share of the
    parcel's area inside it."""
    best = np.full(len(projected), -1, dtype=np.intp)
    share = np.zeros(len(projected))
    if not len(projected) or not len(parks_projected):
        return best, share
    tree = shapely.STRtree(parks_projected)
    parcel_pos, park_pos = tree.query(projected, predicate="intersects")
    if not len(parcel_pos):
        return best, share
    inside = shapely.area(shapely.intersection(projected[parcel_pos], parks_projected[park_pos]))
    own = shapely.area(projected[parcel_pos])
    fraction = np.divide(inside, own, out=np.zeros_like(inside), where=own > 0)
    order = np.lexsort((-fraction, parcel_pos))
    first = np.ones(len(order), dtype=bool)
    first[1:] = parcel_pos[order][1:] != parcel_pos[order][:-1]
    chosen = order[first]
    keep = fraction[chosen] > 0
    best[parcel_pos[chosen][keep]] = park_pos[chosen][keep]
    share[parcel_pos[chosen][keep]] = fraction[chosen][keep]
    return best, share


@dataclass(frozen=True)
class GeometryMeasures:
    """What the measurement of a scenario takes from its outlines alone (positions, not parcel
    numbers), so attribute edits (names, status, floor figures) reuse it: see ``geometry_key``."""

    geometries: np.ndarray  # repaired where usable
    problems: tuple[GeometryProblem | None, ...]
    area_m2: np.ndarray
    counted_m2: np.ndarray
    park_share: np.ndarray
    park_ids: np.ndarray
    district_ids: np.ndarray
    hub_ids: np.ndarray
    pairs: tuple[tuple[int, int, float], ...]  # (earlier position, later position, overlap m2)
    repaired: tuple[int, ...]
    key: str  # geometry_key of the outlines measured


def geometry_key(parcels: gpd.GeoDataFrame | np.ndarray) -> str:
    """A fingerprint of a scenario's outlines, in order: sha256 of their types, their parts and
    rings and every coordinate (NumPy arrays from GEOS: ~50x faster than hashing their WKB)."""
    geometries = parcels.geometry.values if isinstance(parcels, gpd.GeoDataFrame) else parcels
    geoms = np.asarray(geometries, dtype=object)
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    part_types = shapely.get_type_id(parts)
    polygons = part_types == 3
    rings, ring_of = shapely.get_rings(parts[polygons], return_index=True)
    digest = hashlib.sha256()
    for array in (shapely.get_type_id(geoms).astype(np.int8), np.bincount(part_of, minlength=len(geoms)),
                  part_types.astype(np.int8), shapely.get_num_coordinates(parts),
                  np.bincount(ring_of, minlength=int(polygons.sum())), shapely.get_num_coordinates(rings),
                  shapely.get_coordinates(geoms, include_z=True)):
        digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(b"|")
    return digest.hexdigest()


def measure_geometries(geometries: np.ndarray, *, parks: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                       hubs: gpd.GeoDataFrame, key: str | None = None) -> GeometryMeasures:
    """Areas, overlaps, park shares and the district/hub of each outline (see ``measure_parcels``).
    ``key`` is the outlines' ``geometry_key`` when the caller has it already."""
    geoms = np.asarray(geometries, dtype=object).copy()
    key = key or geometry_key(geoms)
    problems = tuple(parcel_problems(geoms))
    usable_mask = np.array([p is None for p in problems], dtype=bool)
    n = len(geoms)
    area, counted, share = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    park_ids, district_ids, hub_ids = (np.full(n, None, dtype=object) for _ in range(3))
    pairs: tuple[tuple[int, int, float], ...] = ()
    repaired: tuple[int, ...] = ()
    if usable_mask.any():
        positions = np.flatnonzero(usable_mask)
        fixed, report = repair_geometries(geoms[usable_mask])
        geoms[usable_mask] = fixed
        repaired = tuple(int(positions[p]) for p in report.repaired)
        drawn_parks = parks[is_drawn(parks.geometry.values)] if len(parks) else parks
        park_geoms, _ = repair_geometries(np.asarray(drawn_parks.geometry.values, dtype=object))
        projected_all = project_equal_area(np.concatenate([fixed, park_geoms]))
        projected, parks_projected = projected_all[:len(fixed)], projected_all[len(fixed):]
        own, net, local_pairs = _own_and_counted(projected)
        area[positions], counted[positions] = own, net
        best, fraction = _park_shares(projected, parks_projected)
        in_park = best >= 0
        park_ids[positions[in_park]] = drawn_parks["park_id"].to_numpy()[best[in_park]]
        share[positions] = fraction
        joined = assign_areas(gpd.GeoDataFrame(geometry=gpd.GeoSeries(fixed, crs=4326), crs=4326),
                              parks=parks, districts=districts, hubs=hubs)
        district_ids[positions] = joined["district_id_joined"].to_numpy()
        hub_ids[positions] = joined["hub_id_joined"].to_numpy()
        pairs = tuple((int(positions[a]), int(positions[b]), float(m2)) for a, b, m2 in
                      zip(local_pairs["a"], local_pairs["b"], local_pairs["overlap_m2"], strict=True))
    return GeometryMeasures(geoms, problems, area, counted, share, park_ids, district_ids, hub_ids, pairs,
                            repaired, key)


def measure_parcels(parcels: gpd.GeoDataFrame, *, parks: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                    hubs: gpd.GeoDataFrame, geometry: GeometryMeasures | None = None) -> gpd.GeoDataFrame:
    """Measure a scenario's parcels.

    Adds, per usable parcel: ``area_m2/ha/mu`` (its own area), ``counted_m2/mu`` (the part not
    already counted by an earlier parcel), ``overlaps_with`` (numbers of the parcels it overlaps),
    ``district_id`` and ``hub_id`` (by a point on its surface), ``park_id`` and ``park_share``
    (the park it overlaps most and the share of the parcel inside it) and
    ``floor_area_effective_m2`` (the floor area given, else counted land x plot ratio).
    A parcel that cannot be measured keeps NaN figures and says why in ``problem`` (a code),
    ``problem_message`` and ``problem_fix``. The overlapping pairs are in ``overlap_table(measured)``,
    the numbers of repaired parcels in ``.attrs["repairs"]``.

    ``geometry`` is ``measure_geometries`` of these parcels' outlines, when the caller kept it
    (same ``geometry_key``): only the attribute figures are computed again.
    """
    out = normalise(parcels, strict=False)
    if geometry is None or len(geometry.geometries) != len(out):
        geometry = measure_geometries(np.asarray(out.geometry.values, dtype=object), parks=parks,
                                      districts=districts, hubs=hubs)
    numbers = out["number"].to_numpy()
    usable_mask = np.array([p is None for p in geometry.problems], dtype=bool)
    first, second, m2 = (np.array(column) for column in zip(*geometry.pairs, strict=True)) if geometry.pairs \
        else (np.array([], dtype=np.int64),) * 2 + (np.array([], dtype=float),)
    first, second = first.astype(np.int64), second.astype(np.int64)
    given = out["floor_area_m2"].to_numpy(dtype=float)
    derived = geometry.counted_m2 * out["plot_ratio"].to_numpy(dtype=float)
    # Plain columns, one GeoDataFrame at the end: each column set on a GeoDataFrame costs a CRS check.
    columns = {column: out[column].to_numpy() for column in PARCEL_COLUMNS}
    columns.update({
        "area_m2": geometry.area_m2.round(1),
        "area_ha": (geometry.area_m2 / 10_000).round(4),
        "area_mu": (geometry.area_m2 / M2_PER_MU).round(2),
        "counted_m2": geometry.counted_m2.round(1),
        "counted_mu": (geometry.counted_m2 / M2_PER_MU).round(2),
        "overlaps_with": _partners_text(first, second, numbers),
        "district_id": geometry.district_ids,
        "hub_id": geometry.hub_ids,
        "park_id": geometry.park_ids,
        "park_share": geometry.park_share.round(4),
        "floor_area_effective_m2": np.where(usable_mask, np.where(np.isnan(given), derived, given), np.nan).round(1),
        "problem": [p.code if p else None for p in geometry.problems],
        "problem_message": [p.message if p else None for p in geometry.problems],
        "problem_fix": [p.fix if p else None for p in geometry.problems],
    })
    measured = gpd.GeoDataFrame(pd.DataFrame(columns, index=out.index),
                                geometry=np.asarray(geometry.geometries, dtype=object), crs=4326)
    a, b = numbers[first], numbers[second]
    measured.attrs["overlaps"] = OverlapPairs(np.minimum(a, b), np.maximum(a, b), np.round(m2.astype(float), 1))
    measured.attrs["repairs"] = tuple(int(numbers[p]) for p in geometry.repaired)
    measured.attrs["geometry_key"] = geometry.key  # the map reuses its drawn outlines while it stays the same
    return measured


def _partners_text(first: np.ndarray, second: np.ndarray, numbers: np.ndarray) -> list[str]:
    """Per parcel (position), the numbers of the parcels it overlaps, ascending: "3, 17"."""
    owner = np.concatenate([first, second])
    partner = numbers[np.concatenate([second, first])]
    order = np.lexsort((partner, owner))
    owner, partner = owner[order], partner[order]
    bounds = np.searchsorted(owner, np.arange(len(numbers) + 1))
    texts = partner.astype(str).tolist()
    return [", ".join(texts[start:end]) for start, end in zip(bounds[:-1], bounds[1:], strict=True)]


def overlap_table(measured: pd.DataFrame) -> pd.DataFrame:
    """The overlapping pairs of a measured scenario: parcel numbers ``a`` < ``b`` and the overlap in
    m2 and mu."""
    found = measured.attrs.get("overlaps")
    if not isinstance(found, OverlapPairs):
        found = OverlapPairs(np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype=float))
    return pd.DataFrame({"a": found.a.copy(), "b": found.b.copy(), "overlap_m2": found.overlap_m2.copy(),
                         "overlap_mu": (found.overlap_m2 / M2_PER_MU).round(2)})


def usable(measured: pd.DataFrame) -> pd.DataFrame:
    """The measured parcels without problem rows."""
    return measured[measured["problem"].isna()]


def scenario_bounds(*measured: pd.DataFrame) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the usable parcels of one or more measured scenarios."""
    geoms = [np.asarray(usable(m).geometry.values, dtype=object) for m in measured]
    joined = np.concatenate(geoms) if geoms else np.array([], dtype=object)
    if not len(joined):
        return None
    west, south, east, north = shapely.total_bounds(joined)
    return float(west), float(south), float(east), float(north)


def totals(measured: gpd.GeoDataFrame) -> ScenarioTotals:
    """Totals of a measured scenario (``measure_parcels``), overlaps counted once."""
    ok = usable(measured)
    union_m2 = float(ok["counted_m2"].sum())
    sum_m2 = float(ok["area_m2"].sum())
    pairs = measured.attrs.get("overlaps", ())
    return ScenarioTotals(parcels=len(ok), problems=len(measured) - len(ok), area_m2=round(union_m2, 1),
                          area_mu=round(union_m2 / M2_PER_MU, 2), area_sum_m2=round(sum_m2, 1),
                          overlap_m2=round(sum_m2 - union_m2, 1),
                          overlap_mu=round((sum_m2 - union_m2) / M2_PER_MU, 2),
                          overlapping_pairs=len(pairs))


def progress(measured: gpd.GeoDataFrame | pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Achievement against the plan's city targets, for the city (``by=None``) or per ``by``
    (``district_id`` or ``hub_id``).

    New industrial land counts the counted land (overlaps once) of every industrial or factory
    parcel, in mu; factory space counts the floor area of standard-factory parcels completed, and
    under construction (started), in m2. Parcels with problems are left out.
    """
    frame = pd.DataFrame(measured.drop(columns="geometry", errors="ignore"))
    if "problem" in frame:
        frame = frame[frame["problem"].isna()]
    land_column = "counted_mu" if "counted_mu" in frame else "area_mu"
    land = frame["use"].isin(LAND_USES)
    factory = frame["use"] == "standard_factory"
    frame = frame.assign(
        new_industrial_land=np.where(land, frame[land_column], 0.0),
        standard_factory_completed=np.where(factory & (frame["status"] == "completed"),
                                            frame["floor_area_effective_m2"], 0.0),
        standard_factory_started=np.where(factory & (frame["status"] == "under_construction"),
                                          frame["floor_area_effective_m2"], 0.0))
    keys = [target.key for target in TARGETS]
    if by is None:
        table = frame[keys].sum().to_frame().T
        table.insert(0, "scope", "city")
    else:
        table = frame.groupby(frame[by].fillna("(none)"))[keys].sum().reset_index().rename(columns={by: "scope"})
    rows = [{"scope": row["scope"], "target": target.key, "achieved": float(row[target.key]),
             "target_value": target.value, "unit": target.unit, "share": float(row[target.key]) / target.value,
             "fact_id": target.fact_id}
            for _, row in table.iterrows() for target in TARGETS]
    return pd.DataFrame(rows, columns=["scope", "target", "achieved", "target_value", "unit", "share", "fact_id"])


def compare(first: gpd.GeoDataFrame, second: gpd.GeoDataFrame, *, by: str) -> pd.DataFrame:
    """Two measured scenarios side by side: achievement per ``by`` scope and target, and the
    difference (second minus first)."""
    a = progress(first, by=by)[["scope", "target", "achieved"]].rename(columns={"achieved": "first"})
    b = progress(second, by=by)[["scope", "target", "achieved"]].rename(columns={"achieved": "second"})
    both = a.merge(b, on=["scope", "target"], how="outer").fillna({"first": 0.0, "second": 0.0})
    both["difference"] = both["second"] - both["first"]
    return both.sort_values(["scope", "target"], ignore_index=True)


# ----------------------------------------------------------------------------- one export

EXPORT_COLUMNS: tuple[str, ...] = (
    "parcel_id", "number", "name", "status", "use", "area_m2", "area_ha", "area_mu", "counted_m2", "counted_mu",
    "overlaps_with", "district_id", "district_name_en", "district_name_zh", "hub_id", "hub_name_en",
    "hub_name_zh", "park_id", "park_name_en", "park_name_zh", "park_share", "floor_area_m2", "plot_ratio",
    "floor_area_effective_m2", "scenario", "scenario_version")


def export_table(measured: gpd.GeoDataFrame, *, scenario: str, version: int | None,
                 snapshot: Snapshot) -> gpd.GeoDataFrame:
    """The parcels layer as every export writes it: geometry plus every measured column, with
    district, hub and park names in both languages. Parcels with problems are left out (they
    are not valid WGS84 outlines); ``.attrs["left_out"]`` lists them."""
    ok = usable(measured)
    out = gpd.GeoDataFrame(ok[[c for c in EXPORT_COLUMNS if c in ok]].copy(), geometry=ok.geometry.values,
                           crs=4326)
    for layer, key, prefix in ((snapshot.districts, "district_id", "district"), (snapshot.hubs, "hub_id", "hub"),
                               (snapshot.parks, "park_id", "park")):
        for lang in ("en", "zh"):
            names = dict(zip(layer[key], layer[f"name_{lang}"], strict=False))
            out[f"{prefix}_name_{lang}"] = out[key].map(names)
    out["scenario"] = scenario
    out["scenario_version"] = version
    out = out[[*EXPORT_COLUMNS, "geometry"]].reset_index(drop=True)
    out.attrs["left_out"] = [f"{n}: {m}" for n, m in zip(measured.loc[measured["problem"].notna(), "number"],
                                                          measured.loc[measured["problem"].notna(), "problem_message"],
                                                          strict=True)]
    return out


def export_scenario(parcels: gpd.GeoDataFrame, *, scenario: str, version: int | None, snapshot: Snapshot,
                    fmt: str = "geojson", datum: str = "wgs84") -> ExportedFile:
    """A scenario's parcels as a file, measured: the one export behind the Planner's download,
    the Export page and ``python -m geo scenario export``."""
    measured = measure_parcels(parcels, parks=snapshot.parks, districts=snapshot.districts, hubs=snapshot.hubs)
    table = export_table(measured, scenario=scenario, version=version, snapshot=snapshot)
    used = {"plan"} | snapshot.source_ids_of("districts") | snapshot.source_ids_of("parks")
    sources = [{"source_id": "planner", "publisher": "planner scenario", "title": scenario,
                "version": version, "left_out": table.attrs["left_out"]},
               *source_records(snapshot.sources, used)]
    metadata = _metadata(scenario, version, snapshot, sources)
    return export_frame(table, fmt=fmt, datum=datum, metadata=metadata, id_column="parcel_id")


def _metadata(scenario: str, version: int | None, snapshot: Snapshot, sources: list | None = None) -> ExportMetadata:
    return ExportMetadata(layer=f"parcels_{scenario}_v{version}", snapshot_version=snapshot.version,
                          sources=sources or [],
                          licence="parcels: as licensed by their author; districts and parks: see sources")


def export_scenario_filename(scenario: str, *, version: int | None, snapshot: Snapshot, fmt: str = "geojson",
                             datum: str = "wgs84") -> str:
    """The file name ``export_scenario`` gives its file (known before the file is built)."""
    return export_filename(_metadata(scenario, version, snapshot), fmt=fmt, datum=datum)
