"""Benchmarks of the geo core, each printed beside a baseline measured in the same run.

``python -m geo bench`` prints a table; ``--json`` prints the same figures for machines.
Targets (2-core machine): snapshot load + verify <= 0.3 s; 1 M points GCJ-02 -> WGS84 exact
<= 1.0 s and >= 8x faster than a per-point loop of the ``coordTransform`` package; 1 M points
joined to parks and districts <= 1.5 s.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from geo.datums import gcj02_to_wgs84, wgs84_to_gcj02
from geo.joins import locate
from geo.shapes import is_drawn
from geo.snapshot import GEO_FILES, load_snapshot


@dataclass
class Result:
    name: str
    seconds: float
    target_seconds: float | None
    baseline_name: str
    baseline_seconds: float | None
    min_speedup: float | None = None
    note: str = ""

    @property
    def speedup(self) -> float | None:
        if self.baseline_seconds is None or self.seconds <= 0:
            return None
        return self.baseline_seconds / self.seconds

    @property
    def passed(self) -> bool:
        ok = self.target_seconds is None or self.seconds <= self.target_seconds
        if self.min_speedup is not None:
            ok = ok and (self.speedup or 0.0) >= self.min_speedup
        return ok


def _best_of(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times) if repeat > 2 else statistics.median(times)


def _beijing_points(n: int, seed: int = 20241124) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(115.42, 117.50, n), rng.uniform(39.44, 41.06, n)


def bench_load() -> Result:
    import geopandas as gpd

    snapshot = load_snapshot()  # warm the file cache and imports
    seconds = _best_of(load_snapshot, 5)
    files = [snapshot.directory / GEO_FILES[name] for name in GEO_FILES]
    baseline = _best_of(lambda: [gpd.read_file(f) for f in files], 3)
    return Result("load + verify snapshot", seconds, 0.3, "geopandas.read_file, no checks", baseline,
                  note=f"{sum(len(snapshot.layer(n)) for n in ('districts', 'hubs', 'parks', 'organisations'))} features")


def bench_datum(points: int) -> Result:
    import coordTransform

    lon, lat = _beijing_points(points)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    gcj02_to_wgs84(g_lon[:1000], g_lat[:1000])
    seconds = _best_of(lambda: gcj02_to_wgs84(g_lon, g_lat), 3)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    error_m = float(np.max(np.hypot((w_lon - lon) * 85_000.0, (w_lat - lat) * 111_000.0)))

    scalar = coordTransform.gcj02_to_wgs84
    xs, ys = g_lon.tolist(), g_lat.tolist()

    def loop() -> None:
        for x, y in zip(xs, ys, strict=False):
            scalar(x, y)

    baseline = _best_of(loop, 1)
    return Result(f"GCJ-02 -> WGS84 exact, {points:,} pts", seconds, 1.0,
                  "coordTransform per-point loop (1-step, ~1 m error)", baseline, min_speedup=8.0,
                  note=f"max round-trip error {error_m * 1000:.3f} mm")


def bench_join(points: int) -> Result:
    import geopandas as gpd

    snapshot = load_snapshot()
    x, y = _beijing_points(points, seed=7)
    districts = np.asarray(snapshot.districts.geometry.values, dtype=object)
    parks = np.asarray(snapshot.parks.geometry.values, dtype=object)

    def ours() -> None:
        locate(x, y, parks)
        locate(x, y, districts)

    ours()
    seconds = _best_of(ours, 3)
    found = int((locate(x, y, districts) >= 0).sum())
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)

    def baseline() -> None:
        gpd.sjoin(frame, snapshot.parks[["park_id", "geometry"]], predicate="within", how="left")
        gpd.sjoin(frame, snapshot.districts[["district_id", "geometry"]], predicate="within", how="left")

    baseline_seconds = _best_of(baseline, 1)
    return Result(f"join {points:,} pts to parks + districts", seconds, 1.5,
                  "geopandas.sjoin (within), both layers", baseline_seconds,
                  note=f"{found:,} points inside a district")


def _write_osm_extract(path: str, *, elements: int, parks: object, districts: object = None,
                       seed: int = 5) -> int:
    """A synthetic OSM XML extract of about ``elements`` nodes, ways and relations in Beijing:
    named industrial areas at each park (one as a multipolygon relation; a park without an
    outline gets its named area somewhere in its district), other land-use polygons and context
    points. Returns the number of elements written."""
    from xml.sax.saxutils import quoteattr

    rng = np.random.default_rng(seed)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="geo.bench">']
    counts = {"node": 0, "way": 0, "relation": 0}
    stamp = 'version="2" timestamp="2024-05-01T08:00:00Z"'

    def tags(pairs: dict[str, str]) -> str:
        return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in pairs.items())

    def ring(x: float, y: float, w: float, h: float) -> list[int]:
        refs = []
        for lon, lat in ((x, y), (x + w, y), (x + w, y + h), (x, y + h)):
            counts["node"] += 1
            lines.append(f'<node id="{counts["node"]}" {stamp} lat="{lat:.7f}" lon="{lon:.7f}"/>')
            refs.append(counts["node"])
        return [*refs, refs[0]]

    def way(refs: list[int], pairs: dict[str, str]) -> int:
        counts["way"] += 1
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(f'<way id="{counts["way"]}" {stamp}>{nds}{tags(pairs)}</way>')
        return counts["way"]

    import shapely

    # a copy: the caller's parks stay as they are
    geoms = np.array(parks.geometry.values, dtype=object)  # type: ignore[attr-defined]
    if districts is not None:
        district_of = dict(zip(districts["district_id"], districts.geometry.values, strict=True))  # type: ignore[index,attr-defined]
        missing = ~is_drawn(geoms)
        geoms[missing] = [district_of.get(d) for d in parks["district_id"][missing]]  # type: ignore[index]
    centres = shapely.point_on_surface(geoms)
    for i, (name, centre) in enumerate(zip(parks["name_zh"], centres, strict=True)):  # type: ignore[index]
        if centre is None:
            continue
        x, y, w, h = centre.x - 0.015, centre.y - 0.012, 0.03, 0.024
        if i == 0:
            outer = way(ring(x, y, w, h), {})
            inner = way(ring(x + 0.01, y + 0.01, 0.004, 0.003), {})
            counts["relation"] += 1
            lines.append(f'<relation id="{counts["relation"]}" {stamp}>'
                         f'<member type="way" ref="{outer}" role="outer"/>'
                         f'<member type="way" ref="{inner}" role="inner"/>'
                         f'{tags({"type": "multipolygon", "landuse": "industrial", "name": name})}</relation>')
        else:
            way(ring(x, y, w, h), {"landuse": "industrial", "name": name})
    kinds = [{"amenity": "hospital", "name": "医院"}, {"railway": "station", "station": "subway", "name": "站"},
             {"amenity": "university", "name": "大学"}, {"shop": "convenience"}]
    uses = ["industrial", "residential", "commercial", "farmland"]
    while sum(counts.values()) < elements:
        x, y = rng.uniform(115.6, 117.3), rng.uniform(39.5, 40.9)
        if rng.random() < 0.6:  # a polygon: 4 nodes + 1 way
            way(ring(x, y, 0.004, 0.003), {"landuse": uses[counts["way"] % 4], "name": f"地块{counts['way']}"})
        else:
            counts["node"] += 1
            lines.append(f'<node id="{counts["node"]}" {stamp} lat="{y:.7f}" lon="{x:.7f}">'
                         f'{tags(kinds[counts["node"] % 4])}</node>')
    lines.append("</osm>")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    return sum(counts.values())


def bench_osm(elements: int = 100_000) -> Result:
    """Parse an OSM XML extract of ``elements`` elements and match the parks (target 10 s)."""
    import os
    import tempfile

    import osmnx as ox

    from geo.osm import DEFAULT_TAGS, match_parks, read_osm_file

    snapshot = load_snapshot()
    parks, districts = snapshot.parks, snapshot.districts
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.osm")
        written = _write_osm_extract(path, elements=elements, parks=parks, districts=districts)
        start = time.perf_counter()
        features = read_osm_file(path)
        matches = match_parks(features, parks, districts=districts)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        ox.features_from_xml(path, tags=DEFAULT_TAGS)
        baseline = time.perf_counter() - start
    best = matches[matches["rank"] == 1]
    found = int((best["name_score"] >= 0.99).sum())
    return Result(f"OSM XML {written:,} elements: parse + match", seconds, 10.0,
                  "osmnx.features_from_xml alone (no versions, no match)", baseline,
                  note=f"{len(features):,} features, {found}/{len(parks)} parks matched by name")


def gcj02_table(rows: int, *, seed: int = 11) -> bytes:
    """A CSV of ``rows`` named enterprises with Gaode (GCJ-02) coordinates across Beijing."""
    rng = np.random.default_rng(seed)
    lon, lat = _beijing_points(rows, seed=seed)
    kinds = np.array(["innovative_drugs", "medical_devices", "cro_cdmo", "diagnostics"])[rng.integers(0, 4, rows)]
    lines = ["企业名称,高德经度,高德纬度,行业"]
    lines += [f"企业{i},{x:.6f},{y:.6f},{k}" for i, (x, y, k) in enumerate(zip(lon, lat, kinds, strict=True))]
    return "\n".join(lines).encode("utf-8")


def bench_import(rows: int = 100_000) -> Result:
    """Import a GCJ-02 CSV (parse, convert, validate) and join it to parks, districts and hubs (target 2 s)."""
    import io

    import pandas as pd

    from geo.datums import gcj02_to_wgs84
    from geo.imports import read_upload
    from geo.joins import place_layer

    data = gcj02_table(rows)
    snapshot = load_snapshot()

    def ours() -> None:
        layer = read_upload(data, filename="firms.csv", datum="gcj02")
        place_layer(layer.frame, parks=snapshot.parks, districts=snapshot.districts, hubs=snapshot.hubs,
                    category_column="行业")

    seconds = _best_of(ours, 3)

    def baseline() -> None:
        import geopandas as gpd

        table = pd.read_csv(io.BytesIO(data))
        lon, lat = gcj02_to_wgs84(table["高德经度"].to_numpy(), table["高德纬度"].to_numpy())
        frame = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=4326)
        gpd.sjoin(frame, snapshot.parks[["park_id", "geometry"]], predicate="within", how="left")
        gpd.sjoin(frame, snapshot.districts[["district_id", "geometry"]], predicate="within", how="left")

    baseline_seconds = _best_of(baseline, 1)
    return Result(f"import {rows:,}-row GCJ-02 CSV + join", seconds, 2.0,
                  "pandas.read_csv + convert + geopandas.sjoin, no checks", baseline_seconds,
                  note=f"{len(data) / 1e6:.1f} MB; limits, datum, repairs, row report included")


def bench_planner() -> Result:
    """A 2,000-parcel scenario measured with overlaps, parks, totals and progress (target 1.0 s)."""
    from geo.bench_planner import bench_planner as run

    figures = run()
    agree = abs(figures["union_m2_ours"] - figures["union_m2_baseline"]) / figures["union_m2_baseline"]
    return Result("planner 2,000 parcels x 100 vertices", figures["ours_median_s"], figures["target_s"],
                  str(figures["baseline"]), figures["baseline_median_s"],
                  note=f"medians of 5 interleaved cold runs; union areas agree within {agree:.1e}")


def run_benchmarks(*, points: int = 1_000_000, as_json: bool = False) -> int:
    """Run every benchmark, print the table (or JSON) and return 0 if all targets are met."""
    results = [bench_load(), bench_datum(points), bench_join(points), bench_import(), bench_osm(), bench_planner()]
    if as_json:
        print(json.dumps([asdict(r) | {"speedup": r.speedup, "passed": r.passed} for r in results],
                         indent=2))
    else:
        header = f"{'benchmark':<40} {'ours s':>8} {'target':>7} {'baseline s':>10} {'speedup':>8}  result  baseline / note"
        print(header)
        print("-" * len(header))
        for r in results:
            target = f"{r.target_seconds:.2f}" if r.target_seconds is not None else "-"
            base = f"{r.baseline_seconds:.3f}" if r.baseline_seconds is not None else "-"
            speed = f"{r.speedup:.1f}x" if r.speedup is not None else "-"
            print(f"{r.name:<40} {r.seconds:>8.3f} {target:>7} {base:>10} {speed:>8}  "
                  f"{'PASS' if r.passed else 'FAIL':<6}  {r.baseline_name}; {r.note}")
    return 0 if all(r.passed for r in results) else 1
