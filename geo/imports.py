"""Bring your own data: one entry point that turns uploaded bytes into a WGS84 layer, or refuses.

``read_upload`` takes the bytes of a GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ, CSV or XLSX
file and returns an :class:`ImportedLayer` in EPSG:4326, with notes on everything it repaired,
skipped (with row numbers) or suspects (points outside Beijing, swapped columns). Anything it
cannot import safely raises :class:`~geo.errors.ImportRefusedError` (or a subclass) with a message
that says what was found and what to do. It never takes a path or URL from the user, never lets
GDAL guess a driver from user bytes (only Shapefiles go through GDAL, from a private folder after
their parts are checked), and checks every limit in :data:`LIMITS` before the expensive step.

Why one module: it is one door, and its parts share one private record (``_Parsed``) and one set
of limits from sniffing to the finished layer. The formats' own parsing is already outside
(``geo.archives``, ``geo.gpkg``, ``geo.kml``, ``geo.tables``); what each ``_read_*`` keeps here is
the few lines that apply the door's limits and notes to it. Splitting readers from pipeline
would put the ``_Parsed`` contract in two places for no reader of the code's benefit.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from geo import archives, gpkg, kml, locate, tables
from geo.config import IMPORT_LIMITS, PARSE_CACHE_BYTES, ImportLimits
from geo.export import UPLOAD_LICENCE, ExportMetadata
from geo.errors import DatumRequiredError, ImportRefusedError, LimitExceededError, NoUsableRowsError, UnsafeFileError
from geo.geometry_check import diagnose, swap_axes as swapped_geometries
from geo.lru import ByteLRU
from geo.points import points as make_points
from geo.measure import RepairReport, repair_geometries

SourceFormat = Literal["geojson", "gpkg", "shapefile", "kml", "kmz", "csv", "xlsx"]
SUPPORTED_SUFFIXES: dict[str, str] = {
    ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".zip": "shapefile", ".kml": "kml",
    ".kmz": "kmz", ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx",
}
_REFUSED_SUFFIXES = {
    ".shp": "upload the .shp together with its .shx, .dbf (and .prj) in one .zip",
    ".xls": "save the workbook as .xlsx (Excel 2007 or later) and upload that",
    ".vrt": "GDAL virtual files can read other files on the server or open connections: refused",
    ".xlsm": "workbooks with macros are refused: save it as .xlsx",
}
_VRT_MARKERS = (b"<OGRVRTDataSource", b"<VRTDataset", b"/vsicurl", b"/vsizip", b"/vsimem")


LIMITS = IMPORT_LIMITS  # every limit of an import: geo.config.ImportLimits


@dataclass(frozen=True)
class ImportNote:
    level: Literal["info", "warning"]
    text: str


@dataclass(frozen=True)
class ImportedLayer:
    """An imported layer in WGS84 with what happened on the way in.

    ``frame`` keeps the file's attributes (column names made unique), ``source_row`` (the row's
    number as the user knows it: a CSV line, a spreadsheet row or a feature number) and geometry.
    """

    name: str
    frame: gpd.GeoDataFrame
    source_format: str
    source_datum: str
    notes: tuple[ImportNote, ...]
    skipped_rows: tuple[int, ...]
    sha256: str
    coordinates: tables.CoordinateColumns | None = None
    suggestion: tables.DatumSuggestion | None = None
    refused: tuple[tuple[int, str], ...] = ()  # (row number, reason) of every skipped row
    row_label: str = "feature"  # what a row number counts: feature, line or row
    located: locate.LocatedTable | None = None  # an address table: every row, placed or not

    @property
    def by_address(self) -> bool:
        """True for a table placed by its names and addresses (tiers in ``location_tier``)."""
        return self.located is not None

    @property
    def warnings(self) -> list[str]:
        return [note.text for note in self.notes if note.level == "warning"]


@dataclass(frozen=True)
class UploadInspection:
    """What a file is, before it is imported: the page uses it to ask for a datum and columns."""

    name: str
    source_format: str
    is_table: bool
    columns: tuple[str, ...]
    rows: int
    coordinates: tables.CoordinateColumns | None
    suggestion: tables.DatumSuggestion | None
    declared_crs: str | None
    address_columns: locate.AddressColumns | None = None  # a table of names/addresses, no coordinates

    @property
    def by_address(self) -> bool:
        """A table with a name or address column and no coordinate columns: located by address."""
        return bool(self.address_columns and self.address_columns.found
                    and not (self.coordinates and self.coordinates.found))


@dataclass
class _Parsed:
    source_format: str
    attributes: pd.DataFrame
    geometries: list[shapely.Geometry | None] | NDArray[np.object_] | None = None
    crs: CRS | None = None
    row_label: str = "feature"
    row_offset: int = 1
    problems: dict[int, str] = field(default_factory=dict)
    notes: list[ImportNote] = field(default_factory=list)
    numbers: dict[str, NDArray[np.float64]] = field(default_factory=dict)  # columns the reader parsed

    @property
    def is_table(self) -> bool:
        return self.geometries is None


def layer_name(filename: str) -> str:
    """A display name from an uploaded file's name: no folders, no control characters, 60 chars."""
    base = re.split(r"[\\/]", str(filename))[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    cleaned = "".join(ch for ch in stem if ch.isprintable()).strip()[:60]
    return cleaned or "import"


def _suffix(filename: str) -> str:
    return PurePosixPath(re.split(r"[\\/]", str(filename))[-1].lower()).suffix


def sniff_format(data: bytes, *, filename: str) -> str:
    """Decide the format from the bytes first and the file name second; refuse what does not match.

    Raises
    ------
    UnsafeFileError
        For GDAL virtual files, whatever their name.
    ImportRefusedError
        For unsupported formats, or content that contradicts the name.
    """
    suffix = _suffix(filename)
    if suffix in _REFUSED_SUFFIXES:
        error = UnsafeFileError if suffix == ".vrt" else ImportRefusedError
        raise error(f"{suffix} files cannot be imported: {_REFUSED_SUFFIXES[suffix]}")
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if any(marker in data[:65536] for marker in _VRT_MARKERS[:2]):
        raise UnsafeFileError(
            "the file is a GDAL virtual dataset (VRT), which can read other files on the server or open"
            " network connections: refused; upload the data itself (GeoJSON, GeoPackage, zipped Shapefile)")
    if head.startswith(gpkg.SQLITE_MAGIC):
        found = "gpkg"
    elif head.startswith((archives.ZIP_MAGIC, archives.EMPTY_ZIP_MAGIC)):
        found = {".xlsx": "xlsx", ".kmz": "kmz"}.get(suffix, "shapefile")
    elif head.startswith((b"{", b"[")):
        found = "geojson"
    elif head.startswith(b"<"):
        found = "kml"
    else:
        found = "csv"
    expected = SUPPORTED_SUFFIXES.get(suffix)
    if expected is None and suffix:
        raise ImportRefusedError(
            f"files ending in {suffix!r} are not supported: upload GeoJSON, GeoPackage, a zipped Shapefile,"
            " KML/KMZ, CSV or XLSX")
    if expected is not None and expected != found and not (expected == "geojson" and found == "csv"):
        if {expected, found} <= {"shapefile", "xlsx", "kmz"}:
            return expected
        raise ImportRefusedError(
            f"the file is called {layer_name(filename)!r}{suffix} but its content looks like {found.upper()}:"
            " check that you picked the right file, or rename it")
    if expected == "geojson" and found == "csv":
        raise ImportRefusedError("the file does not start with '{': it is not GeoJSON")
    return expected or found


# ---------------------------------------------------------------- readers


def _json_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)[:10_000]
    return value


