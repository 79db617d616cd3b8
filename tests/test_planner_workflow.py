"""The planner as a planning office uses it (issue 10): parcels checked at the door, scenarios
that always open, scenario management, overlaps counted once, one export, and the command line.

Each test named after an observation of the issue failed on the code before it."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from contextlib import closing

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from streamlit.testing.v1 import AppTest

from geo import cli
from geo.errors import ImportRefusedError
from geo.export import read_export
from geo.parcels import (add_parcels, apply_map_edits, intake_features, intake_upload, parcels_from_features)
from geo.planner import export_scenario, measure_parcels, overlap_table, progress, totals
from geo.scenarios import ScenarioConflictError, ScenarioError, ScenarioExistsError, ScenarioStore
from geo.snapshot import load_snapshot
from layers.parcels import parcel_draw_control, parcels_layer
from tests.test_pages import APP, TIMEOUT

LOT_A = shapely.box(116.25, 40.05, 116.26, 40.06)  # Haidian, ~1,421 mu
LOT_B = shapely.box(116.255, 40.055, 116.265, 40.065)  # overlaps A by a quarter
LOT_C = shapely.box(116.30, 40.00, 116.31, 40.01)
SWAPPED = shapely.box(40.05, 116.30, 40.06, 116.31)  # (lat, lon): a Haidian parcel with its axes swapped
NAN_RING = {"type": "Polygon", "coordinates": [[[116.2, 40.0], [float("nan"), 40.1], [116.3, float("inf")],
                                                [116.2, 40.0]]]}
BOW_TIE = shapely.Polygon([(116.40, 39.90), (116.41, 39.91), (116.41, 39.90), (116.40, 39.91), (116.40, 39.90)])


def _feature(geometry, **props) -> dict:
    mapping = geometry if isinstance(geometry, dict) else shapely.geometry.mapping(geometry)
    return {"type": "Feature", "properties": props, "geometry": mapping}


def _geojson(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, allow_nan=True).encode()


def _raw_parcels(*geometries, names=None) -> gpd.GeoDataFrame:
    """Parcels as another tool (or an older version) would have stored them: no door."""
    n = len(geometries)
    return gpd.GeoDataFrame({"parcel_id": [f"p{i}" for i in range(n)], "name": names or [f"lot {i + 1}" for i in range(n)],
                             "status": ["planned"] * n, "use": ["standard_factory"] * n,
                             "floor_area_m2": [np.nan] * n, "plot_ratio": [2.0] * n},
                            geometry=list(geometries), crs=4326)


@pytest.fixture(scope="module")
def snapshot():
    return load_snapshot()


@pytest.fixture
def store(isolated_app):
    return ScenarioStore()


def _planner(scenario: str | None = None, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/planner.py")
    if scenario is not None:
        at.query_params["scenario"] = scenario
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _open_tab(at: AppTest, label: str) -> AppTest:
    """Click a tab of the Planner (its tabs are lazy and kept in the URL's ``tab`` parameter)."""
    at.query_params["tab"] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ------------------------------------------------------------------ 1. a bad parcel never locks a scenario

def test_1_an_uploaded_parcel_with_swapped_axes_is_refused_by_name_with_the_fix():
    intake = intake_upload(_geojson(_feature(LOT_A, name="good"), _feature(SWAPPED, name="upside down")),
                           filename="parcels.geojson", name_column="name")
    assert intake.parcels["name"].tolist() == ["good"]
    (refused,) = intake.refused
    assert refused.label == "feature 2" and refused.row == 2 and "swapped" in refused.message and refused.fix == "swap_axes"
    assert "metres" not in refused.message
    fixed = intake_upload(_geojson(_feature(LOT_A, name="good"), _feature(SWAPPED, name="upside down")),
                          filename="parcels.geojson", swap_axes=True, rows=intake.rows_with_fix("swap_axes"))
    assert not fixed.refused and fixed.parcels.geometry.iloc[0].equals(shapely.box(116.30, 40.05, 116.31, 40.06))


def test_1_a_scenario_holding_a_swapped_parcel_opens_and_the_fix_restores_the_totals(store):
    store.save("north", _raw_parcels(LOT_A, LOT_C, SWAPPED), expected_version=None)
    at = _planner("north")
    assert not at.error, [e.value for e in at.error]
    assert any("cannot be measured" in w.value for w in at.warning)
    assert any("latitude and longitude swapped" in m.value for m in at.markdown)
    keys = {b.key for b in at.button}
    assert {"planner_new", "planner_undo", "planner_rename", "planner_delete"} <= keys
    assert any(d.key == "planner_download" for d in at.get("download_button"))
    assert [m.value for m in at.metric][0] == "2"
    swap = next(k for k in keys if k and k.startswith("planner_fix_swap_"))
    at.button(key=swap).click().run()
    assert not at.exception and not at.error
    assert not any("cannot be measured" in w.value for w in at.warning)
    assert [m.value for m in at.metric][0] == "3"
    measured = measure_parcels(store.load("north")[0], **_layers(load_snapshot()))
    assert measured["problem"].isna().all() and totals(measured).parcels == 3


def _layers(snapshot) -> dict:
    return {"parks": snapshot.parks, "districts": snapshot.districts, "hubs": snapshot.hubs}


def test_1_the_export_leaves_a_broken_parcel_out_and_says_so(snapshot):
    exported = export_scenario(_raw_parcels(LOT_A, SWAPPED), scenario="north", version=3, snapshot=snapshot)
    frame, metadata = read_export(exported.data, fmt="geojson")
    assert frame["name"].tolist() == ["lot 1"]
    assert "swapped" in json.dumps(metadata["sources"][0]["left_out"])
    assert frame.total_bounds[1] > 39 and frame.total_bounds[3] < 42  # valid WGS84 latitudes only


# ------------------------------------------------------------------ 2. names

@pytest.mark.parametrize("name", ["Daxing, north/south", "O'Brien's \"plan\"", "大兴区·生物医药基地（北区）/二期"])
def test_2_any_unicode_name_works_in_the_store_and_on_the_page(store, name):
    store.save(name, parcels_from_features([_feature(LOT_A)]), expected_version=None)
    assert store.load(name)[1] == 1
    at = _planner(name)
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox[0].value == name
    assert {"planner_new", "planner_rename", "planner_delete"} <= {b.key for b in at.button}


def test_2_a_name_over_the_limit_is_refused_not_cut(store):
    with pytest.raises(ScenarioError, match="101 characters; the limit is 100"):
        store.save("x" * 101, parcels_from_features([_feature(LOT_A)]), expected_version=None)
    assert store.list() == []


# ------------------------------------------------------------------ 3. save under a taken name

def test_3_a_new_scenario_under_a_taken_name_says_the_name_is_taken(store):
    parcels = parcels_from_features([_feature(LOT_A)])
    store.save("north", parcels, expected_version=None)
    with pytest.raises(ScenarioExistsError, match="already exists") as caught:
        store.save("north", parcels, expected_version=None)
    assert "someone else" not in str(caught.value) and "None" not in str(caught.value)


# ------------------------------------------------------------------ 4. picker, drafts, management

def test_4_the_picker_shows_the_scenario_being_edited(store):
    parcels = parcels_from_features([_feature(LOT_A)])
    for name in ("a first", "b second", "c third"):
        store.save(name, parcels, expected_version=None)
    at = _planner("b second")
    assert at.selectbox[0].value == "b second"
    at.selectbox[0].select("c third").run()
    assert at.query_params["scenario"] in ("c third", ["c third"])
    assert at.selectbox[0].value == "c third"


def test_4_an_empty_file_creates_no_scenario(store):
    with pytest.raises(ImportRefusedError, match="contains no features"):
        intake_upload(_geojson(), filename="empty.geojson")
    assert store.list() == []


def test_4_scenarios_are_renamed_duplicated_deleted_and_restored_on_the_page(store):
    store.save("Scenario 2026-11-28 10:00", parcels_from_features([_feature(LOT_A)]), expected_version=None)
    at = _planner("Scenario 2026-11-28 10:00")
    rename_box = next(w for w in at.text_input if w.key.startswith("planner_rename_"))
    rename_box.input("Changping, phase 2").run()
    at.button(key="planner_rename").click().run()
    assert [s.name for s in store.list_scenarios()] == ["Changping, phase 2"]
    assert at.selectbox[0].value == "Changping, phase 2"
    at.button(key="planner_duplicate").click().run()
    assert sorted(s.name for s in store.list_scenarios()) == ["Changping, phase 2", "Changping, phase 2 (copy)"]
    next(c for c in at.checkbox if c.key.startswith("planner_delete_sure_")).check().run()
    at.button(key="planner_delete").click().run()
    assert [s.name for s in store.list_scenarios()] == ["Changping, phase 2"]
    assert [s.name for s in store.list_deleted()] == ["Changping, phase 2 (copy)"]
    _open_tab(at, "Scenarios")
    at.button(key="planner_restore_0").click().run()
    assert not at.error
    assert sorted(s.name for s in store.list_scenarios()) == ["Changping, phase 2", "Changping, phase 2 (copy)"]


def test_4_the_scenarios_tab_lists_parcels_area_change_and_author(store):
    store.create("north", parcels_from_features([_feature(LOT_A), _feature(LOT_B)]), author="王工")
    at = _open_tab(_planner("north"), "Scenarios")
    table = next(d.value for d in at.dataframe if "Author" in d.value.columns)
    row = table.iloc[0]
    assert row["Scenario"] == "north" and row["Parcels"] == 2 and row["Author"] == "王工"
    union = _geodesic_union_m2([LOT_A, LOT_B])
    assert row["Area (m²)"] == pytest.approx(union, rel=1e-4)


def test_deleted_scenarios_are_kept_30_days_then_purged(tmp_path):
    store = ScenarioStore(tmp_path)
    store.save("old", parcels_from_features([_feature(LOT_A)]), expected_version=None)
    store.delete("old", expected_version=1)
    assert [s.name for s in store.list_deleted()] == ["old"]
    with closing(sqlite3.connect(store.path)) as connection, connection:
        connection.execute("UPDATE scenario SET deleted_at = '2026-10-01T00:00:00+00:00'")
    assert store.list_deleted() == []
    with pytest.raises(ScenarioError, match="no deleted scenario"):
        store.restore("old")


def test_undo_brings_the_previous_version_back_as_a_new_version(tmp_path):
    store = ScenarioStore(tmp_path)
    store.save("s", parcels_from_features([_feature(LOT_A)]), expected_version=None)
    store.append("s", parcels_from_features([_feature(LOT_C)]))
    assert store.undo("s", expected_version=2) == 3
    assert len(store.load("s")[0]) == 1
    with pytest.raises(ScenarioConflictError):
        store.undo("s", expected_version=2)
    assert [h.change for h in store.history("s")][0].startswith("undo")


def test_a_store_written_by_the_previous_version_is_upgraded_in_place(tmp_path):
    text = json.dumps({"type": "FeatureCollection", "features": [_feature(LOT_A, parcel_id="x1", name="Parcel 1")]})
    with closing(sqlite3.connect(tmp_path / "planner.sqlite")) as connection, connection:
        connection.execute("CREATE TABLE scenarios (name TEXT PRIMARY KEY, kind TEXT NOT NULL DEFAULT 'parcels',"
                           " version INTEGER NOT NULL, updated_at TEXT NOT NULL, geojson TEXT NOT NULL)")
        connection.execute("INSERT INTO scenarios VALUES ('draft 2026-11-27 09.00.00', 'parcels', 4, "
                           "'2026-11-27T09:00:00+00:00', ?)", (text,))
    store = ScenarioStore(tmp_path)
    (info,) = store.list_scenarios()
    assert (info.name, info.version, info.parcels) == ("draft 2026-11-27 09.00.00", 4, 1)
    parcels, version = store.load(info.name)
    assert version == 4 and parcels["parcel_id"].tolist() == ["x1"] and parcels["number"].tolist() == [1]
    store.rename(info.name, "kept", expected_version=4)
    assert ScenarioStore(tmp_path).load("kept")[1] == 5


# ------------------------------------------------------------------ 5. parcels users can work with

def test_5_parcels_are_numbered_in_order_not_all_parcel_1():
    first = add_parcels(parcels_from_features([]), parcels_from_features([_feature(LOT_A)]))
    second = add_parcels(first, parcels_from_features([_feature(LOT_B), _feature(LOT_C)]))
    assert second["number"].tolist() == [1, 2, 3]


def test_5_map_edits_reshape_delete_and_add_parcels_by_id():
    parcels = add_parcels(parcels_from_features([]),
                          parcels_from_features([_feature(LOT_A, name="A"), _feature(LOT_C, name="C")]))
    ids = parcels["parcel_id"].tolist()
    moved = shapely.box(116.25, 40.05, 116.27, 40.06)
    returned = [_feature(moved, parcel_id=ids[0]),  # A reshaped; C deleted; one new parcel drawn
                {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(LOT_B)}]
    edit = apply_map_edits(parcels, returned, shown_ids=ids)
    assert (edit.added, edit.edited, edit.deleted) == (1, 1, 1)
    assert edit.parcels["name"].tolist() == ["A", ""] and edit.parcels["number"].tolist() == [1, 2]
    assert edit.parcels.geometry.iloc[0].equals(moved)


def test_5_an_unchanged_parcel_that_comes_back_rounded_keeps_its_coordinates():
    parcels = add_parcels(parcels_from_features([]), parcels_from_features([_feature(LOT_A)]))
    rounded = shapely.transform(LOT_A, lambda xy: np.round(xy + 3e-6, 5))
    edit = apply_map_edits(parcels, [_feature(rounded, parcel_id=parcels["parcel_id"].iloc[0])],
                           shown_ids=parcels["parcel_id"].tolist())
    assert not edit.changed and edit.parcels.geometry.iloc[0].equals(LOT_A)


def test_5_problem_parcels_not_on_the_map_are_never_deleted_by_a_map_edit():
    parcels = add_parcels(parcels_from_features([]), parcels_from_features([_feature(LOT_A)]))
    parcels = add_parcels(parcels, _raw_parcels(SWAPPED))
    edit = apply_map_edits(parcels, [], shown_ids=[parcels["parcel_id"].iloc[0]])
    assert edit.deleted == 1 and len(edit.parcels) == 1 and edit.parcels.geometry.iloc[0].equals(SWAPPED)


def test_5_the_map_can_edit_and_delete_parcels_and_labels_them(snapshot):
    measured = measure_parcels(add_parcels(parcels_from_features([]), parcels_from_features(
        [_feature(LOT_A, name="<b>Lot</b> `7`")])), **_layers(snapshot))
    layer = parcels_layer(measured, lang="zh")
    draw = parcel_draw_control(layer)
    assert draw.edit_options["edit"] == {} and draw.edit_options["remove"] == {} and draw.feature_group is layer
    data = layer.features()[0]["properties"]
    assert data["label"] == "1 · &lt;b&gt;Lot&lt;/b&gt; &#96;7&#96;"
    assert data["parcel_id"] == measured["parcel_id"].iloc[0]
    assert "面积" in data["popup"] and "<b>Lot" not in data["popup"]


def test_5_the_layer_redrawn_after_an_edit_or_in_another_order_shows_each_parcels_own_figures(snapshot):
    parcels = parcels_from_features([_feature(LOT_A, name="north"), _feature(LOT_C, name="south")])
    measured = measure_parcels(parcels, **_layers(snapshot))
    before = {f["properties"]["parcel_id"]: f for f in parcels_layer(measured).features()}
    edited = measured.copy()
    edited.loc[edited.index[0], "status"] = "completed"
    edited.loc[edited.index[0], "name"] = "north, phase 2"
    after = parcels_layer(edited).features()  # same outlines: kept, the rest made again
    assert [f["properties"]["status"] for f in after] == ["completed", "planned"]
    assert "north, phase 2" in after[0]["properties"]["popup"] and "north, phase 2" in after[0]["properties"]["label"]
    assert [f["geometry"] for f in after] == [before[p]["geometry"] for p in edited["parcel_id"]]
    reordered = parcels_layer(measured.iloc[::-1]).features()
    assert [f["properties"]["parcel_id"] for f in reordered] == measured["parcel_id"].tolist()[::-1]
    for feature in reordered:
        mine = before[feature["properties"]["parcel_id"]]
        assert feature["geometry"] == mine["geometry"] and feature["properties"]["popup"] == mine["properties"]["popup"]


def test_5_an_attribute_edit_redraws_the_parcels_without_rendering_the_map_again(store, monkeypatch):
    from pages import _map as maps

    renders = []
    real_render = maps.render_map
    monkeypatch.setattr(maps, "render_map", lambda *a, **k: renders.append(1) or real_render(*a, **k))
    store.save("north", parcels_from_features([_feature(LOT_A, name="north"), _feature(LOT_C, name="south")]),
               expected_version=None)
    at = _planner("north")

    def sent_script() -> str:
        return next(json.loads(c.proto.json_args)["script"] for c in at.get("component_instance")
                    if "L.geoJson" in c.proto.json_args)

    def statuses(script: str) -> list[str]:
        return json.loads(re.search(r'"status": (\[[^\]]*\])', script).group(1))

    before, rendered = sent_script(), len(renders)
    assert rendered >= 1 and statuses(before) == ["planned", "planned"]
    parcels, version = store.load("north")
    parcels.loc[parcels.index[0], "status"] = "completed"
    store.save("north", parcels, expected_version=version, change="status")
    at.run()
    after = sent_script()
    assert len(renders) == rendered  # the map itself was not rendered again...
    assert statuses(after) == ["completed", "planned"]  # ...but it carries the new version's parcels


# ------------------------------------------------------------------ 6. overlaps

def _geodesic_union_m2(polygons) -> float:
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(shapely.union_all(polygons))[0])


