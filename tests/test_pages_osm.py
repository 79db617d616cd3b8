"""The OpenStreetMap page and the Parks page's site context through AppTest, offline.

AppTest cannot drive a file uploader, so the tests put the parsed extract where the upload puts
it: ``st.session_state["osm_extract"] = {"name", "data", "features"}`` (``key`` defaults to the
sha256 of ``data``).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import assert_ok, run_app
from tests.osm_fixtures import OsmBuilder, rectangle

ROOT = Path(__file__).resolve().parent.parent
PARK_ID = "zgc_life_science_park"
XSS = "<img src=x onerror=alert(1)>"
GEOMETRY_LABEL = "**Geometry:**"  # the Parks page line with the tier


pytestmark = pytest.mark.usefixtures("isolated_app")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(f"network access attempted in a test: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _park() -> dict:
    document = json.loads((ROOT / "data" / "snapshot" / "parks.geojson").read_text(encoding="utf-8"))
    return next(f["properties"] for f in document["features"] if f["properties"]["park_id"] == PARK_ID)


def _extract(tmp_path: Path, *, streets: bool = False) -> dict:
    """An OSM XML extract around the Life Science Park: its outline (named as the park), a decoy,
    a tertiary hospital, a metro station, a university; with ``streets``, a drivable grid."""
    from geo.osm import read_osm_file

    park = _park()
    lon, lat = park["anchor_lon"], park["anchor_lat"]
    b = OsmBuilder()
    b.polygon(rectangle(lon - 0.015, lat - 0.012, lon + 0.015, lat + 0.012),
              {"landuse": "industrial", "name": park["name_zh"], "name:en": park["name_en"]})
    b.polygon(rectangle(lon + 0.02, lat + 0.015, lon + 0.025, lat + 0.019), {"landuse": "industrial",
                                                                           "name": XSS})
    b.point(lon + 0.01, lat - 0.005, {"amenity": "hospital", "name": "北京大学国际医院",
                                      "name:en": "Peking University International Hospital",
                                      "hospital:grade": "三级甲等"})
    b.point(lon - 0.008, lat + 0.006, {"railway": "station", "station": "subway", "name": "生命科学园站",
                                       "name:en": "Life Science Park Station"})
    b.point(lon + 0.012, lat + 0.008, {"amenity": "university", "name": "北京化工大学"})
    if streets:
        b.grid(lon - 0.03, lat - 0.02, lon + 0.03, lat + 0.02, rows=8, columns=8,
               tags={"highway": "primary", "maxspeed": "60"})
    path = b.write_xml(tmp_path / "lsp.osm")
    data = path.read_bytes()
    return {"name": "lsp.osm", "data": data, "features": read_osm_file(data, filename="lsp.osm")}


_run = run_app
_ok = assert_ok


def _map_html(at: AppTest) -> str:
    return " ".join(str(c.proto) for c in at.get("component_instance")).replace("\\u0026", "&")


def _tier_line(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith(GEOMETRY_LABEL))


def test_osm_page_renders_empty():
    at = _run("pages/osm.py")
    assert at.title[0].value == "OpenStreetMap"
    assert any("Upload an extract or fetch one online" in i.value for i in at.info)
    assert any("No park outline has been replaced" in c.value for c in at.caption)
    assert at.button(key="osm_fetch")
    assert not at.get("download_button")


def test_osm_page_fetch_offline_fails_in_plain_words(monkeypatch):
    from geo import osm

    def offline(**kwargs):
        assert kwargs["timeout_s"] <= 30
        raise osm.OSMUnavailableError("no answer from OpenStreetMap ('overpass-api.de') within 20 s")

    monkeypatch.setattr(osm, "fetch_osm", offline)
    at = _run("pages/osm.py")
    at.button(key="osm_fetch").click().run()
    assert not at.exception
    assert any("no answer from OpenStreetMap" in e.value for e in at.error)
    assert "osm_extract" not in at.session_state


def test_candidates_confirm_restore_and_context_export(tmp_path):
    from geo.osm_store import ParkGeometryStore

    extract = _extract(tmp_path)
    at = _run("pages/osm.py", osm_extract=extract)
    table = at.dataframe[0].value
    assert list(table.columns) == ["Park", "OSM name", "OSM id", "Score", "Confidence", "Area now (km²)",
                                   "OSM area (km²)", "Area change (%)", "Overlap (IoU)"]
    best = table.iloc[0]
    assert best["Park"] == "Zhongguancun Life Science Park" and best["OSM name"] == "中关村生命科学园"
    assert best["Confidence"] == "high" and best["OSM id"] == "way/1"
    assert XSS in table["OSM name"].tolist()  # the decoy, shown as text in a table
    html = _map_html(at)
    assert "<img src=x" not in html, "an OSM name reached the map unescaped"
    assert at.selectbox(key="osm_match_park").value == PARK_ID
    assert at.selectbox(key=f"osm_candidate_{PARK_ID}").value == "way/1"
    assert any("IoU" in c.value and "ODbL" in c.value for c in at.code)

    # Nothing is replaced before the confirm button.
    assert ParkGeometryStore().list() == []
    at.button(key="osm_confirm").click().run()
    _ok(at)
    assert any("outline replaced by way/1" in s.value for s in at.success)
    override = ParkGeometryStore().get(PARK_ID)
    assert override is not None and override.osm_ids == ("way/1",) and override.previous_tier == "nominal"
    assert override.osm_date == "2024-05-01" and "ODbL" in override.attribution
    assert at.dataframe[1].value.iloc[0]["OSM id"] == "way/1"  # the overrides table

    # Every page now sees tier osm: the Parks page and the cluster map.
    at.session_state["parks_pick"] = PARK_ID
    at.switch_page("pages/parks.py").run()
    _ok(at)
    assert "OpenStreetMap" in _tier_line(at)
    assert any("way/1" in c.value and "ODbL" in c.value for c in at.caption)
    at.session_state["selected_park"] = PARK_ID
    at.switch_page("pages/cluster_map.py").run()
    _ok(at)
    assert any("**OpenStreetMap**" in m.value for m in at.markdown)

    # Restore brings the nominal outline back, and the history keeps both steps.
    at.switch_page("pages/osm.py").run()
    _ok(at)
    at.button(key="osm_restore").click().run()
    _ok(at)
    assert any("outline is back" in s.value for s in at.success)
    assert ParkGeometryStore().get(PARK_ID) is None
    assert ParkGeometryStore().history()["action"].tolist() == ["apply", "restore"]
    at.switch_page("pages/parks.py").run()
    _ok(at)
    assert "Nominal extent" in _tier_line(at)

    # The context layer: hospital flagged tertiary, metro station, university; a GeoJSON download.
    at.switch_page("pages/osm.py").run()
    _ok(at)
    summary = at.dataframe[0].value if len(at.dataframe) == 1 else next(
        d.value for d in at.dataframe if "Nearest (m)" in d.value.columns)
    kinds = dict(zip(summary["Kind"], summary["Count"], strict=True))
    assert kinds == {"Hospital": 1, "Metro station": 1, "University": 1}
    assert summary.loc[summary["Kind"] == "Hospital", "Tertiary hospitals"].iloc[0] == 1
    download = at.get("download_button")[0]
    assert "GeoJSON" in download.proto.label


def test_a_park_not_on_the_map_is_placed_from_an_extract_of_its_district(tmp_path):
    from geo.osm_store import ParkGeometryStore

    import pandas as pd

    from geo.osm import read_osm_file

    valley = "zgc_science_city_medical_valley"
    b = OsmBuilder()
    # An outline named as the park, in Haidian's north-west (where Shangzhuang is), 0.9 km2.
    b.polygon(rectangle(116.190, 40.100, 116.2015, 40.1088), {"landuse": "industrial", "name": "中关村科学城国际医谷"})
    path = b.write_xml(tmp_path / "haidian.osm")
    extract = {"name": "haidian.osm", "data": path.read_bytes(),
               "features": read_osm_file(path.read_bytes(), filename="haidian.osm")}
    at = _run("pages/osm.py", osm_extract=extract)
    table = at.dataframe[0].value
    row = table[table["Park"] == "Zhongguancun Science City International Medical Valley"].iloc[0]
    assert row["OSM name"] == "中关村科学城国际医谷" and pd.isna(row["Area now (km²)"])
    at.selectbox(key="osm_match_park").set_value(valley).run()
    _ok(at)
    at.button(key="osm_confirm").click().run()
    _ok(at)
    assert ParkGeometryStore().get(valley).previous_tier == "unlocated"

    at.session_state["parks_pick"] = valley
    at.switch_page("pages/parks.py").run()
    _ok(at)
    assert "OpenStreetMap" in _tier_line(at)
    assert not any("is not on the map" in i.value for i in at.info)
    at.switch_page("pages/cluster_map.py").run()
    _ok(at)
    assert "International Medical Valley" not in next(c.value for c in at.caption if "Not on the map" in c.value)


def test_context_export_carries_the_odbl_licence(tmp_path):
    from geo.export import export_frame
    from geo.osm import context_export_metadata, context_layers
    from geo.snapshot import load_snapshot

    extract = _extract(tmp_path)
    snapshot = load_snapshot()
    context = context_layers(extract["features"], snapshot.parks)
    exported = export_frame(context, fmt="geojson",
                            metadata=context_export_metadata(context, snapshot_version=snapshot.version))
    document = json.loads(exported.data)
    around_the_park = [f for f in document["features"] if f["properties"]["park_id"] == PARK_ID]
    assert len(around_the_park) == 3
    # Life Valley nests the Life Science Park, so the same three places are its context too.
    assert len(document["features"]) == 6
    assert "ODbL" in json.dumps(document)


def test_a_confirm_based_on_an_outdated_diff_is_refused(tmp_path):
    from geo.osm_store import ParkGeometryStore, plan_replacement
    from geo.snapshot import load_snapshot

    extract = _extract(tmp_path)
    at = _run("pages/osm.py", osm_extract=extract)
    # Another session replaces the outline meanwhile.
    plan = plan_replacement(load_snapshot().parks, extract["features"], park_id=PARK_ID, osm_ids=["way/2"])
    ParkGeometryStore().apply(plan)
    at.button(key="osm_confirm").click().run()
    assert not at.exception
    assert any("changed meanwhile" in e.value for e in at.error)
    assert ParkGeometryStore().get(PARK_ID).osm_ids == ("way/2",)


def test_parks_page_shows_straight_line_site_metrics_without_an_extract():
    at = _run("pages/parks.py", parks_pick=PARK_ID)
    assert any(s.value == "Site context" for s in at.subheader)
    assert any("Straight line (no street network loaded)" in c.value for c in at.caption)
    metrics = next(d.value for d in at.dataframe if "Method" in d.value.columns)
    assert set(metrics["Destination"]) >= {"Airport", "NMPA centre"}
    assert set(metrics["Method"]) == {"Straight line (no street network loaded)"}
    airports = metrics[metrics["Destination"] == "Airport"]
    assert sorted(a.split()[1] for a in airports["Nearest"]) == ["Capital", "Daxing"]
    assert airports["Straight-line distance"].str.endswith("km").all()
    assert set(metrics.loc[metrics["Destination"] == "Metro station", "Status"]) == {"None on the map"}
    assert "parks_load_streets" not in [b.key for b in at.button]


def test_parks_page_uses_the_extract_context_then_the_street_network(tmp_path):
    extract = _extract(tmp_path, streets=True)
    at = _run("pages/parks.py", parks_pick=PARK_ID, osm_extract=extract)
    metrics = next(d.value for d in at.dataframe if "Method" in d.value.columns)
    by_kind = metrics.set_index("Destination")
    assert by_kind.loc["Metro station", "Nearest"] == "Life Science Park Station"
    assert by_kind.loc["Tertiary hospital", "Nearest"] == "Peking University International Hospital"
    assert set(metrics["Method"]) == {"Straight line (no street network loaded)"}
    assert "Life Science Park Station" in _map_html(at)  # the context layer on the park map

    at.button(key="parks_load_streets").click().run()
    _ok(at)
    assert at.session_state["osm_streets"] == at.session_state["osm_extract"]["key"]
    metrics = next(d.value for d in at.dataframe if "Method" in d.value.columns)
    by_kind = metrics.set_index("Destination")
    assert set(metrics["Method"]) == {"By road (free-flow)"}
    assert by_kind.loc["Metro station", "Travel time"].endswith("min")
    assert by_kind.loc["Tertiary hospital", "Travel time"].endswith("min")
    assert set(by_kind.loc["Airport", "Status"]) == {"Outside the loaded street network"}
    assert any("driving times, no congestion" in c.value for c in at.caption)
    html = _map_html(at)
    for minutes in (15, 30, 45):
        assert f"Within {minutes} min" in html

    at.button(key="parks_unload_streets").click().run()
    _ok(at)
    metrics = next(d.value for d in at.dataframe if "Method" in d.value.columns)
    assert set(metrics["Method"]) == {"Straight line (no street network loaded)"}
