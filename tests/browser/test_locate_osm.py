"""The Import page with an address list and a small OpenStreetMap extract, as an analyst uses it:
each row's candidates, one confirmed by a tick, the park-tier organisations placed in bulk and
then drawn on the cluster map with the ODbL attribution. On a server of its own (placements are
kept in its data folder)."""

from __future__ import annotations

import io

import pandas as pd

from tests.browser.conftest import screenshot
from tests.browser.test_browser import _map, _open, _settled
from tests.osm_fixtures import OsmBuilder, rectangle

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _extract(path):
    b = OsmBuilder()
    b.point(116.2795, 40.0970, {"office": "company", "name": "诺诚健华", "name:en": "InnoCare Pharma",
                                "addr:street": "生命园路", "addr:housenumber": "8"})
    b.point(116.2780, 40.0980, {"office": "company", "name": "百济神州", "name:en": "BeiGene"})
    b.point(116.3400, 39.7300, {"office": "company", "name": "百济神州"})
    b.polygon(rectangle(116.2770, 40.0990, 116.2790, 40.1000),
              {"building": "yes", "name": "北京脑科学与类脑研究所", "addr:street": "医科路", "addr:housenumber": "9"})
    return b.write_xml(path)


def _list() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame({"企业名称": ["诺诚健华", "百济神州", "北京脑科学与类脑研究所", "某上海公司"],
                  "注册地址": ["北京市昌平区中关村生命科学园生命园路8号院8号楼", None, "北京市昌平区医科路9号院3号楼",
                           "上海市浦东新区张江路1号"]}).to_excel(buffer, index=False)
    return buffer.getvalue()


def _text(page) -> str:
    return page.inner_text("body")


def test_an_address_list_is_placed_on_osm_features_and_park_tier_organisations_reach_the_map(page, fresh_server,
                                                                                            tmp_path):
    page.set_viewport_size({"width": 1366, "height": 768})
    _open(page, fresh_server, "imports")
    page.locator("input[type=file]").set_input_files({"name": "名单.xlsx", "mimeType": XLSX, "buffer": _list()})
    page.wait_for_function("() => document.body.innerText.includes('OpenStreetMap extract to match')", timeout=60_000)
    _settled(page)
    page.locator("input[type=file]").nth(1).set_input_files(str(_extract(tmp_path / "companies.osm")))
    # row 3: two namesakes, nothing chosen silently
    page.wait_for_function("() => document.body.innerText.includes('score alike')", timeout=60_000)
    _settled(page)
    assert "2 of 2 placed rows kept; 2 unplaced" in _text(page)
    heading = page.locator("h3", has_text="OpenStreetMap candidates").first
    heading.scroll_into_view_if_needed()
    grid = page.locator("[data-testid=stDataFrame]").filter(has_text="node/3") \
        .filter(has_not_text="Organisation").filter(has_not_text="Keep").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    # the second candidate row is row 3's node/2 (the first is row 2's): tick it (a click selects
    # the cell, space ticks it)
    page.mouse.click(box["x"] + 53, box["y"] + 35 + 1 * 35 + 17)
    _settled(page)
    if "1 rows placed on confirmed" not in _text(page):
        page.keyboard.press(" ")
    page.wait_for_function("() => document.body.innerText.includes('3 of 3 placed rows kept; 1 unplaced')",
                           timeout=60_000)
    _settled(page)
    text = _text(page)
    assert "1 rows placed on confirmed OpenStreetMap candidates" in text
    assert "score alike" not in text  # the upload's notes no longer call row 3 skipped
    assert "osm 3, unplaced 1" in text
    assert "node/2: name=百济神州 matches the name (1.00); score 1.00; confirmed in the review" in page.content()
    screenshot(page, "import_osm_candidates")

    page.get_by_text("Place the organisations known only by their park").first.click()
    _settled(page)
    page.get_by_role("button", name="Place every organisation on its best candidate").click()
    page.wait_for_function("() => document.body.innerText.includes('Placed 3 organisations')", timeout=60_000)
    _settled(page)
    screenshot(page, "import_osm_organisations")

    _open(page, fresh_server)
    frame = _map(page)
    page.wait_for_function("() => document.body.innerText.includes('6 at their own site, 44 counted')",
                           timeout=60_000)
    # one attribution line, shared with the OpenStreetMap basemap (two wrapped over the scale bar)
    assert frame.locator(".leaflet-control-attribution").inner_text().count("OpenStreetMap contributors") == 1
    assert "ODbL" in frame.locator(".leaflet-control-attribution").inner_text()
    screenshot(page, "cluster_map_osm_sites")
