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
    """Streamlit's frontend bundle (~115 of the ~120 files a new visitor loads).

    streamlit-folium's component and ``static/vendor`` stay with Streamlit: answered from here
    (tried on 2026-11-28), the Planner's delete-on-the-map browser test failed twice, while it
    passed with only this mount; why is not yet known.
    """
    streamlit_static = _package_dir("streamlit") / "static"
    return [
        # Streamlit's own bundle: names carry a content hash (Streamlit marks them immutable too).
        Mount("/static/", streamlit_static / "static", immutable=("js/", "css/", "media/")),
    ]
