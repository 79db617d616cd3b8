"""Map layers: GeoDataFrame in, folium object out; escaped, offline, datum-aware."""

import json
import re

import folium
import pytest
import shapely

from geo import datums
from geo.snapshot import load_snapshot
from layers import assets
from layers.basemap import BasemapError, available_basemaps, base_map, datum_of
from layers.districts import districts_layer
from layers.hubs import hub_labels
from layers.html import escape
from layers.i18n import format_number, format_quantity, t
from layers.legend import Legend
from layers.organisations import organisations_layer
from layers.parks import parks_layer

XSS = "<img src=x onerror=alert(1)>${alert(2)}`</script>\\u{"


@pytest.fixture
def snap(tiny_snapshot):
    return load_snapshot(tiny_snapshot)


def _html(fmap: folium.Map) -> str:
    return fmap.get_root().render()


def test_escape_makes_html_and_template_literals_inert():
    out = escape(XSS)
    assert "<" not in out and ">" not in out and "`" not in out and "${" not in out and "\\" not in out
    assert escape(None) == "" and escape(float("nan")) == ""


@pytest.mark.parametrize("char", ["&", "<", ">", '"', "'", "`", "$", "\\", "\u2028", "\u2029"])
def test_escape_changes_every_special_character_even_alone_in_plain_text(char):
    out = escape(f"北京 lot 7 {char} end")
    assert f" {char} " not in out and out.startswith("北京 lot 7 ") and out.endswith(" end")


def test_escape_leaves_plain_text_as_it_is():
    assert escape("3 · 亦庄 Lot 7, 12.5 mu (40%)") == "3 · 亦庄 Lot 7, 12.5 mu (40%)"


def test_hostile_names_are_escaped_in_every_layer(snap):
    parks = snap.parks.copy()
    parks.loc[0, "name_en"] = XSS
    orgs = snap.organisations.copy()
    orgs.loc[0, "name_en"] = XSS
    orgs.loc[0, "address_zh"] = XSS
    hubs = snap.hubs.copy()
    hubs.loc[0, "name_en"] = XSS
    fmap = base_map(basemap="none")
    parks_layer(parks).add_to(fmap)
    organisations_layer(orgs).add_to(fmap)
    hub_labels(hubs).add_to(fmap)
    html = _html(fmap)
    assert "<img src=x" not in html
    assert "${alert" not in html
    assert "`</script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_no_external_script_or_stylesheet_reaches_the_map(snap):
    fmap = base_map(basemap="none")
    districts_layer(snap.districts_display).add_to(fmap)
    parks_layer(snap.parks).add_to(fmap)
    organisations_layer(snap.organisations).add_to(fmap)
    folium.plugins.Draw().add_to(fmap)
    Legend().add_to(fmap)
    links = []
    for element in _walk(fmap):
        links += [url for _, url in getattr(element, "default_js", [])]
        links += [url for _, url in getattr(element, "default_css", [])]
    assert links and all(url.startswith("/app/static/vendor/") for url in links)
    for url in links:
        assert (assets.VENDOR_DIR / url.removeprefix("/app/static/vendor/")).is_file()
    assert assets.external_urls(_html(fmap)) == []


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


@pytest.mark.parametrize("basemap", ["osm", "gaode"])
def test_only_the_chosen_basemap_tiles_are_external(basemap):
    html = _html(base_map(basemap=basemap))
    hosts = {re.sub(r"^(https?:)?//", "", url).split("/")[0] for url in assets.external_urls(html)}
    expected = {"osm": {"tile.openstreetmap.org"}, "gaode": {"webrd0{s}.is.autonavi.com"}}[basemap]
    assert hosts == expected


def test_gaode_basemap_shifts_overlays_to_gcj02(snap):
    assert datum_of("gaode") == "gcj02" and datum_of("osm") == "wgs84"
    layer = parks_layer(snap.parks, datum="gcj02")
    data = layer.data if isinstance(layer.data, dict) else json.loads(layer.data)
    shifted = shapely.geometry.shape(data["features"][0]["geometry"])
    original = snap.parks.geometry.iloc[0]
    expected = datums.convert_geometries([original], source="wgs84", target="gcj02")[0]
    assert shifted.equals_exact(expected, 1e-5)  # the map draws 5 decimals (about 1 m)
    assert not shifted.equals_exact(original, 1e-3)  # the GCJ-02 shift is about 500 m


def test_badge_names_the_datum():
    assert "GCJ-02" in _html(base_map(basemap="gaode"))
    assert 'data-datum="wgs84"' in _html(base_map(basemap="osm"))


