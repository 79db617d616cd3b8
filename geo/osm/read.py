"""Reading OpenStreetMap extracts with no network: OSM XML (``.osm``, ``.osm.bz2``, ``.osm.gz``)
through ``osmnx.features_from_xml`` and ``.osm.pbf`` through pyosmium (``osmium`` on PyPI).

Both give the same frame (and so does ``geo.osm.fetch``): one row per feature,
``osm_type``/``osm_ref``/``osm_id`` (``"way/123"``), ``osm_version``, ``osm_timestamp``,
``osm_retrieved``, one column per tag, WGS84 geometry; ``attrs`` carry the repairs, the source
and ``OSM_ATTRIBUTION``. A damaged file in any container (a truncated or garbled gzip, bzip2,
XML or PBF file) is refused with one ``OSMFileError`` line that names the file and what to do.

``geo.streets.street_suffix`` reads uploads through the same decompression (``_open_binary``)
and reports damage with the same message (``damaged_file_error``).
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import os
import re
import tempfile
import xml.parsers.expat
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.config import OSM_MAX_UNCOMPRESSED_BYTES
from geo.errors import OSMFileError, OSMQueryError
from geo.measure import RepairReport, repair_geometries

OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"
SUPPORTED_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf")
MAX_UNCOMPRESSED_BYTES = OSM_MAX_UNCOMPRESSED_BYTES

TagFilter = Mapping[str, bool | str | Sequence[str]]

PARK_TAGS: dict[str, bool | str | list[str]] = {
    "landuse": ["industrial", "commercial", "retail", "construction", "brownfield"],
    "industrial": True,
}
CONTEXT_TAGS: dict[str, bool | str | list[str]] = {
    "amenity": ["hospital", "university", "research_institute"],
    "healthcare": "hospital",
    "railway": ["station", "halt"],
    "station": "subway",
    "subway": "yes",
    "office": "research",
    "aeroway": "aerodrome",
}
DEFAULT_TAGS: dict[str, bool | str | list[str]] = {
    "landuse": PARK_TAGS["landuse"], "industrial": True,  # type: ignore[dict-item]
    **{k: v for k, v in CONTEXT_TAGS.items()},
}

NAME_KEYS: tuple[str, ...] = ("name", "name:zh", "name:zh-Hans", "name:zh-CN", "name:en",
                              "official_name", "official_name:zh", "official_name:en",
                              "alt_name", "alt_name:zh", "short_name", "old_name")
STANDARD_COLUMNS: tuple[str, ...] = ("osm_id", "osm_type", "osm_ref", "osm_version",
                                     "osm_timestamp", "osm_retrieved")


# --------------------------------------------------------------------------------------------
# reading files


def read_osm_file(source: str | os.PathLike[str] | bytes, *, tags: TagFilter | None = DEFAULT_TAGS,
                  filename: str | None = None,
                  max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES) -> gpd.GeoDataFrame:
    """Read the features of an OpenStreetMap extract, with no network.

    Parameters
    ----------
    source : path or bytes
        An OSM XML file (``.osm``, ``.osm.bz2``, ``.osm.gz``) or an ``.osm.pbf`` file, or its
        content as bytes (an upload; the format is recognised from the content).
    tags : mapping, optional
        osmnx-style tag filter: ``{key: True}`` keeps every feature with the key,
        ``{key: "value"}`` or ``{key: ["v1", "v2"]}`` those with these values; a feature is
        kept when any entry matches. ``None`` keeps every tagged feature. Defaults to
        ``DEFAULT_TAGS`` (park land uses and the context kinds).
    filename : str, optional
        Name shown in messages and recorded as the source (defaults to the file's name).
    max_uncompressed_bytes : int
        Refuse XML that expands beyond this size (a guard against compression bombs).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``osm_id`` (``"way/123"``), ``osm_type``, ``osm_ref``, ``osm_version``,
        ``osm_timestamp`` (ISO 8601, UTC), ``osm_retrieved``, one column per tag, and the
        geometry in EPSG:4326. ``attrs["repairs"]`` is the ``geo.measure.RepairReport`` of
        geometries that were invalid and repaired, ``attrs["source"]`` the source name.

    Raises
    ------
    OSMFileError
        For another suffix, a missing file, content that is not OSM XML or PBF, a DTD or
        entity declaration, or XML larger than ``max_uncompressed_bytes``.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        suffix = _sniff_suffix(data, filename)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(data)
            return _read_path(path, suffix=suffix, tags=tags, name=filename or f"upload{suffix}",
                              max_bytes=max_uncompressed_bytes)
    text = os.fspath(source)
    if re.match(r"^[a-z][a-z0-9+.-]*://|^/vsi", text, re.IGNORECASE):
        raise OSMFileError(
            f"read_osm_file reads local files, not {text!r}: download the extract first, or use "
            "fetch_osm (python -m geo osm fetch) to query OpenStreetMap online")
    path = Path(text)
    suffix = file_suffix(path)
    if not path.is_file():
        raise OSMFileError(f"no file at {text!r}: give the path of an OSM extract "
                           f"({', '.join(SUPPORTED_SUFFIXES)})")
    return _read_path(path, suffix=suffix, tags=tags, name=filename or path.name,
                      max_bytes=max_uncompressed_bytes)


def file_suffix(path: str | os.PathLike[str]) -> str:
    """The extract's format suffix (``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf``).

    Raises
    ------
    OSMFileError
        For any other suffix.
    """
    name = Path(path).name.lower()
    for suffix in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    raise OSMFileError(
        f"cannot read {Path(path).name!r} as OpenStreetMap data: the name must end in "
        f"{', '.join(SUPPORTED_SUFFIXES)} (OSM XML, compressed OSM XML, or PBF, for example an "
        "extract cut with 'osmium extract'); GeoJSON and shapefiles go through the planner's upload")


def _sniff_suffix(data: bytes, filename: str | None) -> str:
    if filename:
        return file_suffix(filename)
    head = data[:64]
    if head.startswith(b"BZh"):
        return ".osm.bz2"
    if head.startswith(b"\x1f\x8b"):
        return ".osm.gz"
    if b"OSMHeader" in head[:24]:
        return ".osm.pbf"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return ".osm"
    raise OSMFileError(
        f"the uploaded content (starting {head[:16]!r}) is neither OSM XML nor PBF: upload an "
        f"extract ending in {', '.join(SUPPORTED_SUFFIXES)}")


def _read_path(path: Path, *, suffix: str, tags: TagFilter | None, name: str,
               max_bytes: int) -> gpd.GeoDataFrame:
    tag_filter = _check_tags(tags)
    retrieved = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat(timespec="seconds")
    if suffix == ".osm.pbf":
        frame = _read_pbf(path, tag_filter, name=name)
    else:
        meta = _xml_metadata(path, suffix=suffix, name=name, max_bytes=max_bytes)
        frame = _read_xml(path, tag_filter, meta)
    return _finish(frame, source=name, retrieved=retrieved)


def _check_tags(tags: TagFilter | None) -> dict[str, bool | str | list[str]]:
    if tags is None:
        return {}
    checked: dict[str, bool | str | list[str]] = {}
    for key, value in tags.items():
        if value is True or isinstance(value, str):
            checked[str(key)] = value
        elif isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
            checked[str(key)] = list(value)
        else:
            raise OSMQueryError(
                f"tag filter {key!r}: {value!r} is not understood: use True (any value), a "
                "string, or a list of strings, for example {'landuse': ['industrial']}")
    return checked


@contextmanager
def _open_binary(source: Path | bytes, suffix: str) -> Iterator[BinaryIO]:
    """The decompressed bytes of a file or of an upload's content, as a binary stream."""
    raw: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    try:
        if suffix == ".osm.bz2":
            with bz2.BZ2File(raw, "rb") as handle:
                yield handle  # type: ignore[misc]
        elif suffix == ".osm.gz":
            with gzip.GzipFile(fileobj=raw, mode="rb") as handle:
                yield handle  # type: ignore[misc]
        else:
            yield raw
    finally:
        raw.close()


# Everything a damaged container raises while it is read: gzip.BadGzipFile and bz2's "Invalid data
# stream" are OSErrors, a truncated stream is an EOFError, a garbled deflate stream a zlib.error.
DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error)
_CONTAINERS = {".osm.gz": ("gzip", "gzip -t"), ".osm.bz2": ("bzip2", "bzip2 -t")}


