"""Every setting of the app in one place: environment variables, folders, limits, cache budgets
and time limits.

Environment variables are read when asked for (not at import), so a test or a server started with
another environment sees its own values. The README's "Configuration" section lists the same
settings; ``tests/test_config.py`` checks that every variable named here is listed there.

=============================  =============================================  =====================
environment variable           what                                           default
=============================  =============================================  =====================
``PHARMA_MAP_DATA_DIR``        folder of the stores (planner scenarios,       ``./var``
                               saved layers, OSM outline overrides) and of
                               the OpenStreetMap response cache
``PHARMA_MAP_SNAPSHOT_DIR``    another data snapshot                          ``data/snapshot``
``PHARMA_MAP_CJK_FONT``        TrueType CJK font embedded in park briefs      first installed of
                                                                              WenQuanYi / AR PL
``PHARMA_MAP_UPLOAD_CACHE_MB`` memory the server keeps for uploads already    64
                               read (imported layers, OSM extracts, street
                               networks), in MiB
``TIANDITU_KEY``               Tianditu basemap key (also                     none: Tianditu hidden
                               ``.streamlit/secrets.toml``)
``SNAPSHOT_BUILD_DATE``        build date written by ``python -m geo build``  today
=============================  =============================================  =====================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- environment

DATA_DIR_ENV: Final = "PHARMA_MAP_DATA_DIR"
SNAPSHOT_DIR_ENV: Final = "PHARMA_MAP_SNAPSHOT_DIR"
CJK_FONT_ENV: Final = "PHARMA_MAP_CJK_FONT"
UPLOAD_CACHE_ENV: Final = "PHARMA_MAP_UPLOAD_CACHE_MB"
TIANDITU_KEY_ENV: Final = "TIANDITU_KEY"
BUILD_DATE_ENV: Final = "SNAPSHOT_BUILD_DATE"
DATABASE_URL_ENV: Final = "PHARMA_MAP_DATABASE_URL"
DATABASE_POOL_MAX_ENV: Final = "PHARMA_MAP_DATABASE_POOL_MAX"
DEFAULT_DATABASE_POOL_MAX: Final = 10
AMAP_KEY_ENV: Final = "AMAP_KEY"
GEOCODER_KEY_ENV: Final[dict[str, str]] = {"amap": AMAP_KEY_ENV, "tianditu": TIANDITU_KEY_ENV}
GEOCODER_URL_ENV: Final[dict[str, str]] = {provider: f"PHARMA_MAP_{provider.upper()}_URL"
                                           for provider in ("nominatim", "amap", "tianditu")}
ENVIRONMENT_VARIABLES: Final[tuple[str, ...]] = (DATA_DIR_ENV, SNAPSHOT_DIR_ENV, CJK_FONT_ENV,
                                                 UPLOAD_CACHE_ENV, TIANDITU_KEY_ENV, BUILD_DATE_ENV,
                                                 DATABASE_URL_ENV, DATABASE_POOL_MAX_ENV, AMAP_KEY_ENV,
                                                 *GEOCODER_URL_ENV.values())

# --------------------------------------------------------------------------- folders

DEFAULT_DATA_DIR: Final = PROJECT_ROOT / "var"
DEFAULT_SNAPSHOT_DIR: Final = PROJECT_ROOT / "data" / "snapshot"
CURATED_DIR: Final = PROJECT_ROOT / "data" / "curated"
OSM_CACHE_FOLDER: Final = "osm_cache"  # inside the data folder


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def data_dir(explicit: str | os.PathLike[str] | None = None, *,
             environ: Mapping[str, str] | None = None) -> Path:
    """The data folder (created if missing): ``explicit``, else ``$PHARMA_MAP_DATA_DIR``, else ``./var``."""
    chosen = Path(explicit or _environ(environ).get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


def snapshot_dir(*, environ: Mapping[str, str] | None = None) -> Path:
    """The snapshot the app loads: ``$PHARMA_MAP_SNAPSHOT_DIR`` if set, else the bundled one."""
    return Path(_environ(environ).get(SNAPSHOT_DIR_ENV) or DEFAULT_SNAPSHOT_DIR)


def cjk_font(*, environ: Mapping[str, str] | None = None) -> str | None:
    """The CJK font named by ``$PHARMA_MAP_CJK_FONT`` (checked by ``geo.brief``), or None."""
    return _environ(environ).get(CJK_FONT_ENV) or None


def tianditu_key(*, environ: Mapping[str, str] | None = None) -> str | None:
    """``$TIANDITU_KEY``, or None (the app then also looks in ``.streamlit/secrets.toml``)."""
    return _environ(environ).get(TIANDITU_KEY_ENV) or None


def build_date(*, environ: Mapping[str, str] | None = None) -> str | None:
    """``$SNAPSHOT_BUILD_DATE`` (YYYY-MM-DD) for a reproducible build, or None for today."""
    return _environ(environ).get(BUILD_DATE_ENV) or None


def geocoder_key(provider: str, *, environ: Mapping[str, str] | None = None) -> str | None:
    """The key of an online geocoder from the environment (``$AMAP_KEY``, ``$TIANDITU_KEY``), or None
    (the app then also looks in ``.streamlit/secrets.toml``)."""
    name = GEOCODER_KEY_ENV.get(provider)
    return (_environ(environ).get(name) or None) if name else None


def geocoder_url(provider: str, *, environ: Mapping[str, str] | None = None) -> str | None:
    """Another address for a geocoder (``$PHARMA_MAP_NOMINATIM_URL``...: a local instance), or None."""
    name = GEOCODER_URL_ENV.get(provider)
    return (_environ(environ).get(name) or None) if name else None


def database_url_setting(*, environ: Mapping[str, str] | None = None) -> str | None:
    """``$PHARMA_MAP_DATABASE_URL`` as set: None when unset, "" when set but empty (SQLite);
    ``geo.store_backend.database_url`` then also looks in Streamlit's ``secrets.toml``."""
    return _environ(environ).get(DATABASE_URL_ENV)


