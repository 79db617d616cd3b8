"""Benchmarks of the geo core, each measured against the plain way a user would do the same job.

``python -m geo bench`` prints a table; ``--json`` prints the same figures for machines.

Like with like: the project and its baselines run the same number of times (``runs``, at least
5), interleaved (one round runs the project first, the next runs it last), each after an untimed
warm-up run that only loads code. Every timed run is cold: the import parse cache
(``geo.imports._PARSED``) is cleared before each import run and nothing else is reused between
runs; a warm figure would say so in its label. The table prints the min and median of every
contender, the ratio baseline median / project median (above 1: the project is faster), peak
memory (the resident memory one run adds, measured once more in a forked process) and the
target beside each figure. Each baseline is the strongest plain way: coordTransform's C batch
mode for the datum conversion (its per-point loop beside it, with each one's accuracy);
``pandas.read_csv`` + the vectorised exact inverse + ``points_from_xy`` for a CSV import;
``geopandas.sjoin`` for the join. The benchmark calls the same functions as the app and the CLI.

Why one module: every ``bench_*`` is one job's benchmark, a few dozen lines beside its baseline,
and they share the harness above them (``interleave``, ``measure``, ``Result``, ``format_table``)
and one report (``run_benchmarks``); the planner's and the store's benchmarks, which need their
own fixtures, are ``geo.bench_planner`` and ``geo.bench_store``.
"""

from __future__ import annotations

import gc
import io
import json
import os
import statistics
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np

from geo.datums import gcj02_to_wgs84, wgs84_to_gcj02
from geo.imports import LIMITS, ImportLimits
from geo.joins import locate
from geo.shapes import is_drawn
from geo.snapshot import GEO_FILES, load_snapshot
from geo.workspace import load_workspace

MIN_RUNS = 5


@dataclass(frozen=True)
class Contender:
    """One way of doing a benchmark's job: ``run`` is timed, ``prepare`` (untimed) runs before
    every run, e.g. to clear a cache so that the run is cold."""

    label: str
    run: Callable[[], object]
    prepare: Callable[[], object] | None = None
    accuracy: str = ""


@dataclass
class Figure:
    """The timings of one contender (seconds per run) and the memory one run adds."""

    label: str
    seconds: list[float]
    peak_bytes: int | None = None
    accuracy: str = ""

    @property
    def min_seconds(self) -> float:
        return min(self.seconds)

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class Result:
    """A benchmark: the project's figure, its baselines (the first is the anchor of the ratio)
    and its targets. ``checks`` holds other conditions of the targets (identical results...)."""

    name: str
    project: Figure
    baselines: list[Figure] = field(default_factory=list)
    target: str = ""
    target_seconds: float | None = None
    min_ratio: float | None = None
    max_memory_ratio: float | None = None
    checks: dict[str, bool] = field(default_factory=dict)
    note: str = ""

    @property
    def seconds(self) -> float:
        """The project's median time."""
        return self.project.median_seconds

    @property
    def ratio(self) -> float | None:
        """Baseline median / project median: above 1 the project is faster."""
        if not self.baselines or self.project.median_seconds <= 0:
            return None
        return self.baselines[0].median_seconds / self.project.median_seconds

    @property
    def memory_ratio(self) -> float | None:
        """Project peak memory / baseline peak memory: below 1 the project uses less."""
        base = self.baselines[0].peak_bytes if self.baselines else None
        if base is None or self.project.peak_bytes is None or base <= 0:
            return None
        return self.project.peak_bytes / base

    @property
    def passed(self) -> bool:
        ok = self.target_seconds is None or self.seconds <= self.target_seconds
        if self.min_ratio is not None:
            ok = ok and (self.ratio or 0.0) >= self.min_ratio
        if self.max_memory_ratio is not None:
            ok = ok and self.memory_ratio is not None and self.memory_ratio <= self.max_memory_ratio
        return ok and all(self.checks.values())

    def as_dict(self) -> dict[str, object]:
        def figure(f: Figure) -> dict[str, object]:
            return {"label": f.label, "runs": len(f.seconds), "seconds": f.seconds, "min_s": f.min_seconds,
                    "median_s": f.median_seconds, "peak_bytes": f.peak_bytes, "accuracy": f.accuracy}

        return {"name": self.name, "project": figure(self.project),
                "baselines": [figure(b) for b in self.baselines], "ratio": self.ratio,
                "memory_ratio": self.memory_ratio, "target": self.target,
                "target_seconds": self.target_seconds, "min_ratio": self.min_ratio,
                "max_memory_ratio": self.max_memory_ratio, "checks": self.checks, "note": self.note,
                "passed": self.passed}