def damaged_file_error(name: str, suffix: str, exc: BaseException) -> OSMFileError:
    """The one-line message for a file whose container cannot be decompressed or read."""
    detail = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
    if suffix not in _CONTAINERS:
        return OSMFileError(f"cannot read {name!r} ({detail}): re-download or re-cut the extract")
    container, check = _CONTAINERS[suffix]
    what = ("it ends before the end of its compressed data (a truncated download)"
            if isinstance(exc, EOFError) else f"its {container} data is damaged ({detail})")
    return OSMFileError(f"{name!r} is not a readable {container}-compressed OSM file: {what}; "
                        f"re-download the extract (check it with '{check} {name}')")


class _Refused(Exception):
    pass


def _xml_metadata(path: Path, *, suffix: str, name: str,
                  max_bytes: int) -> dict[tuple[str, int], tuple[int | None, str | None]]:
    """Check the XML (well formed, no DTD or entities, not too large) and collect each
    element's version and timestamp, which osmnx drops."""
    meta: dict[tuple[str, int], tuple[int | None, str | None]] = {}
    parser = xml.parsers.expat.ParserCreate()
    seen_root: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if not seen_root:
            seen_root.append(tag)
            if tag != "osm":
                raise _Refused(f"the root element is <{tag}>, not <osm>")
        if tag in ("node", "way", "relation") and "id" in attrs:
            version = attrs.get("version")
            meta[(tag, int(attrs["id"]))] = (int(version) if version and version.isdigit() else None,
                                             attrs.get("timestamp"))

    def refuse_dtd(*_: Any) -> None:
        raise _Refused("it declares a DTD or entities, which OSM files never do")

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    total = 0
    try:
        with _open_binary(path, suffix) as handle:
            while block := handle.read(1 << 20):
                total += len(block)
                if total > max_bytes:
                    raise _Refused(f"it expands to more than {max_bytes:,} bytes")
                parser.Parse(block, False)
            parser.Parse(b"", True)
    except _Refused as exc:
        raise OSMFileError(f"refusing {name!r}: {exc}; use an unmodified OSM XML or PBF extract") from None
    except xml.parsers.expat.ExpatError as exc:
        raise OSMFileError(f"{name!r} is not well-formed OSM XML ({exc}): re-download or re-cut "
                           "the extract") from None
    except DECOMPRESSION_ERRORS as exc:
        raise damaged_file_error(name, suffix, exc) from None
    except ValueError as exc:
        raise OSMFileError(f"cannot read {name!r} ({exc}): re-download or re-cut the extract") from None
    if not seen_root:
        raise OSMFileError(f"{name!r} is empty: it holds no OSM XML")
    return meta


