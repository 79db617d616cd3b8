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
