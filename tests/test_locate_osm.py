"""Locating names and addresses on OpenStreetMap features (geo.locate_osm), the review's candidate
lists and confirmations, and re-placing the snapshot's park-tier organisations (geo.org_placements)
through geo.workspace.assemble onto the cluster map. Every extract is a small inline OSM XML file."""

from __future__ import annotations

import gzip
import json
import socket

import folium
import geopandas as gpd
import pandas as pd
import pytest

from geo.cli import main
from geo.errors import LocateError, OrgPlacementError
from geo.imports import read_upload, with_located
from geo.locate import OfflineLocator, locate_table
from geo.locate_osm import (OSMLocator, accept_candidates, best_choices, candidate_table, osm_locator,
                            read_named_features)
from geo.org_placements import (OrgPlacementStore, best_organisation_choices, organisation_candidates,
                                plan_placement)
from geo.osm_store import ParkGeometryStore
from geo.snapshot import load_snapshot
from geo.workspace import assemble, load_workspace
from layers.organisations import organisations_layer
from tests.osm_fixtures import OsmBuilder, rectangle

INNOCARE = (116.2795, 40.0970)  # inside the Life Science Park's circle, off its anchor
BEIGENE = (116.2780, 40.0980)


def _extract(path):
    """A few companies of the Life Science Park as OpenStreetMap maps them, and decoys."""
    b = OsmBuilder()
    b.point(*INNOCARE, {"office": "company", "name": "诺诚健华", "name:en": "InnoCare Pharma",
                        "addr:street": "生命园路", "addr:housenumber": "8"})
    b.point(*BEIGENE, {"office": "company", "name": "百济神州", "name:en": "BeiGene"})
    b.point(116.3400, 39.7300, {"office": "company", "name": "百济神州"})  # the same name in Daxing
    b.polygon(rectangle(116.2770, 40.0990, 116.2790, 40.1000),
              {"building": "yes", "name": "北京脑科学与类脑研究所", "addr:street": "医科路", "addr:housenumber": "9"})
    b.point(121.47, 31.23, {"office": "company", "name": "泛生子"})  # Shanghai: outside Beijing
    b.point(116.30, 39.98, {"amenity": "cafe"})  # no name, no address: nothing to match
    return b.write_xml(path)


@pytest.fixture(scope="module")
def snapshot():
    return load_snapshot()


@pytest.fixture(scope="module")
def offline(snapshot):
    return OfflineLocator.from_snapshot(snapshot)


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    return _extract(tmp_path_factory.mktemp("osm") / "companies.osm")


@pytest.fixture(scope="module")
def locator(snapshot, offline, extract):
    return osm_locator(snapshot, read_named_features(extract), offline=offline, source="companies.osm")


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


FIRMS = pd.DataFrame({
    "企业名称": ["诺诚健华", "百济神州", "北京脑科学与类脑研究所", "某某科技有限公司", "泛生子"],
    "注册地址": ["北京市昌平区中关村生命科学园生命园路8号院8号楼", None, "北京市昌平区医科路9号院3号楼",
             "北京市海淀区中关村大街1号", None]})


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def test_names_and_addresses_land_on_their_osm_features_with_id_evidence_and_attribution(locator, offline):
    located = locate_table(FIRMS, locators=[locator, offline])
    frame = located.frame.set_index("企业名称")
    innocare = frame.loc["诺诚健华"]
    assert innocare["location_tier"] == "osm" and innocare["location_osm_id"] == "node/1"
    assert (innocare["lon"], innocare["lat"]) == pytest.approx(INNOCARE)
    assert "name=诺诚健华" in innocare["location_evidence"]
    assert "addr:street=生命园路 + addr:housenumber=8 in the address" in innocare["location_evidence"]
    assert "ODbL" in innocare["location_attribution"] and "ODbL" in innocare["location_point"]
    assert innocare["located_park_id"] == "zgc_life_science_park"
    assert frame.loc["北京脑科学与类脑研究所", "location_osm_id"].startswith("way/")  # an area: a point on it
    # no OSM feature: the offline locator still places the row in its district
    assert frame.loc["某某科技有限公司", "location_tier"] == "district"
    assert located.summary() == {"osm": 2, "district": 1, "unplaced": 2}