def database_pool_max(*, environ: Mapping[str, str] | None = None) -> int:
    """Connections per app process to the shared database (``$PHARMA_MAP_DATABASE_POOL_MAX``, at least 1)."""
    value = _environ(environ).get(DATABASE_POOL_MAX_ENV) or ""
    try:
        return max(int(value), 1) if value.strip() else DEFAULT_DATABASE_POOL_MAX
    except ValueError as exc:
        raise ValueError(f"{DATABASE_POOL_MAX_ENV}={value!r} is not a whole number: set it to, say, "
                         f"{DEFAULT_DATABASE_POOL_MAX}") from exc


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class ImportLimits:
    """Every limit on an import, in one place; each refusal names the limit and the file's figure."""

    max_file_bytes: int = 20 * 1024 * 1024
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_archive_entries: int = 200
    max_features: int = 200_000
    max_vertices: int = 5_000_000
    max_columns: int = 300


IMPORT_LIMITS: Final = ImportLimits()
#: Vertices one geometry may have at the planner's door (``geo.geometry_check``).
MAX_VERTICES_PER_GEOMETRY: Final = 10_000
#: OSM XML is refused when it expands beyond this (a guard against compression bombs).
OSM_MAX_UNCOMPRESSED_BYTES: Final = 2_000_000_000


# --------------------------------------------------------------------------- caches

MIB: Final = 1024 * 1024
DEFAULT_UPLOAD_CACHE_MB: Final = 64  # two 100,000-point layers (~31 MiB each)
#: Disk the OpenStreetMap response cache (``<data dir>/osm_cache``) may fill; oldest pruned first.
OSM_CACHE_BYTES: Final = 64 * MIB
#: Parsed uploads kept so that inspecting and then importing a file parses it once (geo.imports).
PARSE_CACHE_BYTES: Final = 32 * MIB  # three 100,000-row CSVs (~9 MiB each)
#: Rendered maps kept for every session (pages._map.show_map): each is a few hundred kB of text.
RENDER_CACHE_ENTRIES: Final = 32


def upload_cache_bytes(*, environ: Mapping[str, str] | None = None) -> int:
    """Memory for uploads already read (``$PHARMA_MAP_UPLOAD_CACHE_MB``, default 64 MiB).

    Raises
    ------
    ValueError
        If the variable is set to something other than a non-negative number of MiB.
    """
    text = _environ(environ).get(UPLOAD_CACHE_ENV)
    if not text:
        return DEFAULT_UPLOAD_CACHE_MB * MIB
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0:
        raise ValueError(f"{UPLOAD_CACHE_ENV}={text!r} is not a number of MiB: set it to e.g. 64, "
                         "or 0 to keep no upload in memory")
    return int(value * MIB)


# --------------------------------------------------------------------------- time limits

#: A whole OpenStreetMap query (Nominatim + Overpass) before it is abandoned.
OSM_FETCH_TIMEOUT_S: Final = 20.0
#: Waiting for another writer of a SQLite store.
SQLITE_TIMEOUT_S: Final = 10.0
#: One query on an uploaded GeoPackage before it is stopped.
GPKG_QUERY_TIMEOUT_S: Final = 10.0