def interleave(contenders: Sequence[Contender], runs: int, *, warm_up: bool = True,
               clock: Callable[[], float] = time.perf_counter) -> list[list[float]]:
    """Time every contender ``runs`` times, alternating their order from one round to the next.

    Parameters
    ----------
    contenders : sequence of Contender
        The project first, then its baselines.
    runs : int
        Timed runs of each contender (the same number for all).
    warm_up : bool
        One untimed run of each first (loads modules and code paths, not data).
    clock : callable
        The clock (``time.perf_counter``).

    Returns
    -------
    list of list of float
        Seconds of each run, per contender, in the contenders' order.
    """
    if runs < 1:
        raise ValueError(f"runs must be at least 1, not {runs!r}")
    if warm_up:
        for contender in contenders:
            _prepare(contender)
            contender.run()
    times: list[list[float]] = [[] for _ in contenders]
    order = list(range(len(contenders)))
    for round_number in range(runs):
        for position in order if round_number % 2 == 0 else order[::-1]:
            contender = contenders[position]
            _prepare(contender)
            start = clock()
            contender.run()
            times[position].append(clock() - start)
    return times


def _prepare(contender: Contender) -> None:
    if contender.prepare is not None:
        contender.prepare()
    gc.collect()


def _status_kib(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise KeyError(field_name)


def peak_memory(contender: Contender) -> int | None:
    """The resident memory one run adds at its peak, in bytes: measured in a forked child whose
    peak counter is reset after ``prepare`` (Linux only; None elsewhere or if the run fails)."""
    clear_refs = Path("/proc/self/clear_refs")
    if not hasattr(os, "fork") or not clear_refs.exists():
        return None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report, leave without running the parent's cleanup
        status = 1
        try:
            os.close(read_end)
            _prepare(contender)
            start = _status_kib("VmRSS")
            clear_refs.write_text("5")  # resets VmHWM (the peak) to the current resident size
            contender.run()
            os.write(write_end, str((_status_kib("VmHWM") - start) * 1024).encode())
            status = 0
        except Exception:  # noqa: BLE001 - reported by the parent as "no figure"
            traceback.print_exc()
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    return int(text) if text else None


def measure(contenders: Sequence[Contender], runs: int, *, memory: bool = True,
            warm_up: bool = True) -> list[Figure]:
    """Interleaved timings (and peak memory) of each contender, as Figures."""
    times = interleave(contenders, runs, warm_up=warm_up)
    return [Figure(c.label, t, peak_memory(c) if memory else None, c.accuracy)
            for c, t in zip(contenders, times, strict=True)]


def _beijing_points(n: int, seed: int = 20241124) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(115.42, 117.50, n), rng.uniform(39.44, 41.06, n)


def _error_m(lon: np.ndarray, lat: np.ndarray, true_lon: np.ndarray, true_lat: np.ndarray) -> float:
    return float(np.max(np.hypot((np.asarray(lon) - true_lon) * 85_000.0, (np.asarray(lat) - true_lat) * 111_000.0)))


def bench_load(runs: int = MIN_RUNS) -> Result:
    """Load and verify the snapshot (target 0.3 s) against reading its files with geopandas."""
    import geopandas as gpd

    snapshot = load_snapshot()
    files = [snapshot.directory / GEO_FILES[name] for name in GEO_FILES]
    project, baseline = measure([Contender("load_snapshot (checksums, checks)", load_snapshot),
                                 Contender("geopandas.read_file of each layer, no checks",
                                           lambda: [gpd.read_file(f) for f in files])], runs, memory=False)
    features = sum(len(snapshot.layer(n)) for n in ("districts", "hubs", "parks", "organisations"))
    return Result("load + verify snapshot", project, [baseline], target="<= 0.30 s", target_seconds=0.3,
                  note=f"{features} features")


def bench_datum(points: int, runs: int = MIN_RUNS, *, loop: bool | None = None) -> Result:
    """GCJ-02 -> WGS84 exact on ``points`` points against coordTransform's C batch mode (the speed
    anchor: one step, metres off) and, up to 1 M points, its per-point loop."""
    import coordTransform

    lon, lat = _beijing_points(points)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    c_lon, c_lat = coordTransform.gcj02_to_wgs84(g_lon, g_lat)
    contenders = [
        Contender("geo.datums.gcj02_to_wgs84 (exact)", lambda: gcj02_to_wgs84(g_lon, g_lat),
                  accuracy=f"max error {_error_m(w_lon, w_lat, lon, lat) * 1000:.3f} mm"),
        Contender("coordTransform C batch gcj02_to_wgs84(array, array)",
                  lambda: coordTransform.gcj02_to_wgs84(g_lon, g_lat),
                  accuracy=f"max error {_error_m(c_lon, c_lat, lon, lat):.2f} m (one step)"),
    ]
    if loop if loop is not None else points <= 1_000_000:
        scalar = coordTransform.gcj02_to_wgs84
        xs, ys = g_lon.tolist(), g_lat.tolist()
        contenders.append(Contender("coordTransform per-point loop",
                                    lambda: [scalar(x, y) for x, y in zip(xs, ys, strict=True)],
                                    accuracy="as its C batch (one step)"))
    figures = measure(contenders, runs)
    del c_lon, c_lat
    return Result(f"GCJ-02 -> WGS84 exact, {points:,} pts", figures[0], figures[1:],
                  target=">= 1.0x coordTransform C batch; round trip < 1 mm", min_ratio=1.0,
                  checks={"round trip < 1 mm": _error_m(w_lon, w_lat, lon, lat) < 0.001},
                  note=f"memory per point: {(figures[0].peak_bytes or 0) / points:.0f} B "
                       "(the 16 B output and the chunks' temporaries)")


def bench_datum_scaling(points: int, large_points: int, runs: int = MIN_RUNS,
                        max_factor: float = 5.5) -> Result:
    """How the exact conversion grows: ``large_points`` and ``points`` interleaved in one run;
    target: the large median <= ``max_factor`` x the small one (5.5x for 5x the points)."""
    small_lon, small_lat = wgs84_to_gcj02(*_beijing_points(points))
    large_lon, large_lat = wgs84_to_gcj02(*_beijing_points(large_points))
    large, small = measure([Contender(f"gcj02_to_wgs84, {large_points:,} pts", lambda: gcj02_to_wgs84(large_lon, large_lat)),
                            Contender(f"gcj02_to_wgs84, {points:,} pts", lambda: gcj02_to_wgs84(small_lon, small_lat))],
                           runs, memory=False)
    factor = large.median_seconds / small.median_seconds
    return Result(f"GCJ-02 -> WGS84 growth {points:,} -> {large_points:,} pts", large, [small],
                  target=f"large <= {max_factor}x small", checks={f"<= {max_factor}x": factor <= max_factor},
                  note=f"large / small = {factor:.2f}x for {large_points / points:g}x the points")


def bench_join(points: int, runs: int = MIN_RUNS) -> Result:
    """Locate points in parks and districts against geopandas.sjoin (target >= 4x, same results)."""
    import geopandas as gpd

    snapshot = load_workspace()  # the parks as the app shows them
    x, y = _beijing_points(points, seed=7)
    districts = np.asarray(snapshot.districts.geometry.values, dtype=object)
    parks = np.asarray(snapshot.parks.geometry.values, dtype=object)
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    park_frame = snapshot.parks[["park_id", "geometry"]].reset_index(drop=True)
    district_frame = snapshot.districts[["district_id", "geometry"]].reset_index(drop=True)

    def ours() -> tuple[np.ndarray, np.ndarray]:
        return locate(x, y, parks), locate(x, y, districts)

    def baseline() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        return (gpd.sjoin(frame, park_frame, predicate="within", how="left"),
                gpd.sjoin(frame, district_frame, predicate="within", how="left"))

    figures = measure([Contender("geo.joins.locate (parks, districts)", ours),
                       Contender("geopandas.sjoin within, both layers", baseline)], runs)
    identical = all(_same_as_sjoin(mine, theirs) for mine, theirs in zip(ours(), baseline(), strict=True))
    found = int((locate(x, y, districts) >= 0).sum())
    return Result(f"join {points:,} pts to parks + districts", figures[0], figures[1:],
                  target=">= 4.0x sjoin, identical results", min_ratio=4.0,
                  checks={"identical to sjoin": identical},
                  note=f"{found:,} points inside a district; memory per point "
                       f"{(figures[0].peak_bytes or 0) / points:.0f} B")


def _same_as_sjoin(positions: np.ndarray, joined: object) -> bool:
    """Whether locate's polygon positions equal sjoin's matches (the first polygon where several hold the point)."""
    first = joined["index_right"].groupby(level=0).min()  # type: ignore[index]
    expected = first.reindex(range(len(positions))).fillna(-1).to_numpy().astype(np.intp)
    return bool(np.array_equal(positions, expected))


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


def bench_osm(elements: int = 100_000, runs: int = MIN_RUNS) -> Result:
    """Parse an OSM XML extract of ``elements`` elements and match the parks (target 10 s)."""
    import tempfile

    import osmnx as ox

    from geo.osm import DEFAULT_TAGS, match_parks, read_osm_file

    snapshot = load_workspace()
    parks, districts = snapshot.parks, snapshot.districts
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.osm")
        written = _write_osm_extract(path, elements=elements, parks=parks, districts=districts)
        outcome: dict[str, object] = {}

        def ours() -> None:
            outcome["features"] = features = read_osm_file(path)
            outcome["matches"] = match_parks(features, parks, districts=districts)

        figures = measure([Contender("geo.osm read + match", ours),
                           Contender("osmnx.features_from_xml alone (no versions, no match)",
                                     lambda: ox.features_from_xml(path, tags=DEFAULT_TAGS))], runs, memory=False)
    matches = outcome["matches"]
    best = matches[matches["rank"] == 1]  # type: ignore[index]
    found = int((best["name_score"] >= 0.99).sum())
    return Result(f"OSM XML {written:,} elements: parse + match", figures[0], figures[1:],
                  target="<= 10 s", target_seconds=10.0,
                  note=f"{len(outcome['features']):,} features, {found}/{len(parks)} parks matched by name")  # type: ignore[arg-type]


def gcj02_table(rows: int, *, seed: int = 11) -> bytes:
    """A CSV of ``rows`` named enterprises with Gaode (GCJ-02) coordinates across Beijing."""
    rng = np.random.default_rng(seed)
    lon, lat = _beijing_points(rows, seed=seed)
    kinds = np.array(["innovative_drugs", "medical_devices", "cro_cdmo", "diagnostics"])[rng.integers(0, 4, rows)]
    lines = ["企业名称,高德经度,高德纬度,行业"]
    lines += [f"企业{i},{x:.6f},{y:.6f},{k}" for i, (x, y, k) in enumerate(zip(lon, lat, kinds, strict=True))]
    return "\n".join(lines).encode("utf-8")



def bench_limits(rows: int) -> ImportLimits:
    """Import limits raised for a benchmark of ``rows`` rows (the app's limits are ``geo.imports.LIMITS``)."""
    return ImportLimits(max_file_bytes=max(LIMITS.max_file_bytes, rows * 100),
                        max_uncompressed_bytes=LIMITS.max_uncompressed_bytes,
                        max_archive_entries=LIMITS.max_archive_entries,
                        max_features=max(LIMITS.max_features, rows), max_vertices=max(LIMITS.max_vertices, rows),
                        max_columns=LIMITS.max_columns)


def _plain_read(data: bytes) -> object:
    """The plain way to read a GCJ-02 CSV: pandas, the vectorised exact inverse, points_from_xy."""
    import geopandas as gpd
    import pandas as pd

    table = pd.read_csv(io.BytesIO(data))
    lon, lat = gcj02_to_wgs84(table["高德经度"].to_numpy(), table["高德纬度"].to_numpy())
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=4326)


