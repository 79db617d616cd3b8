"""Site metrics of the parks: distances and road travel times to what a site selector asks about.

For every park and every category of destination (metro station, tertiary hospital, airport,
NMPA centre) ``site_metrics`` reports the nearest destination, its geodesic straight-line
distance and, when a street network is loaded, the free-flow road travel time and road distance.

Street networks, their free-flow travel times and isochrones are ``geo.streets``: there is no
congestion model, so road times are lower bounds of real driving times, and every row says
which method produced it.

Nothing is measured in degrees: straight-line distances are geodesic
(``geo.projection.geodesic_m`` on the WGS84 ellipsoid), road lengths come from osmnx
(great-circle).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.errors import SiteError
from geo.projection import WGS84, geodesic_m
from geo.shapes import feature_points, is_drawn
from geo.streets import NodeIndex, check_graph, isochrones, synthetic_grid_graph

METHOD_ROAD = "road network"
METHOD_STRAIGHT = "straight line (no street network loaded)"

STATUS_OK = "ok"
STATUS_UNREACHABLE = "unreachable"
STATUS_OFF_NETWORK = "off network"
STATUS_NO_TARGET = "no target"

CATEGORIES: tuple[str, ...] = ("metro_station", "tertiary_hospital", "airport", "nmpa_centre")

# Airports: coordinates of the aerodrome reference points as given in the English Wikipedia
# infoboxes (WGS84), read from copies of those articles:
#   Beijing Capital International Airport (PEK/ZBAA): 40°04′48″N 116°35′04″E = 40.08, 116.58444
#     https://www.airports-worldwide.com/china/capital_intl_china.php (copy of the infobox)
#   Beijing Daxing International Airport (PKX/ZBAD): 39°30′33″N 116°24′38″E = 39.50917, 116.41056
#     https://popflock.com/learn?s=Beijing_Daxing_International_Airport (copy of the article)
AIRPORTS: tuple[dict[str, object], ...] = (
    {"target_id": "airport_pek", "name_zh": "北京首都国际机场",
     "name_en": "Beijing Capital International Airport (PEK)", "lon": 116.58444, "lat": 40.08,
     "source": "Wikipedia infobox (aerodrome reference point)"},
    {"target_id": "airport_pkx", "name_zh": "北京大兴国际机场",
     "name_en": "Beijing Daxing International Airport (PKX)", "lon": 116.41056, "lat": 39.50917,
     "source": "Wikipedia infobox (aerodrome reference point)"},
)

# Kind values of an OpenStreetMap context layer (geo.osm) mapped to target categories.
_CONTEXT_KINDS: dict[str, str] = {
    "metro": "metro_station", "metro_station": "metro_station", "subway": "metro_station",
    "subway_station": "metro_station", "station": "metro_station",
    "hospital": "tertiary_hospital", "tertiary_hospital": "tertiary_hospital",
    "airport": "airport", "aerodrome": "airport",
}
_TERTIARY_COLUMNS = ("tertiary", "is_tertiary", "tertiary_hospital")

TARGET_COLUMNS: tuple[str, ...] = ("target_id", "category", "name_zh", "name_en", "source",
                                   "location_tier", "geometry")
METRIC_COLUMNS: tuple[str, ...] = (
    "park_id", "park_name_zh", "park_name_en", "category", "target_id", "target_name_zh",
    "target_name_en", "target_location_tier", "straight_m", "road_m", "travel_min", "method",
    "status", "origin_snap_m", "target_snap_m", "park_lon", "park_lat", "target_lon", "target_lat",
)



# --------------------------------------------------------------------------- targets


def _point_xy(geometry: gpd.GeoSeries) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if geometry.crs is not None and not geometry.crs.equals(WGS84):
        raise SiteError(f"points are in {geometry.crs.to_string()!r}: reproject them to EPSG:4326")
    return feature_points(geometry)




def targets_frame(snapshot: object, context: gpd.GeoDataFrame | None = None, *,
                  include_airports: bool = True) -> gpd.GeoDataFrame:
    """Collect the destinations of the site metrics into one point layer.

    Parameters
    ----------
    snapshot : geo.snapshot.Snapshot
        Its organisations of kind ``regulator_centre`` (the NMPA centres in the BDA and NIFDC)
        become ``nmpa_centre`` targets.
    context : GeoDataFrame, optional
        An OpenStreetMap context layer (``geo.osm.context_layers``) with ``kind``, ``name_zh``,
        ``name_en``, ``osm_type``/``osm_id`` and, for hospitals, a boolean ``tertiary`` column:
        metro stations, tertiary hospitals (hospitals whose flag is not true are left out) and
        airports; a feature listed for several parks is kept once. Airports in the context
        replace the built-in ones. Only what the context holds can be found: a context built
        with small radii may leave a park without a metro station ("no target").
    include_airports : bool
        Add PEK and PKX at their Wikipedia coordinates (``AIRPORTS``) when the context has none.

    Returns
    -------
    GeoDataFrame
        ``TARGET_COLUMNS``, points in EPSG:4326.
    """
    frames = []
    orgs = snapshot.organisations  # type: ignore[attr-defined]
    regulators = orgs[orgs["kind"] == "regulator_centre"]
    if len(regulators):
        x, y = _point_xy(regulators.geometry)
        frames.append(pd.DataFrame({
            "target_id": regulators["org_id"].to_numpy(), "category": "nmpa_centre",
            "name_zh": regulators["name_zh"].to_numpy(), "name_en": regulators["name_en"].to_numpy(),
            "source": "snapshot organisations",
            "location_tier": (regulators["location_tier"].to_numpy()
                              if "location_tier" in regulators else "site"),
            "lon": x, "lat": y}))
    context_airports = False
    if context is not None and len(context):
        from_context = _context_targets(context)
        context_airports = bool((from_context["category"] == "airport").any())
        frames.append(from_context)
    if include_airports and not context_airports:
        airports = pd.DataFrame(list(AIRPORTS))
        airports["category"] = "airport"
        airports["location_tier"] = "site"
        frames.append(airports)
    if not frames:
        return gpd.GeoDataFrame({c: [] for c in TARGET_COLUMNS[:-1]},
                                geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    table = pd.concat(frames, ignore_index=True)
    geometry = gpd.GeoSeries(shapely.points(table["lon"].to_numpy(np.float64),
                                            table["lat"].to_numpy(np.float64)), crs=4326)
    return gpd.GeoDataFrame(table[list(TARGET_COLUMNS[:-1])], geometry=geometry, crs=4326)


def _context_targets(context: gpd.GeoDataFrame) -> pd.DataFrame:
    if "kind" not in context:
        raise SiteError(f"the context layer has no 'kind' column (columns: {list(context.columns)!r})")
    kinds = context["kind"].astype(str).str.lower()
    category = kinds.map(_CONTEXT_KINDS)
    tertiary_column = next((c for c in _TERTIARY_COLUMNS if c in context), None)
    tertiary = (context[tertiary_column].fillna(False).astype(bool) if tertiary_column
                else pd.Series(kinds == "tertiary_hospital", index=context.index))
    keep = category.notna() & ((category != "tertiary_hospital") | tertiary | (kinds == "tertiary_hospital"))
    chosen = context[keep.to_numpy()]
    x, y = _point_xy(chosen.geometry)
    if "osm_id" in chosen:
        # geo.osm writes ids as "node/123"; bare numbers get their osm_type in front.
        osm_id = chosen["osm_id"].astype(str)
        if "osm_type" in chosen:
            osm_id = osm_id.where(osm_id.str.contains("/"), chosen["osm_type"].astype(str) + "/" + osm_id)
        ids = ("osm:" + osm_id).to_numpy()
    else:
        ids = np.array([f"context_{i}" for i in chosen.index], dtype=object)
    name_zh = chosen["name_zh"] if "name_zh" in chosen else pd.Series("", index=chosen.index)
    name_en = chosen["name_en"] if "name_en" in chosen else pd.Series("", index=chosen.index)
    table = pd.DataFrame({
        "target_id": ids, "category": category[keep].to_numpy(),
        "name_zh": name_zh.to_numpy(), "name_en": name_en.fillna(name_zh).to_numpy(),
        "source": "OpenStreetMap (ODbL)", "location_tier": "site", "lon": x, "lat": y})
    # geo.osm.context_layers lists a feature once per park it is near: keep it once.
    return table.drop_duplicates("target_id", ignore_index=True)


# --------------------------------------------------------------------------- site metrics


def _park_points(parks: gpd.GeoDataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if {"anchor_lon", "anchor_lat"} <= set(parks.columns):
        lon = parks["anchor_lon"].to_numpy(np.float64)
        lat = parks["anchor_lat"].to_numpy(np.float64)
        missing = ~(np.isfinite(lon) & np.isfinite(lat))
        if missing.any():
            gx, gy = _point_xy(parks.geometry[missing])
            lon, lat = lon.copy(), lat.copy()
            lon[missing], lat[missing] = gx, gy
        return lon, lat
    return _point_xy(parks.geometry)


def site_metrics(parks: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, *,
                 graph: nx.MultiDiGraph | None = None, max_snap_m: float = 1500.0,
                 categories: Sequence[str] | None = None) -> pd.DataFrame:
    """Nearest destination of each category for every park, by road or in a straight line.

    Parameters
    ----------
    parks : GeoDataFrame
        ``park_id``, ``name_zh``, ``name_en`` and ``anchor_lon``/``anchor_lat`` (else the
        geometry's point on surface), EPSG:4326. Parks with neither (not on the map) are left
        out.
    targets : GeoDataFrame
        As built by ``targets_frame``.
    graph : networkx.MultiDiGraph, optional
        A street graph with travel times (``load_street_graph``). Without one, the nearest
        target is the nearest in a straight line and ``method`` says so.
    max_snap_m : float
        A park or target further than this from the nearest node of the graph is off the
        network: reported with status ``off network``, not routed.
    categories : sequence of str, optional
        Categories to report, in order; default ``CATEGORIES`` then any other in ``targets``.

    Returns
    -------
    DataFrame
        One row per park and category (``METRIC_COLUMNS``): ``straight_m`` (geodesic metres),
        ``road_m`` and ``travel_min`` (free-flow, from the park's nearest node to the target's
        along the fastest path; NaN without a route), ``method`` (``METHOD_ROAD`` or
        ``METHOD_STRAIGHT``) and ``status`` (``ok``, ``unreachable``, ``off network``,
        ``no target``).
    """
    if not math.isfinite(max_snap_m) or max_snap_m <= 0:
        raise SiteError(f"max_snap_m must be a positive number of metres, not {max_snap_m!r}")
    if categories is None:
        present = list(dict.fromkeys(targets["category"])) if len(targets) else []
        categories = list(CATEGORIES) + [c for c in present if c not in CATEGORIES]
    park_lon, park_lat = _park_points(parks)
    located = np.isfinite(park_lon) & np.isfinite(park_lat)
    if not located.all():  # parks not on the map (tier 'unlocated') have no site to measure from
        parks, park_lon, park_lat = parks[located], park_lon[located], park_lat[located]
    if len(targets):
        target_lon, target_lat = _point_xy(targets.geometry)
    else:
        target_lon = target_lat = np.empty(0, dtype=np.float64)
    n_parks, n_targets = len(parks), len(targets)
    # Every park against every target at once: one vectorised geodesic call.
    straight = geodesic_m(np.repeat(park_lon, n_targets), np.repeat(park_lat, n_targets),
                               np.tile(target_lon, n_parks), np.tile(target_lat, n_parks)
                               ).reshape(n_parks, n_targets)
    target_category = targets["category"].to_numpy() if n_targets else np.empty(0, dtype=object)

    road = None
    if graph is not None:
        road = _RoadTimes(graph, park_lon, park_lat, target_lon, target_lat, max_snap_m=max_snap_m)

    rows = []
    for i in range(n_parks):
        times = lengths = None
        if road is not None:
            times, lengths = road.from_park(i)
        for category in categories:
            members = np.flatnonzero(target_category == category)
            row = {"park_id": parks["park_id"].iloc[i], "park_name_zh": parks["name_zh"].iloc[i],
                   "park_name_en": parks["name_en"].iloc[i], "category": category,
                   "park_lon": park_lon[i], "park_lat": park_lat[i],
                   "method": METHOD_STRAIGHT if road is None else METHOD_ROAD,
                   "road_m": np.nan, "travel_min": np.nan,
                   "origin_snap_m": road.park_snap[i] if road is not None else np.nan,
                   "target_snap_m": np.nan}
            if members.size == 0:
                rows.append({**row, "status": STATUS_NO_TARGET, "straight_m": np.nan})
                continue
            status = STATUS_OK
            chosen = members[np.argmin(straight[i, members])]
            if times is not None:
                reachable = members[np.isfinite(times[members])]
                if reachable.size:
                    chosen = reachable[np.argmin(times[reachable])]
                    row["travel_min"] = times[chosen] / 60.0
                    row["road_m"] = lengths[chosen]
                elif road.park_snap[i] > max_snap_m or (road.target_snap[members] > max_snap_m).all():
                    status = STATUS_OFF_NETWORK
                else:
                    status = STATUS_UNREACHABLE
                row["target_snap_m"] = road.target_snap[chosen]
            rows.append({**row, "status": status, "straight_m": straight[i, chosen],
                         "target_id": targets["target_id"].iloc[chosen],
                         "target_name_zh": targets["name_zh"].iloc[chosen],
                         "target_name_en": targets["name_en"].iloc[chosen],
                         "target_location_tier": (targets["location_tier"].iloc[chosen]
                                                  if "location_tier" in targets else None),
                         "target_lon": target_lon[chosen], "target_lat": target_lat[chosen]})
    result = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    for column in ("straight_m", "road_m", "travel_min", "origin_snap_m", "target_snap_m",
                   "park_lon", "park_lat", "target_lon", "target_lat"):
        result[column] = result[column].astype(np.float64)
    return result


#: The travel-time areas drawn around a park when a street network is loaded (minutes).
PARK_ISOCHRONE_MINUTES: tuple[int, ...] = (15, 30, 45)


def park_origin(parks: gpd.GeoDataFrame, park_id: str) -> tuple[float, float]:
    """Where one park's site metrics and travel-time areas start (lon, lat, WGS84): its sourced
    anchor, else a point on its outline (as ``site_metrics`` measures from).

    Raises
    ------
    SiteError
        If the park is unknown or has no location (tier ``unlocated``).
    """
    lon, lat = _park_points(parks[parks["park_id"] == park_id])
    if len(lon) != 1 or not (np.isfinite(lon[0]) and np.isfinite(lat[0])):
        raise SiteError(f"park {park_id!r} has no location to measure from: pick a park that is on the map")
    return float(lon[0]), float(lat[0])


def park_site_metrics(snapshot: object, park_id: str, *, context: gpd.GeoDataFrame | None = None,
                      graph: nx.MultiDiGraph | None = None) -> pd.DataFrame:
    """One park's site metrics as a site selector reads them (the Parks page's table): the nearest
    metro station and tertiary hospital (from ``context``, an OpenStreetMap context layer), both
    airports (PEK and PKX, each in a row of its own, at their reference points; aerodromes mapped
    in OSM stay in the context layer) and the nearest NMPA centre, by road with ``graph``.

    Returns
    -------
    DataFrame
        ``site_metrics``'s rows for the park; both airport rows have category ``airport``.
    """
    parks = snapshot.parks  # type: ignore[attr-defined]
    targets = targets_frame(snapshot, context)
    airports = targets_frame(snapshot, None)
    airports = airports[airports["category"] == "airport"]
    ids = airports["target_id"].tolist()
    targets = pd.concat([targets[targets["category"] != "airport"], airports.assign(category=ids)],
                        ignore_index=True)
    metrics = site_metrics(parks[parks["park_id"] == park_id], targets, graph=graph,
                           categories=["metro_station", "tertiary_hospital", *ids, "nmpa_centre"])
    metrics["category"] = metrics["category"].where(~metrics["category"].isin(ids), "airport")
    return metrics


def park_isochrones(parks: gpd.GeoDataFrame, park_id: str, graph: nx.MultiDiGraph, *,
                    minutes: Sequence[float] = PARK_ISOCHRONE_MINUTES) -> gpd.GeoDataFrame:
    """The areas reachable by road from the park's origin (``park_origin``) within ``minutes``
    (``geo.streets.isochrones``: free-flow, no congestion)."""
    return isochrones(graph, park_origin(parks, park_id), minutes=minutes)


class _RoadTimes:
    """Fastest paths from each park's nearest node to every target's nearest node."""

    def __init__(self, graph: nx.MultiDiGraph, park_lon: NDArray[np.float64],
                 park_lat: NDArray[np.float64], target_lon: NDArray[np.float64],
                 target_lat: NDArray[np.float64], *, max_snap_m: float) -> None:
        check_graph(graph)
        self.graph = graph
        index = NodeIndex(graph)
        self.park_node, self.park_snap = index.nearest(park_lon, park_lat)
        if len(target_lon):
            self.target_node, self.target_snap = index.nearest(target_lon, target_lat)
        else:
            self.target_node = np.empty(0, dtype=object)
            self.target_snap = np.empty(0, dtype=np.float64)
        self.max_snap_m = max_snap_m

    def from_park(self, i: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Travel time (s) and road length (m) to every target; inf/NaN where there is no route."""
        n = len(self.target_node)
        times = np.full(n, np.inf)
        lengths = np.full(n, np.nan)
        if self.park_snap[i] > self.max_snap_m or n == 0:
            return times, lengths
        pred, dist = nx.dijkstra_predecessor_and_distance(self.graph, self.park_node[i],
                                                          weight="travel_time")
        on_network = self.target_snap <= self.max_snap_m
        for j in np.flatnonzero(on_network):
            node = self.target_node[j]
            if node in dist:
                times[j] = dist[node]
                lengths[j] = self._path_length(pred, node)
        return times, lengths

    def _path_length(self, pred: dict, node: object) -> float:
        total = 0.0
        while pred.get(node):
            previous = pred[node][0]
            # Of parallel edges, the fastest is the one Dijkstra used.
            edge = min(self.graph[previous][node].values(), key=lambda d: d["travel_time"])
            total += float(edge["length"])
            node = previous
        return total


