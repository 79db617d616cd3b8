"""Planner benchmark: a scenario of 2,000 parcels of 100 vertices each, measured (geodesic areas,
overlaps counted once, parks, districts, hubs) with its totals and progress per hub and district,
beside the plain geopandas way of getting the same figures, in the same run (interleaved,
medians of the same number of runs, cold: nothing cached between runs). Target: <= 1.0 s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from geo.parcels import normalise
from geo.workspace import load_workspace

if TYPE_CHECKING:
    from geo.bench import Result


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


def bench_planner(parcels: int = 2_000, *, vertices: int = 100, runs: int = 5) -> Result:
    """Time ``measure_parcels`` + ``totals`` + ``progress`` (city, hubs, districts) against the plain
    geopandas way (equal-area ``to_crs`` + ``area``, self-``sjoin`` + intersections for overlaps,
    ``union_all``, ``sjoin`` to districts and parks), interleaved, cold; both union areas must agree.
    """
    from geo.bench import Contender, Result, measure
    from geo.planner import measure_parcels, progress, totals

    scenario = synthetic_scenario(parcels, vertices=vertices)
    snapshot = load_workspace()  # the layers as the app shows them
    layers = {"parks": snapshot.parks, "districts": snapshot.districts, "hubs": snapshot.hubs}
    unions: dict[str, float] = {}

    def ours() -> None:
        measured = measure_parcels(scenario, **layers)
        for by in (None, "hub_id", "district_id"):
            progress(measured, by=by)
        unions["ours"] = totals(measured).area_m2

    def baseline() -> None:
        from pyproj import CRS

        west, south, east, north = scenario.total_bounds
        crs = CRS.from_proj4(f"+proj=aea +lat_1={south:.4f} +lat_2={north:.4f} +lat_0={south:.4f}"
                             f" +lon_0={(west + east) / 2:.4f} +ellps=WGS84 +units=m")
        frame = scenario.copy()
        frame["geometry"] = frame.geometry.make_valid()
        projected = frame.to_crs(crs)
        pairs = gpd.sjoin(projected[["geometry"]], projected[["geometry"]], predicate="intersects")
        pairs = pairs[pairs.index < pairs["index_right"]]
        projected.geometry.loc[pairs.index].intersection(projected.geometry.loc[pairs["index_right"]],
                                                        align=False).area.sum()
        unions["baseline"] = float(projected.geometry.union_all().area)
        frame["area_m2"] = projected.area.to_numpy()
        points = frame.set_geometry(frame.representative_point())
        joined = gpd.sjoin(points, snapshot.districts[["district_id", "geometry"]], predicate="within", how="left")
        joined.groupby("district_id")["area_m2"].sum()
        gpd.sjoin(points, snapshot.parks[["park_id", "geometry"]].dropna(), predicate="within", how="left")

    project, plain = measure([Contender("geo.planner measure + overlaps + totals + progress", ours),
                              Contender("geopandas to_crs/area/sjoin/union_all, no checks", baseline)], runs)
    agree = abs(unions["ours"] - unions["baseline"]) / unions["baseline"]
    return Result(f"planner: {parcels:,} parcels x {vertices} vertices", project, [plain],
                  target="<= 1.00 s", target_seconds=1.0,
                  checks={"union area equals geopandas' within 0.01 %": agree <= 1e-4},
                  note=f"union {unions['ours'] / 1e6:,.2f} km2, differs from geopandas' by {agree:.1e}")


def bench_planner_edit(parcels: int = 2_000, *, vertices: int = 100, runs: int = 5) -> Result:
    """One parcel's outline moved in a scenario of ``parcels``: measured from the previous version
    (``measure_geometries(previous=...)``, what the Planner does after a map edit) against the
    same scenario measured afresh, interleaved; both must give the same figures to the last bit."""
    from geo.bench import Contender, Result, measure
    from geo.planner import measure_geometries, measure_parcels, totals

    scenario = synthetic_scenario(parcels, vertices=vertices)
    snapshot = load_workspace()
    layers = {"parks": snapshot.parks, "districts": snapshot.districts, "hubs": snapshot.hubs}
    previous = measure_geometries(scenario.geometry.values, **layers)
    edited = scenario.copy()
    edited.loc[edited.index[parcels // 2], "geometry"] = shapely.affinity.translate(
        edited.geometry.iloc[parcels // 2], xoff=0.0005)
    found: dict[str, object] = {}

    def from_previous() -> None:
        geometry = measure_geometries(edited.geometry.values, previous=previous, **layers)
        found["incremental"] = totals(measure_parcels(edited, geometry=geometry, **layers))
        found["counted"] = geometry.counted_m2

    def afresh() -> None:
        geometry = measure_geometries(edited.geometry.values, **layers)
        found["afresh"] = totals(measure_parcels(edited, geometry=geometry, **layers))
        found["counted_afresh"] = geometry.counted_m2

    project, full = measure([Contender("one outline moved, measured from the previous version", from_previous),
                             Contender("the same scenario measured afresh", afresh)], runs)
    same = found["incremental"] == found["afresh"] and np.array_equal(found["counted"], found["counted_afresh"],
                                                                      equal_nan=True)
    return Result(f"planner edit: 1 of {parcels:,} parcels moved", project, [full], target="<= 0.30 s",
                  target_seconds=0.3, checks={"same figures as measured afresh": bool(same)},
                  note="the Planner page's own figures: scripts/bench_planner_page.py (python -m geo bench "
                       "--only planner-page)")


def planner_page_figures(parcels: int = 2_000, *, runs: int = 5) -> dict[str, object]:
    """The Planner page's server times (``scripts/bench_planner_page.py``, run in its own process:
    it drives the page with Streamlit, which ``geo`` does not import)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "bench_planner_page.py"
    if not script.exists():
        raise FileNotFoundError(f"{script} is missing: the page benchmark runs from a checkout of the project")
    done = subprocess.run([sys.executable, str(script), "--parcels", str(parcels), "--runs", str(runs)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout[done.stdout.index("{"):])
