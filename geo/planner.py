"""Planner parcels: geodesic measurement, assignment to district/hub/park, and progress
against the plan's land and factory-space targets.

Targets (Action Plan 2024-2026, item 30): at least 3,000 mu of new industrial land, 1.2 million
m2 of standard factory buildings completed and 1.8 million m2 more started.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.datums import convert_geometries
from geo.errors import GeoError
from geo.joins import assign_areas
from geo.measure import M2_PER_MU, areas

STATUSES: tuple[str, ...] = ("planned", "under_construction", "completed")
USES: tuple[str, ...] = ("industrial_land", "standard_factory", "other")
LAND_USES: tuple[str, ...] = ("industrial_land", "standard_factory")
PARCEL_COLUMNS: tuple[str, ...] = ("parcel_id", "name", "status", "use", "floor_area_m2", "plot_ratio")
DEFAULT_PLOT_RATIO = 2.0
MAX_PARCELS = 2_000


class ParcelError(GeoError, ValueError):
    """A parcel that cannot be used: not a polygon, bad status, use or floor figures."""


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


def new_parcel_id() -> str:
    return uuid.uuid4().hex[:12]


def parcels_from_features(features: list[dict[str, Any]], *, datum: str = "wgs84") -> gpd.GeoDataFrame:
    """Parcels from GeoJSON features (drawn on the map or uploaded), in WGS84.

    Features drawn on a GCJ-02 basemap come back in GCJ-02: pass ``datum="gcj02"`` so they are
    converted before anything is measured. Non-polygon features are refused.
    """
    rows, geoms = [], []
    for number, feature in enumerate(features, start=1):
        geometry = shapely.geometry.shape(feature.get("geometry") or {}) if feature.get("geometry") else None
        if geometry is None or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            kind = geometry.geom_type if geometry is not None else "no geometry"
            raise ParcelError(f"feature {number} is a {kind}; parcels must be polygons "
                              "(draw them with the polygon or rectangle tool)")
        props = dict(feature.get("properties") or {})
        rows.append({c: props.get(c) for c in PARCEL_COLUMNS})
        geoms.append(geometry)
    frame = pd.DataFrame(rows, columns=list(PARCEL_COLUMNS))
    converted = convert_geometries(np.array(geoms, dtype=object), source=datum, target="wgs84") if geoms else []
    return normalise(gpd.GeoDataFrame(frame, geometry=list(converted), crs=4326))


def normalise(parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill defaults (id, name, status, use, plot ratio) and check every value."""
    if len(parcels) > MAX_PARCELS:
        raise ParcelError(f"{len(parcels)} parcels in one scenario; the limit is {MAX_PARCELS}")
    out = parcels.copy()
    for column in PARCEL_COLUMNS:
        if column not in out:
            out[column] = None
    out["parcel_id"] = [p if isinstance(p, str) and p else new_parcel_id() for p in out["parcel_id"]]
    out["name"] = [str(n) if n not in (None, "") and n == n else f"Parcel {i + 1}"
                   for i, n in enumerate(out["name"])]
    out["status"] = _choices(out["status"], STATUSES, "planned", "status")
    out["use"] = _choices(out["use"], USES, "standard_factory", "use")
    out["floor_area_m2"] = _non_negative(out["floor_area_m2"], "floor_area_m2", allow_missing=True)
    ratio = _non_negative(out["plot_ratio"], "plot_ratio", allow_missing=True)
    out["plot_ratio"] = np.where(np.isnan(ratio), DEFAULT_PLOT_RATIO, ratio)
    return out[[*PARCEL_COLUMNS, "geometry"]]


def _choices(values: pd.Series, allowed: tuple[str, ...], default: str, name: str) -> list[str]:
    out = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
            out.append(default)
        elif value in allowed:
            out.append(value)
        else:
            raise ParcelError(f"unknown parcel {name} {value!r}: use one of {', '.join(allowed)}")
    return out


def _non_negative(values: pd.Series, name: str, *, allow_missing: bool) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    given = values.notna().to_numpy() & (values.astype(str).str.strip() != "").to_numpy()
    unreadable = given & np.isnan(numbers)
    if unreadable.any():
        raise ParcelError(f"{name} {values[unreadable].iloc[0]!r} is not a number")
    if (numbers[~np.isnan(numbers)] < 0).any():
        raise ParcelError(f"{name} must not be negative, got {numbers[numbers < 0][0]!r}")
    if not allow_missing and np.isnan(numbers).any():
        raise ParcelError(f"{name} is missing")
    return numbers


