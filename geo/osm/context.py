"""The site context around the parks from OpenStreetMap: hospitals (tertiary where tagged or
named), metro stations, universities, research institutes and airports, with distances in metres
(``geo.projection.local_metric``), and the metadata their exports carry (ODbL).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.errors import OSMQueryError
from geo.measure import repair_geometries
from geo.osm.read import OSM_ATTRIBUTION, OSM_COPYRIGHT_URL, _as_objects
from geo.projection import local_metric

CONTEXT_KINDS: tuple[str, ...] = ("hospital", "metro_station", "university", "research_institute",
                                  "airport")
DEFAULT_CONTEXT_RADII_M: dict[str, float] = {
    "hospital": 5_000.0, "metro_station": 3_000.0, "university": 5_000.0,
    "research_institute": 5_000.0, "airport": 60_000.0,
}
TERTIARY_TAG_KEYS: tuple[str, ...] = ("hospital:grade", "hospital:level", "healthcare:level",
                                      "hospital:class", "grade")
_TERTIARY_VALUE = re.compile(r"三级|三甲|tertiary|^\s*3", re.IGNORECASE)
_TERTIARY_NAME = re.compile(r"三甲|三级")
_CJK = re.compile(r"[\u3400-\u9fff]")

def _column(features: pd.DataFrame, key: str) -> NDArray[np.object_]:
    if key in features.columns:
        return features[key].to_numpy(dtype=object)
    return np.full(len(features), None, dtype=object)


def classify_context(features: gpd.GeoDataFrame) -> tuple[NDArray[np.object_], NDArray[np.bool_],
                                                          NDArray[np.object_]]:
    """The context kind of each feature (None if it is none of ``CONTEXT_KINDS``), whether it
    is a tertiary hospital, and the tag or name that says so."""
    amenity, healthcare = _column(features, "amenity"), _column(features, "healthcare")
    railway, station = _column(features, "railway"), _column(features, "station")
    subway, office = _column(features, "subway"), _column(features, "office")
    aeroway, public_transport = _column(features, "aeroway"), _column(features, "public_transport")
    hospital = (amenity == "hospital") | (healthcare == "hospital")
    metro = ((np.isin(railway, ["station", "halt"]) & ((station == "subway") | (subway == "yes")))
             | ((public_transport == "station") & ((station == "subway") | (subway == "yes"))))
    university = amenity == "university"
    research = (amenity == "research_institute") | (office == "research")
    airport = aeroway == "aerodrome"
    kind = np.select([hospital, metro, university, research, airport],
                     ["hospital", "metro_station", "university", "research_institute", "airport"],
                     "").astype(object)
    kind[kind == ""] = None

    tertiary = np.zeros(len(features), dtype=bool)
    evidence = np.full(len(features), None, dtype=object)
    for key in TERTIARY_TAG_KEYS:
        values = _column(features, key)
        hit = hospital & ~tertiary & np.array(
            [isinstance(v, str) and bool(_TERTIARY_VALUE.search(v)) for v in values], dtype=bool)
        evidence[hit] = [f"{key}={v}" for v in values[hit]]
        tertiary |= hit
    for key in ("name", "name:zh", "official_name"):
        values = _column(features, key)
        hit = hospital & ~tertiary & np.array(
            [isinstance(v, str) and bool(_TERTIARY_NAME.search(v)) for v in values], dtype=bool)
        evidence[hit] = [f"{key} contains {_TERTIARY_NAME.search(v).group(0)}" for v in values[hit]]
        tertiary |= hit
    return kind, tertiary, evidence


def _split_names(features: pd.DataFrame) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    name = _column(features, "name")
    zh = _column(features, "name:zh").copy()
    en = _column(features, "name:en").copy()
    is_cjk = np.array([isinstance(v, str) and bool(_CJK.search(v)) for v in name], dtype=bool)
    has_name = np.array([isinstance(v, str) and bool(v) for v in name], dtype=bool)
    missing_zh = np.array([not isinstance(v, str) or not v for v in zh], dtype=bool)
    missing_en = np.array([not isinstance(v, str) or not v for v in en], dtype=bool)
    zh[missing_zh & is_cjk] = name[missing_zh & is_cjk]
    en[missing_en & has_name & ~is_cjk] = name[missing_en & has_name & ~is_cjk]
    return zh, en


def context_layers(features: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, *,
                   radius_m: float | Mapping[str, float] | None = None,
                   kinds: Sequence[str] = CONTEXT_KINDS) -> gpd.GeoDataFrame:
    """Hospitals, metro stations, universities, research institutes and airports near each park.

    Parameters
    ----------
    features : GeoDataFrame
        From ``read_osm_file`` or ``fetch_osm`` (EPSG:4326).
    parks : GeoDataFrame
        ``park_id`` and the park outlines (EPSG:4326).
    radius_m : float or mapping kind -> float, optional
        How far from the park's outline to look; one figure for every kind, or one per kind.
        Defaults to ``DEFAULT_CONTEXT_RADII_M`` (5 km; metro 3 km; airports 60 km).
    kinds : sequence of str
        Which of ``CONTEXT_KINDS`` to list.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per (park, feature) within the radius, sorted by park, kind and distance:
        park_id, kind, name_zh, name_en, name, tertiary (hospitals), tertiary_evidence,
        distance_m (0 inside the park; measured in a local transverse Mercator projection),
        osm_id, osm_type, osm_version, osm_timestamp, attribution, and a point geometry (the
        feature itself, or a point on its surface for areas).
    """
    unknown = [k for k in kinds if k not in CONTEXT_KINDS]
    if unknown:
        raise OSMQueryError(f"unknown context kind(s) {unknown}: use {', '.join(CONTEXT_KINDS)}")
    radii = dict(DEFAULT_CONTEXT_RADII_M)
    if isinstance(radius_m, Mapping):
        bad = [k for k in radius_m if k not in CONTEXT_KINDS]
        if bad:
            raise OSMQueryError(f"radius_m names unknown kind(s) {bad}: use {', '.join(CONTEXT_KINDS)}")
        radii.update({k: float(v) for k, v in radius_m.items()})
    elif radius_m is not None:
        radii = dict.fromkeys(CONTEXT_KINDS, float(radius_m))
    if any(not np.isfinite(v) or v < 0 for v in radii.values()):
        raise OSMQueryError(f"radius_m must be a non-negative number of metres, not {radius_m!r}")

    kind, tertiary, evidence = classify_context(features)
    keep = np.isin(kind.astype(str), list(kinds)) & ~shapely.is_empty(
        np.asarray(features.geometry.values, dtype=object))
    if not keep.any() or parks.empty:
        return _empty_context()
    chosen = features[keep].reset_index(drop=True)
    kind, tertiary, evidence = kind[keep], tertiary[keep], evidence[keep]
    geoms = np.asarray(chosen.geometry.values, dtype=object)
    points = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))

    park_geoms, _ = repair_geometries(parks.geometry.values)
    plane = local_metric(park_geoms)
    local_parks = plane.to_metres(park_geoms)
    local_points = plane.to_metres(points)
    feature_radius = np.array([radii[k] for k in kind], dtype=np.float64)
    tree = shapely.STRtree(local_points)
    park_pos, point_pos = tree.query(local_parks, predicate="dwithin", distance=float(feature_radius.max()))
    distance = shapely.distance(local_parks[park_pos], local_points[point_pos])
    near = distance <= feature_radius[point_pos]
    park_pos, point_pos, distance = park_pos[near], point_pos[near], distance[near]

    zh, en = _split_names(chosen)
    table = pd.DataFrame({
        "park_id": parks["park_id"].to_numpy(dtype=object)[park_pos],
        "kind": kind[point_pos],
        "name_zh": zh[point_pos], "name_en": en[point_pos],
        "name": _column(chosen, "name")[point_pos],
        "tertiary": tertiary[point_pos], "tertiary_evidence": evidence[point_pos],
        "distance_m": np.round(distance, 1),
        "osm_id": chosen["osm_id"].to_numpy(dtype=object)[point_pos],
        "osm_type": chosen["osm_type"].to_numpy(dtype=object)[point_pos],
        "osm_version": pd.array(chosen["osm_version"], dtype="Int64")[point_pos],
        "osm_timestamp": chosen["osm_timestamp"].to_numpy(dtype=object)[point_pos],
        "attribution": OSM_ATTRIBUTION,
    })
    table = _as_objects(table, ["park_id", "kind", "name_zh", "name_en", "name", "tertiary_evidence",
                                "osm_id", "osm_type", "osm_timestamp", "attribution"])
    table["geometry"] = points[point_pos]
    order = {k: i for i, k in enumerate(CONTEXT_KINDS)}
    table["_order"] = table["kind"].map(order)
    table = (table.sort_values(["park_id", "_order", "distance_m", "osm_id"], kind="stable")
             .drop(columns="_order").reset_index(drop=True))
    out = gpd.GeoDataFrame(table, geometry="geometry", crs=4326)
    out.attrs = {"attribution": OSM_ATTRIBUTION, "source": features.attrs.get("source"),
                 "radii_m": {k: radii[k] for k in kinds}}
    return out


def _empty_context() -> gpd.GeoDataFrame:
    columns = ["park_id", "kind", "name_zh", "name_en", "name", "tertiary", "tertiary_evidence",
               "distance_m", "osm_id", "osm_type", "osm_version", "osm_timestamp", "attribution"]
    return gpd.GeoDataFrame({c: pd.Series([], dtype=object) for c in columns},
                            geometry=gpd.GeoSeries([], crs=4326), crs=4326)


def context_summary(context: pd.DataFrame) -> pd.DataFrame:
    """Per park and kind: how many features, how many tertiary, and the nearest (name, metres)."""
    if context.empty:
        return pd.DataFrame(columns=["park_id", "kind", "count", "tertiary", "nearest_m", "nearest_name"])
    first = context.sort_values("distance_m", kind="stable").groupby(["park_id", "kind"], sort=True).first()
    counts = context.groupby(["park_id", "kind"], sort=True).agg(
        count=("osm_id", "size"), tertiary=("tertiary", "sum"))
    names = first["name_zh"].where(first["name_zh"].notna(), first["name_en"])
    return counts.assign(nearest_m=first["distance_m"], nearest_name=names).reset_index()


def context_export_metadata(context: gpd.GeoDataFrame, *, snapshot_version: str,
                            layer: str = "osm_context") -> Any:
    """``geo.export.ExportMetadata`` for a context layer: ODbL licence and the OSM source."""
    from geo.export import ExportMetadata

    source = {"source_id": "osm", "publisher": "OpenStreetMap contributors",
              "title": f"OpenStreetMap data ({context.attrs.get('source') or 'extract'})",
              "date": None, "url": OSM_COPYRIGHT_URL}
    return ExportMetadata(layer=layer, snapshot_version=snapshot_version, sources=[source],
                          licence=f"{OSM_ATTRIBUTION} ({OSM_COPYRIGHT_URL})", licence_ids=("osm",))
