"""Planner parcels: measurement, joins, progress, and the scenario store."""

import multiprocessing
import os
import signal
import time

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import datums
from geo.planner import (ParcelError, measure_parcels, parcels_from_features, progress)
from geo.scenarios import ScenarioConflictError, ScenarioError, ScenarioStore

DISTRICTS = gpd.GeoDataFrame({"district_id": ["d1"]}, geometry=[shapely.box(116.0, 39.0, 117.0, 40.5)], crs=4326)
HUBS = gpd.GeoDataFrame({"hub_id": ["h1"], "district_ids": ["d1"], "geometry_from": ["districts"]},
                        geometry=[shapely.box(116.0, 39.0, 117.0, 40.5)], crs=4326)
PARKS = gpd.GeoDataFrame({"park_id": ["p1"], "hub_id": ["h1"]},
                         geometry=[shapely.box(116.2, 40.0, 116.3, 40.1)], crs=4326)


def _feature(polygon, **props):
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(polygon)}


SQUARE = shapely.box(116.25, 40.05, 116.26, 40.06)  # ~1.2 km2, inside the park


def test_parcel_is_measured_in_m2_ha_mu_and_joined():
    parcels = parcels_from_features([_feature(SQUARE, name="A", status="completed")])
    measured = measure_parcels(parcels, parks=PARKS, districts=DISTRICTS, hubs=HUBS)
    row = measured.iloc[0]
    assert row["area_m2"] == pytest.approx(row["area_ha"] * 10_000, rel=1e-4)
    assert row["area_mu"] == pytest.approx(row["area_m2"] * 15 / 10_000, rel=1e-4)
    assert 900_000 < row["area_m2"] < 1_000_000
    assert (row["park_id"], row["hub_id"], row["district_id"]) == ("p1", "h1", "d1")
    assert row["floor_area_effective_m2"] == pytest.approx(row["area_m2"] * 2.0, rel=1e-6)


def test_parcel_drawn_on_gcj02_map_is_converted_before_measuring():
    gcj = datums.convert_geometries([SQUARE], source="wgs84", target="gcj02")[0]
    parcels = parcels_from_features([_feature(gcj)], datum="gcj02")
    assert parcels.geometry.iloc[0].equals_exact(SQUARE, 1e-8)


def test_given_floor_area_wins_over_plot_ratio():
    parcels = parcels_from_features([_feature(SQUARE, floor_area_m2=5000, plot_ratio=3)])
    measured = measure_parcels(parcels, parks=PARKS, districts=DISTRICTS, hubs=HUBS)
    assert measured["floor_area_effective_m2"].iloc[0] == 5000


@pytest.mark.parametrize(("props", "match"), [({"status": "demolished"}, "'demolished'"),
                                              ({"use": "casino"}, "'casino'"),
                                              ({"plot_ratio": -1}, "negative"),
                                              ({"floor_area_m2": "lots"}, "'lots'")])
def test_bad_parcel_attributes_are_refused(props, match):
    with pytest.raises(ParcelError, match=match):
        parcels_from_features([_feature(SQUARE, **props)])


def test_points_are_not_parcels():
    with pytest.raises(ParcelError, match="Point"):
        parcels_from_features([_feature(shapely.Point(116.2, 40.0))])


def test_progress_counts_land_completed_and_started_against_targets():
    features = [_feature(SQUARE, status="completed", use="standard_factory", floor_area_m2=600_000),
                _feature(shapely.box(116.5, 39.5, 116.51, 39.51), status="under_construction",
                         use="standard_factory", floor_area_m2=900_000),
                _feature(shapely.box(116.6, 39.5, 116.61, 39.51), status="planned", use="other")]
    measured = measure_parcels(parcels_from_features(features), parks=PARKS, districts=DISTRICTS, hubs=HUBS)
    city = progress(measured).set_index("target")
    assert city.loc["standard_factory_completed", "achieved"] == 600_000
    assert city.loc["standard_factory_completed", "share"] == pytest.approx(0.5)
    assert city.loc["standard_factory_started", "share"] == pytest.approx(0.5)
    land = measured.loc[measured["use"] != "other", "area_mu"].sum()
    assert city.loc["new_industrial_land", "achieved"] == pytest.approx(land)
    assert city.loc["new_industrial_land", "target_value"] == 3000
    by_hub = progress(measured, by="hub_id")
    assert set(by_hub["scope"]) == {"h1"}


def test_store_saves_reloads_and_versions(tmp_path):
    store = ScenarioStore(tmp_path)
    parcels = parcels_from_features([_feature(SQUARE, name="Lot 7")])
    version = store.save("Changping 2025", parcels, expected_version=None)
    assert version == 1
    again = ScenarioStore(tmp_path)  # a restart
    loaded, loaded_version = again.load("Changping 2025")
    assert loaded["name"].tolist() == ["Lot 7"] and loaded_version == 1
    assert loaded.geometry.iloc[0].equals_exact(SQUARE, 1e-7)
    assert [s.name for s in again.list()] == ["Changping 2025"]


def test_two_sessions_never_silently_overwrite_each_other(tmp_path):
    store = ScenarioStore(tmp_path)
    parcels = parcels_from_features([_feature(SQUARE)])
    store.save("shared", parcels, expected_version=None)
    _, version_a = store.load("shared")
    _, version_b = store.load("shared")
    store.save("shared", parcels, expected_version=version_a)
    with pytest.raises(ScenarioConflictError, match="someone else"):
        store.save("shared", parcels, expected_version=version_b)