def test_tianditu_needs_a_valid_key():
    assert "tianditu" not in available_basemaps(tianditu_key=None)
    assert "tianditu" in available_basemaps(tianditu_key="0123456789abcdef0123456789abcdef")
    with pytest.raises(BasemapError, match="TIANDITU_KEY"):
        base_map(basemap="tianditu", tianditu_key="'); alert(1); //")
    with pytest.raises(BasemapError, match="'mars'"):
        base_map(basemap="mars")


def test_parks_are_styled_by_tier(snap):
    layer = parks_layer(snap.parks)
    data = json.loads(layer.data) if isinstance(layer.data, str) else layer.data
    styles = {f["properties"]["tier"]: layer.style_function(f) for f in data["features"]}
    assert styles["nominal"]["dashArray"] and styles["approximate"]["dashArray"]
    assert styles["nominal"]["dashArray"] != styles["approximate"]["dashArray"]


def test_legend_explains_every_tier_in_both_languages():
    for lang, word, unlocated in (("en", "Nominal extent", "Not on the map"), ("zh", "示意范围", "未上图")):
        html = _html(_with(Legend(lang=lang)))
        assert word in html and "data-tier=\"official\"" in html.replace("'", '"')
        assert unlocated in html and "data-tier=\"unlocated\"" in html.replace("'", '"')


def test_parks_without_a_polygon_are_left_off_the_map():
    from geo.snapshot import load_snapshot

    parks = load_snapshot().parks  # the bundled one: four of its parks have no citable site
    unlocated = set(parks.loc[parks["geometry_tier"] == "unlocated", "park_id"])
    assert unlocated
    layer = parks_layer(parks)
    data = json.loads(layer.data) if isinstance(layer.data, str) else layer.data
    drawn = {f["properties"]["park_id"] for f in data["features"]}
    assert drawn and not drawn & unlocated
    assert all(f["geometry"] for f in data["features"])


def _with(element):
    fmap = base_map(basemap="none")
    element.add_to(fmap)
    return fmap


def _labels(layer) -> str:
    data = json.loads(layer.data) if isinstance(layer.data, str) else layer.data
    return " ".join(f["properties"]["label"] for f in data["features"])


def test_language_switch_changes_layer_labels(snap):
    en = _labels(districts_layer(snap.districts_display, lang="en"))
    zh = _labels(districts_layer(snap.districts_display, lang="zh"))
    assert "Haidian" in en and "Core hub" in en
    assert "海淀区" in zh and "核心区" in zh and "Haidian" not in zh


def test_chinese_numbers_use_wan_and_yi():
    assert format_number(12_000_000, "zh") == "1200万"
    assert format_number(250_000_000, "zh") == "2.5亿"
    assert format_quantity(3000, "mu", "zh", qualifier="at_least") == "不少于3000亩"
    assert format_quantity(3000, "mu", "en", qualifier="at_least") == "at least 3,000 mu"
    assert format_quantity(1250, "bn_yuan", "zh") == "1.25万亿元"
    assert t("page_parks", "zh") == "园区"


def test_imported_layer_escapes_names_columns_and_values():
    import geopandas as gpd
    import shapely

    from layers.imported import imported_layer

    hostile = "<img src=x onerror=alert(1)>"
    frame = gpd.GeoDataFrame({"source_row": [2], hostile: ["${alert(2)}`"]},
                             geometry=[shapely.Point(116.3, 39.9)], crs=4326)
    fmap = folium.Map()
    imported_layer(frame, name=hostile, lang="zh").add_to(fmap)
    html = fmap.get_root().render()
    assert "<img src=x" not in html and "${alert(2)}" not in html and "alert(2)`" not in html


def test_imported_layer_draws_many_points_as_grid_cells_not_markers():
    import geopandas as gpd
    import numpy as np
    import shapely

    from layers.imported import imported_layer

    rng = np.random.default_rng(3)
    frame = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(116.0, 116.8, 50_000),
                                                     rng.uniform(39.7, 40.3, 50_000)), crs=4326)
    fmap = folium.Map()
    group = imported_layer(frame, name="firms", lang="en", max_markers=1000)
    group.add_to(fmap)
    html = fmap.get_root().render()
    assert "50,000 points in" in group.layer_name
    assert html.count('"type": "Polygon"') <= 1500 and "circle_marker" not in html
    assert len(html) < 600_000


def test_every_metric_in_the_snapshot_has_a_label_in_both_languages():
    from layers.i18n import METRICS

    missing = sorted(set(load_snapshot().facts["metric"]) - set(METRICS))
    assert missing == [], f"add labels for {missing} to layers.i18n.METRICS"


