"""Beijing pharmaceutical and healthcare industry map: page configuration and navigation."""

import streamlit as st

from layers.i18n import t
from pages import _session as session

st.set_page_config(page_title="Beijing pharma & healthcare map · 北京医药健康产业地图",
                   page_icon="static/icon.png", layout="wide")

session.apply_link()  # a shared link's ?lang=zh labels the navigation in Chinese from the first run
lang = st.session_state.get("lang", "en")
navigation = st.navigation([
    st.Page("pages/cluster_map.py", title=t("page_cluster", lang), icon=":material/map:",
            url_path="cluster", default=True),
    st.Page("pages/parks.py", title=t("page_parks", lang), icon=":material/domain:", url_path="parks"),
    st.Page("pages/planner.py", title=t("page_planner", lang), icon=":material/square_foot:",
            url_path="planner"),
    st.Page("pages/organisations.py", title=t("page_orgs", lang), icon=":material/apartment:",
            url_path="organisations"),
    st.Page("pages/imports.py", title=t("page_import", lang), icon=":material/upload_file:",
            url_path="imports"),
    st.Page("pages/osm.py", title=t("page_osm", lang), icon=":material/travel_explore:", url_path="osm"),
    st.Page("pages/export.py", title=t("page_export", lang), icon=":material/download:",
            url_path="export"),
    st.Page("pages/sources.py", title=t("page_sources", lang), icon=":material/menu_book:",
            url_path="sources"),
])
navigation.run()