# --------------------------------------------------------------------------- isochrones


def bench_site(*, n_nodes: int = 10_000, snapshot: object | None = None,
               repeat: int = 3, verbose: bool = True) -> dict[str, float]:
    """Time site metrics for every park of the snapshot on a synthetic ~``n_nodes`` grid.

    The grid covers the parks and targets (NMPA centres, both airports); prints and returns
    the timings in seconds (best of ``repeat``).
    """
    if snapshot is None:
        from geo.snapshot import load_snapshot

        snapshot = load_snapshot()
    parks = snapshot.parks[is_drawn(snapshot.parks.geometry)]  # type: ignore[attr-defined]
    targets = targets_frame(snapshot)
    lon = np.concatenate([parks["anchor_lon"].to_numpy(np.float64), shapely.get_x(targets.geometry.values)])
    lat = np.concatenate([parks["anchor_lat"].to_numpy(np.float64), shapely.get_y(targets.geometry.values)])
    bounds = (lon.min() - 0.02, lat.min() - 0.02, lon.max() + 0.02, lat.max() + 0.02)

    def best(function) -> tuple[float, object]:
        times, result = [], None
        for _ in range(max(repeat, 1)):
            start = time.perf_counter()
            result = function()
            times.append(time.perf_counter() - start)
        return min(times), result

    build_s, graph = best(lambda: synthetic_grid_graph(bounds=bounds, n_nodes=n_nodes))
    straight_s, _ = best(lambda: site_metrics(parks, targets))
    road_s, metrics = best(lambda: site_metrics(parks, targets, graph=graph, max_snap_m=50_000.0))
    origin = (float(parks["anchor_lon"].iloc[0]), float(parks["anchor_lat"].iloc[0]))
    iso_s, iso = best(lambda: isochrones(graph, origin, max_snap_m=50_000.0))
    result = {"nodes": float(graph.number_of_nodes()), "edges": float(graph.number_of_edges()),
              "parks": float(len(parks)), "targets": float(len(targets)),
              "build_graph_s": build_s, "site_metrics_straight_s": straight_s,
              "site_metrics_road_s": road_s, "isochrones_s": iso_s}
    if verbose:
        print(f"synthetic grid: {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges"
              f" (built with travel times in {build_s:.2f} s)")
        print(f"site metrics, straight line, {len(parks)} parks x {len(targets)} targets: "
              f"{straight_s * 1000:.1f} ms")
        print(f"site metrics, road network, {len(parks)} parks: {road_s * 1000:.1f} ms"
              f" ({road_s / max(len(parks), 1) * 1000:.1f} ms per park)")
        print(f"isochrones 15/30/45 min from one park: {iso_s * 1000:.1f} ms"
              f" (areas {', '.join(f'{a:.1f}' for a in iso['area_km2'])} km2)")
        reached = int((metrics["status"] == STATUS_OK).sum())
        print(f"rows routed: {reached} of {len(metrics)}")
    return result