def bench_import(rows: int = 100_000, runs: int = MIN_RUNS) -> Result:
    """Import a GCJ-02 CSV (lon, lat, name; first import, cold) against a plain read
    (targets: <= 1.2x its time, <= 1.3x its peak memory)."""
    from geo import imports

    data = gcj02_table(rows)
    limits = bench_limits(rows)

    def ours() -> object:
        return imports.read_upload(data, filename="firms.csv", datum="gcj02", limits=limits)

    layer = ours()
    plain = _plain_read(data)
    same = (len(layer.frame) == len(plain) and np.allclose(layer.frame.geometry.x, plain.geometry.x, rtol=0, atol=1e-12)
            and np.allclose(layer.frame.geometry.y, plain.geometry.y, rtol=0, atol=1e-12))
    del layer, plain
    figures = measure([Contender("geo.imports.read_upload (cold: parse cache cleared)", ours,
                                 prepare=imports._PARSED.clear),
                       Contender("pandas.read_csv + exact inverse + points_from_xy", lambda: _plain_read(data))], runs)
    return Result(f"import {rows:,}-row GCJ-02 CSV", figures[0], figures[1:],
                  target="<= 1.2x plain time (ratio >= 0.83), <= 1.3x its memory",
                  min_ratio=1 / 1.2, max_memory_ratio=1.3, checks={"same points as the plain read": same},
                  note=f"{len(data) / 1e6:.1f} MB; limits raised to {rows:,} rows; datum, checks, row report included")


