"""The scenario store on both backends: SQLite (the default) and PostgreSQL/PostGIS (a real throwaway
cluster; the PostgreSQL half is skipped, with the reason, where PostgreSQL is not installed).

One suite, parametrised by ``store_url`` (tests/conftest.py); no mocks.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time

import geopandas as gpd
import pytest
import shapely

from geo.planner import parcels_from_features
from geo.scenarios import ScenarioConflictError, ScenarioExistsError, ScenarioStore
from geo.store_backend import StoreError, StoreUnavailableError

SQUARE = shapely.box(116.25, 40.05, 116.26, 40.06)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _parcels(*names: str, offset: float = 0.0) -> gpd.GeoDataFrame:
    return parcels_from_features([
        {"type": "Feature", "properties": {"name": n, "status": "planned"},
         "geometry": shapely.geometry.mapping(shapely.box(116.25 + offset + i * 0.02, 40.05,
                                                          116.26 + offset + i * 0.02, 40.06))}
        for i, n in enumerate(names)])


def test_a_scenario_round_trips_with_its_history_undo_rename_delete_and_restore(store_url):
    store = ScenarioStore(url=store_url)
    assert store.kind == store_url.split(":")[0]
    assert store.save("大兴, 北区/二期", _parcels("A"), expected_version=None, author="Li") == 1
    assert store.save("大兴, 北区/二期", _parcels("A", "B"), expected_version=1) == 2
    again = ScenarioStore(url=store_url)  # another process or app server
    parcels, version = again.load("大兴, 北区/二期")
    assert version == 2 and parcels["name"].tolist() == ["A", "B"]
    assert parcels.geometry.iloc[1].equals_exact(shapely.box(116.27, 40.05, 116.28, 40.06), 1e-9)
    assert again.info("大兴, 北区/二期").author == "Li"
    assert again.undo("大兴, 北区/二期", expected_version=2) == 3
    assert again.load("大兴, 北区/二期")[0]["name"].tolist() == ["A"]
    assert again.rename("大兴, 北区/二期", "Daxing", expected_version=3) == 4
    assert [h.version for h in again.history("Daxing")] == [4, 3, 2, 1]
    again.delete("Daxing", expected_version=4)
    assert again.list() == [] and [i.name for i in again.list_deleted()] == ["Daxing"]
    assert again.restore("Daxing") == ("Daxing", 5)
    assert len(again.load_version(again.info("Daxing").scenario_id, 2)) == 2


def test_a_save_based_on_an_outdated_version_is_refused_with_a_message(store_url):
    one, two = ScenarioStore(url=store_url), ScenarioStore(url=store_url)
    one.save("shared", _parcels("A"), expected_version=None)
    one.save("shared", _parcels("A", "B"), expected_version=1)
    with pytest.raises(ScenarioConflictError, match=r"now at version 2, you opened version 1"):
        two.save("shared", _parcels("C"), expected_version=1)
    with pytest.raises(ScenarioExistsError, match="already exists"):
        two.save("shared", _parcels("C"), expected_version=None)
    with pytest.raises(ScenarioConflictError):
        two.rename("shared", "other", expected_version=1)
    assert one.load("shared")[0]["name"].tolist() == ["A", "B"]


def test_saved_layers_are_versioned_like_scenarios(store_url):
    store = ScenarioStore(url=store_url)
    layer = gpd.GeoDataFrame({"名称": ["实验室", "厂房"], "n": [1, 2]},
                             geometry=[shapely.Point(116.28, 40.1), SQUARE], crs=4326)
    assert store.save_layer("my sites", layer, expected_version=None) == 1
    loaded, version = store.load_layer("my sites")
    assert version == 1 and loaded["名称"].tolist() == ["实验室", "厂房"]
    assert loaded.geometry.iloc[1].equals_exact(SQUARE, 1e-9)
    assert store.save_layer("my sites", layer.iloc[:1], expected_version=1) == 2
    with pytest.raises(ScenarioConflictError, match="imported layer 'my sites'.*version 2, you opened version 1"):
        store.save_layer("my sites", layer, expected_version=1)
    with pytest.raises(ScenarioExistsError, match="used by a saved imported layer"):
        store.save("my sites", _parcels("A"), expected_version=None)


def _save_after(url: str, name: str, expected: int, label: str, start: float, queue) -> None:
    store = ScenarioStore(url=url)
    while time.time() < start:
        time.sleep(0.001)
    try:
        queue.put(("saved", store.save(name, _parcels(label), expected_version=expected)))
    except ScenarioConflictError as exc:
        queue.put(("refused", str(exc)))


def test_concurrent_saves_from_two_processes_end_in_one_success_and_one_refusal(store_url):
    store = ScenarioStore(url=store_url)
    store.save("race", _parcels("base"), expected_version=None)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start = time.time() + 4.0  # both processes are up and holding version 1 by then
    workers = [context.Process(target=_save_after, args=(store_url, "race", 1, label, start, queue))
               for label in ("from A", "from B")]
    for worker in workers:
        worker.start()
    outcomes = sorted(queue.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(30)
    assert [o[0] for o in outcomes] == ["refused", "saved"], outcomes
    assert outcomes[1][1] == 2 and "saved by someone else" in outcomes[0][1]
    parcels, version = store.load("race")
    assert version == 2 and parcels["name"].iloc[0] in ("from A", "from B")
    assert [h.version for h in store.history("race")] == [2, 1]


BURST = """
import sys
from geo.planner import parcels_from_features
from geo.scenarios import ScenarioStore
from geo.errors import GeoError
import shapely
url = sys.argv[1]
store = ScenarioStore(url=url)
version = None
for i in range(100000):
    parcels = parcels_from_features([{"type": "Feature", "properties": {"name": f"save {i}"},
        "geometry": shapely.geometry.mapping(shapely.box(116.25, 40.05, 116.26 + j * 1e-4, 40.06))} for j in range(50)])
    try:
        version = store.save("burst", parcels, expected_version=version)
    except GeoError as exc:  # the server went away: the store says so; stop
        print("error", type(exc).__name__, flush=True)
        break
    print("ack", version, i, flush=True)
