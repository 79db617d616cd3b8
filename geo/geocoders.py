"""Online geocoders: Nominatim (OpenStreetMap, WGS84), Amap's web-service geocoding (GCJ-02,
converted to WGS84 with the exact inverse) and Tianditu's geocoder (CGCS2000, treated as WGS84:
the two differ by centimetres in Beijing, and the placement says so).

Each provider has a short timeout, a polite rate limit (Nominatim: one request per second and an
identifying User-Agent, as its usage policy asks), a persistent SQLite cache keyed by provider and
query (a repeated list costs no request), and keeps the provider's own level or confidence. A
result outside Beijing, or at district/city precision, is flagged and not accepted as a site; an
unreachable provider answers within the timeout with a clear message, and the row falls through
to the next locator (the offline one places what it can). Keys come from the environment
(``AMAP_KEY``, ``TIANDITU_KEY``) or Streamlit secrets (read by the pages, passed in).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geo import config
from geo.datums import convert
from geo.errors import GeoError, GeocoderError  # noqa: F401  re-exported
from geo.locate import Placement

USER_AGENT = "beijing-pharma-map/1.0 (geo.geocoders; https://github.com/ local install)"
ENDPOINTS = {
    "nominatim": "https://nominatim.openstreetmap.org/search",
    "amap": "https://restapi.amap.com/v3/geocode/geo",
    "tianditu": "https://api.tianditu.gov.cn/geocoder",
}
MIN_INTERVAL_S = {"nominatim": 1.0, "amap": 0.05, "tianditu": 0.1}
KEY_ENV = config.GEOCODER_KEY_ENV
# Levels that name an area, not a site: the answer is that area's centroid.
COARSE_LEVELS = {"国家", "省", "市", "城市", "区县", "开发区", "乡镇", "country", "state", "province", "city",
                 "county", "district", "city_district", "suburb", "municipality", "town", "borough"}
ATTRIBUTION = {"nominatim": "© OpenStreetMap contributors, ODbL 1.0 (Nominatim)",
               "amap": "© Amap (高德) web-service geocoding",
               "tianditu": "© 天地图 Tianditu geocoder"}



@dataclass(frozen=True)
class Answer:
    """A provider's best candidate, already in WGS84."""

    lon: float
    lat: float
    level: str
    confidence: str
    label: str
    raw: str  # the provider's answer, as received (kept in the cache)


