"""Every page through streamlit.testing.v1.AppTest: renders, shows its key elements, reacts."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from layers.i18n import parcel_label
from tests.apptest import APP, TIMEOUT, run_app  # noqa: F401  APP, TIMEOUT: other tests import them here



pytestmark = pytest.mark.usefixtures("isolated_app")


_run = run_app


def _map_html(at: AppTest) -> str:
    return " ".join(str(c.proto) for c in at.get("component_instance"))


def test_cluster_map_shows_headline_figures_with_sources_and_a_map():
    at = _run()
    metrics = at.metric
    assert len(metrics) == 5
    assert any(m.value == "≥3,000" and "(mu)" in m.label for m in metrics)
    assert any("at least 3,000 mu" in m.proto.help for m in metrics)
    assert all("Source:" in m.proto.help for m in metrics)
    assert at.get("component_instance"), "the folium map component is missing"


def test_cluster_map_specialisation_filter_reduces_the_organisations():
    at = _run()
    before = next(c.value for c in at.caption if "Organisations on the map" in c.value)
    at.multiselect(key="cluster_specs").select("medical_devices").run()
    after = next(c.value for c in at.caption if "Organisations on the map" in c.value)
    assert before != after


def test_language_switch_translates_the_page():
    at = _run()
    at.sidebar.radio(key="lang").set_value("zh").run()
    assert not at.exception
    assert at.title[0].value == "北京医药健康产业地图"
    assert any("亩" in m.label and m.value == "≥3000" for m in at.metric)


def test_parks_page_shows_fact_sheet_and_comparison():
    at = _run("pages/parks.py")
    assert at.selectbox(key="parks_pick").value
    assert at.dataframe, "fact sheet / comparison tables missing"
    compare = at.multiselect(key="parks_compare")
    assert len(compare.value) == 2


def test_parks_page_follows_the_selected_park():
    at = _run("pages/parks.py")
    first = at.subheader[0].value
    at.session_state["parks_pick"] = "bda_yizhuang"  # as the cluster map's "open park" does
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Beijing Economic-Technological Development Area (Yizhuang)" != first


def test_a_park_not_on_the_map_gets_its_figures_its_district_and_a_way_to_place_it():
    at = _run("pages/parks.py", parks_pick="zgc_science_city_medical_valley")
    assert at.subheader[0].value == "Zhongguancun Science City International Medical Valley"
    assert any("is not on the map" in i.value and "OpenStreetMap" in i.value for i in at.info)
    assert any("Not on the map" in m.value for m in at.markdown)  # the tier line
    assert any("0.95 km²" in m.value for m in at.markdown)  # the official 95.3 ha
    assert any("no location yet" in c.value for c in at.caption)  # no fake site metrics
    html = _map_html(at)
    assert "Haidian" in html  # the map shows its district instead
    sheet = next(d.value for d in at.dataframe if "Quote" in d.value.columns)
    assert any("95.3公顷" in q for q in sheet["Quote"])


def test_a_filter_no_park_matches_still_shows_the_organisations_that_match():
    at = _run()
    at.multiselect(key="cluster_specs").select("diagnostics").run()
    assert not at.exception
    assert any("Parks: 0" in c.value for c in at.caption)


def test_cluster_map_names_the_parks_it_cannot_draw():
    at = _run()
    caption = next(c.value for c in at.caption if "Not on the map" in c.value)
    for name in ("International Medical Valley", "Xisanqi", "Shangzhuang", "Capital Medical University"):
        assert name in caption
    assert "International Medical Valley" not in _map_html(at)


def test_open_on_the_parks_page_opens_the_park_selected_on_the_cluster_map():
    at = _run(selected_park="mentougou_cardiology_park")
    at.button(key="open_park").click().run()
    assert not at.exception
    assert at.subheader[0].value.startswith("Mentougou Cardiovascular")


def test_parks_page_follows_the_users_pick_and_keeps_it_across_pages():
    at = _run("pages/parks.py")
    at.selectbox(key="parks_pick").set_value("mentougou_cardiology_park").run()
    assert not at.exception
    assert at.subheader[0].value.startswith("Mentougou Cardiovascular")
    at.switch_page("pages/sources.py").run()
    at.switch_page("pages/parks.py").run()
    assert at.subheader[0].value.startswith("Mentougou Cardiovascular")


def test_planner_page_shows_targets_against_the_plan():
    at = _run("pages/planner.py")
    assert not at.get("progress")  # lazy tabs: the progress tab runs only when it is open
    at.query_params["tab"] = "Progress against the plan"
    at.run()
    texts = " ".join(p.proto.text for p in at.get("progress"))
    assert "3,000 mu" in texts and "1,200,000 m²" in texts and "1,800,000 m²" in texts


def test_organisations_page_filters_by_kind():
    at = _run("pages/organisations.py")
    caption = next(c.value for c in at.caption if "/" in c.value)
    kinds = at.multiselect(key="orgs_kinds")
    kinds.select(kinds.options[0]).run()
    assert next(c.value for c in at.caption if "/" in c.value) != caption or len(kinds.options) == 1


def test_export_page_offers_downloads_for_each_layer():
    at = _run("pages/export.py")
    keys = [b.key for b in at.get("download_button")]
    # parks and organisations by default, then the facts, sources and licences tables and "download all"
    assert keys == ["export_download_parks", "export_download_organisations", "export_download_facts",
                    "export_download_sources", "export_download_licences", "export_download_all"]


def test_sources_page_lists_sources_and_tiers():
    at = _run("pages/sources.py")
    assert len(at.dataframe) >= 4
    assert any("GCJ-02" in m.value for m in at.markdown)


def test_a_broken_snapshot_is_reported_in_plain_words(monkeypatch, tmp_path):
    monkeypatch.setenv("PHARMA_MAP_SNAPSHOT_DIR", str(tmp_path))  # no manifest there
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert any("python -m geo build" in e.value for e in at.error)


def _imported_layer():
    from geo.imports import read_upload

    rows = ["name,kind,WKT",
            '"<img src=x onerror=alert(1)>",lab,"POINT (116.2789 40.0974)"',
            '"${alert(2)}",parcel,"POLYGON ((116.27 40.09, 116.28 40.09, 116.28 40.10, 116.27 40.10, 116.27 40.09))"',
            'Yizhuang site,lab,"POINT (116.50 39.80)"']
    return read_upload("\n".join(rows).encode(), filename="my sites.csv", datum="wgs84")


def test_import_page_without_a_file_explains_formats_and_limits():
    at = _run("pages/imports.py")
    assert any("20 MB per file" in c.value for c in at.caption)
    assert any("Upload a file" in i.value for i in at.info)


def test_import_page_maps_measures_joins_and_escapes_an_imported_layer():
    layer = _imported_layer()
    at = _run("pages/imports.py", imports={layer.name: layer})
    html = _map_html(at)
    assert "onerror=alert(1)" in html and "<img src=x" not in html and "&lt;img src=x" in html.replace("\\u0026", "&")
    assert any(m.label == "Total area of polygons" and "mu" in m.value for m in at.metric)
    area = next(m.value for m in at.metric if m.label == "Total area of polygons")
    from pyproj import Geod

    geodesic_m2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(layer.frame.geometry.iloc[1])[0])
    assert float(area.split()[0].replace(",", "")) == pytest.approx(geodesic_m2 / (10000 / 15), rel=0.002)
    by_park = at.dataframe[1].value
    assert "Zhongguancun Life Science Park" in " ".join(by_park.astype(str).values.ravel())
    at.selectbox(key=f"import_filter_col_{layer.name}").select("kind").run()
    at.multiselect(key=f"import_filter_values_{layer.name}_kind").select("lab").run()
    assert any(c.value.startswith("2 of 3 features") for c in at.caption)


def test_import_page_saves_the_layer_and_adds_polygons_to_a_scenario(tmp_path):
    from geo.scenarios import ScenarioStore

    layer = _imported_layer()
    at = _run("pages/imports.py", imports={layer.name: layer})
    at.button(key="import_save").click().run()
    assert not at.error, [e.value for e in at.error]
    store = ScenarioStore()
    saved, version = store.load_layer("my sites")
    assert version == 1 and saved["name"].tolist()[1] == "${alert(2)}"
    at.text_input(key="import_scenario").input("from import").run()
    at.button(key="import_add_parcels").click().run()
    assert not at.error, [e.value for e in at.error]
    parcels, _ = store.load("from import")
    # No label column chosen: the parcel is numbered, and shown as "Parcel 1"
    assert parcels["number"].tolist() == [1] and parcels["name"].tolist() == [""]
    assert parcel_label(1, parcels["name"].iloc[0], "en") == "Parcel 1"
    assert parcels.geometry.iloc[0].equals(layer.frame.geometry.iloc[1])


def test_the_planner_reopens_the_scenario_being_edited_after_another_page():
    at = _run("pages/planner.py")
    at.query_params["scenario"] = "north site"
    at.run()
    assert at.session_state["planner_scenario"] == "north site"
    at.query_params.clear()  # what a move to another page does to the URL
    at.switch_page("pages/organisations.py").run()
    at.switch_page("pages/planner.py").run()
    assert not at.exception
    assert at.query_params["scenario"] in ("north site", ["north site"])
    at.button(key="planner_new").click().run()
    assert "scenario" not in at.query_params and not at.session_state["planner_scenario"]


def test_export_page_offers_imported_layers_of_the_session():
    layer = _imported_layer()
    at = _run("pages/export.py", imports={layer.name: layer})
    at.multiselect(key="export_imports").select(layer.name).run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("my sites" in label and "3 features" in label for label in labels), labels


def test_imported_layers_appear_on_the_cluster_and_organisations_maps():
    layer = _imported_layer()
    for page in (None, "pages/organisations.py"):
        at = _run(page, imports={layer.name: layer})
        assert any("from your imports: my sites" in c.value for c in at.caption)


def _full_map():
    import folium.plugins

    from geo.snapshot import load_snapshot
    from layers.basemap import base_map
    from layers.districts import districts_layer
    from layers.legend import Legend
    from layers.organisations import organisations_layer
    from layers.parks import parks_layer

    snapshot = load_snapshot()
    fmap = base_map(lang="zh")
    districts_layer(snapshot.districts_display, lang="zh").add_to(fmap)
    parks_layer(snapshot.parks, lang="zh").add_to(fmap)
    organisations_layer(snapshot.organisations, lang="zh", park_names={}).add_to(fmap)
    folium.plugins.Draw(export=False).add_to(fmap)
    Legend(lang="zh").add_to(fmap)
    return fmap


def test_show_map_sends_the_component_what_st_folium_sends(monkeypatch):
    # show_map renders the map itself (so the render can be cached) and calls streamlit-folium's
    # component directly: its arguments must stay those of st_folium for the same map.
    import re

    import streamlit_folium

    from pages import _map as maps

    calls = []
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kwargs: calls.append(kwargs))
    streamlit_folium.st_folium(_full_map(), key="m", height=500, use_container_width=True,
                               returned_objects=["last_clicked", "all_drawings"])
    maps.show_map(_full_map, key="m", height=500, returned_objects=["last_clicked", "all_drawings"])
    maps.show_map(_full_map(), key="m", height=500, returned_objects=["last_clicked", "all_drawings"],
                    cache_key="test")

    def comparable(kwargs):  # folium's random element ids differ between two builds of a map
        out = {k: v for k, v in kwargs.items() if k != "on_change"}
        return json.loads(re.sub(r"[0-9a-f]{32}", "ID", json.dumps(out, sort_keys=True)))

    expected = comparable(calls[0])
    assert expected["script"] and expected["js_links"]
    assert comparable(calls[1]) == expected
    assert comparable(calls[2]) == expected


def _counted_element():
    """A map element whose script counts how many times it is rendered."""
    from branca.element import MacroElement
    from jinja2 import Template

    class Counted(MacroElement):
        _template = Template("{% macro script(this, kwargs) %}"
                             "var {{ this.get_name() }} = {{ this.count() }};{% endmacro %}")

        def __init__(self):
            super().__init__()
            self._name = "Counted"
            self.renders = 0

        def count(self):
            self.renders += 1
            return self.renders

    return Counted()


def test_render_map_renders_each_element_once(monkeypatch):
    # st_folium renders every element's script three times (figure, map, component script) and
    # keeps only the last; render_map renders each once, and once per cache key for all sessions.
    import uuid

    import streamlit_folium

    from pages import _map as maps

    fmap = _full_map()
    counted = _counted_element()
    fmap.add_child(counted)
    rendered = maps.render_map(fmap, "m")
    assert counted.renders == 1
    assert "var counted_div_" in rendered.script and "= 1;" in rendered.script

    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kwargs: None)
    built = []

    def build():
        fmap = _full_map()
        built.append(_counted_element())
        fmap.add_child(built[-1])
        return fmap

    cache_key = ("render-count", uuid.uuid4().hex)
    for _ in range(3):
        maps.show_map(build, key="m", cache_key=cache_key)
    assert len(built) == 1 and built[0].renders == 1


def test_cluster_map_follows_language_and_filter_and_keeps_both():
    # The sidebar and filter widgets are drawn after the map, and the map's render is cached:
    # the settings must still survive every rerun, and each combination get its own map.
    at = _run()
    english = _map_html(at)
    at.sidebar.radio(key="lang").set_value("zh").run()
    chinese = _map_html(at)
    at.multiselect(key="cluster_specs").select("medical_devices").run()
    filtered = _map_html(at)
    at.sidebar.selectbox(key="basemap").select("gaode").run()
    assert not at.exception and not at.error
    assert at.title[0].value == "北京医药健康产业地图"
    assert at.multiselect(key="cluster_specs").value == ["medical_devices"]
    assert at.sidebar.radio(key="lang").value == "zh"
    legend = [json.loads(c.proto.json_args)["html"] for c in at.get("component_instance")]
    assert "图例" in legend[0]
    assert "autonavi" in _map_html(at) and "autonavi" not in chinese
    assert len({english, chinese, filtered, _map_html(at)}) == 4
    at.multiselect(key="cluster_specs").set_value([]).run()
    assert at.sidebar.selectbox(key="basemap").value == "gaode"
    at.sidebar.selectbox(key="basemap").select("osm").run()
    assert _map_html(at) == chinese


def test_the_cluster_map_and_the_export_page_offer_the_same_specialisations_and_filter_alike():
    from geo.snapshot import load_snapshot

    # One filter (geo.workspace): the export page offered only the organisations' fields, so a
    # park-only field could be filtered on the map but not exported.
    from geo.workspace import specialisation_mask, used_specialisations

    snapshot = load_snapshot()
    cluster = _run().multiselect(key="cluster_specs").options
    export = _run("pages/export.py").multiselect(key="export_specs").options
    used = used_specialisations(snapshot.organisations["specialisations"], snapshot.parks["specialisations"])
    assert len(cluster) == len(export) == len(used)
    assert list(specialisation_mask(["a;b", "c", None, ""], ["b", "z"])) == [True, False, False, False]
    assert specialisation_mask(["a", None], []).all()