"""


def _burst(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", BURST, url], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": ROOT})


def _acknowledged(process: subprocess.Popen[str], *, until: int) -> list[tuple[int, int]]:
    acks = []
    assert process.stdout is not None
    for line in process.stdout:
        parts = line.split()
        if parts[0] == "ack":
            acks.append((int(parts[1]), int(parts[2])))
        if len(acks) >= until or parts[0] == "error":
            break
    return acks


def _assert_every_ack_is_stored(url: str, acks: list[tuple[int, int]]) -> None:
    store = ScenarioStore(url=url)
    scenario_id = store.info("burst").scenario_id
    versions = {h.version for h in store.history("burst")}
    assert {v for v, _ in acks} <= versions, "an acknowledged save is missing"
    for version, i in acks:  # and each version holds what was acknowledged for it
        assert store.load_version(scenario_id, version)["name"].iloc[0] == f"save {i}"
    assert store.info("burst").version >= acks[-1][0]


def test_kill_9_of_the_writer_during_a_burst_loses_no_acknowledged_save(store_url):
    process = _burst(store_url)
    acks = _acknowledged(process, until=15)
    os.kill(process.pid, signal.SIGKILL)
    acks += _acknowledged(process, until=10**9)  # what it printed before it died
    process.wait(30)
    assert len(acks) >= 15
    _assert_every_ack_is_stored(store_url, acks)


def test_kill_9_of_the_database_server_during_a_burst_loses_no_acknowledged_save(pg_cluster, pg_url):
    process = _burst(pg_url)
    acks = _acknowledged(process, until=15)
    pg_cluster.kill9()
    try:
        acks += _acknowledged(process, until=10**9)
        process.wait(60)
    finally:
        pg_cluster.start()  # crash recovery replays the WAL
    assert len(acks) >= 15
    from geo.store_backend import close_pools

    close_pools()
    _assert_every_ack_is_stored(pg_url, acks)
    # and the pool of a live process reconnects by itself once the server is back
    ScenarioStore(url=pg_url).save("after restart", _parcels("A"), expected_version=None)


def test_an_unreachable_database_is_one_clear_message():
    with pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1:9/none cannot be reached.*bundled data"):
        ScenarioStore(url="postgresql://nobody:secret@127.0.0.1:9/none")
    with pytest.raises(StoreUnavailableError) as caught:
        ScenarioStore(url="postgresql://nobody:secret@127.0.0.1:9/none")
    assert "secret" not in str(caught.value)


def test_other_database_kinds_are_refused_with_the_accepted_forms():
    with pytest.raises(StoreError, match="postgresql://user@host:port/db or sqlite:///FOLDER"):
        ScenarioStore(url="mysql://x@y/z")


# ------------------------------------------------------------------ PostGIS only

def test_postgis_holds_the_parcels_as_geometry_with_measured_views_for_a_read_only_role(pg_cluster, pg_url):
    import psycopg

    from geo import store_pg
    from geo.planner import measure_parcels
    from geo.snapshot import load_snapshot
    from geo.store_backend import PostgresBackend

    store = ScenarioStore(url=pg_url)
    snapshot = load_snapshot()
    assert store_pg.sync_reference(PostgresBackend(pg_url), snapshot) is True
    assert store_pg.sync_reference(PostgresBackend(pg_url), snapshot) is False  # already that version
    bda = snapshot.parks.set_index("park_id").geometry["bda_yizhuang"]
    lot = shapely.affinity.scale(bda, 0.1, 0.1)  # a parcel in the middle of the BDA
    parcels = parcels_from_features([{"type": "Feature", "properties": {"name": "BDA lot"},
                                      "geometry": shapely.geometry.mapping(lot)}])
    store.save("bda", parcels, expected_version=None)
    app = measure_parcels(parcels, parks=snapshot.parks, districts=snapshot.districts, hubs=snapshot.hubs).iloc[0]
    with psycopg.connect(pg_url) as connection:
        row = connection.execute("SELECT area_m2, area_ha, area_mu, district_id, hub_id, park_id,"
                                 " ST_SRID(geom), GeometryType(geom) FROM scenario_parcels"
                                 " WHERE scenario = 'bda'").fetchone()
        indexes = {r[0] for r in connection.execute("SELECT indexname FROM pg_indexes WHERE indexdef LIKE"
                                                    " '%USING gist%'")}
        assert connection.execute("SELECT max(version) FROM schema_version").fetchone()[0] == \
            store_pg.SCHEMA_VERSION
        connection.execute("CREATE ROLE analyst LOGIN; GRANT pharma_map_read TO analyst")
    area_m2, area_ha, area_mu, district, hub, park, srid, kind = row
    assert area_m2 == pytest.approx(app["area_m2"], rel=1e-4)  # PostGIS geography vs the app: 0.01 %
    assert area_ha == pytest.approx(area_m2 / 1e4) and area_mu == pytest.approx(area_m2 * 15 / 1e4)
    assert (district, hub, park) == (app["district_id"], app["hub_id"], "bda_yizhuang")
    assert (srid, kind) == (4326, "MULTIPOLYGON")
    assert {"parcel_geom", "layer_feature_geom", "reference_parks_geom"} <= indexes
    reader_url = pg_url.replace("pharma@", "analyst@")
    with psycopg.connect(reader_url) as reader:
        assert reader.execute("SELECT count(*) FROM scenario_parcels").fetchone()[0] == 1
    with psycopg.connect(reader_url) as reader, pytest.raises(psycopg.errors.InsufficientPrivilege):
        reader.execute("DELETE FROM scenario")
    # a new version replaces the rows; a deleted scenario leaves the view
    store.save("bda", _parcels("A", "B"), expected_version=1)
    store.delete("bda", expected_version=2)
    with psycopg.connect(pg_url) as connection:
        assert connection.execute("SELECT count(*) FROM parcel").fetchone()[0] == 2
        assert connection.execute("SELECT count(*) FROM scenario_parcels").fetchone()[0] == 0


def test_the_postgres_schema_is_migrated_once_even_by_two_servers_at_once(pg_url):
    from geo import store_pg
    from geo.store_backend import PostgresBackend

    backend = PostgresBackend(pg_url)
    assert store_pg.schema_version(backend) == 0
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=ScenarioStore, kwargs={"url": pg_url}) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    assert store_pg.schema_version(backend) == store_pg.SCHEMA_VERSION
    assert store_pg.migrate(backend) == store_pg.SCHEMA_VERSION  # again: nothing to do


# ------------------------------------------------------------------ moving a workspace

def test_store_migrate_sqlite_to_postgis_and_back_is_lossless_and_safe_to_rerun(tmp_path, pg_url, capsys,
                                                                                  monkeypatch):
    from geo.cli import main
    from geo.store_copy import StoreCopyError, copy_store, summary

    monkeypatch.setenv("PHARMA_MAP_DATABASE_URL", "")
    source = ScenarioStore(tmp_path / "a")
    source.save("kept", _parcels("A", "B"), expected_version=None, author="Wang")
    source.save("kept", _parcels("A", "B", "C"), expected_version=1)
    source.undo("kept", expected_version=2)
    source.save("gone", _parcels("X"), expected_version=None)
    source.delete("gone", expected_version=1)
    source.save_layer("sites", gpd.GeoDataFrame({"名称": ["厂"]}, geometry=[shapely.Point(116.5, 39.8)], crs=4326),
                      expected_version=None)

    assert main(["store", "migrate", "--data-dir", str(tmp_path / "a"), "--to", pg_url]) == 0
    out = capsys.readouterr().out
    assert "copied 3 new, 0 updated, 0 already there; 4 versions added" in out
    assert main(["store", "migrate", "--data-dir", str(tmp_path / "a"), "--to", pg_url]) == 0  # again
    assert "copied 0 new, 0 updated, 3 already there; 0 versions added" in capsys.readouterr().out
    assert main(["store", "check", "--url", pg_url]) == 0
    assert "1 scenarios, 1 saved layers, 1 deleted (restorable), 4 versions" in capsys.readouterr().out

    middle = ScenarioStore(url=pg_url)
    back = ScenarioStore(tmp_path / "b")
    copy_store(middle, back)
    assert summary(back).checksum == summary(source).checksum
    for store in (middle, back):
        parcels, version = store.load("kept")
        assert version == 3 and parcels["name"].tolist() == ["A", "B"] and store.info("kept").author == "Wang"
        assert all(a.equals_exact(b, 0) for a, b in zip(parcels.geometry, source.load("kept")[0].geometry,
                                                           strict=True))
        assert [h.change for h in store.history("kept")] == [h.change for h in source.history("kept")]
        assert store.restore("gone")[1] == 2 and store.load_layer("sites")[0]["名称"].tolist() == ["厂"]
    # a new scenario in the copy gets a fresh id, not one of the copied ones
    assert middle.save("new", _parcels("N"), expected_version=None) == 1
    assert middle.info("new").scenario_id > max(i.scenario_id for i in source.list())
    # the copy moved on (restored "gone"): copying the old source over it again is refused, nothing written
    with pytest.raises(StoreCopyError, match="changed there since the copy"):
        copy_store(source, middle)


def test_store_bench_prints_both_backends_with_no_lost_and_no_silent_overwrite(pg_url, capsys):
    from geo.cli import main

    assert main(["bench", "--store", pg_url, "--writers", "3", "--seconds", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"postgresql", "sqlite"}
    for row in rows.values():
        saves, conflicts, silent, lost = int(row[1]), int(row[3]), int(row[4]), int(row[5])
        assert saves > 0 and silent == 0 and lost == 0 and conflicts >= 0


def test_the_database_is_chosen_by_the_environment_then_streamlit_secrets(tmp_path, monkeypatch):
    from geo.store_backend import database_url, redact

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("pathlib.Path.home", lambda: tmp_path / "home")
    monkeypatch.delenv("PHARMA_MAP_DATABASE_URL", raising=False)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        'PHARMA_MAP_DATABASE_URL = "postgresql://app:pw@db:5432/map"\n', encoding="utf-8")
    assert database_url() == "postgresql://app:pw@db:5432/map"
    monkeypatch.setenv("PHARMA_MAP_DATABASE_URL", "postgresql://other@db2/map")
    assert database_url() == "postgresql://other@db2/map"
    monkeypatch.setenv("PHARMA_MAP_DATABASE_URL", "")  # set but empty: SQLite, secrets or not
    assert database_url() is None
    assert ScenarioStore(tmp_path / "var").kind == "sqlite"
    assert redact("postgresql://app:pw@db:5432/map") == "postgresql://app@db:5432/map"


SAVE_IN_ANOTHER_PROCESS = """
import sys, shapely
from geo.planner import parcels_from_features
from geo.scenarios import ScenarioStore
store = ScenarioStore(url=sys.argv[1])
parcels = parcels_from_features([{"type": "Feature", "properties": {"name": "Lot 9"},
    "geometry": shapely.geometry.mapping(shapely.box(116.50, 39.78, 116.51, 39.79))}])
