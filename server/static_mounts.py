"""Which folders the deployed server answers from memory, at which URL (see ``static_cache``)."""

from __future__ import annotations

from pathlib import Path

import importlib.util

from server.static_cache import Mount

ROOT = Path(__file__).resolve().parent.parent


def _package_dir(name: str) -> Path:
    # Located without importing it: importing streamlit_folium outside a script run declares
    # its component and warns.
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"{name} is not installed; run ./dev app (it installs the pinned packages)")
    return Path(spec.origin).parent


def mounts() -> list[Mount]:
    """Streamlit's frontend bundle, streamlit-folium's component and the app's ``static``."""
    streamlit_static = _package_dir("streamlit") / "static"
    folium_build = _package_dir("streamlit_folium") / "frontend" / "build"
    return [
        # Streamlit's own bundle: names carry a content hash (Streamlit marks them immutable too).
        Mount("/static/", streamlit_static / "static", immutable=("js/", "css/", "media/")),
        # The component's build: static/js/main.<hash>.js; index.html is revalidated.
        Mount("/component/streamlit_folium.st_folium/", folium_build, immutable=("static/",)),
        # server.enableStaticServing: ./static at /app/static, with the headers Streamlit sends.
        Mount("/app/static/", ROOT / "static",
              extra_headers=(("Access-Control-Allow-Origin", "*"), ("X-Content-Type-Options", "nosniff"))),
    ]
