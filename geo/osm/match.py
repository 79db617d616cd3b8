"""Matching the snapshot's parks to OpenStreetMap areas: name (Chinese or English, normalised),
tags (``landuse=industrial`` ...) and location (overlap, distance, plausible area), with the diff
of replacing the outline.

Replacing a park's outline is the job of ``geo.osm_store``, which never does it silently and
keeps the old outline. Distances are measured in ``geo.projection.local_metric``, areas and
overlaps on the ellipsoid (``geo.measure``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.errors import OSMMatchError
from geo.measure import areas, repair_geometries
from geo.osm.read import NAME_KEYS, OSM_ATTRIBUTION, _as_objects
from geo.projection import local_metric
from geo.shapes import is_drawn

# How a candidate's score is made (weights add up to 1).
MATCH_WEIGHTS: dict[str, float] = {"name": 0.45, "tags": 0.15, "location": 0.25, "area": 0.15}
TAG_SCORES: dict[tuple[str, str | None], float] = {
    ("landuse", "industrial"): 1.0, ("industrial", None): 0.8, ("landuse", "commercial"): 0.5,
    ("landuse", "retail"): 0.3, ("landuse", "construction"): 0.3, ("landuse", "brownfield"): 0.3,
}

def normalise_name(value: object) -> str:
    """A name reduced for comparison: NFKC, case-folded, without spaces and punctuation."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFKC", value).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _name_variants(value: object) -> set[str]:
    if not isinstance(value, str) or not value.strip():
        return set()
    text = unicodedata.normalize("NFKC", value)
    variants = {normalise_name(text), normalise_name(re.sub(r"\([^)]*\)", "", text))}
    return {v for v in variants if v}


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def name_similarity(a: str, b: str) -> float:
    """Similarity of two normalised names in [0, 1]: 1 equal; 0.7-1 when one contains the
    other (at least 3 characters); else the Dice coefficient of their character bigrams."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 3 and short in long_:
        return 0.7 + 0.3 * len(short) / len(long_)
    x, y = _bigrams(a), _bigrams(b)
    return 2.0 * len(x & y) / (len(x) + len(y))


def _feature_names(features: pd.DataFrame, positions: NDArray[np.intp]) -> list[list[str]]:
    columns = [c for c in NAME_KEYS if c in features.columns]
    values = features[columns].to_numpy(dtype=object)[positions] if columns else np.empty((len(positions), 0))
    return [[v for v in row if isinstance(v, str) and v] for row in values]


def _tag_scores(features: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    score = np.zeros(len(features), dtype=np.float64)
    label = np.full(len(features), "", dtype=object)
    for (key, value), points in sorted(TAG_SCORES.items(), key=lambda item: item[1]):
        if key not in features.columns:
            continue
        column = features[key].to_numpy(dtype=object)
        hit = np.array([v is not None for v in column]) if value is None else column == value
        hit &= points > score
        score[hit] = points
        label[hit] = [f"{key}={v}" for v in column[hit]]
    return score, label


def park_row(parks: gpd.GeoDataFrame, park_id: str) -> pd.Series:
    """The row of ``park_id`` in ``parks``; ``OSMMatchError`` listing the known ids if there is none."""
    chosen = parks[parks["park_id"] == park_id]
    if chosen.empty:
        raise OSMMatchError(f"no park {park_id!r}: use one of {', '.join(map(str, parks['park_id']))}")
    return chosen.iloc[0]


def _polygonal(features: gpd.GeoDataFrame) -> NDArray[np.bool_]:
    geoms = np.asarray(features.geometry.values, dtype=object)
    return np.isin(shapely.get_type_id(geoms), [3, 6]) & ~shapely.is_empty(geoms)


def match_parks(features: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, *,
                search_radius_m: float = 3_000.0, max_candidates: int = 5,
                min_score: float = 0.0, park_ids: Sequence[str] | None = None,
                districts: gpd.GeoDataFrame | None = None,
                min_name_score_unlocated: float = 0.6) -> gpd.GeoDataFrame:
    """Rank the OSM areas that could be each park's boundary, with the diff of replacing it.

    A candidate is an OSM polygon or multipolygon within ``search_radius_m`` of the park's
    current outline. Its score (0-1) weighs ``MATCH_WEIGHTS``: name (park ``name_zh`` /
    ``name_en`` against the OSM name tags, normalised), tags (``TAG_SCORES``: landuse=industrial
    scores highest), location (overlap as intersection over union, else nearness) and area
    (closeness to the park's official area).

    A park without an outline (tier ``unlocated``) has no location to compare: with
    ``districts`` given, its candidates are the OSM areas in its district whose name scores at
    least ``min_name_score_unlocated``, scored on name, tags and area (location scores 0); their
    confidence is at most "medium", since nothing but a name ties them to the park.

    Parameters
    ----------
    features : GeoDataFrame
        From ``read_osm_file`` or ``fetch_osm`` (EPSG:4326); non-polygon features are ignored.
    parks : GeoDataFrame
        The snapshot's parks (``park_id``, ``name_zh``, ``name_en``, ``geometry_tier``,
        ``official_area_km2`` and ``district_id`` if present), EPSG:4326.
    search_radius_m : float
        How far from the park's outline a candidate may lie.
    max_candidates : int
        Candidates kept per park, best first.
    min_score : float
        Candidates scoring less are dropped.
    park_ids : sequence of str, optional
        Only these parks.
    districts : GeoDataFrame, optional
        District polygons (``district_id``, EPSG:4326): the search area of parks without an
        outline. Without it such parks get no candidates.
    min_name_score_unlocated : float
        The name agreement (0-1) a candidate for a park without an outline needs.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per (park, candidate), ordered by score (best first, and so best first within
        each park), geometry = the OSM outline. Columns: park_id, park_name_zh, park_name_en,
        rank, score, confidence (high/medium/low), name_score, matched_name, tag_score,
        matched_tag, location_score, area_score, distance_m, overlap_iou, overlap_of_park,
        overlap_of_osm, area_before_m2, area_before_km2, area_after_m2, area_after_km2,
        area_change_pct, official_area_km2, tier_before, osm_id, osm_type, osm_ref,
        osm_version, osm_timestamp, osm_name. For a park without an outline the "before"
        figures, distance and overlaps are empty (NaN) or 0.
    """
    if features.crs is not None and not features.crs.equals("EPSG:4326"):
        raise OSMMatchError(f"OSM features are in {features.crs.to_string()!r}: OSM data is WGS84, "
                            "pass the frame as read (EPSG:4326)")
    chosen_parks = parks if park_ids is None else parks[parks["park_id"].isin(list(park_ids))]
    if park_ids is not None:
        for park_id in park_ids:
            park_row(parks, park_id)
    chosen_parks = chosen_parks.reset_index(drop=True)
    polygonal = features[_polygonal(features)].reset_index(drop=True)
    if chosen_parks.empty or polygonal.empty:
        return _empty_matches()

    park_geoms, _ = repair_geometries(chosen_parks.geometry.values)
    osm_geoms = np.asarray(polygonal.geometry.values, dtype=object)
    drawn = is_drawn(park_geoms)
    tree = shapely.STRtree(osm_geoms)
    park_pos, osm_pos, distance = _pairs_near_outlines(park_geoms, drawn, osm_geoms, tree,
                                                       search_radius_m=search_radius_m)
    park_names = [_name_variants(zh) | _name_variants(en)
                  for zh, en in zip(chosen_parks["name_zh"], chosen_parks["name_en"], strict=True)]
    name_score, matched_name, osm_names = _name_scores(park_names, polygonal, park_pos, osm_pos)
    if districts is not None and (~drawn).any() and "district_id" in chosen_parks:
        extra_park, extra_osm = _pairs_in_districts(chosen_parks, ~drawn, districts, osm_geoms, tree)
        extra_score, extra_name, extra_names = _name_scores(park_names, polygonal, extra_park, extra_osm)
        keep = extra_score >= min_name_score_unlocated
        park_pos = np.concatenate([park_pos, extra_park[keep]])
        osm_pos = np.concatenate([osm_pos, extra_osm[keep]])
        distance = np.concatenate([distance, np.full(int(keep.sum()), np.nan)])
        name_score = np.concatenate([name_score, extra_score[keep]])
        matched_name = np.concatenate([matched_name, extra_name[keep]])
        osm_names += [names for names, kept in zip(extra_names, keep, strict=True) if kept]
    if park_pos.size == 0:
        return _empty_matches()
    intersecting = distance == 0.0  # NaN (no outline) is never "intersecting"

    # areas and overlaps on the ellipsoid (geo.measure), never in degrees
    park_area = np.where(drawn, areas(park_geoms, crs=4326).to_numpy(), np.nan)
    near_osm, inverse = np.unique(osm_pos, return_inverse=True)
    area_after = areas(osm_geoms[near_osm], crs=4326).to_numpy()[inverse]
    area_before = park_area[park_pos]
    overlap = np.zeros(len(park_pos), dtype=np.float64)
    if intersecting.any():
        inter = shapely.intersection(park_geoms[park_pos[intersecting]], osm_geoms[osm_pos[intersecting]])
        overlap[intersecting] = areas(inter, crs=4326).to_numpy()
    union = area_before + area_after - overlap
    iou = np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)
    of_park = np.divide(overlap, area_before, out=np.zeros_like(overlap), where=area_before > 0)
    of_osm = np.divide(overlap, area_after, out=np.zeros_like(overlap), where=area_after > 0)
    location = np.where(intersecting, 0.3 + 0.7 * iou,
                        np.nan_to_num(0.3 * (1.0 - distance / max(search_radius_m, 1.0)), nan=0.0))

    if "official_area_km2" in chosen_parks:
        official = pd.to_numeric(chosen_parks["official_area_km2"], errors="coerce").to_numpy() * 1e6
    else:
        official = np.full(len(chosen_parks), np.nan)
    reference = np.where(np.isfinite(official) & (official > 0), official, park_area)[park_pos]
    ratio = np.divide(area_after, reference, out=np.zeros_like(area_after), where=reference > 0)
    area_score = np.where(ratio > 0, np.exp(-np.abs(np.log(np.where(ratio > 0, ratio, 1.0)))), 0.0)

    tag_score_all, tag_label_all = _tag_scores(polygonal)
    tag_score, tag_label = tag_score_all[osm_pos], tag_label_all[osm_pos]


    weights = MATCH_WEIGHTS
    score = (weights["name"] * name_score + weights["tags"] * tag_score
             + weights["location"] * location + weights["area"] * area_score)
    confidence = np.select([score >= 0.7, score >= 0.45], ["high", "medium"], "low").astype(object)
    confidence[np.isnan(distance) & (confidence == "high")] = "medium"  # a name, never a location
    first_name = np.array([n[0] if n else None for n in osm_names], dtype=object)
    tier = chosen_parks["geometry_tier"].to_numpy(dtype=object) if "geometry_tier" in chosen_parks \
        else np.full(len(chosen_parks), None, dtype=object)
    table = pd.DataFrame({
        "park_id": chosen_parks["park_id"].to_numpy(dtype=object)[park_pos],
        "park_name_zh": chosen_parks["name_zh"].to_numpy(dtype=object)[park_pos],
        "park_name_en": chosen_parks["name_en"].to_numpy(dtype=object)[park_pos],
        "rank": 0, "score": np.round(score, 4), "confidence": confidence,
        "name_score": np.round(name_score, 4), "matched_name": matched_name,
        "tag_score": tag_score, "matched_tag": np.where(tag_label == "", None, tag_label),
        "location_score": np.round(location, 4), "area_score": np.round(area_score, 4),
        "distance_m": np.round(distance, 1), "overlap_iou": iou, "overlap_of_park": of_park,
        "overlap_of_osm": of_osm, "area_before_m2": area_before, "area_before_km2": area_before / 1e6,
        "area_after_m2": area_after, "area_after_km2": area_after / 1e6,
        "area_change_pct": np.divide(area_after - area_before, area_before,
                                     out=np.full_like(area_after, np.nan), where=area_before > 0) * 100,
        "official_area_km2": official[park_pos] / 1e6, "tier_before": tier[park_pos],
        "osm_id": polygonal["osm_id"].to_numpy(dtype=object)[osm_pos],
        "osm_type": polygonal["osm_type"].to_numpy(dtype=object)[osm_pos],
        "osm_ref": polygonal["osm_ref"].to_numpy()[osm_pos],
        "osm_version": pd.array(polygonal["osm_version"], dtype="Int64")[osm_pos],
        "osm_timestamp": polygonal["osm_timestamp"].to_numpy(dtype=object)[osm_pos],
        "osm_name": first_name,
    })
    table = _as_objects(table, ["park_id", "park_name_zh", "park_name_en", "confidence", "matched_name",
                                "matched_tag", "tier_before", "osm_id", "osm_type", "osm_timestamp",
                                "osm_name"])
    table["geometry"] = osm_geoms[osm_pos]
    table = table[table["score"] >= min_score]
    table = table.sort_values(["score", "park_id", "osm_id"], ascending=[False, True, True], kind="stable")
    table["rank"] = table.groupby("park_id").cumcount() + 1
    table = table[table["rank"] <= max_candidates].reset_index(drop=True)
    out = gpd.GeoDataFrame(table, geometry="geometry", crs=4326)
    out.attrs = {"attribution": OSM_ATTRIBUTION, "source": features.attrs.get("source")}
    return out


def _pairs_near_outlines(park_geoms: NDArray[np.object_], drawn: NDArray[np.bool_],
                         osm_geoms: NDArray[np.object_], tree: shapely.STRtree, *,
                         search_radius_m: float) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """(park, OSM area, distance in metres) for every OSM area near a drawn park's outline."""
    none = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float64))
    if not drawn.any():
        return none
    positions = np.flatnonzero(drawn)
    geoms = park_geoms[positions]
    # cheap prefilter in degrees, then exact distances in a local metric projection
    pad_lat = search_radius_m / 110_000.0
    pad_lon = search_radius_m / (110_000.0 * max(math.cos(math.radians(
        float(np.nanmean(shapely.bounds(geoms)[:, [1, 3]])))), 0.2))
    boxes = shapely.box(*(shapely.bounds(geoms) + [-pad_lon, -pad_lat, pad_lon, pad_lat]).T)
    local_pos, osm_pos = tree.query(boxes, predicate="intersects")
    if local_pos.size == 0:
        return none
    plane = local_metric(geoms)
    local_parks = plane.to_metres(geoms)
    near_osm = np.unique(osm_pos)
    local_osm = plane.to_metres(osm_geoms[near_osm])
    lookup = np.full(len(osm_geoms), -1, dtype=np.intp)
    lookup[near_osm] = np.arange(len(local_osm))
    distance = shapely.distance(local_parks[local_pos], local_osm[lookup[osm_pos]])
    near = distance <= search_radius_m
    return positions[local_pos[near]], osm_pos[near], distance[near]