class GeocodeCache:
    """Answers kept across runs, keyed by (provider, query): SQLite, one row per query."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS answers (provider TEXT NOT NULL, query TEXT NOT NULL,"
                       " answer TEXT NOT NULL, stored_at REAL NOT NULL, PRIMARY KEY (provider, query))")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5.0)

    def get(self, provider: str, query: str) -> str | None:
        with self._lock, self._connect() as db:
            row = db.execute("SELECT answer FROM answers WHERE provider = ? AND query = ?", (provider, query)).fetchone()
        return row[0] if row else None

    def put(self, provider: str, query: str, answer: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)", (provider, query, answer, time.time()))


def _beijing(districts: Any) -> Callable[[float, float], bool]:
    if districts is None:
        return lambda lon, lat: 115.4 <= lon <= 117.5 and 39.4 <= lat <= 41.1
    city = shapely.union_all(np.asarray(districts.geometry.values, dtype=object))
    shapely.prepare(city)
    return lambda lon, lat: bool(shapely.contains_xy(city, lon, lat))


class Geocoder:
    """One online provider as a locator (:class:`geo.locate.Locator`): ``place(address, name)``."""

    def __init__(self, provider: str, *, key: str | None = None, endpoint: str | None = None,
                 cache: GeocodeCache | None = None, timeout: float = 5.0, min_interval: float | None = None,
                 districts: Any = None, user_agent: str = USER_AGENT) -> None:
        if provider not in ENDPOINTS:
            raise GeocoderError(f"unknown geocoder {provider!r}: use one of {', '.join(ENDPOINTS)}")
        if provider in KEY_ENV and not key:
            raise GeocoderError(f"{provider} needs a key: set {KEY_ENV[provider]} in the environment or"
                                " .streamlit/secrets.toml")
        self.name = provider
        self.key = key
        self.endpoint = endpoint or ENDPOINTS[provider]
        self.cache = cache
        self.timeout = timeout
        self.min_interval = MIN_INTERVAL_S[provider] if min_interval is None else min_interval
        self.user_agent = user_agent
        self.requests = 0  # made over the network (cache hits not counted)
        self._last = -np.inf
        self._lock = threading.Lock()
        self._in_beijing = _beijing(districts)
        self._down: str | None = None  # after a failure to connect, the message: not asked again

    # ------------------------------------------------------------------ HTTP

    def _url(self, query: str) -> str:
        if self.name == "nominatim":
            params = {"q": query, "format": "jsonv2", "limit": "1", "countrycodes": "cn", "addressdetails": "0"}
        elif self.name == "amap":
            params = {"address": query, "city": "北京", "output": "JSON", "key": str(self.key)}
        else:
            params = {"ds": json.dumps({"keyWord": query}, ensure_ascii=False), "tk": str(self.key)}
        return f"{self.endpoint}?{urllib.parse.urlencode(params)}"

    def _fetch(self, query: str) -> str:
        with self._lock:  # one request at a time, at least min_interval apart
            wait = self._last + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            request = urllib.request.Request(self._url(query), headers={"User-Agent": self.user_agent,
                                                                       "Accept": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - fixed https endpoints
                    body = response.read(1_000_000).decode("utf-8")
            except urllib.error.HTTPError as exc:
                raise GeocoderError(f"{self.name} answered HTTP {exc.code} for {query[:60]!r}") from exc
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise GeocoderError(f"{self.name} cannot be reached within {self.timeout:g} s ({reason}): offline or"
                                    " blocked; the offline locator still places what it can") from exc
            finally:
                self._last = time.monotonic()
                self.requests += 1
        return body

    # ------------------------------------------------------------------ parsing

    def parse(self, body: str) -> Answer | None:
        """The best candidate in a provider's answer (None: no result).

        Raises
        ------
        GeocoderError
            For an error answer (bad key, quota...), quoting the provider's status and message.
        """
        try:
            doc = json.loads(body)
        except json.JSONDecodeError as exc:
            raise GeocoderError(f"{self.name} answered something that is not JSON: {body[:80]!r}") from exc
        if self.name == "nominatim":
            if not isinstance(doc, list):
                raise GeocoderError(f"nominatim answered {str(doc)[:120]!r}")
            if not doc:
                return None
            best = doc[0]
            level = str(best.get("addresstype") or best.get("type") or "")
            return Answer(float(best["lon"]), float(best["lat"]), level,
                          f"place_rank {best.get('place_rank')}, importance {best.get('importance')}",
                          f"{best.get('osm_type')}/{best.get('osm_id')}: {best.get('display_name', '')}", body)
        if self.name == "amap":
            if str(doc.get("status")) != "1":
                raise GeocoderError(f"amap refused the request: status {doc.get('status')!r}, info"
                                    f" {doc.get('info')!r}, infocode {doc.get('infocode')!r}")
            codes = doc.get("geocodes") or []
            if not codes:
                return None
            best = codes[0]
            gcj_lon, gcj_lat = (float(v) for v in str(best["location"]).split(","))
            lon, lat = convert(np.array([gcj_lon]), np.array([gcj_lat]), source="gcj02", target="wgs84")
            return Answer(float(lon[0]), float(lat[0]), str(best.get("level") or ""), f"level {best.get('level')}",
                          str(best.get("formatted_address") or ""), body)
        if str(doc.get("status")) != "0":
            raise GeocoderError(f"tianditu refused the request: status {doc.get('status')!r}, msg {doc.get('msg')!r}")
        location = doc.get("location")
        if not location:
            return None
        return Answer(float(location["lon"]), float(location["lat"]), str(location.get("level") or ""),
                      f"score {location.get('score')}, level {location.get('level')}",
                      str(location.get("keyWord") or ""), body)

    # ------------------------------------------------------------------ locator

    def geocode(self, query: str) -> Answer | None:
        """One query, from the cache or the provider (raises :class:`GeocoderError` on failure)."""
        cached = self.cache.get(self.name, query) if self.cache is not None else None
        if cached is not None:
            return self.parse(cached)
        if self._down is not None:
            raise GeocoderError(self._down)
        try:
            body = self._fetch(query)
        except GeocoderError as exc:
            if "cannot be reached" in str(exc):
                self._down = str(exc)
            raise
        answer = self.parse(body)
        if self.cache is not None:
            self.cache.put(self.name, query, body)
        return answer

    def place(self, address: str | None, name: str | None) -> Placement:
        query = (address or name or "").strip()
        if not query:
            return Placement(None, reason="no address or name to geocode")
        try:
            answer = self.geocode(query)
        except GeocoderError as exc:
            return Placement(None, reason=str(exc))
        if answer is None:
            return Placement(None, reason=f"no result for {query[:60]!r}")
        datum = {"nominatim": "WGS84", "amap": "GCJ-02 converted to WGS84 (exact inverse)",
                 "tianditu": "CGCS2000, treated as WGS84 (they differ by centimetres)"}[self.name]
        flags = []
        if not self._in_beijing(answer.lon, answer.lat):
            flags.append(f"the result ({answer.lon:.5f}, {answer.lat:.5f}) is outside Beijing: check it")
        if answer.level.strip().casefold() in COARSE_LEVELS:
            flags.append(f"the result is at {answer.level} precision (an area's centroid, not a site)")
        if flags:
            return Placement(None, reason=f"{self.name}: " + "; ".join(flags) + f" ({answer.label[:80]})")
        return Placement("geocoded", answer.lon, answer.lat, provider=self.name, level=answer.level,
                         evidence=f"{self.name}: “{answer.label[:120]}” ({answer.confidence}) for “{query[:80]}”",
                         point=f"the point {self.name} returned ({datum}); {ATTRIBUTION[self.name]}")


def default_cache(data_dir: str | Path | None = None) -> GeocodeCache:
    """The cache in the data folder (``$PHARMA_MAP_DATA_DIR`` or ``./var``): ``geocode_cache.sqlite``."""
    from geo.scenarios import data_dir as resolve

    return GeocodeCache(Path(resolve(data_dir)) / "geocode_cache.sqlite")


def geocoder(provider: str, *, data_dir: str | Path | None = None, timeout: float = 5.0, districts: Any = None,
             keys: dict[str, str] | None = None) -> Geocoder:
    """A provider with its key (``keys``, else the environment), the data folder's cache and the
    snapshot's Beijing boundary (to flag results outside it)."""
    key = (keys or {}).get(provider) or config.geocoder_key(provider)
    endpoint = config.geocoder_url(provider)  # a local instance (Nominatim)
    return Geocoder(provider, key=key, endpoint=endpoint, cache=default_cache(data_dir), timeout=timeout,
                    districts=districts)
