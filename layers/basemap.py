"""The base map: basemaps with their datums, and the badge that says which datum is shown.

Gaode (Amap) tiles are drawn in GCJ-02, so on that basemap every overlay must be shifted to
GCJ-02 to line up (``datum_of(basemap)`` tells the layers which datum to draw in); OpenStreetMap
and Tianditu are WGS84 / CGCS2000, which differ by centimetres.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import folium
import numpy as np
import shapely
from branca.element import MacroElement, Template

from geo.datums import convert
from layers.assets import use_local_assets
from layers.html import escape
from layers.i18n import t

BEIJING_CENTRE = (40.05, 116.40)
_TIANDITU_KEY = re.compile(r"^[0-9a-fA-F]{32}$")


@dataclass(frozen=True)
class Basemap:
    key: str
    datum: str
    tiles: tuple[str, ...]
    attribution: str
    subdomains: str = "abc"
    needs_key: bool = False


BASEMAPS: dict[str, Basemap] = {
    "osm": Basemap("osm", "wgs84", ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
                   "&copy; OpenStreetMap contributors (ODbL)", ""),
    "gaode": Basemap("gaode", "gcj02",
                     ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                      "&style=8&x={x}&y={y}&z={z}",),
                     "&copy; 高德地图 AutoNavi (GCJ-02)", "1234"),
    "tianditu": Basemap("tianditu", "wgs84",
                        ("https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                         "&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                         "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
                         "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                         "&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                         "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"),
                        "&copy; 天地图 Tianditu (CGCS2000)", "01234567", needs_key=True),
    "none": Basemap("none", "wgs84", (), ""),
}


class BasemapError(ValueError):
    """An unknown basemap, or Tianditu without a valid key."""


def available_basemaps(*, tianditu_key: str | None) -> list[str]:
    """Basemap keys to offer: Tianditu only when a key is configured."""
    return [k for k, b in BASEMAPS.items() if not b.needs_key or valid_tianditu_key(tianditu_key)]


def valid_tianditu_key(key: str | None) -> bool:
    return bool(key) and bool(_TIANDITU_KEY.match(str(key)))


def datum_of(basemap: str) -> str:
    """The datum overlays must be drawn in on this basemap."""
    if basemap not in BASEMAPS:
        raise BasemapError(f"unknown basemap {basemap!r}: use one of {', '.join(BASEMAPS)}")
    return BASEMAPS[basemap].datum


class _Badge(MacroElement):
    """A fixed label in the map's corner saying which datum the map is drawn in."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div class="datum-badge" data-datum="{{ this.datum }}" style="position:absolute;bottom:24px;
             right:10px;z-index:800;background:rgba(255,255,255,.92);padding:3px 8px;border-radius:4px;
             font:12px/1.4 sans-serif;border:1px solid {{ this.colour }};color:#222;max-width:60%">
             {{ this.text }}</div>
        {% endmacro %}
    """)

    def __init__(self, text: str, datum: str) -> None:
        super().__init__()
        self._name = "DatumBadge"
        self.text = escape(text)
        self.datum = escape(datum)
        self.colour = "#c0392b" if datum == "gcj02" else "#2c3e50"


def base_map(*, basemap: str = "osm", lang: str = "en", tianditu_key: str | None = None,
             location: tuple[float, float] = BEIJING_CENTRE, zoom_start: int = 9,
             height: str = "100%") -> folium.Map:
    """A folium map with local assets, the chosen basemap and a datum badge.

    Raises
    ------
    BasemapError
        For an unknown basemap, or Tianditu without a 32-hex-digit key.
    """
    datum = datum_of(basemap)
    spec = BASEMAPS[basemap]
    if spec.needs_key and not valid_tianditu_key(tianditu_key):
        raise BasemapError("the Tianditu basemap needs a key (32 hex digits) in the TIANDITU_KEY "
                           "environment variable or Streamlit secrets")
    use_local_assets()
    # maxZoom on the map itself: without a tile layer to lend it one, Leaflet's marker clusters
    # throw "Map has no maxZoom specified" and the map never draws ("no basemap").
    fmap = folium.Map(location=list(location), zoom_start=zoom_start, tiles=None,
                      control_scale=True, height=height)
    fmap.options["maxZoom"] = 18  # folium passes its max_zoom to tile layers only
    for url in spec.tiles:
        folium.TileLayer(tiles=url.replace("{key}", str(tianditu_key or "")), attr=spec.attribution,
                         name=t(f"basemap_{basemap}", lang), subdomains=spec.subdomains or "abc",
                         max_zoom=18, control=False).add_to(fmap)
    _Badge(t(f"datum_badge_{datum}", lang), datum).add_to(fmap)
    return fmap


def fit_to(fmap: folium.Map, geometries: object, *, datum: str = "wgs84") -> folium.Map:
    """Fit the map's view to the extent of ``geometries`` (WGS84: shapely geometries, a
    GeoSeries or a GeoDataFrame), in the basemap's ``datum`` as the layers are drawn."""
    geoms = getattr(geometries, "geometry", geometries)
    west, south, east, north = shapely.total_bounds(np.asarray(getattr(geoms, "values", geoms), dtype=object))
    lons, lats = convert([west, east], [south, north], source="wgs84", target=datum)
    fmap.fit_bounds([[float(lats[0]), float(lons[0])], [float(lats[1]), float(lons[1])]])
    return fmap