_EPSG = re.compile(r"EPSG:+(\d{4,5})$", re.I)


def _geojson_crs(doc: dict[str, Any]) -> CRS | None:
    member = doc.get("crs")
    if member is None:
        return None
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    name = str(name or "")
    if name.upper().endswith("CRS84"):
        return CRS.from_epsg(4326)
    match = _EPSG.search(name)
    if not match:
        raise ImportRefusedError(
            f"the GeoJSON declares the coordinate system {name[:80]!r}, which is not an EPSG code:"
            " export it again in WGS84 (RFC 7946) or with an EPSG code")
    try:
        return CRS.from_epsg(int(match.group(1)))
    except PyprojCRSError as exc:
        raise ImportRefusedError(f"the GeoJSON declares EPSG:{match.group(1)}, which is not a known"
                                 " coordinate system") from exc


def _read_geojson(data: bytes, limits: ImportLimits) -> _Parsed:
    text, _ = tables.decode_text(data)
    try:
        doc = json.loads(text)
    except RecursionError as exc:
        raise ImportRefusedError("the JSON is nested too deeply to be GeoJSON") from exc
    except json.JSONDecodeError as exc:
        raise ImportRefusedError(f"the file is not valid JSON ({exc.msg} at line {exc.lineno},"
                                 f" column {exc.colno}): check that it is complete") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise ImportRefusedError("the JSON has no GeoJSON 'type': it is not GeoJSON")
    kind = doc["type"]
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise ImportRefusedError("the FeatureCollection has no 'features' list")
    elif kind == "Feature":
        features = [doc]
    elif kind in {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                  "GeometryCollection"}:
        features = [{"type": "Feature", "geometry": doc, "properties": {}}]
    else:
        raise ImportRefusedError(f"GeoJSON type {kind[:40]!r} is not a Feature, FeatureCollection or geometry")
    if len(features) > limits.max_features:
        raise LimitExceededError("feature count", actual=len(features), allowed=limits.max_features)
    parsed = _Parsed("geojson", pd.DataFrame(), geometries=[], crs=_geojson_crs(doc))
    records = []
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        record = {str(k): _json_value(v) for k, v in props.items()} if isinstance(props, dict) else {}
        if isinstance(feature, dict) and isinstance(feature.get("id"), str | int) and "id" not in record:
            record = {"id": feature["id"], **record}
        records.append(record)
        geometry_doc = feature.get("geometry") if isinstance(feature, dict) else None
        geometry = None
        if isinstance(geometry_doc, dict):
            try:
                with warnings.catch_warnings():  # NaN coordinates: reported per feature, not as a warning
                    warnings.simplefilter("ignore", RuntimeWarning)
                    geometry = shapely.geometry.shape(geometry_doc)
            except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError,
                    shapely.errors.ShapelyError) as exc:
                parsed.problems[number - 1] = f"its geometry cannot be read ({type(exc).__name__}: {str(exc)[:80]})"
        elif not isinstance(feature, dict):
            parsed.problems[number - 1] = "it is not a GeoJSON Feature object"
        parsed.geometries.append(geometry)  # type: ignore[union-attr]
    parsed.attributes = pd.DataFrame.from_records(records, columns=_ordered_keys(records)) if records else pd.DataFrame(index=range(0))
    return parsed