def measure_parcels(parcels: gpd.GeoDataFrame, *, parks: gpd.GeoDataFrame,
                    districts: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add geodesic areas (m2, ha, mu), the district/hub/park each parcel lies in (by the point
    on its surface), and the floor area used for the targets (given, else land x plot ratio).

    The repair report of invalid parcels is in ``.attrs["repairs"]``.
    """
    parcels = normalise(parcels)
    area_m2 = areas(parcels, unit="m2")
    out = parcels.copy()
    out["area_m2"] = area_m2.to_numpy().round(1)
    out["area_ha"] = (area_m2.to_numpy() / 10_000).round(4)
    out["area_mu"] = (area_m2.to_numpy() / M2_PER_MU).round(2)
    joined = assign_areas(out, parks=parks, districts=districts, hubs=hubs)
    out["district_id"] = joined["district_id_joined"].to_numpy()
    out["hub_id"] = joined["hub_id_joined"].to_numpy()
    out["park_id"] = joined["park_id_joined"].to_numpy()
    given = out["floor_area_m2"].to_numpy(dtype=float)
    out["floor_area_effective_m2"] = np.where(np.isnan(given), out["area_m2"] * out["plot_ratio"], given).round(1)
    out.attrs["repairs"] = area_m2.attrs["repairs"]
    return out


def progress(measured: gpd.GeoDataFrame | pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Totals against the plan's targets, for the city (``by=None``) or per ``by`` (e.g. hub_id).

    New industrial land counts the land of every industrial or factory parcel; factory space
    counts the floor area of standard-factory parcels completed, and under construction.
    """
    frame = pd.DataFrame(measured.drop(columns="geometry", errors="ignore"))
    land = frame["use"].isin(LAND_USES)
    factory = frame["use"] == "standard_factory"
    frame["new_industrial_land"] = np.where(land, frame["area_mu"], 0.0)
    frame["standard_factory_completed"] = np.where(
        factory & (frame["status"] == "completed"), frame["floor_area_effective_m2"], 0.0)
    frame["standard_factory_started"] = np.where(
        factory & (frame["status"] == "under_construction"), frame["floor_area_effective_m2"], 0.0)
    keys = [target.key for target in TARGETS]
    if by is None:
        totals = frame[keys].sum().to_frame().T
        totals.insert(0, "scope", "city")
    else:
        totals = frame.groupby(frame[by].fillna("(none)"))[keys].sum().reset_index()
        totals = totals.rename(columns={by: "scope"})
    rows = []
    for _, row in totals.iterrows():
        for target in TARGETS:
            achieved = float(row[target.key])
            rows.append({"scope": row["scope"], "target": target.key, "achieved": achieved,
                         "target_value": target.value, "unit": target.unit,
                         "share": achieved / target.value, "fact_id": target.fact_id})
    return pd.DataFrame(rows)


def parcels_to_geojson(parcels: gpd.GeoDataFrame) -> str:
    """Parcels as a GeoJSON FeatureCollection string (WGS84), for storage and the Draw layer."""
    columns = [c for c in PARCEL_COLUMNS if c in parcels]
    frame = parcels[[*columns, "geometry"]].copy()
    frame["floor_area_m2"] = frame["floor_area_m2"].astype(float)
    return frame.to_json(na="null", drop_id=True)


def parcels_from_geojson(text: str) -> gpd.GeoDataFrame:
    document = json.loads(text)
    return parcels_from_features(document.get("features", []), datum="wgs84")


def parcels_from_layer(layer: gpd.GeoDataFrame, *, name_column: str | None = None) -> gpd.GeoDataFrame:
    """Planner parcels from the polygons of an imported layer (WGS84); other geometries are left out.

    Raises
    ------
    ParcelError
        If the layer has no polygons.
    """
    types = shapely.get_type_id(np.asarray(layer.geometry.values, dtype=object))
    polygons = layer[np.isin(types, [3, 6])]
    if polygons.empty:
        raise ParcelError("the layer has no polygons: parcels must be polygons (points and lines cannot be parcels)")
    names = polygons[name_column].astype(str).str.slice(0, 120) if name_column in polygons else None
    frame = gpd.GeoDataFrame({"name": names.to_numpy() if names is not None else [None] * len(polygons)},
                             geometry=polygons.geometry.to_numpy(), crs=4326)
    return normalise(frame)