@pytest.mark.parametrize("basemap", ["none", "osm"])
def test_every_basemap_gives_the_map_a_max_zoom_for_its_clusters(basemap):
    # Without one, Leaflet's marker clusters throw "Map has no maxZoom specified" and nothing draws.
    html = _html(base_map(basemap=basemap))
    assert re.search(r'L\.map\([^)]*"maxZoom": 18', html, re.S)


def test_parcels_layer_outlines_come_back_as_drawn_holes_and_multipolygons_included():
    import geopandas as gpd
    import numpy as np
    import shapely

    from layers.parcels import parcels_layer

    with_hole = shapely.Polygon([(116.1, 39.9), (116.2, 39.9), (116.2, 40.0), (116.1, 39.9)],
                                holes=[[(116.15, 39.92), (116.16, 39.92), (116.16, 39.93), (116.15, 39.92)]])
    two_parts = shapely.MultiPolygon([shapely.box(116.3, 39.8, 116.300014, 39.800021),
                                      shapely.box(116.4123456, 39.8, 116.5, 39.9)])
    measured = gpd.GeoDataFrame({
        "number": [1, 2], "name": ["甲", "B"], "status": ["planned", "completed"], "use": ["industrial_land"] * 2,
        "parcel_id": ["a", "b"], "area_mu": [1.0, 2.0], "area_ha": [0.1, 0.2], "area_m2": [667.0, 1334.0],
        "counted_mu": [1.0, 2.0], "overlaps_with": ["", ""], "district_id": [None, None], "hub_id": [None, None],
        "park_id": [None, None], "park_share": [0.0, 0.0]}, geometry=[with_hole, two_parts], crs=4326)
    features = parcels_layer(measured, lang="zh").features()
    for feature, geometry in zip(features, [with_hole, two_parts], strict=True):
        drawn = shapely.geometry.shape(feature["geometry"])
        assert drawn.geom_type == geometry.geom_type
        assert np.array_equal(shapely.get_coordinates(drawn), np.round(shapely.get_coordinates(geometry), 5))
    assert [f["properties"]["parcel_id"] for f in features] == ["a", "b"]
    assert [f["properties"]["status"] for f in features] == ["planned", "completed"]


@pytest.mark.parametrize("datum", ["wgs84", "gcj02"])
def test_parcels_layer_after_an_outline_edit_is_the_layer_drawn_afresh(datum, monkeypatch):
    """After a map edit the unchanged parcels' outlines and popup rows are reused: the layer must
    be the one drawn from nothing, the edited parcel and the one it now overlaps included."""
    import shapely

    from geo.bench_planner import synthetic_scenario
    from geo.planner import measure_geometries, measure_parcels
    from layers import parcels as parcels_module

    snapshot = load_snapshot()
    layers = {"parks": snapshot.parks, "districts": snapshot.districts, "hubs": snapshot.hubs}
    scenario = synthetic_scenario(120, vertices=16)
    before = measure_geometries(scenario.geometry.values, **layers)
    parcels_module.parcels_layer(measure_parcels(scenario, geometry=before, **layers), datum=datum)
    edited = scenario.copy()
    edited.loc[edited.index[4], "geometry"] = shapely.affinity.translate(edited.geometry.iloc[5], xoff=0.001)
    after = measure_geometries(edited.geometry.values, previous=before, **layers)
    assert after.projected[0] is before.projected[0]  # measured from the previous version
    reused = parcels_module.parcels_layer(measure_parcels(edited, geometry=after, **layers), datum=datum).features()
    monkeypatch.setattr(parcels_module, "_MEMO", parcels_module._TextMemo(max_chars=64_000_000))
    monkeypatch.setattr(parcels_module, "_PIECES", parcels_module._PieceMemo(max_chars=32_000_000))
    measured_afresh = measure_parcels(edited, **layers)
    fresh = parcels_module.parcels_layer(measured_afresh, datum=datum).features()
    assert reused == fresh
    assert "5" in measured_afresh["overlaps_with"].iloc[5].split(", ")  # the edit made parcels 5 and 6 overlap


def test_the_view_written_to_the_address_is_converted_to_wgs84_only_on_a_gcj02_map():
    import folium

    from layers.address import ViewInAddress

    def script(datum):
        fmap = folium.Map(location=[39.9, 116.4], zoom_start=10, tiles=None)
        ViewInAddress(datum=datum).add_to(fmap)
        return fmap.get_root().render()

    gcj, wgs = script("gcj02"), script("wgs84")
    assert "6378245.0" in gcj and "toWgs84(c.lat, c.lng)" in gcj
    assert "6378245.0" not in wgs and "function toWgs84(lat, lon) { return [lat, lon]; }" in wgs
    with pytest.raises(ValueError, match="'bd09'"):
        ViewInAddress(datum="bd09")