def _read_xml(path: Path, tags: dict[str, bool | str | list[str]],
              meta: dict[tuple[str, int], tuple[int | None, str | None]]) -> gpd.GeoDataFrame:
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    try:
        frame = ox.features_from_xml(path, tags=tags or None)
    except InsufficientResponseError:
        return _empty_features()
    frame = _from_osmnx(frame)
    keys = list(zip(frame["osm_type"], frame["osm_ref"], strict=True))
    found = [meta.get(key, (None, None)) for key in keys]
    frame["osm_version"] = pd.array([v for v, _ in found], dtype="Int64")
    frame["osm_timestamp"] = [ts for _, ts in found]
    return frame


def _from_osmnx(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """osmnx's (element, id)-indexed frame to ours: osm_type, osm_ref, osm_id, tag columns."""
    frame = frame.reset_index().rename(columns={"element": "osm_type", "id": "osm_ref"})
    frame = frame.drop(columns=[c for c in ("visible", "changeset", "uid", "user", "version",
                                            "timestamp", "nodes", "ways") if c in frame.columns])
    frame["osm_ref"] = frame["osm_ref"].astype("int64")
    return frame


def _empty_features() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"osm_type": pd.Series([], dtype=object),
                             "osm_ref": pd.Series([], dtype="int64")},
                            geometry=gpd.GeoSeries([], crs=4326), crs=4326)


