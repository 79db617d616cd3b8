"""Two app servers (two ``streamlit run app.py`` processes on two loopback ports) on one PostGIS
database (the tests' throwaway cluster), driven by two browsers: what one saves, the other lists
and opens; two saves of one scenario at once end in one success and one refusal with a message."""

from __future__ import annotations

import time

import psycopg
import pytest
import shapely

from tests.browser.conftest import _start_server, _stop_server, screenshot
from tests.browser.test_browser import _metric, _new_scenario_with, _open, _settled, _upload_parcels, _feature_collection

NAME = "Shared plan, 北区"
LOTS = [("Lot North", shapely.box(116.40, 39.90, 116.41, 39.91)), ("Lot South", shapely.box(116.40, 39.87, 116.41, 39.88))]


@pytest.fixture
def two_servers(tmp_path_factory, pg_url):
    """Two app servers on the database ``pg_url``, each with a data folder of its own (nothing shared
    but the database)."""
    started = [_start_server(tmp_path_factory, PHARMA_MAP_DATABASE_URL=pg_url) for _ in range(2)]
    yield [url for _, url, _ in started]
    for process, _, log in started:
        _stop_server(process, log)


def _waiting_for_the_lock(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pharma-map'"
                                  " AND wait_event_type = 'Lock'").fetchone()[0]


def _body(page) -> str:
    return page.locator("body").inner_text()


def test_two_app_servers_share_scenarios_and_refuse_one_of_two_concurrent_saves(browser, two_servers, pg_url):
    server_a, server_b = two_servers
    assert server_a != server_b
    a = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    b = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()

    # server A: a new scenario of two parcels, then a third (version 2)
    _new_scenario_with(a, server_a, NAME, "lots.geojson", LOTS)
    _settled(a)
    _upload_parcels(a, "more.geojson", _feature_collection(("Lot East", shapely.box(116.43, 39.90, 116.44, 39.91))))
    a.wait_for_function("() => document.body.innerText.includes('Added 1 parcel(s)')", timeout=60_000)
    _settled(a)
    assert _metric(a, "Parcels") == "3"

    # server B lists it and opens it: the same parcels and version
    _open(b, server_b, "planner")
    b.get_by_role("combobox", name="Scenario").first.click()  # the Planner's list of saved scenarios
    listed = b.get_by_role("option", name=NAME)
    listed.wait_for(timeout=30_000)
    listed.click()
    b.wait_for_function("(name) => document.body.innerText.includes('Editing “' + name + '”')", arg=NAME,
                        timeout=60_000)
    _settled(b)
    b.get_by_role("tab", name="Map and parcels").click()
    b.locator("[data-testid=stMetric]", has_text="Parcels").first.wait_for(timeout=60_000)
    _settled(b)
    assert f"Editing “{NAME}” · version 2" in _body(b)
    assert _metric(b, "Parcels") == "3"
    screenshot(b, "two_servers_opened_in_b")
    assert f"Editing “{NAME}” · version 2" in _body(a)

    # both users undo the last change at once, each based on version 2: the test holds the
    # scenario table's write lock until both servers wait for it, so the two saves truly meet
    with psycopg.connect(pg_url) as holder:
        holder.execute("LOCK TABLE scenario IN SHARE ROW EXCLUSIVE MODE")
        a.get_by_role("button", name="Undo last change").click()
        b.get_by_role("button", name="Undo last change").click()
        deadline = time.monotonic() + 90
        while _waiting_for_the_lock(pg_url) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _waiting_for_the_lock(pg_url) == 2, "both servers should be saving by now"
        holder.rollback()  # release: one save goes first, the other finds version 3
    outcomes = {}
    for label, page in (("A", a), ("B", b)):
        page.wait_for_function("() => document.body.innerText.includes('Undone') || "
                               "document.body.innerText.includes('saved by someone else')", timeout=60_000)
        _settled(page)
        outcomes[label] = "saved" if "Undone" in _body(page) else _body(page)
    screenshot(b, "two_servers_concurrent_b")
    saved = [k for k, v in outcomes.items() if v == "saved"]
    refused = [v for v in outcomes.values() if v != "saved"]
    assert len(saved) == 1 and len(refused) == 1, outcomes
    assert "was saved by someone else since you opened it" in refused[0] and "version 3" in refused[0]
    with psycopg.connect(pg_url) as connection:
        version, features = connection.execute("SELECT version, features FROM scenario WHERE name = %s",
                                               (NAME,)).fetchone()
        versions = connection.execute("SELECT count(*) FROM scenario_history h JOIN scenario s"
                                      " ON s.id = h.scenario_id WHERE s.name = %s", (NAME,)).fetchone()[0]
    assert (version, features, versions) == (3, 2, 3)  # one undo, not two