def bench_import_join(rows: int = 100_000, runs: int = MIN_RUNS) -> Result:
    """Import a GCJ-02 CSV and join it to parks, districts and hubs, against a plain read +
    geopandas.sjoin to parks and districts (target: no slower)."""
    import geopandas as gpd

    from geo import imports
    from geo.joins import place_layer

    data = gcj02_table(rows)
    limits = bench_limits(rows)
    snapshot = load_workspace()
    park_frame = snapshot.parks[["park_id", "geometry"]]
    district_frame = snapshot.districts[["district_id", "geometry"]]

    def ours() -> None:
        layer = imports.read_upload(data, filename="firms.csv", datum="gcj02", limits=limits)
        place_layer(layer.frame, parks=snapshot.parks, districts=snapshot.districts, hubs=snapshot.hubs,
                    category_column="行业")

    def baseline() -> None:
        frame = _plain_read(data)
        gpd.sjoin(frame, park_frame, predicate="within", how="left")
        gpd.sjoin(frame, district_frame, predicate="within", how="left")

    figures = measure([Contender("read_upload + place_layer (cold)", ours, prepare=imports._PARSED.clear),
                       Contender("plain read + geopandas.sjoin parks, districts", baseline)], runs)
    return Result(f"import {rows:,}-row GCJ-02 CSV + join", figures[0], figures[1:],
                  target="<= plain read + sjoin (ratio >= 1.0)", min_ratio=1.0,
                  note="ours also counts per park, district, hub and category")


