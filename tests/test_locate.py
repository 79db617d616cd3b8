"""Locating names and addresses offline: the parser, the park/district decision, the snapshot's own
organisations, address-only tables through the importer, the join and the command line."""

from __future__ import annotations

import io
import json
import socket

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.address import AddressDataError, place_problems, read_places
from geo.cli import main
from geo.errors import ImportRefusedError
from geo.imports import read_upload
from geo.joins import place_layer
from geo.locate import OfflineLocator, detect_address_columns, locate_table
from geo.locate_check import check_snapshot_organisations
from geo.snapshot import load_snapshot


@pytest.fixture(scope="module")
def snapshot():
    return load_snapshot()


@pytest.fixture(scope="module")
def locator(snapshot):
    return OfflineLocator.from_snapshot(snapshot)


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to open a connection fails, as on a machine without the internet."""
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# Real-looking addresses as registry services and park committees write them, with where they are.
ADDRESSES = [
    ("北京市昌平区中关村生命科学园生命园路8号院一区9号楼", "park", "zgc_life_science_park", "110114"),
    ("北京市昌平区回龙观镇生命园路29号", "park", "zgc_life_science_park", "110114"),
    ("昌平区医科路9号院", "park", "zgc_life_science_park", "110114"),
    ("Building 3, No. 9 Yike Road, Changping District, Beijing", "park", "zgc_life_science_park", "110114"),
    ("No. 8 Life Science Park Road, Zhongguancun Life Science Park, Changping District, Beijing", "park",
     "zgc_life_science_park", "110114"),
    ("北京经济技术开发区科创十三街18号院", "park", "bda_yizhuang", "110115"),
    ("北京市大兴区北京经济技术开发区荣华中路15号", "park", "bda_yizhuang", "110115"),
    ("北京市通州区北京经济技术开发区（通州）景盛南四街", "park", "bda_yizhuang", "110112"),
    ("北京市北京经济技术开发区宏达中路6号", "park", "bda_yizhuang", "110115"),
    ("北京市大兴区荣京东街3号", "park", "bda_yizhuang", "110115"),
    ("Beijing Economic-Technological Development Area, Beijing", "park", "bda_yizhuang", "110115"),
    ("北京市大兴区中关村科技园区大兴生物医药产业基地永大路38号", "park", "daxing_biomedicine_base", "110115"),
    ("北京市大兴区天富街11号", "park", "daxing_biomedicine_base", "110115"),
    ("北京市大兴区思邈路8号院", "park", "daxing_biomedicine_base", "110115"),
    ("北京市门头沟区中国心谷创新中心", "park", "mentougou_cardiology_park", "110109"),
    ("北京市海淀区中关村综合保税区", "park", "zgc_bonded_zone", "110108"),
    ("北京市海淀区温泉镇白家疃尚品园", "district", None, "110108"),  # the town, not the bonded zone
    ("北京市昌平区未来科学城南区", "district", None, "110114"),  # Future Science City is not Life Valley
    ("北京市朝阳区建国路88号", "district", None, "110105"),
    ("北京市东城区东单北大街53号", "district", None, "110101"),
    ("北京市海淀区复兴路28号", "district", None, "110108"),
    ("Room 501, 1 Zhongguancun Street, Haidian District, Beijing", "district", None, "110108"),
    ("北京市顺义区天竺镇", "district", None, "110113"),
    ("昌平区马池口镇", "district", None, "110114"),
    ("上海市浦东新区张江路88号", None, None, None),
    ("某某大厦5层", None, None, None),
]


@pytest.mark.parametrize(("address", "tier", "park", "district"), ADDRESSES)
def test_beijing_addresses_land_in_their_park_or_district(locator, address, tier, park, district):
    placed = locator.place(address, None)
    assert (placed.tier, placed.park_id, placed.district_id) == (tier, park, district), placed
    if tier is None:
        assert placed.reason and np.isnan(placed.lon)
    else:
        assert "not the site" in placed.point
        assert "“" in placed.evidence  # the matched words are quoted


def test_the_evidence_quotes_the_words_and_names_the_road_source(locator, snapshot):
    placed = locator.place("北京市昌平区生命园路8号院一区11号楼1-2层", None)
    assert placed.tier == "park" and placed.level == "road in park"
    assert "“生命园路”" in placed.evidence and "innocare_agm_2021" in placed.evidence
    anchor = snapshot.parks.set_index("park_id").loc["zgc_life_science_park", ["anchor_lon", "anchor_lat"]]
    assert (placed.lon, placed.lat) == (anchor["anchor_lon"], anchor["anchor_lat"])
    assert "anchor of Zhongguancun Life Science Park" in placed.point


def test_a_district_point_lies_inside_its_district_and_says_it_is_not_a_site(locator, snapshot):
    placed = locator.place("北京市大兴区黄村镇兴华大街1号", None)
    district = snapshot.districts.set_index("district_id").loc["110115", "geometry"]
    assert placed.tier == "district" and shapely.contains_xy(district, placed.lon, placed.lat)
    assert "a point inside Daxing district" in placed.point


def test_a_park_named_with_a_district_it_does_not_lie_in_is_placed_in_the_district_and_flagged(locator):
    placed = locator.place("北京市海淀区中关村生命科学园1号", None)
    assert (placed.tier, placed.park_id, placed.district_id) == ("district", None, "110108")
    assert "lies in Changping" in placed.flag


def test_the_name_places_a_row_without_address_and_a_park_in_the_addresss_district(locator):
    assert locator.place(None, "首都医科大学附属北京同仁医院（亦庄院区）").park_id == "bda_yizhuang"
    # the address gives Daxing only; the name's park lies there: the park is kept, quoted from the name
    placed = locator.place("北京市大兴区西环南路1号", "同仁医院亦庄院区")
    assert placed.park_id == "bda_yizhuang" and "in the name" in placed.evidence
    unplaced = locator.place(None, "北京大学国际医院")
    assert unplaced.tier is None and "the name" in unplaced.reason


def test_the_snapshots_organisations_land_in_their_stated_park_or_district(snapshot, no_network):
    check = check_snapshot_organisations(snapshot)
    assert len(check.rows) >= 15 and check.without_address == len(snapshot.organisations) - len(check.rows)
    assert check.agreement >= 0.95, check.misses()[["org_id", "why"]].to_string()
    assert check.misses()["why"].str.len().gt(0).all()


def test_a_miss_is_explained(snapshot):
    # Without the alias companies write (大兴生物医药产业基地) and the road list, the base's firms
    # reach Daxing only.
    from geo.search import read_aliases

    aliases = read_aliases()
    aliases = aliases[aliases["alias"] != "大兴生物医药产业基地"]
    check = check_snapshot_organisations(snapshot, locator=OfflineLocator.from_snapshot(snapshot, aliases=aliases,
                                                                                  places=read_places().iloc[0:0]))
    misses = check.misses().set_index("org_id")
    assert {"sinovac_daxing", "biocytogen", "minhai", "hotgen"} <= set(misses.index)
    assert "the snapshot says park daxing_biomedicine_base" in misses.loc["hotgen", "why"]
    assert "placed in no park (district" in misses.loc["hotgen", "why"]


def test_geo_locate_check_snapshot_works_offline_and_prints_the_agreement(capsys, no_network):
    assert main(["locate", "--check-snapshot"]) == 0
    out = capsys.readouterr().out
    assert "agree with the snapshot's park/district: 15 of 15" in out or "target >= 95 %" in out


def test_geo_locate_on_the_organisations_file_writes_tiers_and_evidence(tmp_path, snapshot, no_network, capsys):
    orgs = snapshot.organisations
    table = pd.DataFrame({"企业名称": orgs["name_zh"], "注册地址": orgs["address_zh"]})
    source = tmp_path / "orgs.csv"
    table.to_csv(source, index=False)
    out = tmp_path / "orgs.geojson"
    assert main(["locate", str(source), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "park" in printed and "unplaced" in printed
    located = gpd.read_file(out)
    assert {"location_tier", "location_evidence", "location_point", "located_park_id"} <= set(located.columns)
    by_name = located.set_index("企业名称")
    assert by_name.loc["泛生子", "located_park_id"] == "zgc_life_science_park"
    assert by_name.loc["北京热景生物技术股份有限公司", "location_tier"] == "park"
    stated = orgs.set_index("name_zh")
    with_address = located[located["注册地址"].notna()]
    def park(value):
        return value if isinstance(value, str) and value else None

    agree = [park(row.located_park_id) == park(stated.loc[row.企业名称, "park_id"]) for row in with_address.itertuples()]
    assert np.mean(agree) >= 0.95


def test_curated_address_places_are_valid_and_broken_rows_are_named(snapshot):
    places = read_places()
    kwargs = {"park_ids": snapshot.parks["park_id"], "district_ids": snapshot.districts["district_id"],
              "source_ids": snapshot.sources["source_id"],
              "park_districts": dict(zip(snapshot.parks["park_id"], snapshot.parks["district_id"], strict=True))}
    assert place_problems(places, **kwargs) == []
    broken = pd.concat([places, pd.DataFrame([
        {"kind": "road", "name_zh": "无名路", "name_en": "", "park_id": "nowhere_park", "district_id": "110114",
         "source_id": "", "note": ""},
        {"kind": "road", "name_zh": "生命园路", "name_en": "", "park_id": "bda_yizhuang", "district_id": "110114",
         "source_id": "no_such_source", "note": ""}])], ignore_index=True)
    found = place_problems(broken, **kwargs)
    assert any("'nowhere_park' is not a park" in p for p in found)
    assert any("give a source_id or a note" in p for p in found)
    assert any("already on line" in p for p in found)
    assert any("'no_such_source' is not in sources.csv" in p for p in found)
    assert any("lies in district '110115', not '110114'" in p for p in found)
    with pytest.raises(AddressDataError, match="nowhere_park"):
        OfflineLocator.from_snapshot(snapshot, places=broken)


@pytest.mark.parametrize(("columns", "address", "name"), [
    (["企业名称", "注册地址", "行业"], "注册地址", "企业名称"),
    (["名称", "住所"], "住所", "名称"),
    (["Company Name", "Registered Address"], "Registered Address", "Company Name"),
    (["name", "address"], "address", "name"),
    (["单位", "备注"], None, None),
])
def test_name_and_address_columns_are_found_by_their_headers(columns, address, name):
    found = detect_address_columns(columns)
    assert (found.address, found.name) == (address, name)


def _xlsx(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    return buffer.getvalue()


def test_an_address_only_spreadsheet_is_imported_with_tiers_and_unplaced_rows_listed(locator):
    frame = pd.DataFrame({"企业名称": ["诺诚健华", "某公司", "悦康药业", "无地址"],
                          "注册地址": ["北京市昌平区中关村生命科学园生命园路8号院8号楼", "上海市浦东新区张江路1号",
                                   "北京市北京经济技术开发区宏达中路6号", None]})
    layer = read_upload(_xlsx(frame), filename="名单.xlsx", locators=[locator])
    assert layer.by_address and layer.source_datum == "wgs84"
    assert layer.frame["location_tier"].tolist() == ["park", "park"]
    assert layer.frame["source_row"].tolist() == [2, 4]
    assert dict(layer.refused) == {3: "it was not placed: the address is outside Beijing (“上海市”); the name has no"
                                      " Beijing district, town, park or known road",
                                   5: "it was not placed: no address; the name has no Beijing district, town, park or"
                                      " known road"}
    assert layer.located.summary() == {"park": 2, "unplaced": 2}
    assert any("located by offline" in note.text for note in layer.notes)


def test_an_address_table_without_a_locator_is_refused_with_what_to_do():
    data = "名称,地址\n某公司,北京市海淀区复兴路28号\n".encode()
    with pytest.raises(ImportRefusedError, match="locate it by address"):
        read_upload(data, filename="t.csv")


def test_a_table_with_coordinates_is_still_read_by_its_coordinates(locator):
    data = "名称,地址,经度,纬度\n某公司,北京市海淀区复兴路28号,116.27,39.90\n".encode()
    layer = read_upload(data, filename="t.csv", datum="wgs84", locators=[locator])
    assert not layer.by_address and "location_tier" not in layer.frame


def test_district_rows_are_joined_to_their_district_even_when_the_point_falls_in_a_park(snapshot, locator):
    located = locate_table(pd.DataFrame({"地址": ["北京市大兴区兴华大街1号", "北京市大兴区天富街9号"]}),
                           locators=[locator]).frame
    frame = gpd.GeoDataFrame(located.drop(columns=["lon", "lat"]),
                             geometry=gpd.points_from_xy(located["lon"], located["lat"]), crs=4326)
    # move the district row onto the BDA's anchor: its point says nothing about a park
    bda = snapshot.parks.set_index("park_id").loc["bda_yizhuang"]
    frame.loc[0, "geometry"] = shapely.Point(bda["anchor_lon"], bda["anchor_lat"])
    joined = place_layer(frame, parks=snapshot.parks, districts=snapshot.districts, hubs=snapshot.hubs)["placed"]
    assert joined["park_id_joined"].tolist() == [None, "daxing_biomedicine_base"]
    assert joined["district_id_joined"].tolist() == ["110115", "110115"]
    assert joined["hub_id_joined"].tolist() == ["daxing", "daxing"]


def test_geo_locate_json_lists_every_unplaced_row(tmp_path, capsys):
    source = tmp_path / "list.csv"
    source.write_text("name,address\nA,\"No. 9 Yike Road, Changping District, Beijing\"\nB,somewhere\n",
                      encoding="utf-8")
    assert main(["locate", str(source), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["by_tier"] == {"park": 1, "unplaced": 1}
    assert result["unplaced"][0]["row"] == 3


def test_the_located_layer_colours_tiers_escapes_evidence_and_its_legend_counts_them(locator):
    import folium

    from layers.imported import imported_layer, location_legend

    data = ("名称,地址\n<img src=x onerror=alert(1)>,北京市昌平区中关村生命科学园<b>1号</b>\n"
            "乙,北京市海淀区复兴路28号\n").encode()
    layer = read_upload(data, filename="x.csv", locators=[locator])
    fmap = folium.Map()
    imported_layer(layer.frame, name="x", lang="zh").add_to(fmap)
    fmap.add_child(location_legend(layer.frame, lang="zh"))
    html = fmap.get_root().render()
    assert "<img src=x" not in html and "lt;img src=x onerror=alert(1)" in html
    assert "园区（定位点）" in html and "#d35400" in html and "#7d3c98" in html
    assert "data-tier='park'" in html and "data-tier='district'" in html
    # the snapshot's own organisations (tier site/park, no located ids) are not taken for a located layer
    assert location_legend(gpd.GeoDataFrame({"location_tier": ["site"]}, geometry=[shapely.Point(116, 40)]),
                           lang="en") is None
