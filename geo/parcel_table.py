"""The planner's parcel table: its columns and codes, the defaults and checks of its attributes
(``normalise``), and the parcels as a store keeps them (packed WKB, or GeoJSON text from older
versions). ``geo.parcels`` is the door parcels enter by, and re-exports what is here.
"""

from __future__ import annotations

import json
import uuid
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import ParcelError

STATUSES: tuple[str, ...] = ("planned", "under_construction", "completed")
USES: tuple[str, ...] = ("industrial_land", "standard_factory", "other")
LAND_USES: tuple[str, ...] = ("industrial_land", "standard_factory")
PARCEL_COLUMNS: tuple[str, ...] = ("parcel_id", "number", "name", "status", "use", "floor_area_m2",
                                   "plot_ratio")
DEFAULT_PLOT_RATIO = 2.0
MAX_PARCELS = 2_000
MAX_NAME_CHARS = 120


# ----------------------------------------------------------------------------- the table

def new_parcel_id() -> str:
    return uuid.uuid4().hex[:12]


def empty_parcels() -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in PARCEL_COLUMNS})
    return normalise(gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=4326), crs=4326))


# ----------------------------------------------------------------------------- attributes

def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (
        isinstance(value, str) and not value.strip()) or value is pd.NA


def _number_or_problem(value: object, name: str) -> tuple[float, str | None]:
    if _missing(value):
        return np.nan, None
    try:
        number = float(str(value).strip().replace(",", "")) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan, f"{name} {value!r} is not a number"
    if not np.isfinite(number):
        return np.nan, f"{name} {value!r} is not a finite number"
    if number < 0:
        return np.nan, f"{name} must not be negative, got {number!r}"
    return number, None


def _attribute_problem(props: dict[str, Any]) -> str | None:
    """The first attribute a parcel cannot keep, as a sentence (None: all fine)."""
    for column, allowed in (("status", STATUSES), ("use", USES)):
        value = props.get(column)
        if not _missing(value) and value not in allowed:
            return f"unknown parcel {column} {value!r}: use one of {', '.join(allowed)}"
    for column in ("floor_area_m2", "plot_ratio"):
        _, problem = _number_or_problem(props.get(column), column)
        if problem:
            return problem
    return None


def _clean_name(value: object) -> str:
    if _missing(value):
        return ""
    text = str(value)
    if not text.isprintable():
        text = "".join(ch for ch in text if ch.isprintable())
    return text.strip()[:MAX_NAME_CHARS]


def normalise(parcels: gpd.GeoDataFrame, *, strict: bool = True) -> gpd.GeoDataFrame:
    """Fill defaults (id, number, status, use, plot ratio) and check every value.

    With ``strict=False`` (stored scenarios, which must always open) unknown codes fall back to
    the defaults instead of raising.

    Raises
    ------
    ParcelError
        Over ``MAX_PARCELS`` parcels, or (strict) an unknown status/use or a bad number.
    """
    if len(parcels) > MAX_PARCELS:
        raise ParcelError(f"{len(parcels):,} parcels in one scenario; the limit is {MAX_PARCELS:,}:"
                          " split the plan into several scenarios")
    # Plain columns, one GeoDataFrame at the end: each column set on a GeoDataFrame costs a CRS check.
    n = len(parcels)
    columns = {column: (parcels[column] if column in parcels else pd.Series([None] * n, index=parcels.index,
                                                                              dtype=object))
               for column in PARCEL_COLUMNS}
    out: dict[str, object] = {}
    out["parcel_id"] = [p if isinstance(p, str) and p else new_parcel_id() for p in columns["parcel_id"].tolist()]
    out["number"] = _numbers(columns["number"])
    out["name"] = [n.strip()[:MAX_NAME_CHARS] if type(n) is str and n.isprintable() else _clean_name(n)
                   for n in columns["name"].tolist()]
    for column, allowed, default in (("status", STATUSES, "planned"), ("use", USES, "standard_factory")):
        values = columns[column].tolist()
        known = [value in allowed if isinstance(value, str) else False for value in values]
        if not all(known):
            for value, ok in zip(values, known, strict=True):
                if not ok and not _missing(value) and strict:
                    raise ParcelError(f"unknown parcel {column} {value!r}: use one of {', '.join(allowed)}")
            values = [value if ok else default for value, ok in zip(values, known, strict=True)]
        out[column] = values
    for column in ("floor_area_m2", "plot_ratio"):
        out[column] = _numbers_column(columns[column], column, strict=strict)
    out["plot_ratio"] = np.where(np.isnan(out["plot_ratio"]), DEFAULT_PLOT_RATIO, out["plot_ratio"])
    table = pd.DataFrame({column: out[column] for column in PARCEL_COLUMNS}, index=parcels.index)
    return gpd.GeoDataFrame(table, geometry=np.asarray(parcels.geometry.values, dtype=object), crs=4326)