def bench_refusal(rows: int = 250_000, runs: int = MIN_RUNS) -> Result:
    """A CSV over the feature-count limit (app limits) must be refused within 0.3 s."""
    import pandas as pd

    from geo import imports
    from geo.errors import LimitExceededError

    data = gcj02_table(rows)
    messages: list[str] = []

    def ours() -> None:
        try:
            imports.read_upload(data, filename="firms.csv", datum="gcj02")
        except LimitExceededError as exc:
            messages.append(str(exc))
        else:
            messages.append("not refused")

    figures = measure([Contender("geo.imports.read_upload refuses (cold)", ours, prepare=imports._PARSED.clear),
                       Contender("pandas.read_csv of the whole file", lambda: pd.read_csv(io.BytesIO(data)))], runs)
    message = messages[-1]
    return Result(f"refuse a {rows:,}-row CSV (count limit {imports.LIMITS.max_features:,})", figures[0],
                  figures[1:], target="<= 0.30 s, the limit named", target_seconds=0.3,
                  checks={"refused, naming the limit and the file's count": "feature count limit" in message
                          and f"{rows:,}" in message},
                  note=message)


_ADDRESS_PATTERNS = (
    "北京市昌平区中关村生命科学园生命园路{n}号院{b}号楼", "北京市昌平区回龙观镇生命园路{n}号院", "北京经济技术开发区科创{b}街{n}号",
    "北京市北京经济技术开发区荣京东街甲{n}号", "北京市大兴区中关村科技园区大兴生物医药产业基地天富街{n}号{b}幢",
    "北京市大兴区思邈路{n}号", "北京市海淀区中关村大街{n}号{b}层", "北京市朝阳区建国路{n}号", "北京市通州区北马厂{n}号",
    "北京市门头沟区中国心谷{b}号楼", "No. {n} Life Science Park Road, Changping District, Beijing",
    "Room {b}01, No. {n} Zhongguancun Street, Haidian District, Beijing", "上海市浦东新区张江路{n}号",
    "北京市海淀区温泉镇白家疃{n}号", "某某大厦{b}层", "北京市丰台区南四环西路{n}号", "北京市昌平区未来科学城{n}号",
)


