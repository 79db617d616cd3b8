"""OpenStreetMap online: Nominatim and Overpass through osmnx, failing fast.

``fetch_osm`` queries by place name or polygon with short timeouts, no DNS-over-HTTPS detour, no
60-second status-check pause, no 55-second retry on HTTP 429/504, a size-bounded cache in the data
folder, and a hard deadline: when the network is absent or the server refuses,
``OSMUnavailableError`` says so in plain words within ``timeout_s``. The frame it returns has the
shape of ``geo.osm.read.read_osm_file``'s.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import threading
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from geo.config import OSM_CACHE_BYTES, OSM_CACHE_FOLDER, OSM_FETCH_TIMEOUT_S
from geo.config import data_dir as _data_dir
from geo.errors import OSMQueryError, OSMUnavailableError
from geo.osm.match import park_row
from geo.osm.read import DEFAULT_TAGS, TagFilter, _check_tags, _empty_features, _finish, _from_osmnx
from geo.projection import local_metric

_OSMNX_LOCK = threading.Lock()
DEFAULT_CACHE_BYTES = OSM_CACHE_BYTES


def cache_dir(directory: str | os.PathLike[str] | None = None) -> Path:
    """The osmnx response cache: ``<data dir>/osm_cache`` (see ``geo.config.data_dir``)."""
    folder = _data_dir(directory) / OSM_CACHE_FOLDER
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
              tags: TagFilter = DEFAULT_TAGS, timeout_s: float = OSM_FETCH_TIMEOUT_S,
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
    row = park_row(parks, park_id)
    if row.geometry is None or shapely.is_empty(row.geometry):
        district_id = row.get("district_id")
        if districts is None or district_id not in set(districts["district_id"]):
            raise OSMQueryError(f"park {park_id!r} is not on the map (no outline to query around): "
                                "query its district instead, e.g. --place 'Haidian District, Beijing'")
        district = districts.loc[districts["district_id"] == district_id].geometry.iloc[0]
        return shapely.simplify(district, 0.001)  # about 100 m: a short Overpass query
    plane = local_metric(row.geometry)
    return plane.to_lonlat(shapely.buffer(plane.to_metres(row.geometry), margin_m))[0]
