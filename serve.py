"""The app as deployed: ``streamlit run serve.py`` (``./dev app`` runs it).

The same app as ``streamlit run app.py`` (pages, config, every setting), with one addition
through Streamlit's public ASGI API, ``st.App(middleware=...)``: the files every new visitor
downloads (Streamlit's frontend, the map component, ``static/vendor``) come from memory,
gzipped once (``server.static_cache``), instead of from disk and compressed again per request.
"""

import streamlit as st
from starlette.middleware import Middleware

from server.static_cache import StaticCache
from server.static_mounts import mounts

app = st.App("app.py", middleware=[Middleware(StaticCache, mounts=mounts())])
