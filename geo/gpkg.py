"""GeoPackage layers read straight from bytes with SQLite, without GDAL.

A GeoPackage is an SQLite database (OGC 12-128r18). Reading it with the standard library keeps
GDAL's driver guessing (and with it VRT files and network paths) out of the upload path: the bytes
are deserialised into an in-memory database, nothing touches the disk, and a progress handler
stops queries that run too long (a hostile view can be made arbitrarily slow).
"""

from __future__ import annotations

import sqlite3
import struct
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geo.config import GPKG_QUERY_TIMEOUT_S
from geo.errors import ImportRefusedError, LimitExceededError, UnsafeFileError

SQLITE_MAGIC = b"SQLite format 3\x00"
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_QUERY_SECONDS = GPKG_QUERY_TIMEOUT_S


@dataclass(frozen=True)
class GeoPackageLayer:
    name: str
    attributes: pd.DataFrame
    geometries: list[shapely.Geometry | None]
    srs_organization: str | None
    srs_id: int | None
    problems: list[str]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _decode(blob: object) -> shapely.Geometry | None:
    """Decode one GeoPackage geometry blob (header + standard WKB)."""
    if blob is None:
        return None
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise ValueError("the geometry cell is not binary")
    raw = bytes(blob)
    if len(raw) < 8 or raw[:2] != b"GP":
        raise ValueError("the geometry is not a GeoPackage blob (no 'GP' header)")
    flags = raw[3]
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if envelope is None:
        raise ValueError(f"unknown envelope code in flags {flags:#x}")
    if flags & 0b10000:
        return shapely.GeometryCollection()
    return shapely.from_wkb(raw[8 + envelope:])


def _connect(data: bytes) -> sqlite3.Connection:
    if not data.startswith(SQLITE_MAGIC):
        raise ImportRefusedError("the file does not start like an SQLite/GeoPackage database: it is not a GeoPackage")
    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(data)
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise ImportRefusedError(f"the GeoPackage cannot be opened ({exc}): it may be damaged") from exc
    deadline = time.monotonic() + _QUERY_SECONDS

    def _too_long() -> int:
        return int(time.monotonic() > deadline)

    connection.set_progress_handler(_too_long, 10_000)
    return connection


def read_geopackage(data: bytes, *, layer: str | None = None, max_rows: int) -> GeoPackageLayer:
    """Read one feature layer (the first, or ``layer``) of a GeoPackage given as bytes.

    Raises
    ------
    ImportRefusedError
        If the bytes are not a GeoPackage, the layer does not exist or cannot be read.
    UnsafeFileError
        If reading takes longer than the allowed time (a hostile view or trigger).
    """
    connection = _connect(data)
    try:
        try:
            layers = connection.execute(
                "SELECT c.table_name, g.column_name, s.organization, s.organization_coordsys_id"
                " FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name"
                " LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id"
                " WHERE c.data_type = 'features' ORDER BY c.table_name").fetchall()
        except sqlite3.DatabaseError as exc:
            raise ImportRefusedError(
                f"the database has no readable GeoPackage feature tables ({exc}): export it as a GeoPackage") from exc
        if not layers:
            raise ImportRefusedError("the GeoPackage has no feature layer: it holds only tables or tiles")
        names = [row[0] for row in layers]
        chosen = layers[0] if layer is None else next((row for row in layers if row[0] == layer), None)
        if chosen is None:
            raise ImportRefusedError(f"the GeoPackage has no layer {layer!r}; its layers are {names}")
        table, geometry_column, organization, srs_code = chosen
        try:
            count = connection.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]
            if count > max_rows:
                raise LimitExceededError("feature count", actual=count, allowed=max_rows)
            cursor = connection.execute(f"SELECT * FROM {_quote(table)}")
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise UnsafeFileError(
                    f"reading layer {table!r} took longer than {_QUERY_SECONDS:.0f} s and was stopped:"
                    " the file may contain a hostile view; export the layer again") from exc
            raise ImportRefusedError(f"layer {table!r} cannot be read ({exc})") from exc
        except sqlite3.DatabaseError as exc:
            raise ImportRefusedError(f"layer {table!r} cannot be read ({exc}): the file may be damaged") from exc
    finally:
        connection.close()
    frame = pd.DataFrame.from_records(rows, columns=columns)
    blobs = frame.pop(geometry_column).tolist() if geometry_column in frame else [None] * len(frame)
    geometries: list[shapely.Geometry | None] = []
    problems = []
    for number, blob in enumerate(blobs, start=1):
        try:
            geometries.append(_decode(blob))
        except (ValueError, struct.error, shapely.errors.ShapelyError) as exc:
            geometries.append(None)
            problems.append(f"feature {number}: geometry cannot be decoded ({exc})")
    frame = frame.drop(columns=[c for c in ("fid",) if c in frame])
    binary = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, bytes)).any()]
    frame = frame.drop(columns=binary)
    srs_id = int(srs_code) if isinstance(srs_code, int | np.integer) else None
    return GeoPackageLayer(name=str(table), attributes=frame.reset_index(drop=True), geometries=geometries,
                           srs_organization=str(organization) if organization else None,
                           srs_id=srs_id, problems=problems)