def _tags_match(tags: Mapping[str, str], tag_filter: Mapping[str, bool | str | list[str]]) -> bool:
    if not tag_filter:
        return bool(tags)
    for key, wanted in tag_filter.items():
        value = tags.get(key)
        if value is None:
            continue
        if wanted is True or value == wanted or (isinstance(wanted, list) and value in wanted):
            return True
    return False


def _polygon_rules() -> dict[str, dict[str, Any]]:
    try:  # the same rule osmnx applies to XML, so both formats give the same geometry types
        from osmnx.features import _POLYGON_FEATURES
        return dict(_POLYGON_FEATURES)
    except ImportError:  # pragma: no cover - a future osmnx
        return {k: {"polygon": "all"} for k in ("amenity", "building", "landuse", "leisure",
                                                "industrial", "area", "place", "office")} | {
            "aeroway": {"polygon": "blocklist", "values": {"taxiway"}}}


def _closed_way_is_area(tags: Mapping[str, str], rules: Mapping[str, Mapping[str, Any]]) -> bool:
    if tags.get("area") == "no":
        return False
    for key in tags.keys() & rules.keys():
        rule = rules[key]["polygon"]
        values = rules[key].get("values", set())
        if rule == "all" or (rule == "passlist" and tags[key] in values) or (
                rule == "blocklist" and tags[key] not in values):
            return True
    return False


def _read_pbf(path: Path, tags: dict[str, bool | str | list[str]], *, name: str) -> gpd.GeoDataFrame:
    try:
        import osmium
    except ImportError as exc:  # pragma: no cover - osmium is pinned in requirements.txt
        raise OSMFileError(f"reading {name!r} needs the 'osmium' package (pyosmium): "
                           "pip install -r requirements.txt") from exc
    factory = osmium.geom.WKBFactory()
    rules = _polygon_rules()
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    wkb: dict[tuple[str, int], bytes] = {}
    relation_types: dict[int, str | None] = {}
    area_ways: set[tuple[str, int]] = set()
    skipped = 0
    try:
        processor = osmium.FileProcessor(str(path)).with_locations().with_areas()
        for obj in processor:
            if obj.is_area():
                key = ("way" if obj.from_way() else "relation", obj.orig_id())
                obj_tags = {t.k: t.v for t in obj.tags}
                if key[0] == "relation" and relation_types.get(key[1]):
                    obj_tags = {"type": relation_types[key[1]], **obj_tags}
                if key[0] == "way" and (key not in rows or not _closed_way_is_area(obj_tags, rules)):
                    continue
                if key[0] == "relation" and not _tags_match(obj_tags, tags):
                    continue
                try:
                    wkb[key] = factory.create_multipolygon(obj)
                except RuntimeError:
                    skipped += 1
                    continue
                area_ways.add(key)
                if key[0] == "relation":
                    rows[key] = _pbf_row(obj, key, obj_tags)
                continue
            if obj.is_relation():
                relation_types[obj.id] = obj.tags.get("type")
                continue
            if not obj.tags or not (obj.is_node() or obj.is_way()):
                continue
            obj_tags = {t.k: t.v for t in obj.tags}
            if not _tags_match(obj_tags, tags):
                continue
            key = ("node" if obj.is_node() else "way", obj.id)
            try:
                wkb[key] = factory.create_point(obj) if obj.is_node() else factory.create_linestring(obj)
            except (RuntimeError, osmium.InvalidLocationError):
                skipped += 1
                continue
            rows[key] = _pbf_row(obj, key, obj_tags)
    except RuntimeError as exc:
        raise OSMFileError(f"{name!r} is not a readable OSM PBF file ({exc}): re-download or re-cut "
                           "the extract") from None
    keys = [k for k in rows if k in wkb]
    if not keys:
        return _empty_features()
    frame = pd.DataFrame.from_records([rows[k] for k in keys])
    geoms = shapely.from_wkb(np.array([wkb[k] for k in keys], dtype=object))
    # pyosmium builds every area as a MultiPolygon; osmnx gives single polygons as Polygon.
    single = shapely.get_num_geometries(geoms) == 1
    multi = shapely.get_type_id(geoms) == 6
    geoms[single & multi] = shapely.get_geometry(geoms[single & multi], 0)
    # An area-tagged closed way pyosmium could not assemble (a self-intersecting "bow-tie"):
    # keep it as the polygon osmnx would build, so it is repaired and reported like XML input.
    unbuilt = np.array([k[0] == "way" and k not in area_ways and _closed_way_is_area(rows[k], rules)
                        for k in keys], dtype=bool)
    unbuilt &= (shapely.get_type_id(geoms) == 1) & shapely.is_closed(geoms)
    unbuilt &= shapely.get_num_coordinates(geoms) >= 4
    if unbuilt.any():
        coords, owner = shapely.get_coordinates(geoms[unbuilt], return_index=True)
        geoms[unbuilt] = shapely.polygons(shapely.linearrings(coords, indices=owner))
    out = gpd.GeoDataFrame(frame, geometry=geoms, crs=4326)
    out.attrs["skipped"] = skipped
    return out


