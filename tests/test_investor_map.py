"""The investor's map (issue 11): parks at every zoom, organisations placed honestly, the hub
structure, search, and links that reproduce a view. AppTest and layer tests; the browser tests
are in tests/browser/test_investor_map.py."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from geo.snapshot import load_snapshot
from layers.basemap import base_map
from layers.legend import Legend
from layers.organisations import organisations_layer
from tests.apptest import run_app


pytestmark = pytest.mark.usefixtures("isolated_app")


_app = run_app


def _map_script(at: AppTest) -> str:
    return " ".join(json.loads(c.proto.json_args)["script"] for c in at.get("component_instance"))


def _selected(at: AppTest) -> str | None:
    for header in at.subheader:
        for prefix in ("Selected park: ", "选中的园区: "):
            if header.value.startswith(prefix):
                return header.value[len(prefix):]
    return None


# --- observation 1 and 2: every park has a symbol above the clusters, nested parks side by side


def test_every_drawn_park_has_a_labelled_symbol_on_a_pane_above_the_clusters():
    bundled = load_snapshot()
    at = _app()
    script = _map_script(at)
    drawn = bundled.parks.loc[bundled.parks.geometry.notna(), "park_id"]
    symbols = set(re.findall(r"data-park=\W{0,8}([a-z_]+)", script))
    assert set(drawn) <= symbols, set(drawn) - symbols
    # The symbols' pane sits above Leaflet's marker pane (600), where the clusters are.
    z = int(re.search(r'createPane\("parkSymbols"\)\.style\.zIndex = (\d+)', script).group(1))
    assert 600 < z < 650


def test_life_valley_and_the_life_science_park_are_set_side_by_side_and_name_each_other():
    from layers.parks import nested_groups, park_symbols, symbol_payload

    bundled = load_snapshot()
    features = {f["properties"]["park_id"]: f for f in symbol_payload(park_symbols(bundled.parks, bundled.organisations))}
    valley, lsp = features["future_science_city_life_valley"], features["zgc_life_science_park"]
    assert valley["geometry"]["coordinates"] == lsp["geometry"]["coordinates"]  # one anchor
    # Their icons are anchored so that they do not overlap: the icon boxes' x ranges are disjoint.
    def x_range(feature):
        (w, _), (ax, _) = feature["properties"]["iconSize"], feature["properties"]["iconAnchor"]
        return -ax, -ax + w
    (a0, a1), (b0, b1) = sorted([x_range(valley), x_range(lsp)])
    assert a1 <= b0
    assert "Same place as" in valley["properties"]["tooltip"] and "Zhongguancun Life Science Park" \
        in valley["properties"]["tooltip"]
    groups = nested_groups([116.2789, 116.2789, 116.5], [40.0974, 40.0974, 39.8])
    assert groups[0] == groups[1] != groups[2]


def test_symbols_grow_with_area_and_take_their_shape_from_the_geometry_tier():
    from layers.parks import park_symbols, symbol_diameter, symbol_payload

    assert symbol_diameter(0.4) < symbol_diameter(7.2) < symbol_diameter(59.6) <= 52
    bundled = load_snapshot()
    parks = bundled.parks.copy()
    parks.loc[parks["park_id"] == "zgc_bonded_zone", "geometry_tier"] = "official"
    html = {f["properties"]["park_id"]: f["properties"]["html"]
            for f in symbol_payload(park_symbols(parks, bundled.organisations))}
    assert "dotted" in html["bda_yizhuang"] and "border-radius:50%" in html["bda_yizhuang"]
    assert "solid" in html["zgc_bonded_zone"] and "border-radius:50%" not in html["zgc_bonded_zone"]


def test_nested_parks_can_each_be_picked_from_the_selected_parks_box():
    at = _app()
    at.session_state["selected_park"] = "zgc_life_science_park"
    at.run()
    assert _selected(at) == "Zhongguancun Life Science Park"
    # The chooser lists the nested park, and picking it selects it.
    at.button(key="mate_future_science_city_life_valley").click().run()
    assert _selected(at) == "Future Science City 'Life Valley'"
    at.button(key="mate_zgc_life_science_park").click().run()
    assert _selected(at) == "Zhongguancun Life Science Park"


# --- observation 3: organisations located only at their park are counted, not drawn


def test_only_organisations_with_their_own_site_are_points():
    bundled = load_snapshot()
    layer = organisations_layer(bundled.organisations)
    sites = bundled.organisations[bundled.organisations["location_tier"] == "site"]
    assert len(sites) < len(bundled.organisations)  # the bundled data has both tiers
    assert len(layer.rows) == len(sites)
    assert sorted(round(row[1], 6) for row in layer.rows) == sorted(round(p.x, 6) for p in sites.geometry)


def test_a_parks_symbol_counts_its_organisations_and_its_popup_lists_those_located_at_the_park():
    from layers.parks import park_symbols, symbol_payload

    bundled = load_snapshot()
    orgs = bundled.organisations
    features = {f["properties"]["park_id"]: f["properties"]
                for f in symbol_payload(park_symbols(bundled.parks, orgs, lang="en"))}
    lsp = features["zgc_life_science_park"]
    in_park = orgs[orgs["park_id"] == "zgc_life_science_park"]
    at_park = in_park[in_park["location_tier"] == "park"]
    assert f">{len(in_park)}</div>" in lsp["html"]
    assert f"{len(in_park)} organisations" in lsp["tooltip"]
    assert f"{len(at_park)} organisations, location: park" in lsp["popup"]
    for name in at_park["name_en"]:
        assert name.replace("&", "&amp;").replace("'", "&#x27;") in lsp["popup"]


def test_the_cluster_map_draws_no_point_for_an_organisation_known_only_by_its_park():
    bundled = load_snapshot()
    at = _app()
    script = _map_script(at)
    sites = int((bundled.organisations["location_tier"] == "site").sum())
    rows = json.JSONDecoder().raw_decode(script, script.index("[", script.index("L.markerClusterGroup(")))[0]
    assert len(rows) == sites and all(len(row) == 4 for row in rows)  # [lat, lon, colour, tooltip]
    caption = next(c.value for c in at.caption if "Organisations on the map" in c.value)
    assert f"{sites} at their own site" in caption
    assert f"{len(bundled.organisations) - sites} counted on their park" in caption


# --- observation 4: legend collapsed, every entry with a symbol; no black focus rectangle


def test_the_legend_starts_collapsed_and_every_entry_has_a_symbol():
    for lang in ("en", "zh"):
        fmap = base_map(basemap="none")
        Legend(lang=lang, symbols=True).add_to(fmap)
        html = fmap.get_root().render()
        assert re.search(r"<details class=\"map-legend\"\s+style", html), "the legend must start collapsed"
        rows = re.findall(r"<div class='legend-(?:tier|symbol)'[^>]*>(.*?)</div>", html)
        assert len(rows) >= 5 + 3
        assert all("<svg" in r and ("<line" in r or "<circle" in r) or "<span" in r for r in rows), rows


def test_a_clicked_park_gets_no_black_focus_rectangle():
    at = _app()
    header = " ".join(json.loads(c.proto.json_args)["header"] for c in at.get("component_instance"))
    assert re.search(r"\.leaflet-interactive:focus:not\(:focus-visible\)[^{]*\{\s*outline:\s*none", header)


# --- observation 8 and links: the page address holds language, basemap, park, filter and view


def test_a_link_opens_in_its_language_with_its_park_selected():
    at = _app(params={"lang": "zh", "park": "daxing_biomedicine_base"})
    assert at.title[0].value == "北京医药健康产业地图"
    assert _selected(at) == "中关村大兴生物医药产业基地"
    assert at.query_params["lang"] == ["zh"] or at.query_params["lang"] == "zh"


def test_the_address_follows_the_settings_and_keeps_other_pages_parameters():
    at = _app(params={"scenario": "north campus"})
    at.sidebar.radio(key="lang").set_value("zh").run()
    at.multiselect(key="cluster_specs").select("medical_devices").run()
    at.session_state["selected_park"] = "bda_yizhuang"
    at.run()
    params = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert params["lang"] == "zh" and params["spec"] == "medical_devices" and params["park"] == "bda_yizhuang"
    assert params["scenario"] == "north campus"  # the planner's own parameter is left alone


def test_a_link_restores_the_filter_basemap_and_view_and_ignores_what_it_does_not_know():
    at = _app(params={"spec": "medical_devices,not_a_code", "basemap": "gaode", "view": "39.8,116.5,12",
                      "park": "atlantis"})
    assert at.multiselect(key="cluster_specs").value == ["medical_devices"]
    assert at.sidebar.selectbox(key="basemap").value == "gaode"
    component = json.loads(at.get("component_instance")[0].proto.json_args)
    # The view in a link is WGS84; on Gaode (GCJ-02) the map centres on the same place, shifted.
    from geo.datums import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(116.5, 39.8)
    assert component["zoom"] == 12 and component["center"] == pytest.approx([float(lat), float(lon)], abs=1e-6)
    assert _selected(at) is None
    bad = _app(params={"view": "1,2,3"})
    assert json.loads(bad.get("component_instance")[0].proto.json_args)["zoom"] is None


def test_the_parks_page_puts_its_park_in_the_address_and_a_link_opens_it():
    at = _app("pages/parks.py")
    at.selectbox(key="parks_pick").set_value("mentougou_cardiology_park").run()
    park = at.query_params["park"]
    assert (park[0] if isinstance(park, list) else park) == "mentougou_cardiology_park"
    linked = _app(params={"park": "bda_yizhuang"})
    linked.switch_page("pages/parks.py").run()
    assert linked.subheader[0].value == "Beijing Economic-Technological Development Area (Yizhuang)"


# --- search and the structure panel


@pytest.mark.parametrize(("query", "park"), [
    ("亦庄", "Beijing Economic-Technological Development Area (Yizhuang)"),
    ("BDA", "Beijing Economic-Technological Development Area (Yizhuang)"),
    ("生命科学园", "Zhongguancun Life Science Park"),
    ("未来科学城", "Future Science City 'Life Valley'"),
])
def test_the_search_box_selects_and_zooms_to_what_it_finds(query, park):
    at = _app()
    at.text_input(key="map_search").input(query).run()
    assert not at.exception
    assert _selected(at) == park
    component = json.loads(at.get("component_instance")[0].proto.json_args)
    assert component["zoom"] and component["zoom"] >= 11


def test_a_search_that_finds_nothing_says_so():
    at = _app()
    at.text_input(key="map_search").input("xyzzy").run()
    assert any("Nothing found" in c.value for c in at.caption)
    assert _selected(at) is None


def test_the_structure_panel_lists_hubs_parks_and_specialisations_and_selects_on_click():
    at = _app()
    buttons = {b.key for b in at.button}
    bundled = load_snapshot()
    assert {f"structure_{p}" for p in bundled.parks["park_id"]} <= buttons
    markdown = " ".join(m.value for m in at.markdown)
    for hub in bundled.hubs["name_en"]:
        assert hub in markdown
    assert any("Innovative drugs" in c.value for c in at.caption)
    at.button(key="structure_mentougou_cardiology_park").click().run()
    assert _selected(at).startswith("Mentougou Cardiovascular")


def test_the_structure_puts_core_hubs_first_and_counts_each_parks_organisations_by_specialisation():
    from geo.structure import hub_structure
    from geo.vocab import split_codes

    bundled = load_snapshot()
    lines = hub_structure(bundled.hubs, bundled.parks, bundled.organisations)
    roles = [h.role for h in lines]
    assert roles == sorted(roles, key=["core_hub", "growth_point"].index) and roles.count("core_hub") == 4
    lsp = next(p for h in lines for p in h.parks if p.park_id == "zgc_life_science_park")
    orgs = bundled.organisations[bundled.organisations["park_id"] == "zgc_life_science_park"]
    assert lsp.organisations == len(orgs) and lsp.drawn
    drugs = dict(lsp.specialisations)["innovative_drugs"]
    assert drugs == sum("innovative_drugs" in split_codes(v) for v in orgs["specialisations"])
    assert not next(p for h in lines for p in h.parks if p.park_id == "cmu_science_park").drawn
    assert sum(len(h.parks) for h in lines) == len(bundled.parks)


def test_park_tooltips_give_the_area_with_its_qualifier_source_and_date():
    at = _app()
    script = _map_script(at)
    # Life Valley: "more than seven square kilometres", a lower bound (Nature, 2024).
    assert script.count("more than 7 km") >= 2  # its outline and its symbol (² is escaped in the script)
    assert "about 0.4 km" in script  # the bonded zone
    at.session_state["selected_park"] = "future_science_city_life_valley"
    at.run()
    assert any("more than 7 km²" in m.value and "2024" in m.value for m in at.markdown)


def test_parks_not_on_the_map_are_marked_in_each_languages_punctuation():
    # Seen at 1366x768 in Chinese: "国际医谷 (未上图)" with ASCII brackets in a Chinese line.
    labels = {lang: {b.key: b.label for b in _app(params={"lang": lang}).button} for lang in ("en", "zh")}
    assert labels["zh"]["structure_zgc_science_city_medical_valley"].endswith("（未上图）"), labels["zh"]["structure_zgc_science_city_medical_valley"]
    assert labels["en"]["structure_zgc_science_city_medical_valley"].endswith(" (not on the map)")


def test_park_tooltips_wrap_instead_of_running_off_the_map():
    from layers.parks import TOOLTIP_CLASS, park_symbols, parks_layer

    bundled = load_snapshot()
    fmap = base_map()
    parks_layer(bundled.parks).add_to(fmap)
    park_symbols(bundled.parks, bundled.organisations).add_to(fmap)
    html = fmap.get_root().render()
    assert html.count(f'"className": "{TOOLTIP_CLASS}"') == 2  # the outlines' and the symbols' tooltips
    css = re.search(r"\.park-tooltip \{([^}]*)\}", html).group(1)
    assert "white-space: normal" in css and "max-width: 300px" in css