def test_6_overlapping_parcels_count_once_and_the_overlap_is_stated(snapshot):
    measured = measure_parcels(parcels_from_features([_feature(LOT_A, use="industrial_land"),
                                                      _feature(LOT_B, use="industrial_land"),
                                                      _feature(LOT_C, use="industrial_land")]), **_layers(snapshot))
    summary = totals(measured)
    union = _geodesic_union_m2([LOT_A, LOT_B, LOT_C])
    assert summary.area_m2 == pytest.approx(union, rel=1e-4)
    assert summary.overlap_m2 == pytest.approx(_geodesic_union_m2([LOT_A.intersection(LOT_B)]), rel=1e-3)
    assert summary.overlapping_pairs == 1
    pairs = overlap_table(measured)
    assert pairs[["a", "b"]].values.tolist() == [[1, 2]]
    land = progress(measured).set_index("target").loc["new_industrial_land", "achieved"]
    assert land == pytest.approx(union * 15 / 10_000, rel=1e-4)
    assert measured["overlaps_with"].tolist() == ["2", "1", ""]


def test_6_the_page_warns_about_overlaps(store):
    store.save("overlap", parcels_from_features([_feature(LOT_A), _feature(LOT_B)]), expected_version=None)
    at = _planner("overlap")
    assert any("1 overlap(s) between parcels" in w.value for w in at.warning)


