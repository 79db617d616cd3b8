"""Planner benchmark: a scenario of 2,000 parcels of 100 vertices each, measured (geodesic areas,
overlaps counted once, parks, districts, hubs) with its totals and progress per hub and district,
beside the plain geopandas way of getting the same figures, in the same run (interleaved,
medians of the same number of runs, cold: nothing cached between runs). Target: <= 1.0 s.
"""

from __future__ import annotations

import statistics
import time

import geopandas as gpd
import numpy as np
import shapely

from geo.parcels import normalise
from geo.snapshot import load_snapshot


def synthetic_scenario(parcels: int = 2_000, *, vertices: int = 100, seed: int = 28) -> gpd.GeoDataFrame:
    """``parcels`` oval parcels of ``vertices`` vertices across the core hubs, about one in ten
    overlapping a neighbour (planners' drafts overlap)."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(116.15, 116.65, parcels)
    lat = rng.uniform(39.70, 40.20, parcels)
    lon[1::10] = lon[0::10][: len(lon[1::10])] + 0.003  # every tenth parcel overlaps the one before
    lat[1::10] = lat[0::10][: len(lat[1::10])]
    angles = np.linspace(0.0, 2.0 * np.pi, vertices, endpoint=False)
    rings = np.stack([lon[:, None] + 0.004 * np.cos(angles), lat[:, None] + 0.003 * np.sin(angles)], axis=-1)
    polygons = shapely.polygons(rings)
    uses = np.array(["industrial_land", "standard_factory", "other"])[rng.integers(0, 3, parcels)]
    statuses = np.array(["planned", "under_construction", "completed"])[rng.integers(0, 3, parcels)]
    return normalise(gpd.GeoDataFrame({"name": [f"lot {i + 1}" for i in range(parcels)], "use": uses,
                                       "status": statuses}, geometry=polygons, crs=4326))


def bench_planner(parcels: int = 2_000, *, vertices: int = 100, runs: int = 5) -> dict[str, object]:
    """Time ``measure_parcels`` + ``totals`` + ``progress`` (city, hubs, districts) against geopandas.

    Returns a dict with the medians and minimums of both, the ratio (baseline median / ours),
    the union area both found (they must agree) and the target.
    """
    from geo.planner import measure_parcels, progress, totals

    scenario = synthetic_scenario(parcels, vertices=vertices)
    snapshot = load_snapshot()
    layers = {"parks": snapshot.parks, "districts": snapshot.districts, "hubs": snapshot.hubs}

    def ours() -> float:
        measured = measure_parcels(scenario, **layers)
        for by in (None, "hub_id", "district_id"):
            progress(measured, by=by)
        return totals(measured).area_m2

    def baseline() -> float:
        from pyproj import CRS

        bounds = scenario.total_bounds
        crs = CRS.from_proj4(f"+proj=aea +lat_1={bounds[1]:.4f} +lat_2={bounds[3]:.4f} +lat_0={bounds[1]:.4f}"
                             f" +lon_0={(bounds[0] + bounds[2]) / 2:.4f} +ellps=WGS84 +units=m")
        frame = scenario.copy()
        frame["geometry"] = frame.geometry.make_valid()
        projected = frame.to_crs(crs)
        projected["area_m2"] = projected.area
        pairs = gpd.sjoin(projected[["geometry"]], projected[["geometry"]], predicate="intersects")
        pairs = pairs[pairs.index < pairs["index_right"]]
        _ = projected.geometry.loc[pairs.index].intersection(
            projected.geometry.loc[pairs["index_right"]], align=False).area
        union = projected.geometry.union_all().area
        frame["area_m2"] = projected["area_m2"].to_numpy()
        points = frame.set_geometry(frame.representative_point())
        joined = gpd.sjoin(points, snapshot.districts[["district_id", "geometry"]], predicate="within", how="left")
        joined.groupby("district_id")["area_m2"].sum()
        gpd.sjoin(points, snapshot.parks[["park_id", "geometry"]].dropna(), predicate="within", how="left")
        return float(union)

    ours_times, base_times, union_ours, union_base = [], [], 0.0, 0.0
    for _ in range(runs):  # interleaved, so both see the same machine
        start = time.perf_counter()
        union_ours = ours()
        ours_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        union_base = baseline()
        base_times.append(time.perf_counter() - start)
    ours_median, base_median = statistics.median(ours_times), statistics.median(base_times)
    return {"name": f"planner: {parcels:,} parcels x {vertices} vertices measured + overlaps + totals",
            "ours_median_s": ours_median, "ours_min_s": min(ours_times),
            "baseline": "geopandas: to_crs(equal-area) + area + sjoin self-overlaps + union_all + sjoin districts/parks",
            "baseline_median_s": base_median, "baseline_min_s": min(base_times),
            "ratio": base_median / ours_median if ours_median else None,
            "union_m2_ours": union_ours, "union_m2_baseline": union_base,
            "target_s": 1.0, "passed": ours_median <= 1.0 and abs(union_ours - union_base) <= 1e-4 * union_base}