def _ordered_keys(records: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    return list(keys)


def _read_gpkg(data: bytes, limits: ImportLimits) -> _Parsed:
    layer = gpkg.read_geopackage(data, max_rows=limits.max_features)
    crs = None
    if layer.srs_organization and layer.srs_organization.upper() == "EPSG" and layer.srs_id and layer.srs_id > 0:
        try:
            crs = CRS.from_epsg(layer.srs_id)
        except PyprojCRSError as exc:
            raise ImportRefusedError(f"the GeoPackage layer uses EPSG:{layer.srs_id}, which is not known") from exc
    parsed = _Parsed("gpkg", layer.attributes, geometries=list(layer.geometries), crs=crs)
    parsed.problems.update({int(p.split()[1].rstrip(":")) - 1: p.split(": ", 1)[1] for p in layer.problems})
    parsed.notes.append(ImportNote("info", f"read GeoPackage layer {layer.name!r}"))
    return parsed


def _read_kml_bytes(data: bytes, source_format: str) -> _Parsed:
    properties, geometries, problems = kml.parse_kml(data)
    parsed = _Parsed(source_format, pd.DataFrame.from_records(properties, columns=_ordered_keys(properties))
                     if properties else pd.DataFrame(), geometries=geometries, crs=CRS.from_epsg(4326),
                     row_label="placemark")
    for problem in problems:
        number, text = problem.split(": ", 1)
        parsed.problems[int(number.split()[1]) - 1] = text
    return parsed


def _read_kml(data: bytes, limits: ImportLimits) -> _Parsed:
    return _read_kml_bytes(data, "kml")


def _zip_members(data: bytes, limits: ImportLimits) -> list[archives.ArchiveMember]:
    return archives.inspect_zip(data, max_entries=limits.max_archive_entries,
                                max_uncompressed_bytes=limits.max_uncompressed_bytes)


def _read_kmz(data: bytes, limits: ImportLimits) -> _Parsed:
    members = _zip_members(data, limits)
    kmls = sorted((m.name for m in members if m.name.lower().endswith(".kml")),
                  key=lambda name: (name.lower() != "doc.kml", name.count("/"), name))
    if not kmls:
        raise ImportRefusedError("the KMZ holds no .kml document: export it again from the mapping tool")
    content = archives.read_member(data, kmls[0], budget=limits.max_uncompressed_bytes)
    return _read_kml_bytes(content, "kmz")


def _read_xlsx(data: bytes, limits: ImportLimits) -> _Parsed:
    members = _zip_members(data, limits)
    budget = limits.max_uncompressed_bytes
    for member in members:
        content = archives.read_member(data, member.name, budget=budget)
        budget -= len(content)
        if member.name.lower().endswith((".xml", ".rels", ".vml")) and (b"<!DOCTYPE" in content or b"<!ENTITY" in content):
            raise UnsafeFileError(
                f"the workbook part {member.name!r} declares a DTD or entities (an XML entity bomb or a way to"
                " read server files): refused; save the workbook again in Excel or LibreOffice")
    table = tables.read_xlsx_table(data, max_rows=limits.max_features, max_columns=limits.max_columns)
    return _Parsed("xlsx", table, row_label="spreadsheet row", row_offset=2)


def _read_csv(data: bytes, limits: ImportLimits) -> _Parsed:
    table, numbers = tables.read_csv_columns(data, max_rows=limits.max_features, max_columns=limits.max_columns)
    return _Parsed("csv", table, row_label="line", row_offset=2, numbers=numbers)


_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_DBF_GBK_LANGUAGE_IDS = {0x4D, 0x7A}  # code page 936 (GBK), as ArcGIS and QGIS write it


def _dbf_encoding(dbf: bytes, cpg: bytes | None) -> str:
    if cpg:
        declared = cpg.decode("ascii", "ignore").strip()
        if re.fullmatch(r"[A-Za-z0-9_\-]{1,20}", declared):
            return {"936": "GBK", "65001": "UTF-8"}.get(declared, declared)
    if len(dbf) > 29 and dbf[29] in _DBF_GBK_LANGUAGE_IDS:
        return "GBK"
    try:
        dbf.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"


def _read_zip(data: bytes, limits: ImportLimits) -> _Parsed:
    members = _zip_members(data, limits)
    by_lower = {m.name.lower(): m.name for m in members}
    shapefiles = sorted(name for name in by_lower if name.endswith(".shp"))
    if not shapefiles:
        inner = [m for m in members if _suffix(m.name) in {".geojson", ".json", ".kml", ".csv", ".gpkg"}
                 and not PurePosixPath(m.name).name.startswith(".")]
        if len(inner) == 1:
            content = archives.read_member(data, inner[0].name, budget=limits.max_uncompressed_bytes)
            fmt = sniff_format(content, filename=inner[0].name)
            parsed = _READERS[fmt](content, limits)
            parsed.notes.append(ImportNote("info", f"read {inner[0].name!r} from the zip"))
            return parsed
        listing = ", ".join(m.name for m in members[:10]) or "nothing"
        raise ImportRefusedError(f"the zip holds no Shapefile (.shp) and not exactly one GeoJSON/KML/CSV/GeoPackage"
                                 f" file; it holds: {listing}")
    chosen = shapefiles[0]
    stem = chosen[:-4]
    missing = [ext for ext in (".shx", ".dbf") if stem + ext not in by_lower]
    if missing:
        raise ImportRefusedError(
            f"the zip holds {by_lower[chosen]!r} but not its {' and '.join(missing)} part: a Shapefile needs"
            " .shp, .shx and .dbf (and .prj for its coordinate system); zip them together")
    budget = limits.max_uncompressed_bytes
    parts: dict[str, bytes] = {}
    for ext in _SHAPEFILE_PARTS:
        if stem + ext in by_lower:
            parts[ext] = archives.read_member(data, by_lower[stem + ext], budget=budget)
            budget -= len(parts[ext])
    for ext in (".shp", ".shx"):
        if len(parts[ext]) < 100 or struct.unpack(">i", parts[ext][:4])[0] != 9994:
            raise ImportRefusedError(f"{by_lower[stem + ext]!r} is not a Shapefile {ext} part (wrong header)")
    if len(parts[".dbf"]) >= 8:
        records = struct.unpack("<I", parts[".dbf"][4:8])[0]
        if records > limits.max_features:
            raise LimitExceededError("feature count", actual=records, allowed=limits.max_features)
    encoding = _dbf_encoding(parts[".dbf"], parts.get(".cpg"))
    frame = _gdal_read_shapefile(parts, encoding)
    parsed = _Parsed("shapefile", pd.DataFrame(frame.drop(columns=frame.geometry.name)),
                     geometries=list(frame.geometry.values), crs=frame.crs)
    notes = [f"read Shapefile {by_lower[chosen]!r} (text encoding {encoding})"]
    if len(shapefiles) > 1:
        notes.append(f"the zip holds {len(shapefiles)} Shapefiles; only {by_lower[chosen]!r} was imported:"
                     " upload the others in their own zips")
    if ".prj" not in parts:
        notes.append("the Shapefile has no .prj: its coordinate system is unknown")
    parsed.notes.extend(ImportNote("info" if i == 0 else "warning", text) for i, text in enumerate(notes))
    return parsed


def _gdal_read_shapefile(parts: dict[str, bytes], encoding: str) -> gpd.GeoDataFrame:
    import pyogrio

    with tempfile.TemporaryDirectory(prefix="pharma-map-import-") as folder:
        for ext, content in parts.items():
            (Path(folder) / f"layer{ext}").write_bytes(content)
        try:
            return pyogrio.read_dataframe(Path(folder) / "layer.shp", encoding=encoding, on_invalid="ignore")
        # GDAL reports a damaged file through many exception types (DataSourceError, FieldError,
        # ValueError from WKB, LookupError for an unknown code page...); all mean "cannot be read".
        except Exception as exc:  # noqa: BLE001
            raise ImportRefusedError(
                f"the Shapefile cannot be read ({type(exc).__name__}: {str(exc)[:160]}): export it again") from exc


_READERS: dict[str, Callable[[bytes, ImportLimits], _Parsed]] = {
    "geojson": _read_geojson, "gpkg": _read_gpkg, "shapefile": _read_zip, "kml": _read_kml,
    "kmz": _read_kmz, "csv": _read_csv, "xlsx": _read_xlsx,
}


# ---------------------------------------------------------------- pipeline


# Parsed uploads, bounded in bytes (geo.config.PARSE_CACHE_BYTES): inspecting a file and then
# importing it, or importing it again in another datum, parses it once.
_PARSED: ByteLRU[_Parsed] = ByteLRU(max_bytes=PARSE_CACHE_BYTES)


def _parse(data: bytes, filename: str, limits: ImportLimits, digest: str | None = None) -> _Parsed:
    """Parse once per (content, name, limits) while the parse fits the cache. Callers get a copy
    whose lists and dicts they may change."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ImportRefusedError(f"an upload must be given as bytes, not {type(data).__name__}")
    key = (digest or hashlib.sha256(data).hexdigest(), filename, limits)
    cached = _PARSED.get_or_compute(key, lambda: _parse_uncached(data, filename, limits))
    return replace(cached, geometries=None if cached.geometries is None else cached.geometries.copy(),
                   problems=dict(cached.problems), notes=list(cached.notes), numbers=dict(cached.numbers))


def _parse_uncached(data: bytes, filename: str, limits: ImportLimits) -> _Parsed:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ImportRefusedError(f"an upload must be given as bytes, not {type(data).__name__}")
    data = bytes(data)
    if not data.strip():
        raise ImportRefusedError("the file is empty")
    if len(data) > limits.max_file_bytes:
        raise LimitExceededError("file size (bytes)", actual=len(data), allowed=limits.max_file_bytes,
                                 advice=f"a file may also hold at most {limits.max_features:,} features:"
                                        " split it or filter it to the area you need")
    fmt = sniff_format(data, filename=filename)
    parsed = _READERS[fmt](data, limits)
    if parsed.attributes.shape[1] > limits.max_columns:
        raise LimitExceededError("column count", actual=parsed.attributes.shape[1], allowed=limits.max_columns)
    parsed.attributes.columns = tables.unique_column_names(parsed.attributes.columns)
    return parsed


def _table_xy(parsed: _Parsed, columns: tables.CoordinateColumns
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    table = parsed.attributes
    if columns.lon and columns.lat:
        return _numbers(parsed, columns.lon), _numbers(parsed, columns.lat)
    if columns.pair:
        return tables.parse_pairs(table[columns.pair])
    geoms = shapely.from_wkt(table[columns.wkt].astype(str).str.replace(r"^\s*SRID=\d+;", "", regex=True)
                             .to_numpy(), on_invalid="ignore")
    first = shapely.get_coordinates(shapely.point_on_surface(geoms[~shapely.is_empty(geoms) & (geoms != None)]))  # noqa: E711
    return first[:, 0], first[:, 1]


def _numbers(parsed: _Parsed, column: str) -> NDArray[np.float64]:
    """A column's numbers: as the CSV reader parsed them, else parsed from the text once."""
    values = parsed.numbers.get(column)
    if values is None:
        values = parsed.numbers[column] = tables.parse_numbers(parsed.attributes[column])
    return values


def _resolve_columns(table: pd.DataFrame, *, lon_column: str | None, lat_column: str | None,
                     wkt_column: str | None) -> tables.CoordinateColumns:
    for given in (lon_column, lat_column, wkt_column):
        if given is not None and given not in table.columns:
            raise ImportRefusedError(f"the table has no column {given!r}; its columns are {list(table.columns)[:20]}")
    detected = tables.detect_columns(table)
    if wkt_column:
        return replace(detected, lon=None, lat=None, pair=None, wkt=wkt_column)
    if lon_column or lat_column:
        if not (lon_column and lat_column):
            raise ImportRefusedError("give both the longitude and the latitude column")
        return replace(detected, lon=lon_column, lat=lat_column, pair=None, wkt=None)
    if not detected.found:
        raise ImportRefusedError(
            f"no coordinate columns were recognised among {list(table.columns)[:20]}: name them"
            " lon/lat (longitude/latitude, 经度/纬度) or give a WKT column, or choose the columns")
    return detected


def inspect_upload(data: bytes, *, filename: str, limits: ImportLimits = LIMITS) -> UploadInspection:
    """Say what a file is and, for a table, which columns and datum it seems to use.

    Raises
    ------
    ImportRefusedError
        Whatever ``read_upload`` would refuse before choosing a datum.
    """
    parsed = _parse(data, filename, limits)
    coordinates = suggestion = None
    if parsed.is_table:
        coordinates = tables.detect_columns(parsed.attributes)
        if coordinates.found:
            x, y = _table_xy(parsed, coordinates)
            suggestion = tables.suggest_datum(x, y, hint=coordinates.datum_hint, hint_column=coordinates.hint_column)
    else:
        suggestion = _vector_suggestion(parsed)
    return UploadInspection(
        name=layer_name(filename), source_format=parsed.source_format, is_table=parsed.is_table,
        columns=tuple(parsed.attributes.columns), rows=len(parsed.attributes),
        coordinates=coordinates, suggestion=suggestion,
        declared_crs=parsed.crs.to_string() if parsed.crs is not None else None,
        address_columns=locate.detect_address_columns(parsed.attributes.columns) if parsed.is_table else None)


def _vector_suggestion(parsed: _Parsed) -> tables.DatumSuggestion | None:
    if parsed.crs is not None and parsed.crs.is_projected:
        return None
    geoms = np.array([g for g in parsed.geometries or [] if g is not None and not g.is_empty], dtype=object)
    if not len(geoms):
        return None
    coords = shapely.get_coordinates(shapely.point_on_surface(geoms))
    suggestion = tables.suggest_datum(coords[:, 0], coords[:, 1])
    if suggestion.datum == "wgs84" and not suggestion.swapped:
        return tables.DatumSuggestion("wgs84", "medium", (
            "GeoJSON and KML are WGS84 by definition; if the file came from Gaode/Amap or Baidu tools,"
            " choose GCJ-02 or BD-09",))
    return suggestion


def read_upload(data: bytes, *, filename: str, datum: str | None = None, lon_column: str | None = None,
                lat_column: str | None = None, wkt_column: str | None = None, swap_axes: bool = False,
                locators: Sequence[locate.Locator] | None = None, address_column: str | None = None,
                name_column: str | None = None, limits: ImportLimits = LIMITS) -> ImportedLayer:
    """Import an uploaded file given as bytes into a WGS84 layer.

    Parameters
    ----------
    data : bytes
        The file's content (never a path or URL).
    filename : str
        The name the user gave the file: only its suffix and a display name are used.
    datum : str, optional
        The coordinate system of the coordinates (one of ``geo.tables.INPUT_DATUMS``, e.g. ``gcj02``
        or ``EPSG:4548``). Required for tables; for files that declare a CRS it overrides it.
    lon_column, lat_column, wkt_column : str, optional
        Coordinate columns of a table, when their names are not recognised.
    swap_axes : bool
        Read a vector file's coordinates as (latitude, longitude): the fix for files written with
        the axes swapped (the importer names such rows). Tables detect swapped columns themselves.
    locators : sequence of geo.locate.Locator, optional
        For a table of names and addresses without coordinates (名称/企业名称/name,
        地址/注册地址/住所/address ...): each row goes through these in order and keeps the first
        that places it (:func:`geo.locate.locate_table`); unplaced rows are skipped with the reason.
    address_column, name_column : str, optional
        The address and name columns, when their names are not recognised (implies locating).
    limits : ImportLimits
        Size, feature, vertex and column limits.

    Returns
    -------
    ImportedLayer

    Raises
    ------
    DatumRequiredError
        For a table without ``datum`` (its ``suggestion`` says which datum and why), or for a file
        with no CRS whose coordinates look like metres.
    LimitExceededError, UnsafeFileError, ImportRefusedError
        For anything else that cannot be imported; nothing is partly imported.
    """
    data = bytes(data) if isinstance(data, bytearray | memoryview) else data
    digest = hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else None
    parsed = _parse(data, filename, limits, digest)
    notes = list(parsed.notes)
    columns = suggestion = located = None
    points_xy = None  # the points' coordinates, for a table with longitude/latitude columns
    if parsed.is_table and _by_address(parsed.attributes, address_column=address_column, name_column=name_column,
                                       coordinates_given=bool(lon_column or lat_column or wkt_column)):
        if not locators:
            found = locate.detect_address_columns(parsed.attributes.columns)
            raise ImportRefusedError(
                f"the table has no coordinate columns but names/addresses (column {found.address or found.name!r}):"
                " locate it by address (the Import page, or python -m geo locate FILE)")
        located = locate.locate_table(parsed.attributes, locators=locators, address_column=address_column,
                                      name_column=name_column)
        located = replace(located, frame=located.frame.assign(
            source_row=np.arange(len(located.frame)) + parsed.row_offset))
        parsed.geometries, reasons = locate.located_points(located)
        parsed.problems.update(reasons)
        parsed.attributes = located.frame.drop(columns=["lon", "lat", "location_reason", "source_row"])
        notes.append(_located_note(located))
        source_datum = "wgs84"
    elif parsed.is_table:
        columns = _resolve_columns(parsed.attributes, lon_column=lon_column, lat_column=lat_column,
                                   wkt_column=wkt_column)
        geometries, suggestion, source_datum, table_notes, points_xy = _table_geometries(parsed, columns, datum)
        notes.extend(table_notes)
        parsed.geometries = geometries
    else:
        if swap_axes:
            parsed.geometries = list(swapped_geometries(parsed.geometries))
            notes.append(ImportNote("info", "coordinates read as (latitude, longitude): the axes were swapped"))
        source_datum, vector_notes = _vector_to_wgs84(parsed, datum)
        notes.extend(vector_notes)
    frame, skipped, finish_notes = _finish(parsed, limits, points_xy=points_xy)
    notes.extend(finish_notes)
    return ImportedLayer(name=layer_name(filename), frame=frame, source_format=parsed.source_format,
                         source_datum=source_datum, notes=tuple(notes), skipped_rows=skipped,
                         sha256=digest or hashlib.sha256(data).hexdigest(), coordinates=columns,
                         suggestion=suggestion,
                         refused=tuple((p + parsed.row_offset, parsed.problems[p]) for p in sorted(parsed.problems)),
                         row_label=parsed.row_label, located=located)


def with_located(layer: ImportedLayer, located: locate.LocatedTable) -> ImportedLayer:
    """The layer of an address table placed again: after the review confirmed OpenStreetMap
    candidates (``geo.locate_osm.accept_candidates``). Rows placed now are drawn, the others are
    listed with their reason, as ``read_upload`` does.

    Raises
    ------
    ImportRefusedError
        If ``layer`` was not located by address.
    """
    if layer.located is None:
        raise ImportRefusedError(f"layer {layer.name!r} has coordinates of its own: only a layer located by"
                                 " address can be placed again")
    geometries, reasons = locate.located_points(located)
    keep = np.array([g is not None for g in geometries], dtype=bool)
    rows = located.frame["source_row"].to_numpy()
    attributes = located.frame.drop(columns=["lon", "lat", "location_reason", "source_row"])
    frame = gpd.GeoDataFrame(attributes.loc[keep].reset_index(drop=True),
                             geometry=gpd.GeoSeries(geometries[keep], crs=4326), crs=4326)
    frame.insert(0, "source_row", rows[keep])
    refused = tuple((int(rows[p]), reason) for p, reason in sorted(reasons.items()))
    # the notes say what is true now: the count by tier and the rows still skipped
    kept = [n for n in layer.notes if not n.text.startswith(("located by ", "skipped "))]
    notes = (*kept, _located_note(located), *_skipped_notes(refused, row_label=layer.row_label))
    return replace(layer, frame=frame, located=located, refused=refused, notes=notes,
                   skipped_rows=tuple(int(rows[p]) for p in sorted(reasons)))


def _by_address(table: pd.DataFrame, *, address_column: str | None, name_column: str | None,
                coordinates_given: bool) -> bool:
    """A table is located by address when asked to (an address or name column given), or when it has
    no coordinate columns but a name or address column."""
    if address_column or name_column:
        return True
    if coordinates_given or tables.detect_columns(table).found:
        return False
    return locate.detect_address_columns(table.columns).found


def _table_geometries(parsed: _Parsed, columns: tables.CoordinateColumns, datum: str | None
                      ) -> tuple[NDArray[np.object_], tables.DatumSuggestion, str, list[ImportNote],
                                 tuple[NDArray[np.float64], NDArray[np.float64]] | None]:
    """The table's geometries in WGS84, the datum suggestion, the datum used, notes, and for
    longitude/latitude columns the points' coordinates (NaN where a row has none), which the
    checks read instead of asking GEOS about a million points."""
    x, y = _table_xy(parsed, columns)
    suggestion = tables.suggest_datum(x, y, hint=columns.datum_hint, hint_column=columns.hint_column)
    if datum is None:
        raise DatumRequiredError(
            "choose the coordinate system of the table's coordinates; " + suggestion.message(), suggestion=suggestion)
    code = tables.check_input_datum(datum)
    notes = []
    xy = None
    table = parsed.attributes
    if columns.wkt and not (columns.lon and columns.lat) and not columns.pair:
        text = table[columns.wkt].astype(str).str.replace(r"^\s*SRID=\d+;", "", regex=True).to_numpy()
        geoms = shapely.from_wkt(text, on_invalid="ignore")
        if suggestion.swapped:
            geoms = shapely.transform(geoms, lambda c: c[:, ::-1])
        geoms = shapely.transform(geoms, lambda c: np.column_stack(tables.to_wgs84(c[:, 0], c[:, 1], datum=code)))
        used = f"WKT column {columns.wkt!r}"
    else:
        # x and y are the numbers the suggestion was made from: each column is parsed once
        if columns.lon and columns.lat:
            used = f"columns {columns.lon!r} and {columns.lat!r}"
        else:
            used = f"coordinate pairs in column {columns.pair!r}"
        if suggestion.swapped:
            x, y = y, x
        lon, lat = tables.to_wgs84(x, y, datum=code)
        ok = np.isfinite(lon) & np.isfinite(lat)
        if ok.all():
            geoms = make_points(lon, lat)
        else:
            geoms = np.full(len(table), None, dtype=object)
            geoms[ok] = make_points(lon[ok], lat[ok])
        for position in np.flatnonzero(~ok):
            parsed.problems.setdefault(int(position), "its coordinates are missing or not numbers")
        xy = (np.where(ok, lon, np.nan), np.where(ok, lat, np.nan))
    for position in np.flatnonzero(shapely.is_missing(geoms)):
        parsed.problems.setdefault(int(position), "its geometry is missing or is not valid WKT")
    notes.append(ImportNote("info", f"coordinates from {used}, read as {tables.INPUT_DATUMS[code].en}"))
    if suggestion.swapped:
        notes.append(ImportNote("warning", "the coordinate columns looked swapped (latitude values in the"
                                           " longitude column), so they were swapped back"))
    if suggestion.datum != code and suggestion.confidence == "high":
        notes.append(ImportNote("warning", f"you chose {tables.INPUT_DATUMS[code].en}, but "
                                           + suggestion.message()))
    return geoms, suggestion, code, notes, xy


def _vector_to_wgs84(parsed: _Parsed, datum: str | None) -> tuple[str, list[ImportNote]]:
    geoms = np.array(parsed.geometries, dtype=object)
    notes: list[ImportNote] = []
    declared = parsed.crs
    if datum is not None:
        code = tables.check_input_datum(datum)
        if declared is not None and not (declared.is_geographic and code in {"wgs84", "gcj02", "bd09", "cgcs2000"}):
            notes.append(ImportNote("warning", f"the file declares {declared.name}; you chose"
                                               f" {tables.INPUT_DATUMS[code].en}, which was used"))
        parsed.geometries = list(_transform(geoms, lambda x, y: tables.to_wgs84(x, y, datum=code)))
        return code, notes
    if declared is not None and declared.is_projected:
        try:
            converted = gpd.GeoSeries(geoms, crs=declared).to_crs(4326)
        except (PyprojCRSError, ValueError) as exc:
            raise ImportRefusedError(f"the file's coordinate system {declared.name!r} cannot be converted to"
                                     f" WGS84 ({exc})") from exc
        parsed.geometries = list(converted.values)
        notes.append(ImportNote("info", f"reprojected from {declared.name} (EPSG:{declared.to_epsg()}) to WGS84"))
        return f"EPSG:{declared.to_epsg()}" if declared.to_epsg() else declared.name, notes
    suggestion = _vector_suggestion(parsed)
    if suggestion is not None and suggestion.datum.startswith("epsg:"):
        raise DatumRequiredError("the file declares no coordinate system and its coordinates look like metres; "
                                 + suggestion.message(), suggestion=suggestion)
    if declared is not None and declared.to_epsg() not in (4326, 4490, None):
        parsed.geometries = list(gpd.GeoSeries(geoms, crs=declared).to_crs(4326).values)
        notes.append(ImportNote("info", f"converted from {declared.name} to WGS84"))
        return f"EPSG:{declared.to_epsg()}", notes
    if declared is None and parsed.source_format in {"shapefile", "gpkg"}:
        notes.append(ImportNote("warning", "the file declares no coordinate system; longitude/latitude in WGS84"
                                           " was assumed: choose the datum if it is GCJ-02 or BD-09"))
    return "wgs84", notes


def _transform(geoms: NDArray[np.object_], func: Callable[[NDArray[np.float64], NDArray[np.float64]],
                                                          tuple[NDArray[np.float64], NDArray[np.float64]]]
               ) -> NDArray[np.object_]:
    present = np.array([g is not None for g in geoms], dtype=bool)
    out = geoms.copy()
    if present.any():
        out[present] = shapely.transform(geoms[present], lambda c: np.column_stack(func(c[:, 0], c[:, 1])))
    return out


def _object_array(geometries: list[shapely.Geometry | None] | NDArray[np.object_] | None) -> NDArray[np.object_]:
    """Geometries as a 1-D object array (np.array would inspect each geometry of a list)."""
    if isinstance(geometries, np.ndarray):
        return geometries
    out = np.empty(len(geometries or []), dtype=object)
    out[:] = geometries or []
    return out


def _rows_text(numbers: list[int], limit: int = 12) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


_MAX_REASON_NOTES = 8


def _finish(parsed: _Parsed, limits: ImportLimits, *,
            points_xy: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
            ) -> tuple[gpd.GeoDataFrame, tuple[int, ...], list[ImportNote]]:
    """Check, repair and report the parsed geometries; ``points_xy``: they are points made from
    these coordinates (None where NaN), so the checks read the coordinates instead of GEOS."""
    notes: list[ImportNote] = []
    geoms = _object_array(parsed.geometries)
    # Each whole-array question is asked once (None answers False / -1): for a million points
    # these GEOS calls are most of the checks' cost.
    if points_xy is not None:
        px, py = points_xy
        present = np.isfinite(px) & np.isfinite(py)
        kinds = np.where(present, 0, -1)
        empty_before = np.zeros(len(geoms), dtype=bool)
    else:
        present = ~shapely.is_missing(geoms)
        kinds = shapely.get_type_id(geoms)
        empty_before = shapely.is_empty(geoms)
    if bool((kinds == 0).all()):  # only points: one coordinate each unless empty
        vertices = int((~empty_before).sum())
    else:
        vertices = int(shapely.get_num_coordinates(geoms[present]).sum()) if present.any() else 0
    if vertices > limits.max_vertices:
        raise LimitExceededError("vertex count", actual=vertices, allowed=limits.max_vertices,
                                 advice="simplify the geometries or split the file")
    bounds = shapely.bounds(geoms) if points_xy is None else np.column_stack([px, py, px, py])
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(bounds).all(axis=1) | empty_before
        in_range = ((bounds[:, 0] >= -180) & (bounds[:, 2] <= 180) & (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90))
    if not bool((kinds == 0).all()):  # GEOS bounds skip a NaN vertex of a line or polygon: look at each one
        others = np.flatnonzero(present & (kinds != 0))
        coords, owner = shapely.get_coordinates(geoms[others], return_index=True)
        broken = np.bincount(owner, weights=(~np.isfinite(coords).all(axis=1)).astype(float),
                             minlength=len(others)) > 0
        finite[others[broken]] = False
    coords_ok = ~present | (finite & (in_range | empty_before))
    unusable = np.flatnonzero(present & ~coords_ok)
    for position, problem in zip(unusable, diagnose(geoms[unusable], beijing=False, max_vertices=None),
                                 strict=True):
        parsed.problems[int(position)] = (problem.message if problem is not None else
                                          "its coordinates are not valid longitude/latitude after conversion")
    usable = present & coords_ok
    # Points with finite coordinates are always valid: only other geometries need make_valid.
    needs_repair = usable & (kinds != 0)
    repaired = geoms if bool(usable.all()) and not needs_repair.any() else np.where(usable, geoms, None)
    report = RepairReport((), (), ())
    empty = usable & empty_before
    if needs_repair.any():
        fixed, sub_report = repair_geometries(geoms[needs_repair])
        repaired[needs_repair] = fixed
        positions_fixed = np.flatnonzero(needs_repair)
        report = RepairReport(tuple(int(positions_fixed[p]) for p in sub_report.repaired), (), sub_report.reasons)
        empty[needs_repair] = shapely.is_empty(repaired[needs_repair])
    if report.repaired:
        rows = [int(p) + parsed.row_offset for p in report.repaired]
        reasons = "; ".join(sorted({r.split("[")[0].strip() for r in report.reasons}))[:200]
        notes.append(ImportNote("warning", f"repaired {len(rows)} invalid geometr{'y' if len(rows) == 1 else 'ies'}"
                                           f" ({reasons}) at {parsed.row_label} {_rows_text(rows)}"))
    for position in np.flatnonzero(empty):
        parsed.problems.setdefault(int(position), "its geometry is empty")
    skipped_positions = sorted(set(parsed.problems) | set(np.flatnonzero(~usable | empty).tolist()))
    for position in np.flatnonzero(~present):
        parsed.problems.setdefault(int(position), "it has no geometry")
    keep = np.ones(len(geoms), dtype=bool)
    keep[skipped_positions] = False
    skipped = tuple(int(p) + parsed.row_offset for p in skipped_positions)
    if skipped:
        notes.extend(_skipped_notes([(position + parsed.row_offset, parsed.problems[position])
                                     for position in skipped_positions], row_label=parsed.row_label))
    if not keep.any():
        raise NoUsableRowsError("no row has a usable geometry: "
                                + "; ".join(n.text for n in notes if n.level == "warning")[:600],
                                refused=tuple((p + parsed.row_offset, parsed.problems[p]) for p in sorted(parsed.problems)),
                                row_label=parsed.row_label)
    attributes = parsed.attributes.reset_index(drop=True)
    if len(attributes) != len(geoms):
        attributes = attributes.reindex(range(len(geoms)))
    everything = bool(keep.all())  # the usual case: no copy of the table
    frame = gpd.GeoDataFrame(attributes if everything else attributes.loc[keep].reset_index(drop=True),
                             geometry=gpd.GeoSeries(repaired if everything else repaired[keep], crs=4326),
                             crs=4326)
    frame.insert(0, "source_row", np.flatnonzero(keep) + parsed.row_offset)
    kept_xy = None if points_xy is None else (px if everything else px[keep], py if everything else py[keep])
    notes.extend(_outside_beijing(frame, parsed, points_xy=kept_xy))
    return frame, skipped, notes


def _skipped_notes(skipped: Sequence[tuple[int, str]], *, row_label: str) -> list[ImportNote]:
    """One warning per reason for the rows skipped (``(row number, reason)``), the most common first."""
    notes = []
    by_reason: dict[str, list[int]] = {}
    for row, reason in skipped:
        by_reason.setdefault(reason, []).append(row)
    shown = sorted(by_reason.items(), key=lambda item: -len(item[1]))
    for reason, rows in shown[:_MAX_REASON_NOTES]:
        notes.append(ImportNote("warning", f"skipped {len(rows)} {row_label}(s) because {reason}:"
                                           f" {row_label} {_rows_text(rows)}"))
    if len(shown) > _MAX_REASON_NOTES:
        rest = [row for _, rows in shown[_MAX_REASON_NOTES:] for row in rows]
        notes.append(ImportNote("warning", f"skipped {len(rest)} more {row_label}(s) for"
                                           f" {len(shown) - _MAX_REASON_NOTES} other reasons (each row's reason is"
                                           f" listed with the layer): {row_label} {_rows_text(sorted(rest))}"))
    return notes


def _located_note(located: locate.LocatedTable) -> ImportNote:
    counts = ", ".join(f"{tier} {n}" for tier, n in located.summary().items())
    used = " and ".join(repr(c) for c in (located.columns.address, located.columns.name) if c)
    return ImportNote("info", f"located by {', '.join(located.providers)} from {used}: {counts}; a park or district"
                              " tier is drawn at the park's anchor or a point in the district, not at the site")


def _outside_beijing(frame: gpd.GeoDataFrame, parsed: _Parsed, *,
                     points_xy: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None) -> list[ImportNote]:
    west, south, east, north = tables.BEIJING_BBOX
    if points_xy is not None:  # the frame's points, by their coordinates
        x, y = points_xy
    else:
        geoms = np.asarray(frame.geometry.values, dtype=object)
        not_points = shapely.get_type_id(geoms) != 0
        if not_points.any():  # a point on each line or polygon; a point is its own
            geoms = geoms.copy()
            geoms[not_points] = shapely.point_on_surface(geoms[not_points])
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    outside = ~((x >= west) & (x <= east) & (y >= south) & (y <= north))
    if not outside.any():
        return []
    rows = frame["source_row"].to_numpy()[outside].tolist()
    return [ImportNote("warning", f"{int(outside.sum())} of {len(frame)} features lie outside Beijing"
                                  f" ({parsed.row_label} {_rows_text(rows)}): check the coordinate system"
                                  " and the longitude/latitude columns; they are kept")]


def import_metadata(layer: ImportedLayer, *, snapshot_version: str) -> ExportMetadata:
    """What an export of an imported layer carries: the uploaded file (name, sha256, format, datum)
    as its source, the snapshot it was joined against, and the owner's licence."""
    sources = [{"source_id": "upload", "publisher": "user upload", "title": layer.name, "sha256": layer.sha256,
                "format": layer.source_format, "datum": layer.source_datum}]
    licence = UPLOAD_LICENCE
    licence_ids: tuple[str, ...] = ("upload",)
    if layer.located is not None:  # placed by address: say by what, and whose points they are
        from geo.geocoders import ATTRIBUTION

        used = sorted(set(layer.frame["location_provider"].dropna()) if "location_provider" in layer.frame else set())
        sources.append({"source_id": "located", "publisher": "geo.locate",
                        "title": "placed by " + ", ".join(layer.located.providers)
                                 + "; tiers park/district are the snapshot's park anchors or a point inside the"
                                   " district, not sites (columns location_tier, location_evidence, location_point)"})
        attributions = [ATTRIBUTION[p] for p in used if p in ATTRIBUTION]
        if attributions:
            licence += "; geocoded points: " + "; ".join(attributions)
            licence_ids += tuple(f"geocoded_{p}" for p in used if p in ATTRIBUTION)
    return ExportMetadata(layer=f"import: {layer.name}", snapshot_version=snapshot_version, sources=sources,
                          licence=licence, licence_ids=licence_ids)