def address_table(rows: int, *, seed: int = 14) -> bytes:
    """A CSV of ``rows`` company names and Beijing-style addresses (parks, roads in parks,
    districts, towns, English, outside Beijing, unplaceable), mostly distinct."""
    rng = np.random.default_rng(seed)
    pattern = rng.integers(0, len(_ADDRESS_PATTERNS), rows)
    numbers = rng.integers(1, 400, rows)
    blocks = rng.integers(1, 20, rows)
    lines = ["企业名称,注册地址,行业"]
    for i in range(rows):
        address = _ADDRESS_PATTERNS[pattern[i]].format(n=numbers[i], b=blocks[i])
        lines.append(f'企业{i}有限公司,"{address}",{("医药", "器械", "服务")[i % 3]}')
    return ("\n".join(lines) + "\n").encode("utf-8")


def bench_locate(rows: int = 10_000, runs: int = MIN_RUNS) -> Result:
    """Locate an address-only list offline (read_upload with the offline locator, built in the
    run) and join it to parks, districts and hubs, beside the plain pandas read of the same file
    (target: <= 2.0 s for 10,000 rows)."""
    import io

    import pandas as pd

    from geo import imports
    from geo.joins import place_layer
    from geo.locate import OfflineLocator

    data = address_table(rows)
    snapshot = load_snapshot()
    placed: dict[str, int] = {}

    def ours() -> None:
        layer = imports.read_upload(data, filename="firms.csv", locators=[OfflineLocator.from_snapshot(snapshot)])
        place_layer(layer.frame, parks=snapshot.parks, districts=snapshot.districts, hubs=snapshot.hubs,
                    category_column="行业")
        placed.update(layer.located.summary())

    def baseline() -> None:
        pd.read_csv(io.BytesIO(data))

    figures = measure([Contender("read_upload + offline locator + place_layer (cold)", ours,
                                 prepare=imports._PARSED.clear),
                       Contender("plain pandas.read_csv (no locating)", baseline)], runs)
    return Result(f"locate {rows:,}-row address list offline + join", figures[0], figures[1:],
                  target="<= 2.0 s", target_seconds=2.0,
                  note="tiers " + ", ".join(f"{k} {v}" for k, v in placed.items()) + "; the baseline only reads")