def test_two_features_with_the_same_name_are_not_chosen_between_silently(locator, offline):
    located = locate_table(FIRMS, locators=[locator, offline])
    row = located.frame.set_index("企业名称").loc["百济神州"]
    assert pd.isna(row["location_tier"])
    assert "score alike" in row["location_reason"] and "choose one in the review" in row["location_reason"]
    offered = candidate_table(replace_rows(located))
    assert offered.loc[offered["source_row"] == 3, "osm_id"].tolist() == ["node/2", "node/3"]


def test_a_feature_outside_beijing_is_never_a_candidate(locator, offline):
    assert locator.outside_beijing == 1
    found = locator.candidates(names=["泛生子"])
    assert found == []
    located = locate_table(FIRMS, locators=[locator, offline]).frame.set_index("企业名称")
    assert pd.isna(located.loc["泛生子", "location_tier"])


def test_a_namesake_in_another_district_is_flagged_and_never_of_high_confidence(locator):
    found = locator.candidates(names=["百济神州"], park_id="zgc_life_science_park", district_id="110114")
    assert [c["osm_id"] for c in found] == ["node/2", "node/3"]
    inside, namesake = found
    assert inside["confidence"] == "high" and "inside the park zgc_life_science_park" in inside["evidence"]
    assert namesake["confidence"] != "high" and "110115" in namesake["flag"]


def test_a_name_that_only_resembles_is_at_most_medium(locator):
    # "EdiGene" and "BeiGene" share most letter pairs: a candidate, never placed without a person
    found = locator.candidates(names=["EdiGene"], park_id="zgc_life_science_park", district_id="110114")
    assert found and found[0]["osm_id"] == "node/2" and found[0]["confidence"] == "medium"


def replace_rows(located):
    """The located table numbered as the importer numbers a CSV (header = line 1)."""
    import dataclasses

    return dataclasses.replace(located, frame=located.frame.assign(source_row=range(2, len(located.frame) + 2)))


def test_the_review_confirms_a_candidate_per_row_or_in_bulk(locator, offline):
    located = replace_rows(locate_table(FIRMS, locators=[locator, offline]))
    assert best_choices(located) == {}  # the only open row is a tie: nothing in bulk
    chosen = accept_candidates(located, {3: "node/2"}, source="companies.osm")
    row = chosen.frame.set_index("source_row").loc[3]
    assert row["location_tier"] == "osm" and row["location_osm_id"] == "node/2"
    assert row["location_evidence"].endswith("confirmed in the review")
    assert row["location_level"] == "confirmed candidate" and pd.isna(row["location_reason"])
    assert (row["lon"], row["lat"]) == pytest.approx(BEIGENE)
    with pytest.raises(LocateError, match=r"row 3: 'node/9' is not a candidate of this row: choose one of node/2, node/3"):
        accept_candidates(located, {3: "node/9"})
    with pytest.raises(LocateError, match="row 99 is not in the table"):
        accept_candidates(located, {99: "node/2"})


def test_a_confirmed_row_reaches_the_imported_layer(locator, offline):
    layer = read_upload(_csv(FIRMS), filename="firms.csv", locators=[locator, offline])
    assert 3 in dict(layer.refused)
    placed = with_located(layer, accept_candidates(layer.located, {3: "node/2"}))
    assert 3 not in dict(placed.refused)
    row = placed.frame.set_index("source_row").loc[3]
    assert row["location_tier"] == "osm" and (row.geometry.x, row.geometry.y) == pytest.approx(BEIGENE)
    assert len(placed.frame) == len(layer.frame) + 1
    # the notes count the rows as placed now: row 3 is no longer said to be skipped (it was, as seen)
    texts = [n.text for n in placed.notes]
    assert any(t.startswith("located by osm, offline") and "osm 3" in t for t in texts)
    assert not any(t.startswith("skipped") and "line 3" in t for t in texts)
    assert any(t.startswith("skipped") and "line 3" in t for t in (n.text for n in layer.notes))