def test_path_like_scenario_names_are_plain_text_never_paths(tmp_path):
    store = ScenarioStore(tmp_path / "store")
    name = "../../etc/passwd"
    store.save(name, parcels_from_features([_feature(SQUARE)]), expected_version=None)
    assert [s.name for s in store.list()] == [name]
    assert sorted(p.name for p in (tmp_path / "store").iterdir() if not p.name.startswith("planner.sqlite")) == []
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize(("name", "match"), [("", "needs a name"), ("   ", "needs a name"),
                                              ("x" * 101, "101 characters; the limit is 100"),
                                              ("a\x00b", "control character"), ("line\nbreak", "control character")])
def test_scenario_names_that_cannot_be_stored_are_refused_with_the_rule(tmp_path, name, match):
    with pytest.raises(ScenarioError, match=match):
        ScenarioStore(tmp_path).save(name, parcels_from_features([_feature(SQUARE)]), expected_version=None)


def _save_forever(directory):
    store = ScenarioStore(directory)
    parcels = parcels_from_features([_feature(SQUARE, name=f"p{i}") for i in range(200)])
    version = None
    while True:
        version = store.save("crash", parcels, expected_version=version)


def test_killed_writer_leaves_a_complete_scenario(tmp_path):
    process = multiprocessing.get_context("spawn").Process(target=_save_forever, args=(str(tmp_path),))
    process.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait for the burst of saves to be under way, then kill mid-burst
        try:
            if ScenarioStore(tmp_path).info("crash").version >= 3:
                break
        except ScenarioError:
            pass
        time.sleep(0.1)
    time.sleep(0.3)
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    loaded, version = ScenarioStore(tmp_path).load("crash")
    assert version >= 1
    assert len(loaded) == 200


def test_geometry_key_changes_with_any_change_of_the_outlines_and_only_then():
    import numpy as np
    import shapely

    from geo.planner import geometry_key

    a, b = shapely.box(116.0, 39.0, 116.01, 39.01), shapely.box(116.002, 39.002, 116.004, 39.004)
    variants = {
        "a, b": [a, b], "b, a": [b, a], "a, none, b": [a, None, b], "a, b, none": [a, b, None],
        "a with hole b": [shapely.Polygon(a.exterior.coords, holes=[b.exterior.coords])],
        "a and b as parts": [shapely.MultiPolygon([a, b])],
        "b moved a nanodegree": [a, shapely.affinity.translate(b, xoff=1e-9)],
        "empty": [shapely.Polygon()],
    }
    keys = {name: geometry_key(np.array(geoms, dtype=object)) for name, geoms in variants.items()}
    assert len(set(keys.values())) == len(keys), keys
    assert geometry_key(np.array([shapely.box(116.0, 39.0, 116.01, 39.01), b], dtype=object)) == keys["a, b"]


# ------------------------------------------------------------------ measuring only what an edit changed

def _outline_edits():
    from geo.bench_planner import synthetic_scenario

    base = synthetic_scenario(300, vertices=24)
    geoms = list(base.geometry.values)
    moved = geoms.copy()
    moved[10] = shapely.affinity.translate(moved[10], xoff=0.0007)  # onto its overlapping neighbour's side
    deleted = geoms[:20] + geoms[21:]
    inserted = geoms[:5] + [shapely.affinity.translate(geoms[40], xoff=0.002)] + geoms[5:]
    swapped = geoms.copy()
    swapped[30], swapped[31] = swapped[31], swapped[30]  # an overlapping pair: the other one is counted now
    broken = geoms.copy()
    broken[50] = shapely.Polygon([(116.3, 39.9), (116.31, 39.91), (116.31, 39.9), (116.3, 39.91)])  # a bow tie
    broken[60] = shapely.transform(geoms[60], lambda xy: xy[:, ::-1])  # latitude, longitude
    return base, {"moved": moved, "deleted": deleted, "inserted": inserted, "swapped": swapped, "broken": broken}


def _assert_same_measures(got, expected):
    for name in ("area_m2", "counted_m2", "park_share", "park_ids", "district_ids", "hub_ids"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)  # to the last bit
    assert got.pairs == expected.pairs
    assert got.problems == expected.problems
    assert got.repaired == expected.repaired
    assert shapely.to_wkb(got.geometries).tolist() == shapely.to_wkb(expected.geometries).tolist()


@pytest.mark.parametrize("edit", ["moved", "deleted", "inserted", "swapped", "broken"])
def test_an_outline_edit_measures_only_what_it_changed_and_gets_the_same_figures(edit):
    from geo.planner import measure_geometries

    base, edits = _outline_edits()
    layers = {"parks": PARKS, "districts": DISTRICTS, "hubs": HUBS}
    previous = measure_geometries(base.geometry.values, **layers)
    edited = gpd.GeoSeries(edits[edit], crs=4326).values
    incremental = measure_geometries(edited, previous=previous, **layers)
    _assert_same_measures(incremental, measure_geometries(edited, **layers))
    # The untouched outlines kept their measurement (the same projected objects): nothing was redone.
    untouched = shapely.to_wkb(np.asarray(edited, dtype=object)) == shapely.to_wkb(base.geometry.values[0])
    first = int(np.flatnonzero(untouched)[0])
    assert incremental.projected[first] is previous.projected[0]


def test_an_edit_against_other_parks_is_measured_afresh():
    from geo.planner import measure_geometries

    base, edits = _outline_edits()
    previous = measure_geometries(base.geometry.values, parks=PARKS, districts=DISTRICTS, hubs=HUBS)
    other_parks = PARKS.assign(geometry=[shapely.box(116.2, 40.0, 116.35, 40.1)])
    edited = gpd.GeoSeries(edits["moved"], crs=4326).values
    got = measure_geometries(edited, parks=other_parks, districts=DISTRICTS, hubs=HUBS, previous=previous)
    _assert_same_measures(got, measure_geometries(edited, parks=other_parks, districts=DISTRICTS, hubs=HUBS))
    assert got.projected[0] is not previous.projected[0]