def _pbf_row(obj: Any, key: tuple[str, int], tags: dict[str, str]) -> dict[str, Any]:
    stamp = obj.timestamp
    text = None
    if stamp is not None and stamp.timestamp() > 0:
        text = stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"osm_type": key[0], "osm_ref": int(key[1]), "osm_version": int(obj.version) or None,
            "osm_timestamp": text, **tags}


def _finish(frame: gpd.GeoDataFrame, *, source: str, retrieved: str) -> gpd.GeoDataFrame:
    """Common columns in a fixed order, missing values as None, repaired geometry, attrs."""
    frame = frame.reset_index(drop=True)
    geometry_name = frame.geometry.name
    if "osm_version" not in frame:
        frame["osm_version"] = pd.array([None] * len(frame), dtype="Int64")
    else:
        frame["osm_version"] = pd.array(frame["osm_version"], dtype="Int64")
    if "osm_timestamp" not in frame:
        frame["osm_timestamp"] = None
    frame["osm_ref"] = frame["osm_ref"].astype("int64")
    frame["osm_id"] = (frame["osm_type"].astype(str) + "/" + frame["osm_ref"].astype(str)).astype(object)
    frame["osm_retrieved"] = retrieved
    tag_columns = sorted(c for c in frame.columns if c not in STANDARD_COLUMNS and c != geometry_name)
    for column in [*tag_columns, "osm_timestamp"]:
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    # osmnx repairs invalid polygons itself (make_valid) without saying so: a way can only be a
    # Polygon, so a way that comes back as a multi-part or mixed geometry was repaired.
    types = shapely.get_type_id(geoms)
    by_osmnx = (frame["osm_type"].to_numpy(dtype=object) == "way") & np.isin(types, [6, 7])
    if (types == 7).any():
        geoms = geoms.copy()
        geoms[types == 7] = _polygonal_or_self(geoms[types == 7])
    geoms, report = repair_geometries(geoms)
    if by_osmnx.any():
        report = RepairReport(
            repaired=tuple(sorted(set(report.repaired) | set(np.flatnonzero(by_osmnx).tolist()))),
            empty=report.empty,
            reasons=report.reasons + ("self-intersecting way made valid",) * int(by_osmnx.sum()))
    out = gpd.GeoDataFrame(frame[[*STANDARD_COLUMNS, *tag_columns]],
                           geometry=gpd.GeoSeries(geoms, index=frame.index, crs=4326), crs=4326)
    out.attrs = {"repairs": report, "source": source, "retrieved": retrieved,
                 "attribution": OSM_ATTRIBUTION}
    return out


def _polygonal_or_self(collections: NDArray[np.object_]) -> NDArray[np.object_]:
    """The polygonal parts of geometry collections (as one geometry each), where they have any."""
    parts, owner = shapely.get_parts(collections, return_index=True)
    polygonal = np.isin(shapely.get_type_id(parts), [3, 6])
    out = collections.copy()
    for position in np.unique(owner[polygonal]):
        out[position] = shapely.union_all(parts[polygonal & (owner == position)])
    return out


def _as_objects(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Text columns as object dtype with None for missing values (not NaN)."""
    for column in columns:
        values = pd.Series(table[column].to_numpy(dtype=object), index=table.index, dtype=object)
        table[column] = values.where(values.notna(), None)
    return table