def _numbers_column(values: pd.Series, name: str, *, strict: bool) -> np.ndarray:
    """A column of non-negative finite numbers (NaN where missing or, not strict, unusable)."""
    if not pd.api.types.is_bool_dtype(values.dtype):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        unreadable = np.isnan(numbers) & ~pd.isna(values).to_numpy()
        if not unreadable.any() and np.all(np.isnan(numbers) | (np.isfinite(numbers) & (numbers >= 0))):
            return numbers  # the stored and measured case: already clean
    numbers = []
    for value in values:
        number, problem = _number_or_problem(value, name)
        if problem and strict:
            raise ParcelError(problem)
        numbers.append(number)
    return np.array(numbers, dtype=float)


def _numbers(values: pd.Series) -> np.ndarray:
    """Keep each parcel's number; give unnumbered (or duplicate) parcels the next free ones."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(numbers) & (numbers >= 1) & (numbers == np.floor(numbers))
    kept = whole.copy()
    kept[whole] = ~pd.Series(numbers[whole]).duplicated().to_numpy()  # the first of equal numbers keeps it
    out = np.zeros(len(numbers), dtype=np.int64)
    out[kept] = numbers[kept].astype(np.int64)
    start = int(out[kept].max()) + 1 if kept.any() else 1
    out[~kept] = np.arange(start, start + int((~kept).sum()), dtype=np.int64)
    return out


def add_parcels(current: gpd.GeoDataFrame, added: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The scenario's parcels with ``added`` appended, numbered after the highest number so far."""
    start = int(current["number"].max()) + 1 if len(current) else 1
    added = added.copy()
    added["number"] = np.arange(start, start + len(added), dtype=np.int64)
    frames = [f for f in (current, added) if len(f)]
    if not frames:
        return empty_parcels()
    combined = pd.concat(frames, ignore_index=True)
    return normalise(gpd.GeoDataFrame(combined, geometry="geometry", crs=4326), strict=False)


# ----------------------------------------------------------------------------- stored parcels

def _shape(document: object) -> shapely.Geometry | None:
    """A GeoJSON geometry object as shapely, None if it cannot be read (NaN coordinates are read:
    the door reports them per parcel, not as a warning)."""
    if not isinstance(document, dict):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return shapely.geometry.shape(document)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, shapely.errors.ShapelyError):
        return None


def parcels_to_geojson(parcels: gpd.GeoDataFrame) -> str:
    """Parcels as a GeoJSON FeatureCollection string (WGS84), for storage.

    Geometries are written by GEOS (``shapely.to_geojson``, whole array); a geometry with NaN or
    Infinity coordinates (a problem parcel kept as found) is written with them, so the stored
    scenario still says what is wrong with it.
    """
    parcels = normalise(parcels, strict=False)
    geoms = np.asarray(parcels.geometry.values, dtype=object)
    texts = shapely.to_geojson(geoms)
    present = np.array([g is not None for g in geoms], dtype=bool)
    finite = np.ones(len(geoms), dtype=bool)
    if present.any():
        coords, owner = shapely.get_coordinates(geoms[present], return_index=True)
        bad = np.bincount(owner, weights=(~np.isfinite(coords).all(axis=1)).astype(float),
                          minlength=int(present.sum())) > 0
        finite[np.flatnonzero(present)[bad]] = False
    records = parcels[list(PARCEL_COLUMNS)].to_dict(orient="records")
    features = []
    for position, (record, text) in enumerate(zip(records, texts, strict=True)):
        properties = {k: (None if isinstance(v, float) and not np.isfinite(v) else
                          int(v) if isinstance(v, np.integer) else float(v) if isinstance(v, np.floating) else v)
                      for k, v in record.items()}
        if text is None:
            geometry = "null"
        elif finite[position]:
            geometry = text
        else:
            geometry = json.dumps(_mapping(geoms[position]), allow_nan=True)
        features.append(f'{{"type":"Feature","properties":{json.dumps(properties, ensure_ascii=False)},'
                        f'"geometry":{geometry}}}')
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


