"""Online geocoders against loopback servers answering in each provider's documented format:
request, rate limit, cache, timeout, error answers, datum conversion, flags, the offline fallback."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geo.datums import convert
from geo.geocoders import GeocodeCache, Geocoder, GeocoderError
from geo.locate import OfflineLocator, locate_table
from geo.snapshot import load_snapshot

TRUE_WGS84 = (116.4839, 39.9906)  # a door address in Chaoyang (WGS84), the truth the Amap answer must return


def _amap_answer(lon: float, lat: float, *, level: str = "门牌号") -> dict:
    """Amap web service v3 geocode/geo, as documented: status/info/infocode, geocodes[] with
    'location' as "lon,lat" (GCJ-02, six decimals) and the match 'level'."""
    return {"status": "1", "info": "OK", "infocode": "10000", "count": "1", "geocodes": [{
        "formatted_address": "北京市朝阳区阜通东大街6号", "country": "中国", "province": "北京市", "citycode": "010",
        "city": "北京市", "district": "朝阳区", "township": [], "neighborhood": {"name": [], "type": []},
        "building": {"name": [], "type": []}, "adcode": "110105", "street": "阜通东大街", "number": "6号",
        "location": f"{lon:.6f},{lat:.6f}", "level": level}]}


def _tianditu_answer(lon: float, lat: float, *, level: str = "门址") -> dict:
    """Tianditu geocoder (geocoder?ds={"keyWord": ...}&tk=...): status "0", location{lon, lat, score, level}."""
    return {"msg": "ok", "location": {"score": 100, "level": level, "lon": f"{lon}", "lat": f"{lat}",
                                      "keyWord": "北京市海淀区莲花池西路28号"}, "searchVersion": "6.4.9V", "status": "0"}


def _nominatim_answer(lon: float, lat: float) -> list:
    """Nominatim /search?format=jsonv2: a list of places, lat/lon as strings, addresstype, place_rank."""
    return [{"place_id": 123, "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
             "osm_type": "way", "osm_id": 4567, "lat": f"{lat}", "lon": f"{lon}", "category": "amenity",
             "type": "hospital", "place_rank": 30, "importance": 0.41, "addresstype": "amenity",
             "name": "中国人民解放军总医院", "display_name": "中国人民解放军总医院, 复兴路, 海淀区, 北京市, 中国",
             "boundingbox": [f"{lat - 0.001}", f"{lat + 0.001}", f"{lon - 0.001}", f"{lon + 0.001}"]}]


class Server:
    """A loopback HTTP server: ``answer(query_params) -> (status, body)``; every request is recorded."""

    def __init__(self, answer, *, delay: float = 0.0) -> None:
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                outer.requests.append({"params": params, "headers": dict(self.headers), "at": time.monotonic()})
                if delay:
                    time.sleep(delay)
                status, body = answer(params)
                data = json.dumps(body, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(answer, **kwargs):
        server = Server(answer, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def districts():
    return load_snapshot().districts


def test_amap_gcj02_answer_lands_within_half_a_metre_of_the_true_wgs84_point(serve, tmp_path, districts):
    gcj_lon, gcj_lat = convert(np.array([TRUE_WGS84[0]]), np.array([TRUE_WGS84[1]]), source="wgs84", target="gcj02")
    server = serve(lambda params: (200, _amap_answer(float(gcj_lon[0]), float(gcj_lat[0]))))
    amap = Geocoder("amap", key="k" * 32, endpoint=server.url, cache=GeocodeCache(tmp_path / "c.sqlite"),
                    districts=districts)
    placed = amap.place("北京市朝阳区阜通东大街6号", None)
    assert placed.tier == "geocoded" and placed.provider == "amap" and placed.level == "门牌号"
    _, _, metres = Geod(ellps="WGS84").inv(placed.lon, placed.lat, *TRUE_WGS84)
    assert metres < 0.5, metres
    assert "GCJ-02 converted to WGS84" in placed.point
    params = server.requests[0]["params"]
    assert params["address"] == "北京市朝阳区阜通东大街6号" and params["key"] == "k" * 32 and params["city"] == "北京"


def test_nominatim_sends_a_user_agent_waits_a_second_between_requests_and_caches(serve, tmp_path, districts):
    server = serve(lambda params: (200, _nominatim_answer(116.2712, 39.9053)))
    cache = GeocodeCache(tmp_path / "cache.sqlite")
    nominatim = Geocoder("nominatim", endpoint=server.url, cache=cache, districts=districts)
    first = nominatim.place("北京市海淀区复兴路28号", None)
    second = nominatim.place("中国人民解放军总医院", None)
    assert first.tier == second.tier == "geocoded"
    assert "way/4567" in first.evidence and "ODbL" in first.point and "place_rank 30" in first.evidence
    assert len(server.requests) == 2
    assert server.requests[1]["at"] - server.requests[0]["at"] >= 0.95  # 1 request per second
    assert "beijing-pharma-map" in server.requests[0]["headers"]["User-Agent"]
    assert server.requests[0]["params"]["format"] == "jsonv2"
    # the same query again, even from a new geocoder over the same cache file: no request
    again = Geocoder("nominatim", endpoint=server.url, cache=GeocodeCache(tmp_path / "cache.sqlite"),
                     districts=districts).place("北京市海淀区复兴路28号", None)
    assert (again.lon, again.lat) == (first.lon, first.lat)
    assert len(server.requests) == 2


def test_tianditu_answer_is_read_as_wgs84_and_says_so(serve, tmp_path, districts):
    server = serve(lambda params: (200, _tianditu_answer(116.3031, 39.8964)))
    tianditu = Geocoder("tianditu", key="t" * 32, endpoint=server.url, cache=GeocodeCache(tmp_path / "c.sqlite"),
                        districts=districts)
    placed = tianditu.place("北京市海淀区莲花池西路28号", None)
    assert (placed.tier, placed.lon, placed.lat) == ("geocoded", 116.3031, 39.8964)
    assert "CGCS2000, treated as WGS84" in placed.point and "score 100" in placed.evidence
    params = server.requests[0]["params"]
    assert json.loads(params["ds"]) == {"keyWord": "北京市海淀区莲花池西路28号"} and params["tk"] == "t" * 32


def test_a_slow_provider_times_out_with_a_clear_message_and_is_not_asked_again(serve, tmp_path, districts):
    server = serve(lambda params: (200, _amap_answer(116.4, 39.9)), delay=3.0)
    amap = Geocoder("amap", key="k", endpoint=server.url, cache=GeocodeCache(tmp_path / "c.sqlite"), timeout=0.3,
                    districts=districts)
    started = time.monotonic()
    placed = amap.place("北京市朝阳区建国路88号", None)
    assert time.monotonic() - started < 2.0
    assert placed.tier is None and "cannot be reached within 0.3 s" in placed.reason
    started = time.monotonic()
    assert amap.place("北京市朝阳区建国路89号", None).tier is None
    assert time.monotonic() - started < 0.1 and len(server.requests) == 1


@pytest.mark.parametrize(("provider", "answer", "expected"), [
    ("amap", {"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"}, "info 'INVALID_USER_KEY'"),
    ("amap", {"status": "0", "info": "DAILY_QUERY_OVER_LIMIT", "infocode": "10003"}, "infocode '10003'"),
    ("tianditu", {"msg": "权限类型错误", "status": "101"}, "status '101'"),
    ("nominatim", {"error": "Bad request"}, "Bad request"),
])
def test_error_answers_are_quoted_and_not_cached(serve, tmp_path, provider, answer, expected, districts):
    server = serve(lambda params: (200, answer))
    cache = GeocodeCache(tmp_path / "c.sqlite")
    coder = Geocoder(provider, key="k", endpoint=server.url, cache=cache, min_interval=0, districts=districts)
    placed = coder.place("北京市海淀区复兴路28号", None)
    assert placed.tier is None and expected in placed.reason
    assert cache.get(provider, "北京市海淀区复兴路28号") is None


def test_http_errors_are_reported(serve, tmp_path, districts):
    server = serve(lambda params: (429, {"error": "rate limited"}))
    coder = Geocoder("nominatim", endpoint=server.url, cache=GeocodeCache(tmp_path / "c.sqlite"), districts=districts)
    assert "HTTP 429" in coder.place("x", None).reason


@pytest.mark.parametrize(("answer", "expected"), [
    (_amap_answer(116.4, 39.9, level="区县"), "区县 precision"),
    (_amap_answer(121.47, 31.23), "outside Beijing"),
])
def test_district_precision_and_results_outside_beijing_are_flagged_not_accepted(serve, tmp_path, answer, expected,
                                                                                 districts):
    server = serve(lambda params: (200, answer))
    amap = Geocoder("amap", key="k", endpoint=server.url, cache=GeocodeCache(tmp_path / "c.sqlite"), districts=districts)
    placed = amap.place("北京市朝阳区", None)
    assert placed.tier is None and expected in placed.reason


def test_offline_the_geocoder_fails_fast_and_the_offline_locator_still_places_the_rows(tmp_path):
    snapshot = load_snapshot()
    closed = Server(lambda params: (200, []))
    url = closed.url
    closed.close()  # nothing listens there any more: connection refused, as offline
    amap = Geocoder("amap", key="k", endpoint=url, cache=GeocodeCache(tmp_path / "c.sqlite"), timeout=1.0,
                    districts=snapshot.districts)
    table = pd.DataFrame({"地址": ["北京市大兴区天富街9号", "北京市朝阳区建国路88号", "上海市浦东新区张江路1号"]})
    started = time.monotonic()
    located = locate_table(table, locators=[amap, OfflineLocator.from_snapshot(snapshot)]).frame
    assert time.monotonic() - started < 3.0
    assert located["location_tier"].fillna("unplaced").tolist() == ["park", "district", "unplaced"]
    assert "amap: amap cannot be reached" in located["location_reason"].iloc[2]


def test_keyed_providers_refuse_to_start_without_a_key():
    with pytest.raises(GeocoderError, match="AMAP_KEY"):
        Geocoder("amap", key=None)
    with pytest.raises(GeocoderError, match="unknown geocoder 'baidu'"):
        Geocoder("baidu")


def test_geo_locate_with_amap_then_offline_prints_the_summary_by_tier(serve, tmp_path, monkeypatch, capsys):
    from geo.cli import main

    gcj_lon, gcj_lat = convert(np.array([TRUE_WGS84[0]]), np.array([TRUE_WGS84[1]]), source="wgs84", target="gcj02")
    server = serve(lambda params: (200, _amap_answer(float(gcj_lon[0]), float(gcj_lat[0])))
                   if "阜通东大街" in params["address"] else (200, {"status": "1", "info": "OK", "count": "0",
                                                                    "geocodes": []}))
    monkeypatch.setenv("AMAP_KEY", "k" * 32)
    monkeypatch.setenv("PHARMA_MAP_AMAP_URL", server.url)
    source = tmp_path / "firms.csv"
    source.write_text("名称,地址\n甲,北京市朝阳区阜通东大街6号\n乙,北京市大兴区天富街9号\n", encoding="utf-8")
    out = tmp_path / "firms.csv.geojson"
    assert main(["locate", str(source), "--provider", "amap", "offline", "--data-dir", str(tmp_path / "var"),
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "geocoded         1" in printed and "park             1" in printed
    assert (tmp_path / "var" / "geocode_cache.sqlite").is_file()
    assert main(["locate", str(source), "--provider", "osm"]) == 1
    assert "give one with --extract" in capsys.readouterr().err  # osm needs an extract (it said: not built yet)
