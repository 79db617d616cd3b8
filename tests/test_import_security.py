"""Hostile uploads: each is refused with a clear message or imported inert; nothing reaches the network.

The fuzz test drives the single loader entry point (``geo.imports.read_upload``) with thousands of
generated and mutated files. Run a longer campaign with ``HYPOTHESIS_FUZZ_EXAMPLES=50000``.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import threading
import tomllib
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import gpkg
from geo.errors import GeoError, ImportRefusedError, LimitExceededError, UnsafeFileError
from geo.export import export_frame, ExportMetadata
from geo.imports import ImportLimits, read_upload

ROOT = Path(__file__).resolve().parent.parent


def _zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        type(self).requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"lon,lat\n116.3,39.9\n")

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def loopback_server():
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    server.shutdown()


def _vrt(source: str) -> bytes:
    return (f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>{source}</SrcDataSource>'
            '<GeometryType>wkbPoint</GeometryType><GeometryField encoding="PointFromColumns" x="lon" y="lat"/>'
            "</OGRVRTLayer></OGRVRTDataSource>").encode()


@pytest.mark.parametrize("name", ["passwd.geojson", "layer.gpkg", "table.csv", "sites.kml", "noext", "x.json"])
def test_vrt_reading_a_local_file_is_refused_whatever_its_name(name: str) -> None:
    with pytest.raises(UnsafeFileError, match="VRT"):
        read_upload(_vrt("/etc/passwd"), filename=name, datum="wgs84")


def test_vrt_inside_a_zip_is_refused() -> None:
    with pytest.raises(UnsafeFileError, match="GDAL virtual file"):
        read_upload(_zip({"layer.vrt": _vrt("/etc/passwd"), "a.shp": b"", "a.shx": b"", "a.dbf": b""}),
                    filename="layer.zip")


def test_vsicurl_to_loopback_never_sends_a_request(loopback_server, tmp_path) -> None:
    url, requests = loopback_server
    vsicurl = f"/vsicurl/{url}/data.csv"
    attempts = [
        (_vrt(vsicurl), "remote.geojson"),
        (_zip({"remote.vrt": _vrt(vsicurl)}), "remote.zip"),
        (_zip({"inner.geojson": _vrt(vsicurl)}), "inner.zip"),
        (json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": vsicurl}},
                     "features": []}).encode(), "crs.geojson"),
    ]
    for data, name in attempts:
        with pytest.raises(ImportRefusedError):
            read_upload(data, filename=name, datum="wgs84")
    # A URL as the *file name* is only a label, and a URL as a value is only text.
    layer = read_upload(b"name,lon,lat\n" + vsicurl.encode() + b",116.3,39.9\n", filename=vsicurl + ".csv",
                        datum="wgs84")
    assert layer.frame["name"].tolist() == [vsicurl]
    path = tmp_path / "remote.gpkg"
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE gpkg_contents (table_name TEXT, data_type TEXT);"
        "CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, srs_id INTEGER);"
        "CREATE TABLE gpkg_spatial_ref_sys (srs_id INTEGER, organization TEXT, organization_coordsys_id INTEGER);"
        f"INSERT INTO gpkg_contents VALUES ('{vsicurl}', 'features');"
        f"INSERT INTO gpkg_geometry_columns VALUES ('{vsicurl}', 'geom', 4326);")
    connection.execute(f'CREATE TABLE "{vsicurl}" (fid INTEGER PRIMARY KEY, geom BLOB)')
    connection.commit()
    connection.close()
    with pytest.raises(ImportRefusedError, match="no row has a usable geometry"):
        read_upload(path.read_bytes(), filename="remote.gpkg")
    assert requests == []


def test_zip_bomb_is_refused_before_it_is_inflated() -> None:
    bomb = _zip({"a.shp": b"\x00" * 50_000_000, "a.shx": b"", "a.dbf": b""})
    assert len(bomb) < 100_000
    with pytest.raises(LimitExceededError, match=r"uncompressed size \(bytes\) limit: it has 50,000,000"):
        read_upload(bomb, filename="bomb.zip", limits=ImportLimits(max_uncompressed_bytes=10_000_000))


def test_zip_with_forged_sizes_cannot_inflate_past_the_budget() -> None:
    content = b"\x00" * 20_000_000
    bomb = bytearray(_zip({"doc.kml": content}))
    real = len(content).to_bytes(4, "little")
    forged = (100).to_bytes(4, "little")
    assert bomb.count(real) == 2  # local header and central directory
    bomb = bytes(bomb).replace(real, forged)
    with pytest.raises(ImportRefusedError):
        read_upload(bomb, filename="forged.kmz", limits=ImportLimits(max_uncompressed_bytes=1_000_000))


@pytest.mark.parametrize("entry", ["../../evil.shp", "/etc/evil.shp", "C:\\evil.shp", "a/../../evil.shp"])
def test_zip_slip_entries_are_refused(entry: str) -> None:
    with pytest.raises(UnsafeFileError, match="outside the archive"):
        read_upload(_zip({entry: b"x"}), filename="slip.zip")


def test_nested_archives_are_refused() -> None:
    with pytest.raises(UnsafeFileError, match="nested"):
        read_upload(_zip({"inner.zip": _zip({"a.csv": b"lon,lat\n116,39\n"})}), filename="outer.zip")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&f;&f;&f;&f;</name>
<Point><coordinates>116.3,39.9</coordinates></Point></Placemark></kml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<kml><Placemark><name>&x;</name><Point><coordinates>116.3,39.9</coordinates></Point></Placemark></kml>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_xml_entity_tricks_in_kml_and_kmz_are_refused(document: bytes) -> None:
    with pytest.raises(UnsafeFileError, match="DTD or entities"):
        read_upload(document, filename="bomb.kml")
    with pytest.raises(UnsafeFileError, match="DTD or entities"):
        read_upload(_zip({"doc.kml": document}), filename="bomb.kmz")


def test_xml_entity_bomb_in_xlsx_is_refused() -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"name": ["x"], "lon": [116.3], "lat": [39.9]}).to_excel(buffer, index=False)
    with zipfile.ZipFile(buffer) as original:
        entries = {info.filename: original.read(info.filename) for info in original.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    doctype = BILLION_LAUGHS.split(b"\n", 1)[1].split(b"<kml")[0].replace(b"DOCTYPE kml", b"DOCTYPE worksheet")
    entries[sheet] = doctype + entries[sheet].split(b"?>", 1)[-1]
    assert b"<!ENTITY" in entries[sheet]
    with pytest.raises(UnsafeFileError, match="DTD or entities"):
        read_upload(_zip(entries), filename="bomb.xlsx", datum="wgs84")


def test_hostile_view_in_a_geopackage_is_stopped(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(gpkg, "_QUERY_SECONDS", 0.5)
    path = tmp_path / "slow.gpkg"
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE gpkg_contents (table_name TEXT, data_type TEXT);"
        "CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, srs_id INTEGER);"
        "CREATE TABLE gpkg_spatial_ref_sys (srs_id INTEGER, organization TEXT, organization_coordsys_id INTEGER);"
        "INSERT INTO gpkg_contents VALUES ('slow', 'features');"
        "INSERT INTO gpkg_geometry_columns VALUES ('slow', 'geom', 4326);"
        "CREATE VIEW slow AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)"
        " SELECT i AS fid, NULL AS geom FROM n;")
    connection.close()
    with pytest.raises(UnsafeFileError, match="took longer than"):
        read_upload(path.read_bytes(), filename="slow.gpkg")


XSS = ["<img src=x onerror=alert(1)>", "${alert(1)}", "`+alert(1)+`", "</script><script>alert(1)</script>",
       "javascript:alert(1)", "=HYPERLINK(\"http://evil\")"]


def test_xss_strings_are_kept_as_plain_text_and_csv_formulas_are_neutralised_on_export() -> None:
    rows = ["name,lon,lat,note"] + [f'"{s.replace(chr(34), chr(34) * 2)}",116.3,39.9,"{s.replace(chr(34), chr(34) * 2)}"'
                                    for s in XSS]
    layer = read_upload("\n".join(rows).encode(), filename="<img src=x onerror=alert(1)>.csv", datum="wgs84")
    assert layer.frame["name"].tolist() == XSS
    assert layer.name == "<img src=x onerror=alert(1)>"
    exported = export_frame(layer.frame, fmt="csv", metadata=ExportMetadata(layer="import", snapshot_version="test"))
    text = exported.data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_streamlit_settings_stay_pinned() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] <= 20
    assert config["client"]["showErrorDetails"] in ("none", False)
    assert config["browser"]["gatherUsageStats"] is False
    from geo.imports import LIMITS

    assert LIMITS.max_file_bytes == config["server"]["maxUploadSize"] * 1024 * 1024


# ---------------------------------------------------------------- fuzzing

_GEOJSON = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"name": "a", "n": 1},
     "geometry": {"type": "Polygon", "coordinates": [[[116.3, 39.9], [116.31, 39.9], [116.31, 39.91], [116.3, 39.9]]]}},
    {"type": "Feature", "properties": {"name": "b"}, "geometry": {"type": "Point", "coordinates": [116.4, 39.8]}},
]}).encode()
_CSV = "名称,经度,纬度\n甲,116.3,39.9\n乙,116.4,39.8\n".encode()
_KML = (b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>a</name>'
        b"<Point><coordinates>116.3,39.9</coordinates></Point></Placemark></kml>")
_SEEDS = [(_GEOJSON, "a.geojson"), (_CSV, "a.csv"), (_KML, "a.kml"), (_zip({"doc.kml": _KML}), "a.kmz"),
          (_zip({"a.csv": _CSV}), "a.zip"), (_CSV.decode().replace(",", "\t").encode("gb18030"), "a.tsv")]
_NAMES = ["x.geojson", "x.json", "x.gpkg", "x.zip", "x.kml", "x.kmz", "x.csv", "x.tsv", "x.txt", "x.xlsx", "x"]
FUZZ_EXAMPLES = int(os.environ.get("HYPOTHESIS_FUZZ_EXAMPLES", "2000"))
_SMALL = ImportLimits(max_file_bytes=200_000, max_uncompressed_bytes=2_000_000, max_features=5_000,
                      max_vertices=50_000)


@st.composite
def _uploads(draw: st.DrawFn) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["random", "mutated", "truncated", "json"]))
    if kind == "random":
        return draw(st.binary(max_size=512)), draw(st.sampled_from(_NAMES))
    seed, name = draw(st.sampled_from(_SEEDS))
    if kind == "truncated":
        return seed[: draw(st.integers(0, len(seed)))], name
    if kind == "json":
        value = draw(st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
                                  lambda inner: st.lists(inner, max_size=4)
                                  | st.dictionaries(st.sampled_from(["type", "features", "geometry", "coordinates",
                                                                     "properties", "crs", "name"]), inner, max_size=4),
                                  max_leaves=20))
        return json.dumps(value).encode(), "x.geojson"
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        data[position:position + 1] = draw(st.binary(min_size=0, max_size=3))
    return bytes(data), draw(st.sampled_from([name, *_NAMES]))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(upload=_uploads(), datum=st.sampled_from([None, "wgs84", "gcj02", "epsg:4548"]))
def test_fuzz_every_input_is_loaded_or_refused_with_a_message(upload: tuple[bytes, str], datum: str | None) -> None:
    data, name = upload
    try:
        layer = read_upload(data, filename=name, datum=datum, limits=_SMALL)
    except GeoError as exc:
        assert str(exc).strip(), f"refusal without a message for {name}"
        return
    assert layer.frame.crs.to_epsg() == 4326
    assert len(layer.frame) > 0
    assert layer.frame.geometry.notna().all()