def _pairs_in_districts(parks: gpd.GeoDataFrame, undrawn: NDArray[np.bool_],
                        districts: gpd.GeoDataFrame, osm_geoms: NDArray[np.object_],
                        tree: shapely.STRtree) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """(park, OSM area) for every OSM area inside the district of a park without an outline."""
    by_id = dict(zip(districts["district_id"].astype(str), districts.geometry.values, strict=True))
    positions = [p for p in np.flatnonzero(undrawn) if str(parks["district_id"].iloc[p]) in by_id]
    if not positions:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    areas_ = np.array([by_id[str(parks["district_id"].iloc[p])] for p in positions], dtype=object)
    # a representative point inside the district, so an area on the border is counted once
    local_pos, osm_pos = tree.query(areas_, predicate="intersects")
    inside = shapely.contains(areas_[local_pos], shapely.point_on_surface(osm_geoms[osm_pos]))
    return np.asarray(positions, dtype=np.intp)[local_pos[inside]], osm_pos[inside]


def _name_scores(park_names: list[set[str]], polygonal: gpd.GeoDataFrame, park_pos: NDArray[np.intp],
                 osm_pos: NDArray[np.intp]) -> tuple[NDArray[np.float64], NDArray[np.object_], list[list[str]]]:
    """Best name agreement (0-1) of each (park, OSM area) pair, the OSM name that gave it, and
    each OSM area's names."""
    osm_names = _feature_names(polygonal, osm_pos)
    name_score = np.zeros(len(park_pos), dtype=np.float64)
    matched_name = np.full(len(park_pos), None, dtype=object)
    for i, (p, names) in enumerate(zip(park_pos, osm_names, strict=True)):
        best, best_name = 0.0, None
        for raw in names:
            for variant in _name_variants(raw):
                for target in park_names[p]:
                    value = name_similarity(variant, target)
                    if value > best:
                        best, best_name = value, raw
        name_score[i], matched_name[i] = best, best_name
    return name_score, matched_name, osm_names
def _empty_matches() -> gpd.GeoDataFrame:
    columns = ["park_id", "park_name_zh", "park_name_en", "rank", "score", "confidence", "name_score",
               "matched_name", "tag_score", "matched_tag", "location_score", "area_score", "distance_m",
               "overlap_iou", "overlap_of_park", "overlap_of_osm", "area_before_m2", "area_before_km2",
               "area_after_m2", "area_after_km2", "area_change_pct", "official_area_km2", "tier_before",
               "osm_id", "osm_type", "osm_ref", "osm_version", "osm_timestamp", "osm_name"]
    return gpd.GeoDataFrame({c: pd.Series([], dtype=object) for c in columns},
                            geometry=gpd.GeoSeries([], crs=4326), crs=4326)