def named_features(count: int, *, seed: int = 14) -> gpd.GeoDataFrame:
    """``count`` named OpenStreetMap points in Beijing as ``geo.locate_osm.read_named_features``
    gives them: companies ``企业{i}有限公司`` (the names of ``address_table``'s rows), half with
    ``addr:street`` + ``addr:housenumber``."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    lon = rng.uniform(116.10, 116.60, count)
    lat = rng.uniform(39.75, 40.15, count)
    streets = np.array(["生命园路", "思邈路", "中关村大街", "建国路", "天富街", "荣京东街"], dtype=object)
    has_address = rng.random(count) < 0.5
    frame = gpd.GeoDataFrame({
        "osm_id": [f"node/{i + 1}" for i in range(count)], "osm_type": "node", "osm_ref": np.arange(1, count + 1),
        "osm_version": 1, "osm_timestamp": "2024-05-01T08:00:00+00:00",
        "name": [f"企业{i}有限公司" for i in range(count)],
        "addr:street": np.where(has_address, streets[rng.integers(0, len(streets), count)], None),
        "addr:housenumber": np.where(has_address, rng.integers(1, 200, count).astype(str), None)},
        geometry=gpd.points_from_xy(lon, lat), crs=4326)
    frame.attrs["source"] = "synthetic extract"
    return frame


def bench_locate_osm(rows: int = 2_000, features: int = 5_000, runs: int = MIN_RUNS) -> Result:
    """Locate an address list on an OpenStreetMap extract's named features, then offline
    (read_upload with the osm and offline locators, the OSM locator built in the run), beside the
    offline locator alone."""
    from geo import imports
    from geo.locate import OfflineLocator
    from geo.locate_osm import OSMLocator

    data = address_table(rows)
    snapshot = load_snapshot()
    extract = named_features(features)
    placed: dict[str, int] = {}

    def ours() -> None:
        offline = OfflineLocator.from_snapshot(snapshot)
        locator = OSMLocator(extract, districts=snapshot.districts, parks=snapshot.parks, offline=offline)
        layer = imports.read_upload(data, filename="firms.csv", locators=[locator, offline])
        placed.update(layer.located.summary())

    def offline_only() -> None:
        imports.read_upload(data, filename="firms.csv", locators=[OfflineLocator.from_snapshot(snapshot)])

    figures = measure([Contender(f"read_upload + OSM locator ({features:,} named features) + offline (cold)", ours,
                                 prepare=imports._PARSED.clear),
                       Contender("read_upload + offline locator only (cold)", offline_only,
                                 prepare=imports._PARSED.clear)], runs)
    return Result(f"locate {rows:,}-row address list on an OSM extract, then offline", figures[0], figures[1:],
                  note="tiers " + ", ".join(f"{k} {v}" for k, v in placed.items())
                       + "; every row's candidates kept for the review")


BENCHMARKS = ("load", "datum", "join", "import", "refusal", "osm", "planner", "planner-page", "locate",
              "locate_osm")


def run_benchmarks(*, points: int = 1_000_000, as_json: bool = False, runs: int = MIN_RUNS,
                   only: Sequence[str] | None = None, large_points: int | None = None,
                   import_rows: Sequence[int] = (100_000, 1_000_000)) -> int:
    """Run the benchmarks (all, or those named in ``only``), print the table (or JSON) and return
    0 if every target is met, 1 otherwise.

    ``points`` is the size of the conversion and join benchmarks; they run again at
    ``large_points`` (5x ``points`` by default) to show how they grow.
    """
    chosen = set(only or BENCHMARKS)
    unknown = chosen - set(BENCHMARKS)
    if unknown:
        raise ValueError(f"unknown benchmark(s) {sorted(unknown)}: choose from {', '.join(BENCHMARKS)}")
    if runs < MIN_RUNS:
        raise ValueError(f"runs must be at least {MIN_RUNS} (medians of fewer runs are noise), not {runs}")
    large = large_points or points * 5
    results: list[Result] = []
    if "load" in chosen:
        results.append(bench_load(runs))
    if "datum" in chosen:
        results += [bench_datum(points, runs), bench_datum(large, runs), bench_datum_scaling(points, large, runs)]
    if "join" in chosen:
        results += [bench_join(points, runs), bench_join(large, runs)]
    if "import" in chosen:
        for rows in import_rows:
            results.append(bench_import(rows, runs))
        results.append(bench_import_join(min(import_rows), runs))
    if "refusal" in chosen:
        results.append(bench_refusal(runs=runs))
    if "osm" in chosen:
        results.append(bench_osm(runs=runs))
    if "planner" in chosen:
        from geo.bench_planner import bench_planner

        results.append(bench_planner(runs=runs))
        from geo.bench_planner import bench_planner_edit

        results.append(bench_planner_edit(runs=runs))
    if "locate" in chosen:
        results.append(bench_locate(runs=runs))
    if "locate_osm" in chosen:
        results.append(bench_locate_osm(runs=runs))
    page: dict[str, object] = {}
    if "planner-page" in chosen:
        from geo.bench_planner import planner_page_figures

        page = planner_page_figures(runs=runs)
    if as_json:
        print(json.dumps({"machine": machine(), "runs": runs, "results": [r.as_dict() for r in results],
                          **({"planner_page": page} if page else {})}, indent=2, ensure_ascii=False))
    else:
        print(format_table(results, runs=runs))
        if page:
            print("\nPlanner page, server time (scripts/bench_planner_page.py):")
            print("\n".join(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}"
                            for key, value in page.items()))
    page_ok = not page or float(page["rerun_after_outline_edit_median_s"]) <= float(page["target_rerun_after_edit_s"])
    return 0 if all(r.passed for r in results) and page_ok else 1


def machine() -> dict[str, object]:
    """Where the figures were measured: cores and the load average when they were printed."""
    import platform

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cpus": os.cpu_count(), "load_average_1_5_15": load, "python": platform.python_version(),
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}


def _megabytes(value: int | None) -> str:
    return "-" if value is None else f"{value / 1e6:.0f} MB"


def format_table(results: Sequence[Result], *, runs: int) -> str:
    """The benchmark table: per benchmark the project's and baselines' min / median / peak memory,
    the ratio baseline / project, the target and PASS or FAIL."""
    info = machine()
    lines = [f"{info['date_utc']} UTC, {info['cpus']} CPUs, load average {info['load_average_1_5_15']},"
             f" {runs} interleaved runs each (ratio = baseline median / project median)"]
    for r in results:
        lines.append("")
        lines.append(f"{r.name}  [{'PASS' if r.passed else 'FAIL'}]  target: {r.target}")
        for role, f in [("project", r.project)] + [("baseline", b) for b in r.baselines]:
            accuracy = f"  {f.accuracy}" if f.accuracy else ""
            lines.append(f"  {role:<8} {f.label:<56} min {f.min_seconds:8.3f} s  median {f.median_seconds:8.3f} s"
                         f"  peak {_megabytes(f.peak_bytes):>7}{accuracy}")
        summary = []
        if r.ratio is not None:
            summary.append(f"ratio {r.ratio:.2f}x")
        if r.memory_ratio is not None:
            summary.append(f"memory project/baseline {r.memory_ratio:.2f}x")
        summary += [f"{name}: {'yes' if ok else 'NO'}" for name, ok in r.checks.items()]
        if r.note:
            summary.append(r.note)
        lines.append("  " + "; ".join(summary))
    return "\n".join(lines)