def _mapping(geometry: shapely.Geometry) -> dict[str, Any]:
    return shapely.geometry.mapping(geometry)  # type: ignore[no-any-return]


def parcels_from_geojson(text: str) -> gpd.GeoDataFrame:
    """A stored scenario's parcels, whatever they hold: unreadable geometries become None and
    unknown codes their defaults, so a scenario always opens (``diagnose_parcels`` says what is
    wrong with which parcel)."""
    document = json.loads(text)
    return normalise(_features_frame(document.get("features", []) if isinstance(document, dict) else []),
                     strict=False)


def _features_frame(features: list[Any]) -> gpd.GeoDataFrame:
    """The parcel columns and geometries of GeoJSON feature dicts, as found (no checks, no defaults).
    Geometries are read by GEOS, whole array; the few it cannot read (NaN coordinates, odd
    members) one by one, and those that cannot be read at all are None."""
    features = [f if isinstance(f, dict) else {} for f in features]
    rows = [{c: (f.get("properties") or {}).get(c) for c in PARCEL_COLUMNS} for f in features]
    documents = [f.get("geometry") for f in features]
    texts = np.array([json.dumps(d, allow_nan=True) if isinstance(d, dict) else None for d in documents],
                     dtype=object)
    geoms = np.full(len(texts), None, dtype=object)
    readable = np.array([t is not None and "NaN" not in t and "Infinity" not in t for t in texts], dtype=bool)
    if readable.any():
        geoms[readable] = shapely.from_geojson(texts[readable], on_invalid="ignore")
    for position in np.flatnonzero(np.array([g is None for g in geoms], dtype=bool) &
                                   np.array([isinstance(d, dict) for d in documents], dtype=bool)):
        geoms[position] = _shape(documents[position])
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=list(PARCEL_COLUMNS)),
                            geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)


_PACK_MAGIC = b"PMP1"


def pack_parcels(parcels: gpd.GeoDataFrame) -> bytes:
    """Parcels as the store keeps them: their attributes as JSON and their geometries as WKB
    (whole array, by GEOS), so a scenario of thousands of parcels is written and read in
    milliseconds. NaN coordinates and missing geometries are kept as they are."""
    parcels = normalise(parcels, strict=False)
    records = json.loads(parcels[list(PARCEL_COLUMNS)].to_json(orient="records", force_ascii=False))
    attributes = json.dumps(records, ensure_ascii=False).encode("utf-8")
    wkb = shapely.to_wkb(np.asarray(parcels.geometry.values, dtype=object))
    lengths = np.array([-1 if w is None else len(w) for w in wkb], dtype="<i8")
    return b"".join([_PACK_MAGIC, len(attributes).to_bytes(8, "little"), attributes,
                     len(lengths).to_bytes(8, "little"), lengths.tobytes(),
                     *[w for w in wkb if w is not None]])


def unpack_parcels(data: bytes | str) -> gpd.GeoDataFrame:
    """Parcels packed by ``pack_parcels`` (or stored as GeoJSON text by an older version).

    Raises
    ------
    ParcelError
        If the data is neither.
    """
    if isinstance(data, str) or not data.startswith(_PACK_MAGIC):
        text = data if isinstance(data, str) else data.decode("utf-8")
        if not text.lstrip().startswith("{"):
            raise ParcelError("the stored parcels are neither packed parcels nor GeoJSON")
        return parcels_from_geojson(text)
    position = len(_PACK_MAGIC)
    size = int.from_bytes(data[position:position + 8], "little")
    records = json.loads(data[position + 8:position + 8 + size].decode("utf-8"))
    position += 8 + size
    count = int.from_bytes(data[position:position + 8], "little")
    lengths = np.frombuffer(data[position + 8:position + 8 + 8 * count], dtype="<i8")
    position += 8 + 8 * count
    chunks = np.full(count, None, dtype=object)
    for index, length in enumerate(lengths):
        if length >= 0:
            chunks[index] = data[position:position + length]
            position += length
    geoms = np.full(count, None, dtype=object)
    present = lengths >= 0
    if present.any():
        geoms[present] = shapely.from_wkb(chunks[present], on_invalid="ignore")
    frame = gpd.GeoDataFrame(pd.DataFrame.from_records(records, columns=list(PARCEL_COLUMNS)) if records
                             else pd.DataFrame(columns=list(PARCEL_COLUMNS)),
                             geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)
    return normalise(frame, strict=False)