def test_6_the_page_lists_the_largest_overlaps_first_and_says_how_many_it_leaves_out(store):
    boxes = [shapely.box(116.25 + i * 1e-4, 40.05, 116.26 + i * 1e-4, 40.06) for i in range(40)]  # 780 pairs
    store.save("crowded", parcels_from_features([_feature(b) for b in boxes]), expected_version=None)
    at = _planner("crowded")
    assert any("780 overlap(s) between parcels" in w.value for w in at.warning)
    listed = next(d.value for d in at.dataframe if "Overlap (m²)" in d.value.columns)
    assert len(listed) == 500 and listed["Overlap (m²)"].is_monotonic_decreasing
    assert any("The 500 largest of 780 overlaps" in c.value for c in at.caption)


def test_parcels_in_a_park_get_the_park_and_their_share(snapshot):
    parks = snapshot.parks[snapshot.parks["park_id"] == "zgc_life_science_park"]
    centre = parks.geometry.iloc[0].centroid
    inside = shapely.box(centre.x - 0.002, centre.y - 0.002, centre.x + 0.002, centre.y + 0.002)
    measured = measure_parcels(parcels_from_features([_feature(inside)]), parks=parks,
                               districts=snapshot.districts, hubs=snapshot.hubs)
    assert measured["park_id"].iloc[0] == "zgc_life_science_park"
    assert measured["park_share"].iloc[0] == pytest.approx(1.0)


