"""The floor the cluster map's first paint is measured against (``scripts/bench_app.py
--only-first-paint``): one Streamlit page with one folium map through streamlit-folium, the
app's basemap setup (``layers.basemap.base_map``: local Leaflet assets, the OpenStreetMap tiles,
the datum badge) and the same opening view, and one circle on it, but none of the project's
layers, labels, legend, panels or data. Not part of the app: the benchmark copies it into a
temporary folder (next to a link to ``static/``) and runs it there."""

import folium
import streamlit as st
from streamlit_folium import st_folium

from layers.basemap import BEIJING_CENTRE, base_map

# The cluster map's opening view: the core hubs and growth points (hubs.geojson's bounds).
OPENING_BOUNDS = [[39.44142, 115.41685], [40.39156, 116.94784]]

st.set_page_config(page_title="floor", layout="wide")
st.title("Floor")
fmap = base_map(basemap="osm", lang="en")
fmap.options["zoomSnap"] = 0.5
fmap.fit_bounds(OPENING_BOUNDS)
folium.CircleMarker(list(BEIJING_CENTRE), radius=10, weight=2).add_to(fmap)
st_folium(fmap, key="floor_map", height=500, returned_objects=[])
