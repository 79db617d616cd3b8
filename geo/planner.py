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

from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.export import ExportedFile, ExportMetadata, export_filename, export_frame, source_records
from geo.measure import M2_PER_MU
from geo.parcel_geometry import (  # noqa: F401  re-exported: the planner's public names
    MIN_OVERLAP_M2, GeometryMeasures, OverlapPairs, geometry_key, measure_geometries, union_area_m2)
from geo.parcels import (  # noqa: F401  re-exported: the planner's public names
    DEFAULT_PLOT_RATIO, LAND_USES, MAX_PARCELS, PARCEL_COLUMNS, STATUSES, USES, ParcelError, empty_parcels,
    diagnose_parcels, new_parcel_id, normalise, parcel_problems, parcels_from_features, parcels_from_geojson,
    parcels_from_layer, parcels_to_geojson)
from geo.snapshot import Snapshot


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
    first, second, m2 = geometry.pairs.a, geometry.pairs.b, geometry.pairs.overlap_m2
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
