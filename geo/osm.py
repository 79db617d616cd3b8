"""OpenStreetMap through osmnx: reading extracts, fetching online, matching parks, site context.

Sources
-------
* From a file, with no network: OSM XML (``.osm``, ``.osm.bz2``, ``.osm.gz``) through
  ``osmnx.features_from_xml``, and ``.osm.pbf`` through pyosmium (``osmium`` on PyPI).
  Both give the same frame: one row per feature, ``osm_type``/``osm_ref``/``osm_id``
  (``"way/123"``), ``osm_version``, ``osm_timestamp``, one column per tag, WGS84 geometry.
* Online (``fetch_osm``): osmnx queries by place name or polygon with short timeouts, no
  DNS-over-HTTPS detour, no 60-second status-check pause, no 55-second retry on HTTP 429/504,
  a size-bounded cache in the data folder, and a hard deadline: when the network is absent or
  the server refuses, ``OSMUnavailableError`` says so in plain words within ``timeout_s``.

Parks are matched to OSM areas by name (Chinese or English, normalised), tags
(``landuse=industrial`` ...) and location (overlap, distance, plausible area) in
``match_parks``; replacing a park's outline is the job of ``geo.osm_store``, which never does
it silently and keeps the old outline. ``context_layers`` lists hospitals (tertiary where
tagged), metro stations, universities, research institutes and airports around each park,
with distances in metres.

OpenStreetMap data is (c) OpenStreetMap contributors, ODbL 1.0: ``OSM_ATTRIBUTION`` travels
with every feature read here.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import math
import os
import re
import socket
import tempfile
import threading
import unicodedata
import xml.parsers.expat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from geo.errors import GeoError
from geo.measure import RepairReport, areas, repair_geometries
from geo.shapes import is_drawn

OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"
SUPPORTED_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf")
MAX_UNCOMPRESSED_BYTES = 2_000_000_000

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

# How a candidate's score is made (weights add up to 1).
MATCH_WEIGHTS: dict[str, float] = {"name": 0.45, "tags": 0.15, "location": 0.25, "area": 0.15}
TAG_SCORES: dict[tuple[str, str | None], float] = {
    ("landuse", "industrial"): 1.0, ("industrial", None): 0.8, ("landuse", "commercial"): 0.5,
    ("landuse", "retail"): 0.3, ("landuse", "construction"): 0.3, ("landuse", "brownfield"): 0.3,
}

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


class OSMError(GeoError):
    """Base class of the OpenStreetMap errors."""


class OSMFileError(OSMError, ValueError):
    """A file that is not a readable OpenStreetMap extract."""


class OSMUnavailableError(OSMError):
    """OpenStreetMap could not be reached, did not answer in time, or refused the request."""


class OSMQueryError(OSMError, ValueError):
    """A query that cannot be answered: an unknown place, a bad polygon or tag filter."""


class OSMMatchError(OSMError, ValueError):
    """An unknown park or OSM id, or a feature that cannot be a park boundary."""


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
def _open_binary(path: Path, suffix: str) -> Iterator[BinaryIO]:
    if suffix == ".osm.bz2":
        with bz2.open(path, "rb") as handle:
            yield handle  # type: ignore[misc]
    elif suffix == ".osm.gz":
        with gzip.open(path, "rb") as handle:
            yield handle  # type: ignore[misc]
    else:
        with open(path, "rb") as handle:
            yield handle


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
    except (OSError, EOFError, ValueError) as exc:
        raise OSMFileError(f"cannot read {name!r}: {exc}") from None
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


# --------------------------------------------------------------------------------------------
# online


_OSMNX_LOCK = threading.Lock()
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024


def cache_dir(directory: str | os.PathLike[str] | None = None) -> Path:
    """The osmnx response cache: ``<data dir>/osm_cache`` (see ``geo.scenarios.data_dir``)."""
    from geo.scenarios import data_dir

    folder = data_dir(directory) / "osm_cache"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def prune_cache(folder: str | os.PathLike[str], *, max_bytes: int = DEFAULT_CACHE_BYTES) -> int:
    """Delete the oldest cached responses until the folder holds at most ``max_bytes``.

    Returns the number of files deleted.
    """
    files = [p for p in Path(folder).glob("*.json") if p.is_file()]
    stats = [(p.stat().st_mtime, p.stat().st_size, p) for p in files]
    total = sum(size for _, size, _ in stats)
    deleted = 0
    for _, size, path in sorted(stats, key=lambda s: s[0]):
        if total <= max_bytes:
            break
        try:
            path.unlink()
        except OSError:
            continue
        total -= size
        deleted += 1
    return deleted


def _refuse_slow_retries(response: Any, *_: Any, **__: Any) -> Any:
    # osmnx sleeps 55 s and retries forever on 429/504: turn them into an error at once.
    if response.status_code in (429, 503, 504):
        raise _ServerRefused(response.status_code, response.reason, response.url)
    return response


class _ServerRefused(Exception):
    def __init__(self, status: int, reason: str, url: str) -> None:
        super().__init__(f"HTTP {status} {reason}")
        self.status, self.reason, self.url = status, reason, url


DEFAULT_OVERPASS_URL = "https://overpass-api.de/api"  # osmnx's defaults
DEFAULT_NOMINATIM_URL = "https://nominatim.openstreetmap.org/"


def _configure_osmnx(*, timeout_s: float, cache_folder: Path, overpass_url: str | None,
                     nominatim_url: str | None) -> None:
    import osmnx as ox

    settings = ox.settings
    settings.requests_timeout = float(timeout_s)
    settings.doh_url_template = None  # no DNS-over-HTTPS detour with the same long timeout
    settings.overpass_rate_limit = False  # no status check that sleeps 60 s when it fails
    settings.use_cache = True
    settings.cache_folder = str(cache_folder)
    settings.requests_kwargs = {"hooks": {"response": [_refuse_slow_retries]}}
    settings.log_console = False
    # Always both: a query abandoned on time-out must not leave its servers to the next one.
    settings.overpass_url = overpass_url or DEFAULT_OVERPASS_URL
    settings.nominatim_url = nominatim_url or DEFAULT_NOMINATIM_URL


def _host(url: str) -> str:
    match = re.match(r"^[a-z]+://([^/:]+)", url or "", re.IGNORECASE)
    return match.group(1) if match else url


def _unavailable(exc: BaseException, *, host: str, timeout_s: float) -> OSMUnavailableError:
    import requests

    hint = ("check the network, or work from an extract file instead: "
            "python -m geo osm match FILE.osm.pbf")
    if isinstance(exc, _ServerRefused):
        return OSMUnavailableError(
            f"OpenStreetMap server {_host(exc.url)!r} refused the request ({exc}): it is busy or "
            f"rate-limiting; try again in a minute, or {hint}")
    if isinstance(exc, requests.exceptions.Timeout):
        return OSMUnavailableError(
            f"no answer from the OpenStreetMap server {host!r} within {timeout_s:g} s: {hint}")
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        what = ("its name cannot be resolved (no network or no DNS)"
                if "resolve" in text.lower() or "name or service" in text.lower()
                else "the connection failed (network absent, blocked, or connection refused)")
        return OSMUnavailableError(f"cannot reach the OpenStreetMap server {host!r}: {what}; {hint}")
    if isinstance(exc, requests.exceptions.RequestException):
        return OSMUnavailableError(f"request to the OpenStreetMap server {host!r} failed ({exc}); {hint}")
    return OSMUnavailableError(f"OpenStreetMap query to {host!r} failed ({type(exc).__name__}: {exc}); {hint}")


def fetch_osm(*, place: str | None = None, polygon: shapely.Geometry | None = None,
              tags: TagFilter = DEFAULT_TAGS, timeout_s: float = 20.0,
              data_dir: str | os.PathLike[str] | None = None,
              max_cache_bytes: int = DEFAULT_CACHE_BYTES, overpass_url: str | None = None,
              nominatim_url: str | None = None) -> gpd.GeoDataFrame:
    """Query OpenStreetMap online (Nominatim + Overpass through osmnx), failing fast.

    Parameters
    ----------
    place : str, optional
        A place name that Nominatim resolves to a polygon, for example ``"Changping District,
        Beijing"``. Give exactly one of ``place`` and ``polygon``.
    polygon : shapely Polygon or MultiPolygon, optional
        The area to query, in longitude/latitude (see ``park_query_polygon``).
    tags : mapping
        osmnx tag filter (see ``read_osm_file``); defaults to ``DEFAULT_TAGS``.
    timeout_s : float, default 20
        Time limit of the whole query (and of each request in it). Past it the query is
        abandoned and ``OSMUnavailableError`` raised.
    data_dir : path, optional
        The data folder holding the response cache (``osm_cache``); defaults to
        ``$PHARMA_MAP_DATA_DIR`` or ``./var``.
    max_cache_bytes : int
        The cache is pruned (oldest first) to this size after every query.
    overpass_url, nominatim_url : str, optional
        Other servers (a local Overpass instance, for example).

    Returns
    -------
    geopandas.GeoDataFrame
        As ``read_osm_file``; ``osm_version`` and ``osm_timestamp`` are empty (Overpass does
        not send them by default) and ``osm_retrieved`` is the time of the query.

    Raises
    ------
    OSMUnavailableError
        When the network is absent, the server refuses or does not answer within ``timeout_s``.
    OSMQueryError
        For a place Nominatim does not know or cannot give a polygon for, or bad arguments.
    """
    if (place is None) == (polygon is None):
        raise OSMQueryError("give exactly one of place= (a name) or polygon= (a shapely polygon)")
    if polygon is not None and (not isinstance(polygon, (shapely.Polygon, shapely.MultiPolygon))
                                or polygon.is_empty):
        raise OSMQueryError(f"polygon must be a non-empty shapely Polygon or MultiPolygon in "
                            f"longitude/latitude, not {type(polygon).__name__}")
    if polygon is not None:
        min_x, min_y, max_x, max_y = polygon.bounds
        if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
            raise OSMQueryError(f"polygon bounds {polygon.bounds} are not longitude/latitude: "
                                "reproject it to EPSG:4326 first")
    if not timeout_s or timeout_s <= 0:
        raise OSMQueryError(f"timeout_s must be a positive number of seconds, not {timeout_s!r}")
    tag_filter = _check_tags(tags)
    if not tag_filter:
        raise OSMQueryError("online queries need a tag filter, for example DEFAULT_TAGS")
    folder = cache_dir(data_dir)

    import osmnx as ox
    from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

    outcome: dict[str, Any] = {}
    # osmnx pins the server's IP by rebinding socket.getaddrinfo for the whole process; the app is a
    # long-lived server whose other connections must keep the system resolver. (A query abandoned
    # on time-out may rebind it late: then what osmnx wrapped is the resolver to keep.)
    resolver = socket.getaddrinfo
    if getattr(resolver, "__module__", None) == "osmnx._http":
        from osmnx import _http as osmnx_http

        resolver = osmnx_http._original_getaddrinfo

    def work() -> None:
        try:
            if place is not None:
                outcome["frame"] = ox.features_from_place(place, tag_filter)
            else:
                outcome["frame"] = ox.features_from_polygon(polygon, tag_filter)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc
        finally:
            socket.getaddrinfo = resolver

    with _OSMNX_LOCK:
        _configure_osmnx(timeout_s=timeout_s, cache_folder=folder, overpass_url=overpass_url,
                         nominatim_url=nominatim_url)
        host = _host(ox.settings.nominatim_url if place is not None else ox.settings.overpass_url)
        retrieved = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        worker = threading.Thread(target=work, name="osm-fetch", daemon=True)
        worker.start()
        worker.join(timeout_s + 0.5)
    try:
        prune_cache(folder, max_bytes=max_cache_bytes)
    except OSError:
        pass
    if worker.is_alive():
        raise OSMUnavailableError(
            f"no answer from OpenStreetMap ({host!r}) within {timeout_s:g} s; the query was "
            "abandoned. Check the network, or work from an extract file instead: "
            "python -m geo osm match FILE.osm.pbf")
    error = outcome.get("error")
    if error is not None:
        if isinstance(error, InsufficientResponseError):
            text = str(error)
            if "Nominatim" in text or "geocode" in text.lower():
                raise OSMQueryError(f"OpenStreetMap has no area for the place {place!r} ({text}): "
                                    "try the full name, e.g. 'Changping District, Beijing', or "
                                    "query a park's polygon instead") from None
            return _finish(_empty_features(), source="overpass", retrieved=retrieved)
        if isinstance(error, ResponseStatusCodeError):
            raise OSMUnavailableError(f"OpenStreetMap server {host!r} refused the request ({error})") from None
        if isinstance(error, (TypeError, ValueError)) and not isinstance(error, OSError):
            raise OSMQueryError(f"OpenStreetMap query rejected: {error}") from None
        raise _unavailable(error, host=host, timeout_s=timeout_s) from None
    frame = _from_osmnx(outcome["frame"])
    return _finish(frame, source=f"overpass:{host}", retrieved=retrieved)


def park_query_polygon(parks: gpd.GeoDataFrame, park_id: str, *, margin_m: float = 2_000.0,
                       districts: gpd.GeoDataFrame | None = None) -> shapely.Polygon:
    """The area to query around a park: its outline grown by ``margin_m`` metres; for a park
    not on the map (tier 'unlocated'), its whole district (from ``districts``)."""
    row = _park_row(parks, park_id)
    if row.geometry is None or shapely.is_empty(row.geometry):
        district_id = row.get("district_id")
        if districts is None or district_id not in set(districts["district_id"]):
            raise OSMQueryError(f"park {park_id!r} is not on the map (no outline to query around): "
                                "query its district instead, e.g. --place 'Haidian District, Beijing'")
        district = districts.loc[districts["district_id"] == district_id].geometry.iloc[0]
        return shapely.simplify(district, 0.001)  # about 100 m: a short Overpass query
    geom = np.array([row.geometry], dtype=object)
    to_local, to_lonlat = _local_transformers(shapely.total_bounds(geom))
    grown = shapely.buffer(_transform(geom, to_local), margin_m)
    return _transform(grown, to_lonlat)[0]


# --------------------------------------------------------------------------------------------
# matching parks


def _local_transformers(bounds: NDArray[np.float64]) -> tuple[Transformer, Transformer]:
    """Transverse Mercator centred on ``bounds``: metres, scale error < 0.01 % within 90 km."""
    min_x, min_y, max_x, max_y = bounds
    lon_0 = (min_x + max_x) / 2.0 if np.isfinite(min_x) else 116.4
    lat_0 = (min_y + max_y) / 2.0 if np.isfinite(min_y) else 39.9
    proj = f"+proj=tmerc +lat_0={lat_0:.6f} +lon_0={lon_0:.6f} +k=1 +ellps=WGS84 +units=m +no_defs"
    return (Transformer.from_crs("EPSG:4326", proj, always_xy=True),
            Transformer.from_crs(proj, "EPSG:4326", always_xy=True))


def _transform(geoms: NDArray[np.object_], transformer: Transformer) -> NDArray[np.object_]:
    return shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


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


def _park_row(parks: gpd.GeoDataFrame, park_id: str) -> pd.Series:
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
            _park_row(parks, park_id)
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
    to_local, _ = _local_transformers(shapely.total_bounds(geoms))
    local_parks = _transform(geoms, to_local)
    near_osm = np.unique(osm_pos)
    local_osm = _transform(osm_geoms[near_osm], to_local)
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


def _as_objects(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Text columns as object dtype with None for missing values (not NaN)."""
    for column in columns:
        values = pd.Series(table[column].to_numpy(dtype=object), index=table.index, dtype=object)
        table[column] = values.where(values.notna(), None)
    return table


def _empty_matches() -> gpd.GeoDataFrame:
    columns = ["park_id", "park_name_zh", "park_name_en", "rank", "score", "confidence", "name_score",
               "matched_name", "tag_score", "matched_tag", "location_score", "area_score", "distance_m",
               "overlap_iou", "overlap_of_park", "overlap_of_osm", "area_before_m2", "area_before_km2",
               "area_after_m2", "area_after_km2", "area_change_pct", "official_area_km2", "tier_before",
               "osm_id", "osm_type", "osm_ref", "osm_version", "osm_timestamp", "osm_name"]
    return gpd.GeoDataFrame({c: pd.Series([], dtype=object) for c in columns},
                            geometry=gpd.GeoSeries([], crs=4326), crs=4326)


# --------------------------------------------------------------------------------------------
# context around the parks


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
    to_local, _ = _local_transformers(shapely.total_bounds(park_geoms))
    local_parks = _transform(park_geoms, to_local)
    local_points = _transform(points, to_local)
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
                          licence=f"{OSM_ATTRIBUTION} ({OSM_COPYRIGHT_URL})")
