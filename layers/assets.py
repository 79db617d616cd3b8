"""Serve every map script and stylesheet from the app itself instead of CDNs.

folium and its plugins point at jsdelivr, cdnjs, code.jquery.com and netdna, which are slow or
blocked in mainland China and absent offline. streamlit-folium loads the ``default_js`` /
``default_css`` URLs of every element, so rewriting those class attributes to the files that
``scripts/fetch_assets.py`` put under ``static/vendor`` (served by Streamlit at ``/app/static``)
makes the map work with no internet.
"""

from __future__ import annotations

import re
from pathlib import Path

import folium
import folium.plugins

STATIC_URL = "/app/static/vendor"
VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"

# Resource name used by folium -> file under static/vendor; None drops the resource. The app's
# maps draw circle markers, DivIcon labels, clusters and Leaflet.draw tools only, so
# jQuery, Bootstrap, Font Awesome and awesome-markers (about 0.5 MB the map would wait for)
# are dropped. Layers must not use folium.Popup, which needs jQuery.
#
# Leaflet and markercluster come as one file (a bundle of static/assets.lock.json):
# streamlit-folium loads a map's scripts one after another, each waiting for the previous one.
_LOCAL: dict[str, str | None] = {
    "leaflet": "bundle/leaflet+markercluster.js",
    "jquery": None,  # only folium popups need it, and the app's maps use tooltips instead
    "bootstrap": None,
    "awesome_markers": None,
    "leaflet_css": "leaflet/dist/leaflet.css",
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers_font_css": None,
    "awesome_markers_css": None,
    "awesome_rotate_css": None,
    "markerclusterjs": None,  # in the leaflet bundle
    "markerclustercss": "leaflet.markercluster/dist/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "leaflet_draw_js": "leaflet-draw/dist/leaflet.draw.js",
    "leaflet_draw_css": "leaflet-draw/dist/leaflet.draw.css",
}

# Every element class the app's maps use.
_CLASSES = (folium.Map, folium.plugins.MarkerCluster, folium.plugins.Draw)

_EXTERNAL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""", re.IGNORECASE)


class MissingAssetError(RuntimeError):
    """A map asset is not in static/vendor: run ``python scripts/fetch_assets.py``."""


def _rewrite(resources: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for name, url in resources:
        if url.startswith(STATIC_URL):
            out.append((name, url))
            continue
        if name not in _LOCAL:
            raise MissingAssetError(f"no local copy of map asset {name!r} ({url}); add it to "
                                    "static/assets.lock.json and layers/assets.py")
        local = _LOCAL[name]
        if local is not None:
            out.append((name, f"{STATIC_URL}/{local}"))
    return out


def use_local_assets(*, check_files: bool = True) -> None:
    """Point folium's Map and plugins at the bundled files. Safe to call repeatedly."""
    if check_files:
        missing = [p for p in _LOCAL.values() if p is not None and not (VENDOR_DIR / p).is_file()]
        if missing:
            raise MissingAssetError(
                f"map assets missing from {VENDOR_DIR}: {', '.join(missing[:3])}"
                f"{' ...' if len(missing) > 3 else ''}; run 'python scripts/fetch_assets.py'"
                " (or './dev app', which does it)")
    for cls in _CLASSES:
        cls.default_js = _rewrite(list(cls.default_js))
        cls.default_css = _rewrite(list(cls.default_css))


def external_urls(text: str) -> list[str]:
    """Every absolute http(s) or protocol-relative URL in ``text``."""
    return _EXTERNAL.findall(text)
