"""What the Planner keeps for every session: each saved version of a scenario measured (an outline
edit measured from the version before), and its map layer, table and overlap list."""

from collections import OrderedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo.planner import GeometryMeasures, geometry_key, measure_geometries, measure_parcels
from geo.scenarios import ScenarioInfo, ScenarioStore
from layers.i18n import parcel_label
from layers.parcels import ParcelsLayer, parcels_layer
from pages._planner_state import tr


@st.cache_resource(show_spinner=False, max_entries=8)
def _geometry(geometry_key: str, parks: str, _parcels: gpd.GeoDataFrame, _data,
              _previous: GeometryMeasures | None) -> GeometryMeasures:
    """The outline part of the measurement, kept while the outlines stay the same (a rename or a
    status change measures only the attributes again); an outline edit measures only what it
    changed against the scenario's previous measurement."""
    del parks  # cache key
    return measure_geometries(np.asarray(_parcels.geometry.values, dtype=object), parks=_data.parks,
                              districts=_data.districts, hubs=_data.hubs, key=geometry_key, previous=_previous)


LATEST_KEPT = 16  # scenarios whose latest outline measurement is kept for their next edit


@st.cache_resource(show_spinner=False)
def _latest_geometry(store_path: str) -> OrderedDict[int, GeometryMeasures]:
    """The latest outline measurement of the scenarios of a store edited last, for the next edit
    to start from."""
    del store_path  # cache key
    return OrderedDict()


@st.cache_resource(show_spinner=False, max_entries=8)
def _measured(store_path: str, scenario_id: int, version: int, parks: str, _store: ScenarioStore,
              _data) -> gpd.GeoDataFrame:
    """One saved version of a scenario, measured; shared by every session and rerun until it changes."""
    del store_path  # cache key
    parcels = _store.load_version(scenario_id, version)
    geometry = measured_outlines(_store, scenario_id, parcels, _data, parks)
    return measure_parcels(parcels, parks=_data.parks, districts=_data.districts, hubs=_data.hubs, geometry=geometry)


def measured_outlines(store: ScenarioStore, scenario_id: int | None, parcels: gpd.GeoDataFrame, data,
                      parks: str) -> GeometryMeasures:
    """The outline measurement of a scenario's parcels, made from its previous one (the map edit
    that is being saved measures the new version, which its rerun then finds here)."""
    latest = _latest_geometry(str(store.path))
    geometry = _geometry(geometry_key(parcels), parks, parcels, data, latest.get(scenario_id))
    if scenario_id is not None:
        latest[scenario_id] = geometry
        latest.move_to_end(scenario_id)
        while len(latest) > LATEST_KEPT:
            latest.popitem(last=False)
    return geometry


def measured_scenario(store: ScenarioStore, info: ScenarioInfo, data, parks: str) -> gpd.GeoDataFrame:
    """The version ``info`` names, measured (cached for all sessions)."""
    return _measured(str(store.path), info.scenario_id, info.version, parks, store, data)


@st.cache_resource(show_spinner=False, max_entries=8)
def parcels_layer_of(store_path: str, name: str, version: int, lang: str, datum: str, parks: str,
                   _measured: gpd.GeoDataFrame, _names: dict[str, dict[str, str]]) -> ParcelsLayer:
    """The open version's parcels as a map layer, made once per version, language and datum."""
    del store_path, name, version, parks  # cache keys
    return parcels_layer(_measured, lang=lang, datum=datum, names=_names, token="planner_parcels")


@st.cache_resource(show_spinner=False, max_entries=8)
def parcel_table(store_path: str, name: str, version: int, lang: str, parks: str, _measured: gpd.GeoDataFrame,
                  _names: dict[str, dict[str, str]]) -> pd.DataFrame:
    """The open version's parcels as the table shows them, made once per version and language."""
    del store_path, name, version, parks  # cache keys
    ok = _measured[_measured["problem"].isna()]
    return pd.DataFrame({
        "parcel_id": ok["parcel_id"], "number": ok["number"], "name": ok["name"], "status": ok["status"],
        "use": ok["use"], "floor_area_m2": ok["floor_area_m2"], "plot_ratio": ok["plot_ratio"],
        "area_mu": ok["area_mu"], "area_ha": ok["area_ha"], "area_m2": ok["area_m2"], "counted_mu": ok["counted_mu"],
        "overlaps_with": ok["overlaps_with"], "floor_area_effective_m2": ok["floor_area_effective_m2"],
        "district": ok["district_id"].map(_names["district"]), "hub": ok["hub_id"].map(_names["hub"]),
        "park": ok["park_id"].map(_names["park"]), "park_share": ok["park_share"] * 100,
    }).reset_index(drop=True)


OVERLAPS_LISTED = 500  # the largest; a scenario of 2,000 parcels can have tens of thousands of overlaps


@st.cache_resource(show_spinner=False, max_entries=8)
def overlap_display(store_path: str, name: str, version: int, lang: str, _measured: gpd.GeoDataFrame,
                     _pairs: pd.DataFrame) -> pd.DataFrame:
    """The largest overlapping pairs with the parcels' labels, made once per version and language."""
    del store_path, name, version  # cache keys
    largest = _pairs.sort_values(["overlap_m2", "a", "b"], ascending=[False, True, True]).head(OVERLAPS_LISTED)
    labels = dict(zip(_measured["number"].tolist(), [parcel_label(n, m, lang) for n, m in zip(
        _measured["number"].tolist(), _measured["name"].tolist(), strict=True)], strict=True))
    return pd.DataFrame({tr("overlap_a", lang): largest["a"].map(labels), tr("overlap_b", lang): largest["b"].map(labels),
                         f"{tr('overlap', lang)} ({'亩' if lang == 'zh' else 'mu'})": largest["overlap_mu"],
                         f"{tr('overlap', lang)} (m²)": largest["overlap_m2"]}).reset_index(drop=True)


def name_maps(data, lang: str) -> dict[str, dict[str, str]]:
    column = "name_zh" if lang == "zh" else "name_en"
    return {"district": dict(zip(data.districts["district_id"], data.districts[column], strict=False)),
            "hub": dict(zip(data.hubs["hub_id"], data.hubs[column], strict=False)),
            "park": dict(zip(data.parks["park_id"], data.parks[column], strict=False))}


# ------------------------------------------------------------------ sections