print(store.save("shared plan", parcels, expected_version=None))
"""


@pytest.mark.usefixtures("isolated_app")
def test_the_planner_page_on_postgis_opens_a_scenario_another_app_process_saved(pg_url, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.test_pages import APP, TIMEOUT

    done = subprocess.run([sys.executable, "-c", SAVE_IN_ANOTHER_PROCESS, pg_url], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, timeout=300, check=False)
    assert done.stdout.strip() == "1", done.stderr[-2000:]
    monkeypatch.setenv("PHARMA_MAP_DATABASE_URL", pg_url)  # this "app server" uses the same database
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/planner.py")
    at.query_params["scenario"] = "shared plan"
    at.query_params["tab"] = "Scenarios"  # the Planner's tabs are lazy: open the one listing scenarios
    at.run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert "shared plan" in at.selectbox(key="planner_list_pick").options
    store = ScenarioStore(url=pg_url)
    assert store.info("shared plan").version == 1


def _outline_plan(park_id: str, box: tuple[float, float, float, float], parks=None):
    from geo.osm_store import plan_replacement
    from geo.snapshot import load_snapshot

    parks = load_snapshot().parks if parks is None else parks
    features = gpd.GeoDataFrame({"osm_id": [f"way/{abs(hash(box)) % 10**6}"], "osm_version": [4],
                                 "osm_timestamp": ["2024-05-06T07:08:09Z"]}, geometry=[shapely.box(*box)], crs=4326)
    return plan_replacement(parks, features, park_id=park_id, osm_ids=list(features["osm_id"]))


def test_store_migrate_carries_confirmed_park_outlines_and_their_history_both_ways(tmp_path, pg_url, capsys,
                                                                                   monkeypatch):
    import psycopg

    from geo.cli import main
    from geo.osm_store import ParkGeometryStore
    from geo.store_copy import StoreCopyError, copy_outlines, summary

    monkeypatch.setenv("PHARMA_MAP_DATABASE_URL", "")
    source = ParkGeometryStore(tmp_path / "a")
    source.apply(_outline_plan("bda_yizhuang", (116.48, 39.76, 116.55, 39.81)))
    source.apply(_outline_plan("bda_yizhuang", (116.47, 39.75, 116.56, 39.82)), expected_revision=1,
                 check_revision=True)
    source.apply(_outline_plan("zgc_life_science_park", (116.27, 40.08, 116.30, 40.11)))
    source.restore("zgc_life_science_park")

    assert main(["store", "migrate", "--data-dir", str(tmp_path / "a"), "--to", pg_url]) == 0
    out = capsys.readouterr().out
    assert "park outlines: 1 copied, 0 restored as in the source, 0 already there; 4 history entries added" in out
    assert main(["store", "migrate", "--data-dir", str(tmp_path / "a"), "--to", pg_url]) == 0  # again
    assert "park outlines: 0 copied, 0 restored as in the source, 1 already there; 0 history entries" \
        in capsys.readouterr().out
    assert main(["store", "check", "--url", pg_url]) == 0
    assert "1 confirmed park outlines, 4 entries in their history" in capsys.readouterr().out

    shared = ParkGeometryStore(url=pg_url)
    with psycopg.connect(pg_url) as connection:  # PostGIS geometry a GIS client reads, with its index
        srid, kind, area_km2 = connection.execute(
            "SELECT ST_SRID(geom), GeometryType(geom), area_km2 FROM confirmed_park_outlines").fetchone()
        assert connection.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'park_override_geom'"
                                  " AND indexdef LIKE '%USING gist%'").fetchone()[0] == 1
        assert connection.execute("SELECT count(*) FROM reference_parks WHERE park_id = 'bda_yizhuang' AND"
                                  " ST_Equals(geom, ST_Multi(ST_MakeEnvelope(116.47, 39.75, 116.56, 39.82, 4326)))"
                                  ).fetchone()[0] == 1  # the views' parks are the parks as shown
        connection.execute("CREATE ROLE outline_reader LOGIN; GRANT pharma_map_read TO outline_reader")
    with psycopg.connect(pg_url.replace("pharma@", "outline_reader@")) as reader:  # a GIS client's read-only login
        assert reader.execute("SELECT count(*) FROM confirmed_park_outlines").fetchone()[0] == 1
    assert (srid, kind) == (4326, "POLYGON")
    assert area_km2 == pytest.approx(shared.get("bda_yizhuang").area_after_m2 / 1e6, rel=1e-4)

    back = ParkGeometryStore(tmp_path / "b")
    copy_outlines(shared, back)
    for store in (shared, back):
        kept, original = store.get("bda_yizhuang"), source.get("bda_yizhuang")
        assert kept.revision == 2 and kept.geometry.equals_exact(original.geometry, 0)
        assert kept.previous_geometry.equals_exact(original.previous_geometry, 0)
        assert kept.note() == original.note() and store.get("zgc_life_science_park") is None
        assert list(store.history()["action"]) == ["apply", "apply", "apply", "restore"]
        assert store.revision() == source.revision() == 4
        assert store.restore("bda_yizhuang").geometry.equals_exact(original.geometry, 0)  # and restore works there
    dummy = ScenarioStore(tmp_path / "a")
    assert summary(dummy, source).outlines_checksum != summary(dummy, back).outlines_checksum  # back moved on
    # the copy moved on (restored bda): copying the old source over it again is refused, nothing written
    with pytest.raises(StoreCopyError, match="changed there since the copy"):
        copy_outlines(source, shared)
    assert shared.get("bda_yizhuang") is None and len(shared.history()) == 5


def test_two_app_servers_share_confirmed_outlines_and_a_stale_apply_is_refused(pg_url):
    from geo.osm_store import ParkGeometryError, ParkGeometryStore, snapshot_with_overrides
    from geo.snapshot import load_snapshot

    one, two = ParkGeometryStore(url=pg_url), ParkGeometryStore(url=pg_url)
    assert two.revision() == 0
    one.apply(_outline_plan("bda_yizhuang", (116.48, 39.76, 116.55, 39.81)))
    assert two.revision() == 1  # the other server's pages rebuild their parks on this number
    shown = snapshot_with_overrides(load_snapshot(), store=two).parks.set_index("park_id")
    assert shown.loc["bda_yizhuang", "geometry_tier"] == "osm"
    assert shown.loc["bda_yizhuang", "geometry"].equals(shapely.box(116.48, 39.76, 116.55, 39.81))
    with pytest.raises(ParkGeometryError, match="changed meanwhile"):
        two.apply(_outline_plan("bda_yizhuang", (116.4, 39.7, 116.5, 39.8)), expected_revision=None,
                  check_revision=True)


def _planner_scenarios(monkeypatch_url: str):
    """The Planner's Scenarios tab of an app server on ``monkeypatch_url``'s database, run once."""
    from streamlit.testing.v1 import AppTest

    from tests.apptest import APP, TIMEOUT

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/planner.py")
    at.query_params["tab"] = "Scenarios"
    at.run()
    return at


@pytest.mark.usefixtures("isolated_app")
def test_with_the_database_down_the_bundled_data_shows_and_the_planner_says_what_to_do(pg_cluster, pg_url,
                                                                                      monkeypatch):
    from streamlit.testing.v1 import AppTest

    from geo.osm_store import ParkGeometryStore
    from geo.store_backend import RETRY_AFTER_S
    from tests.apptest import APP, TIMEOUT, assert_ok, run_app

    ScenarioStore(url=pg_url).save("kept plan", _parcels("A"), expected_version=None)
    ParkGeometryStore(url=pg_url).apply(_outline_plan("bda_yizhuang", (116.48, 39.76, 116.55, 39.81)))
    monkeypatch.setenv("PHARMA_MAP_DATABASE_URL", pg_url)
    at = _planner_scenarios(pg_url)
    assert_ok(at)
    assert "kept plan" in at.selectbox(key="planner_list_pick").options

    pg_cluster.stop()
    try:
        shown = {}
        for page in (None, "pages/parks.py", "pages/organisations.py"):  # the cluster map first
            at = run_app(page)  # no exception, no error: the bundled data, without the shared outlines
            shown[page] = at
        assert len(shown[None].title) == 1 and len(shown["pages/parks.py"].title) == 1
        at = _planner_scenarios(pg_url)
        assert not at.exception
        messages = [e.value for e in at.error]
        assert len(messages) == 1, messages  # one message: the problem and the fix
        assert "cannot be reached" in messages[0] and "PHARMA_MAP_DATABASE_URL" in messages[0]
        assert "127.0.0.1" in messages[0] and "the map still shows the bundled data" in messages[0]
        for page in ("pages/imports.py", "pages/export.py"):  # uploads and the bundled layers' exports go on
            at = AppTest.from_file(APP, default_timeout=TIMEOUT)
            at.run()
            at.switch_page(page)
            at.run()
            assert not at.exception and len(at.title) == 1
            assert [e.value for e in at.error] == messages  # the same one message, nothing else
            if "export" in page:
                assert at.radio(key="export_format").value and at.multiselect(key="export_layers").value
            else:  # the page went on past the store: the "upload a file" hint under the uploader
                assert len(at.info) == 1
    finally:
        pg_cluster.start()
    time.sleep(RETRY_AFTER_S + 0.5)
    at = _planner_scenarios(pg_url)  # the database is back: the same process reconnects by itself
    assert_ok(at)
    assert "kept plan" in at.selectbox(key="planner_list_pick").options


def test_a_database_at_schema_1_is_upgraded_in_place_keeping_its_scenarios(pg_url, monkeypatch):
    from geo import store_backend, store_pg
    from geo.osm_store import ParkGeometryStore
    from geo.store_backend import PostgresBackend

    backend = PostgresBackend(pg_url)
    monkeypatch.setattr(store_pg, "MIGRATIONS", store_pg.MIGRATIONS[:1])  # the app as it shipped schema 1
    monkeypatch.setattr(store_pg, "SCHEMA_VERSION", 1)
    assert store_pg.migrate(backend) == 1
    ScenarioStore(url=pg_url).save("before the upgrade", _parcels("A"), expected_version=None)
    monkeypatch.undo()
    store_backend._MIGRATED.discard(pg_url)

    outlines = ParkGeometryStore(url=pg_url)  # this app: migrates to the current schema on first use
    assert store_pg.schema_version(backend) == store_pg.SCHEMA_VERSION >= 2
    assert ScenarioStore(url=pg_url).load("before the upgrade")[1] == 1
    assert outlines.apply(_outline_plan("bda_yizhuang", (116.48, 39.76, 116.55, 39.81))).revision == 1