def test_geo_locate_with_provider_osm_and_an_extract_places_rows_and_lists_candidates(tmp_path, extract, capsys,
                                                                                       no_network):
    source = tmp_path / "firms.csv"
    source.write_bytes(_csv(FIRMS))
    gz = tmp_path / "companies.osm.gz"
    gz.write_bytes(gzip.compress(extract.read_bytes()))
    out = tmp_path / "firms.geojson"
    assert main(["locate", str(source), "--provider", "osm", "offline", "--extract", str(gz), "-o", str(out),
                 "--data-dir", str(tmp_path / "var")]) == 0
    printed = capsys.readouterr().out
    assert "  osm              2" in printed
    assert "candidates of source row 3:" in printed and "node/2 百济神州  score 1.00 (high)" in printed
    written = gpd.read_file(out).set_index("企业名称")
    assert written.loc["诺诚健华", "location_osm_id"] == "node/1"
    assert "ODbL" in written.loc["诺诚健华", "location_attribution"]
    # a person confirms row 3 on the command line
    assert main(["locate", str(source), "--extract", str(gz), "--accept", "3=node/2", "--json",
                 "--data-dir", str(tmp_path / "var")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["by_tier"]["osm"] == 3 and result["accepted"] == {"3": "node/2"}


def test_geo_locate_provider_osm_without_an_extract_says_what_to_give(tmp_path, capsys):
    source = tmp_path / "firms.csv"
    source.write_bytes(_csv(FIRMS))
    assert main(["locate", str(source), "--provider", "osm"]) != 0
    assert "give one with --extract" in capsys.readouterr().err


# ---------------------------------------------------------------------- the snapshot's organisations


def test_park_tier_organisations_get_candidates_by_name_and_address_in_their_park(snapshot, locator):
    candidates = organisation_candidates(locator, snapshot.organisations)
    best = candidates[candidates["rank"] == 1].set_index("org_id")
    assert best.loc["innocare", "osm_id"] == "node/1" and best.loc["innocare", "confidence"] == "high"
    assert best.loc["beigene", "osm_id"] == "node/2"
    assert best.loc["cibr", "osm_id"] == "way/1"
    assert best.loc["edigene", "confidence"] != "high"  # EdiGene vs BeiGene: only alike
    assert best_organisation_choices(candidates) == {"cibr": "way/1", "beigene": "node/2", "innocare": "node/1"}
    site_orgs = set(snapshot.organisations.loc[snapshot.organisations["location_tier"] == "site", "org_id"])
    assert not site_orgs & set(candidates["org_id"])


def test_a_placed_organisation_is_a_site_point_of_tier_osm_on_the_map_until_restored(tmp_path, snapshot, locator):
    candidates = organisation_candidates(locator, snapshot.organisations)
    store = OrgPlacementStore(tmp_path)
    parks = ParkGeometryStore(tmp_path)
    before = assemble(snapshot, store=parks, placements=store)
    assert before is snapshot  # nothing confirmed: the snapshot itself

    plan = plan_placement(snapshot.organisations, candidates, org_id="innocare", osm_id="node/1",
                          source="companies.osm")
    assert 0 < plan.moved_m < 200 and "ODbL" in plan.describe()
    store.apply(plan)
    shown = load_workspace(data_dir=tmp_path)
    org = shown.organisations.set_index("org_id").loc["innocare"]
    assert org["location_tier"] == "osm" and (org.geometry.x, org.geometry.y) == pytest.approx(INNOCARE)
    assert org["osm_ids"] == "node/1" and "ODbL" in org["osm_attribution"] and "node/1" in org["location_note"]
    assert org["source_ids"].endswith(";osm")
    assert "innocare" in shown.sources.set_index("source_id").loc["osm", "note"]
    # the cluster map draws it as a point, with its OSM id and the licence
    fmap = folium.Map()
    organisations_layer(shown.organisations, lang="en").add_to(fmap)
    html = fmap.get_root().render()
    assert "OpenStreetMap feature · node/1 · © OpenStreetMap contributors, ODbL 1.0" in html
    assert r'"attribution": "\u0026copy; OpenStreetMap contributors (ODbL)"' in html or \
        '"attribution": "&copy; OpenStreetMap contributors (ODbL)"' in html
    # a point drawn from the OSM feature, counted beside the sites
    points = shown.organisations["location_tier"].isin(["site", "osm"]).sum()
    assert points == (snapshot.organisations["location_tier"] == "site").sum() + 1

    restored = store.restore("innocare")
    assert restored.osm_id == "node/1"
    again = load_workspace(data_dir=tmp_path).organisations.set_index("org_id").loc["innocare"]
    assert again["location_tier"] == "park"
    assert store.history()["action"].tolist() == ["apply", "restore"]
    with pytest.raises(OrgPlacementError, match="'innocare' is not placed on OpenStreetMap; none is"):
        store.restore("innocare")


def test_placing_refuses_a_site_organisation_a_stranger_id_and_a_stale_revision(tmp_path, snapshot, locator):
    candidates = organisation_candidates(locator, snapshot.organisations)
    site = snapshot.organisations.loc[snapshot.organisations["location_tier"] == "site", "org_id"].iloc[0]
    with pytest.raises(OrgPlacementError, match="has a site of its own"):
        plan_placement(snapshot.organisations, candidates, org_id=site, osm_id="node/1")
    with pytest.raises(OrgPlacementError, match="'node/3' is not a candidate of 'innocare': choose one of node/1"):
        plan_placement(snapshot.organisations, candidates, org_id="innocare", osm_id="node/3")
    with pytest.raises(OrgPlacementError, match="no organisation 'nobody'"):
        plan_placement(snapshot.organisations, candidates, org_id="nobody", osm_id="node/1")
    store = OrgPlacementStore(tmp_path)
    plan = plan_placement(snapshot.organisations, candidates, org_id="beigene", osm_id="node/2")
    store.apply(plan, check_revision=True, expected_revision=None)
    with pytest.raises(OrgPlacementError, match="placed meanwhile"):
        store.apply(plan, check_revision=True, expected_revision=None)


def test_geo_locate_organisations_places_the_best_and_restores(tmp_path, extract, capsys, no_network):
    var = str(tmp_path / "var")
    assert main(["locate", "--organisations", "--extract", str(extract), "--place-best", "--data-dir", var]) == 0
    printed = capsys.readouterr().out
    assert "47 organisations are located only by their park" in printed
    assert "placed organisation innocare" in printed and "placed organisation edigene" not in printed
    assert main(["locate", "--placements", "--data-dir", var]) == 0
    listed = capsys.readouterr().out
    assert "3 organisation(s) placed" in listed and "innocare: node/1" in listed
    assert main(["locate", "--restore-organisation", "innocare", "--data-dir", var]) == 0
    assert [p.org_id for p in OrgPlacementStore(var).list()] == ["beigene", "cibr"]


def test_the_locator_refuses_projected_features(snapshot):
    frame = gpd.GeoDataFrame({"osm_id": ["node/1"], "name": ["x"]}, geometry=gpd.points_from_xy([0], [0]),
                             crs=3857)
    with pytest.raises(LocateError, match="EPSG:3857"):
        OSMLocator(frame, districts=snapshot.districts)


def test_an_osm_pbf_extract_gives_the_same_candidates(tmp_path, snapshot, offline, locator):
    b = OsmBuilder()
    b.point(*INNOCARE, {"office": "company", "name": "诺诚健华", "addr:street": "生命园路", "addr:housenumber": "8"})
    pbf = read_named_features(b.write_pbf(tmp_path / "x.osm.pbf"))
    found = osm_locator(snapshot, pbf, offline=offline).place("北京市昌平区生命园路8号院8号楼", "诺诚健华")
    assert found.tier == "osm" and found.osm_id == "node/1"


# ---------------------------------------------------------------------- the Import page


def _page_state(extract, snapshot, offline):
    import hashlib

    data = extract.read_bytes()
    features = read_named_features(data, filename="companies.osm")
    locator = OSMLocator(features, districts=snapshot.districts, parks=snapshot.parks, offline=offline,
                         source="companies.osm")
    layer = read_upload(_csv(FIRMS), filename="firms.csv", locators=[locator, offline])
    return {"imports": {layer.name: layer},
            "import_osm_extract": {"name": "companies.osm", "key": hashlib.sha256(data).hexdigest(), "data": data}}


@pytest.mark.usefixtures("isolated_app")
def test_the_import_page_lists_each_rows_candidates_and_places_park_tier_organisations(extract, snapshot, offline):
    from tests.apptest import assert_ok, run_app

    at = run_app("pages/imports.py", **_page_state(extract, snapshot, offline))
    assert any(s.value == "OpenStreetMap candidates" for s in at.subheader)
    frames = [d.value for d in at.dataframe]
    rows = next(f for f in frames if {"choose", "source_row", "osm_id"} <= set(f.columns))
    assert rows.loc[rows["source_row"] == 3, "osm_id"].tolist() == ["node/2", "node/3"]  # the tie, both listed
    assert rows.loc[rows["source_row"] == 2, "choose"].tolist() == [True]  # placed automatically: ticked
    review = next(f for f in frames if "keep" in f.columns)
    assert review.set_index("source_row").loc[3, "candidates"].startswith("node/2 百济神州 1.00 high; node/3 百济神州")
    orgs = next(f for f in frames if "org_id" in f.columns)
    assert {"innocare", "beigene", "cibr", "edigene"} <= set(orgs["org_id"])
    # the organisations known only by their park: the best candidates placed in bulk
    at.button(key="import_org_best").click().run()
    assert_ok(at)
    assert any(s.value.startswith("Placed 3 organisations on OpenStreetMap features") for s in at.success)
    assert [p.org_id for p in OrgPlacementStore().list()] == ["beigene", "cibr", "innocare"]
    # ... and they are points of tier osm on the cluster map, with the licence
    at.switch_page("pages/cluster_map.py").run()
    assert_ok(at)
    html = " ".join(str(c.proto) for c in at.get("component_instance"))
    assert "node/1" in html and "way/1" in html and "OpenStreetMap contributors, ODbL 1.0" in html
    sites = int((snapshot.organisations["location_tier"] == "site").sum())
    assert any(f"{sites + 3} at their own site, {47 - 3} counted on their park" in c.value for c in at.caption)
    # restored from the Import page: back at its park
    at.switch_page("pages/imports.py").run()
    at.selectbox(key="import_org_restore_pick").select("innocare").run()
    at.button(key="import_org_restore").click().run()
    assert_ok(at)
    assert [p.org_id for p in OrgPlacementStore().list()] == ["beigene", "cibr"]


@pytest.mark.usefixtures("isolated_app")
def test_the_extract_loaded_on_the_osm_page_serves_the_import_page_too(extract):
    from geo.osm import read_osm_file
    from tests.apptest import run_app

    data = extract.read_bytes()
    loaded = {"name": "companies.osm", "key": "k", "data": data, "features": read_osm_file(data, filename="x.osm")}
    at = run_app("pages/imports.py", osm_extract=loaded)
    orgs = next(d.value for d in at.dataframe if "org_id" in d.value.columns)
    assert orgs.loc[orgs["org_id"] == "innocare", "osm_id"].tolist() == ["node/1"]