# ------------------------------------------------------------------ 7. one export

def test_7_every_export_of_parcels_carries_the_measurements(snapshot, store, tmp_path, capsys):
    parcels = parcels_from_features([_feature(LOT_A, name="A"), _feature(LOT_B, name="B", status="completed")])
    store.save("north", parcels, expected_version=None)
    frame, _ = read_export(export_scenario(store.load("north")[0], scenario="north", version=1,
                                           snapshot=snapshot).data, fmt="geojson")
    for column in ("area_m2", "area_ha", "area_mu", "counted_mu", "district_id", "district_name_zh", "hub_id",
                   "park_id", "park_share", "status", "floor_area_effective_m2", "scenario", "scenario_version"):
        assert column in frame, column
    assert frame["district_name_en"].tolist() == ["Haidian", "Haidian"]
    out = tmp_path / "north.geojson"
    assert cli.main(["scenario", "export", "north", "-o", str(out)]) == 0
    from_cli, _ = read_export(out.read_bytes(), fmt="geojson")
    assert from_cli.drop(columns="geometry").equals(frame.drop(columns="geometry"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/export.py").run()
    at.selectbox(key="export_scenario").select("north").run()
    assert any(d.key == "export_download_parcels" for d in at.get("download_button"))


# ------------------------------------------------------------------ 8. Chinese, no server paths

def test_8_the_chinese_planner_shows_chinese_labels_and_no_server_path(store):
    store.save("north", parcels_from_features([_feature(LOT_A, status="completed")]), expected_version=None)
    at = _planner("north", lang="zh")
    editor = next(d for d in at.dataframe if '"selectbox"' in d.proto.columns)
    config = json.loads(editor.proto.columns)
    for column in ("status", "use"):
        labels = [option["label"] for option in config[column]["type_config"]["options"]]
        assert labels and all(not label.isascii() for label in labels), labels
    shown = " ".join([c.value for c in at.caption] + [m.value for m in at.markdown] + [i.value for i in at.info])
    assert str(store.path.parent) not in shown and "planner.sqlite" not in shown
    for code in ("standard_factory", "under_construction", "new_industrial_land"):
        assert code not in shown
    _open_tab(at, "目标完成情况")
    shown = " ".join([c.value for c in at.caption] + [m.value for m in at.markdown] + [i.value for i in at.info])
    for code in ("standard_factory", "under_construction", "new_industrial_land"):
        assert code not in shown
    per_hub = [d.value for d in at.dataframe if d.value.index.name in ("区", "核心区/多点")]
    assert per_hub and all(not str(c).isascii() for c in per_hub[0].columns)


# ------------------------------------------------------------------ 9. NaN / Infinity, repairs named

def test_9_nan_and_infinity_coordinates_are_refused_with_the_reason():
    intake = intake_upload(_geojson(_feature(LOT_A), _feature(NAN_RING, name="broken")), filename="p.geojson")
    (refused,) = intake.refused
    assert refused.row == 2 and "NaN or Infinity" in refused.message
    drawn = intake_features([_feature(NAN_RING)])
    assert "NaN or Infinity" in drawn.refused[0].message


def test_9_a_stored_parcel_with_nan_coordinates_is_a_problem_row(store):
    parcels = add_parcels(parcels_from_features([_feature(LOT_A)]), _raw_parcels(
        shapely.Polygon([(116.2, 40.0), (np.nan, 40.1), (116.3, np.inf), (116.2, 40.0)])))
    store.save("nan", parcels, expected_version=None)
    at = _planner("nan")
    assert not at.error, [e.value for e in at.error]
    assert any("cannot be measured" in w.value for w in at.warning)
    assert any("NaN or Infinity" in m.value for m in at.markdown)


def test_9_a_repaired_self_intersection_is_reported_by_feature_number():
    intake = intake_upload(_geojson(_feature(BOW_TIE, name="bow tie")), filename="p.geojson")
    assert len(intake.parcels) == 1
    text = " ".join(intake.notes)
    assert "feature 1" in text and "row(s) 0" not in text


# ------------------------------------------------------------------ 10. two first saves in the same second

def test_10_two_sessions_creating_a_scenario_at_once_both_keep_their_parcels(tmp_path):
    store = ScenarioStore(tmp_path)
    results, errors = [], []

    def first_upload(geometry):
        try:
            results.append(store.create("Scenario 2026-11-28 10:00", parcels_from_features([_feature(geometry)]),
                                        unique=True))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=first_upload, args=(g,)) for g in (LOT_A, LOT_C)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    names = sorted(name for name, _ in results)
    assert names == ["Scenario 2026-11-28 10:00", "Scenario 2026-11-28 10:00 (2)"]
    assert sorted(len(store.load(n)[0]) for n in names) == [1, 1]


# ------------------------------------------------------------------ command line

def test_cli_imports_lists_shows_and_manages_scenarios(isolated_app, tmp_path, capsys):
    source = tmp_path / "plan.geojson"
    source.write_bytes(_geojson(_feature(LOT_A, name="A", use="industrial_land"),
                                _feature(LOT_B, name="B", use="industrial_land"),
                                _feature(SWAPPED, name="swapped"), _feature(NAN_RING, name="nan")))
    assert cli.main(["scenario", "import", str(source), "--name", "大兴, 南/北"]) == 1
    err = capsys.readouterr().err
    assert "feature 3" in err and "--swap-axes" in err and "feature 4" in err and "NaN" in err
    assert cli.main(["scenario", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["name"] == "大兴, 南/北" and listed["parcels"] == 2
    assert cli.main(["scenario", "show", "大兴, 南/北", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    union = _geodesic_union_m2([LOT_A, LOT_B])
    assert shown["totals"]["area_m2"] == pytest.approx(union, rel=1e-4)  # within 0.01 %
    assert shown["totals"]["overlapping_pairs"] == 1
    land = next(r for r in shown["progress"]["city"] if r["target"] == "new_industrial_land")
    assert land["achieved"] == pytest.approx(union * 15 / 10_000, rel=1e-4)
    assert cli.main(["scenario", "rename", "大兴, 南/北", "Daxing"]) == 0
    assert cli.main(["scenario", "delete", "Daxing"]) == 0
    capsys.readouterr()
    assert cli.main(["scenario", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli.main(["scenario", "restore", "Daxing"]) == 0
    assert cli.main(["scenario", "show", "Nope"]) == 1
    assert "no scenario named 'Nope'" in capsys.readouterr().err


def test_a_table_of_corner_points_in_gcj02_becomes_one_parcel_per_name():
    from geo.datums import wgs84_to_gcj02

    rows = ["地块名称,经度,纬度,status"]
    for name, polygon, status in (("北区1号", LOT_A, "completed"), ("北区2号", LOT_C, "planned")):
        x, y = wgs84_to_gcj02(*np.asarray(polygon.exterior.coords)[:-1].T)
        rows += [f"{name},{lon:.8f},{lat:.8f},{status}" for lon, lat in zip(x, y, strict=True)]
    rows += ["孤点,116.3,40.0,planned", "孤点,116.31,40.0,planned"]
    intake = intake_upload("\n".join(rows).encode("utf-8"), filename="corners.csv", datum="gcj02",
                           corner_column="地块名称")
    assert intake.parcels["name"].tolist() == ["北区1号", "北区2号"]
    assert intake.parcels["status"].tolist() == ["completed", "planned"]
    assert intake.parcels.geometry.iloc[0].equals_exact(shapely.orient_polygons(LOT_A), 1e-7) or \
        shapely.normalize(intake.parcels.geometry.iloc[0]).equals_exact(shapely.normalize(LOT_A), 1e-7)
    (refused,) = intake.refused
    assert "'孤点'" in refused.label and "at least 3" in refused.message


def test_9_one_nan_vertex_inside_finite_bounds_is_refused_and_the_good_parcel_added(isolated_app, tmp_path, capsys):
    one_nan = {"type": "Polygon", "coordinates": [[[116.3, 39.7], [float("nan"), 39.7], [116.31, 39.71],
                                                   [116.3, 39.71], [116.3, 39.7]]]}
    data = _geojson(_feature(LOT_A, name="fine"), _feature(one_nan, name="nan one"))
    intake = intake_upload(data, filename="nan.geojson", name_column="name")
    assert intake.parcels["name"].tolist() == ["fine"]
    assert intake.refused[0].row == 2 and "NaN or Infinity" in intake.refused[0].message
    source = tmp_path / "nan.geojson"
    source.write_bytes(data)
    assert cli.main(["scenario", "import", str(source), "--name", "nan"]) == 1
    assert "feature 2" in capsys.readouterr().err
    assert len(ScenarioStore().load("nan")[0]) == 1


@pytest.mark.parametrize("datum", ["wgs84", "gcj02"])
def test_5_a_map_edit_of_one_parcel_among_many_changes_that_parcel_only(snapshot, datum):
    """The map gives back every parcel after an edit, as its layer drew them (rounded, in the
    map's datum): one reshaped parcel is the one edit; the others keep their stored coordinates."""
    from geo.bench_planner import synthetic_scenario

    parcels = synthetic_scenario(300, vertices=20)
    returned = parcels_layer(measure_parcels(parcels, **_layers(snapshot)), datum=datum).features()
    ring = returned[17]["geometry"]["coordinates"][0]
    ring[3] = [ring[3][0] + 0.0004, ring[3][1]]
    edit = apply_map_edits(parcels, returned, shown_ids=parcels["parcel_id"].tolist(), datum=datum)
    assert (edit.added, edit.edited, edit.deleted) == (0, 1, 0)
    unchanged = np.arange(300) != 17
    assert shapely.equals_exact(edit.parcels.geometry.values[unchanged], parcels.geometry.values[unchanged],
                                tolerance=0).all()
    assert not edit.parcels.geometry.iloc[17].equals(parcels.geometry.iloc[17])


def test_empty_cells_and_empty_targets_read_as_such_not_none_or_a_bare_axis(store):
    """A floor area not given is a dash, not "None"; a target nothing counts towards yet is said
    in words, not drawn as a chart of zeros without a scale."""
    store.save("north", parcels_from_features([_feature(LOT_A, status="planned", use="industrial_land")]),
               expected_version=None)
    at = _planner("north")
    editor = next(d for d in at.dataframe if '"selectbox"' in d.proto.columns)
    assert editor.proto.placeholder == "–"
    assert editor.value["floor_area_m2"].isna().all()
    _open_tab(at, "Progress against the plan")
    said = [c.value for c in at.caption if "Nothing counted towards this target" in c.value]
    # per district and per hub: factory space completed and started are 0, the land is not
    assert len(said) == 4, said
    assert all("0 m²" in text or "0 m2" in text for text in said), said
