"""Site metrics of the parks: distances and road travel times to what a site selector asks about.

For every park and every category of destination (metro station, tertiary hospital, airport,
NMPA centre) ``site_metrics`` reports the nearest destination, its geodesic straight-line
distance and, when a street network is loaded, the free-flow road travel time and road distance.
``isochrones`` draws the areas reachable from a point within 15 / 30 / 45 minutes.

Street networks come from OpenStreetMap XML files (``.osm`` / ``.osm.bz2``) read with osmnx,
entirely offline. Travel times are **free-flow** times on the road class speeds (``maxspeed``
where mapped, ``DEFAULT_SPEEDS_KPH`` otherwise): there is no congestion model, so they are
lower bounds of real driving times, and every row says which method produced it.

Nothing is measured in degrees: straight-line distances are geodesic (``pyproj.Geod`` on the
WGS84 ellipsoid), road lengths come from osmnx (great-circle), and isochrone polygons are built
in the local UTM zone and measured with ``geo.measure``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Geod, Transformer

from geo.errors import GeoError
from geo.measure import areas
from geo.shapes import is_drawn

NetworkType = Literal["drive", "walk"]
NETWORK_TYPES: tuple[str, ...] = ("drive", "walk")

METHOD_ROAD = "road network"
METHOD_STRAIGHT = "straight line (no street network loaded)"

STATUS_OK = "ok"
STATUS_UNREACHABLE = "unreachable"
STATUS_OFF_NETWORK = "off network"
STATUS_NO_TARGET = "no target"

CATEGORIES: tuple[str, ...] = ("metro_station", "tertiary_hospital", "airport", "nmpa_centre")

# Free-flow speeds (km/h) for road classes whose ways carry no ``maxspeed`` tag. OSM China maps
# 城市快速路 / national expressways as motorway or trunk, 主干路 as primary, 次干路 as secondary,
# 支路 as tertiary. The values are the middle of the design-speed ranges of the Chinese urban
# road design code (CJJ 37-2012: expressway 60-100, arterial 40-60, sub-arterial 30-50, branch
# 20-40 km/h) and of JTG B01 for expressways (80-120); they are assumptions, not measurements.
DEFAULT_SPEEDS_KPH: dict[str, float] = {
    "motorway": 100.0, "motorway_link": 50.0,
    "trunk": 80.0, "trunk_link": 40.0,
    "primary": 50.0, "primary_link": 40.0,
    "secondary": 40.0, "secondary_link": 30.0,
    "tertiary": 30.0, "tertiary_link": 25.0,
    "unclassified": 30.0, "road": 30.0,
    "residential": 20.0, "living_street": 10.0, "service": 15.0,
}
FALLBACK_SPEED_KPH = 30.0
WALK_SPEED_KPH = 4.8

# Ways a car cannot use (after osmnx's "drive" filter) and ways a pedestrian cannot use.
_NOT_DRIVABLE = frozenset({
    "abandoned", "bridleway", "bus_guideway", "busway", "construction", "corridor", "crossing",
    "cycleway", "elevator", "escalator", "footway", "no", "path", "pedestrian", "planned",
    "platform", "proposed", "raceway", "razed", "sidewalk", "steps", "track", "via_ferrata",
})
_NOT_DRIVABLE_SERVICE = frozenset({"alley", "driveway", "emergency_access", "parking",
                                   "parking_aisle", "private"})
_NOT_WALKABLE = frozenset({"abandoned", "bus_guideway", "busway", "construction", "cycleway",
                           "motorway", "motorway_link", "planned", "platform", "proposed",
                           "raceway", "razed"})
_NO_ACCESS = frozenset({"no", "private"})

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

_GEOD = Geod(ellps="WGS84")
WGS84 = CRS.from_epsg(4326)


class StreetGraphError(GeoError, ValueError):
    """A street network file that cannot be read or holds no usable roads."""


class SiteError(GeoError, ValueError):
    """Bad input to a site metric or an isochrone: an unknown option or an unusable point."""


# --------------------------------------------------------------------------- street graphs


def load_street_graph(path: str | Path, *, network_type: NetworkType = "drive",
                      speeds_kph: dict[str, float] | None = None,
                      fallback_kph: float = FALLBACK_SPEED_KPH) -> nx.MultiDiGraph:
    """Read an OpenStreetMap XML file into a routable street graph with travel times.

    Parameters
    ----------
    path : str or Path
        An ``.osm`` or ``.osm.bz2`` file (OSM XML). Nothing is downloaded.
    network_type : {"drive", "walk"}
        ``drive`` keeps ways open to cars and respects one-way streets; ``walk`` keeps ways open
        to pedestrians in both directions at a walking speed of ``WALK_SPEED_KPH``.
    speeds_kph : dict, optional
        Free-flow speeds by ``highway`` class for ways without ``maxspeed``; defaults to
        ``DEFAULT_SPEEDS_KPH``.
    fallback_kph : float
        Speed of road classes neither tagged nor in ``speeds_kph``.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx graph in EPSG:4326 whose edges carry ``length`` (m), ``speed_kph`` and
        ``travel_time`` (s).

    Raises
    ------
    StreetGraphError
        If the file is missing, is not OSM XML (a ``.pbf`` has to be converted first), or
        holds no way usable for ``network_type``.
    """
    import osmnx as ox

    if network_type not in NETWORK_TYPES:
        raise SiteError(f"unknown network type {network_type!r}: use one of {', '.join(NETWORK_TYPES)}")
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".pbf"):
        raise StreetGraphError(
            f"{str(path)!r} is an OSM PBF file; the street graph is read from OSM XML: convert it"
            " with 'osmium cat input.osm.pbf -o output.osm' (or osmconvert) first")
    if not path.is_file():
        raise StreetGraphError(f"no street network file at {str(path)!r}")
    try:
        graph = ox.graph_from_xml(path, bidirectional=network_type == "walk", simplify=False,
                                  retain_all=True)
    except Exception as exc:  # osmnx raises ParseError, ValueError, KeyError... on bad files
        raise StreetGraphError(f"cannot read {str(path)!r} as OSM XML: {exc}") from exc
    graph = _filter_network(graph, network_type)
    if graph.number_of_edges() == 0:
        raise StreetGraphError(
            f"{str(path)!r} holds no way usable for the {network_type!r} network (no highway=*"
            " way open to " + ("cars" if network_type == "drive" else "pedestrians") + ")")
    # A node where the road class or speed limit changes stays a node, so every simplified
    # edge has one speed.
    graph = ox.simplify_graph(graph, edge_attrs_differ=["highway", "maxspeed"])
    return add_travel_times(graph, network_type=network_type, speeds_kph=speeds_kph,
                            fallback_kph=fallback_kph)


def add_travel_times(graph: nx.MultiDiGraph, *, network_type: NetworkType = "drive",
                     speeds_kph: dict[str, float] | None = None,
                     fallback_kph: float = FALLBACK_SPEED_KPH) -> nx.MultiDiGraph:
    """Add ``speed_kph`` and ``travel_time`` (s) to every edge of an osmnx graph, in place.

    Driving speeds come from ``maxspeed`` where mapped, else from ``speeds_kph`` (default
    ``DEFAULT_SPEEDS_KPH``) by highway class, else ``fallback_kph``; walking is ``WALK_SPEED_KPH``
    everywhere. Returns the graph.
    """
    import osmnx as ox

    if not math.isfinite(fallback_kph) or fallback_kph <= 0:
        raise SiteError(f"fallback speed must be a positive number of km/h, not {fallback_kph!r}")
    if network_type == "walk":
        nx.set_edge_attributes(graph, WALK_SPEED_KPH, "speed_kph")
    else:
        speeds = dict(DEFAULT_SPEEDS_KPH if speeds_kph is None else speeds_kph)
        bad = {k: v for k, v in speeds.items() if not (isinstance(v, (int, float)) and v > 0)}
        if bad:
            raise SiteError(f"speeds must be positive km/h: {bad!r}")
        ox.routing.add_edge_speeds(graph, hwy_speeds=speeds, fallback=fallback_kph)
    return ox.routing.add_edge_travel_times(graph)


def _first(value: object) -> object:
    return value[0] if isinstance(value, list) and value else value


def _filter_network(graph: nx.MultiDiGraph, network_type: str) -> nx.MultiDiGraph:
    """Drop ways the network type cannot use, then the nodes left without an edge."""
    excluded = _NOT_DRIVABLE if network_type == "drive" else _NOT_WALKABLE
    drop = []
    for u, v, k, data in graph.edges(keys=True, data=True):
        highway = _first(data.get("highway"))
        unusable = (highway is None or highway in excluded
                    or _first(data.get("access")) in _NO_ACCESS
                    or _first(data.get("area")) == "yes")
        if network_type == "drive" and _first(data.get("service")) in _NOT_DRIVABLE_SERVICE:
            unusable = True
        if unusable:
            drop.append((u, v, k))
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])
    return graph


def _check_graph(graph: nx.MultiDiGraph) -> None:
    crs = graph.graph.get("crs")
    if crs is None or not CRS.from_user_input(crs).equals(WGS84, ignore_axis_order=True):
        raise StreetGraphError(
            f"the street graph is in {crs!r}; site metrics need it in EPSG:4326 (longitude/"
            "latitude): load it with load_street_graph or ox.project_graph(G, to_latlong=True)")
    if graph.number_of_nodes() == 0:
        raise StreetGraphError("the street graph has no nodes")
    missing = next(((u, v) for u, v, d in graph.edges(data=True) if "travel_time" not in d), None)
    if missing is not None:
        raise StreetGraphError(
            f"edge {missing!r} of the street graph has no travel_time: run add_travel_times(G)")


# --------------------------------------------------------------------------- geometry helpers


def local_crs(lon: float, lat: float) -> CRS:
    """The UTM zone (WGS84) containing a point: metres, under 0.1 % scale error in the zone.

    Beijing lies in UTM 50N (EPSG:32650).
    """
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -84 <= lat <= 84):
        raise SiteError(f"({lon!r}, {lat!r}) is not a longitude/latitude in the UTM range")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _transformer(target: CRS, *, inverse: bool = False) -> Transformer:
    return (Transformer.from_crs(target, WGS84, always_xy=True) if inverse
            else Transformer.from_crs(WGS84, target, always_xy=True))


def _transform_geoms(geoms: NDArray[np.object_], transformer: Transformer) -> NDArray[np.object_]:
    return shapely.transform(
        geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _point_xy(geometry: gpd.GeoSeries) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if geometry.crs is not None and not geometry.crs.equals(WGS84):
        raise SiteError(f"points are in {geometry.crs.to_string()!r}: reproject them to EPSG:4326")
    geoms = np.asarray(geometry.values, dtype=object)
    not_points = shapely.get_type_id(geoms) != 0
    if not_points.any():
        geoms = np.where(not_points, shapely.point_on_surface(geoms), geoms)
    return shapely.get_x(geoms).astype(np.float64), shapely.get_y(geoms).astype(np.float64)


class _NodeIndex:
    """Graph nodes in the local UTM zone, with an STRtree for nearest-node look-ups.

    osmnx.distance.nearest_nodes needs scikit-learn (unprojected graphs) or scipy (projected),
    neither of which the app depends on; shapely's STRtree answers the same question exactly.
    """

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        nodes = list(graph.nodes(data=True))
        self.ids = np.array([n for n, _ in nodes], dtype=object)
        self.lon = np.array([d["x"] for _, d in nodes], dtype=np.float64)
        self.lat = np.array([d["y"] for _, d in nodes], dtype=np.float64)
        self.crs = local_crs(float(np.median(self.lon)), float(np.median(self.lat)))
        self.to_local = _transformer(self.crs)
        x, y = self.to_local.transform(self.lon, self.lat)
        self.x, self.y = np.asarray(x), np.asarray(y)
        self.tree = shapely.STRtree(shapely.points(self.x, self.y))
        self.position = {node: i for i, node in enumerate(self.ids.tolist())}

    def nearest(self, lon: NDArray[np.float64], lat: NDArray[np.float64]
                ) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
        """Nearest node id of each point and its distance in metres (local UTM)."""
        x, y = self.to_local.transform(np.asarray(lon, dtype=np.float64),
                                       np.asarray(lat, dtype=np.float64))
        points = shapely.points(np.atleast_1d(x), np.atleast_1d(y))
        (inputs, which), distance = self.tree.query_nearest(points, return_distance=True,
                                                            all_matches=False)
        node = np.empty(len(points), dtype=np.intp)
        metres = np.empty(len(points), dtype=np.float64)
        node[inputs], metres[inputs] = which, distance
        return self.ids[node], metres


def nearest_nodes(graph: nx.MultiDiGraph, lon: Sequence[float] | NDArray[np.float64],
                  lat: Sequence[float] | NDArray[np.float64]
                  ) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """Return the nearest graph node of each point and the distance to it in metres.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        osmnx graph in EPSG:4326.
    lon, lat : array_like
        Longitudes and latitudes (WGS84).
    """
    _check_graph(graph)
    return _NodeIndex(graph).nearest(np.atleast_1d(lon), np.atleast_1d(lat))


# --------------------------------------------------------------------------- targets


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


def straight_line_m(lon1: NDArray[np.float64], lat1: NDArray[np.float64],
                    lon2: NDArray[np.float64], lat2: NDArray[np.float64]) -> NDArray[np.float64]:
    """Geodesic distances (m, WGS84 ellipsoid) between paired points, vectorised."""
    _, _, distance = _GEOD.inv(np.asarray(lon1, dtype=np.float64), np.asarray(lat1, dtype=np.float64),
                               np.asarray(lon2, dtype=np.float64), np.asarray(lat2, dtype=np.float64))
    return np.asarray(distance, dtype=np.float64)


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
    straight = straight_line_m(np.repeat(park_lon, n_targets), np.repeat(park_lat, n_targets),
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


class _RoadTimes:
    """Fastest paths from each park's nearest node to every target's nearest node."""

    def __init__(self, graph: nx.MultiDiGraph, park_lon: NDArray[np.float64],
                 park_lat: NDArray[np.float64], target_lon: NDArray[np.float64],
                 target_lat: NDArray[np.float64], *, max_snap_m: float) -> None:
        _check_graph(graph)
        self.graph = graph
        index = _NodeIndex(graph)
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


def isochrones(graph: nx.MultiDiGraph, origin_lonlat: tuple[float, float], *,
               minutes: Sequence[float] = (15, 30, 45), edge_buffer_m: float = 100.0,
               fill_holes: bool = True, max_snap_m: float = 1500.0) -> gpd.GeoDataFrame:
    """Areas reachable from a point within each travel-time budget.

    The origin is snapped to its nearest node; every edge reached within the budget (and the
    reachable part of edges reached part-way) is buffered by ``edge_buffer_m`` in the local
    UTM zone and the buffers are merged. Each polygon contains the ones of smaller budgets.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Street graph with ``travel_time`` (``load_street_graph``), EPSG:4326.
    origin_lonlat : (float, float)
        Longitude and latitude (WGS84) of the origin.
    minutes : sequence of float
        Budgets in minutes, each positive.
    edge_buffer_m : float
        Half-width in metres of the corridor drawn along reachable roads.
    fill_holes : bool
        Fill the holes of each polygon (blocks enclosed by reachable roads).
    max_snap_m : float
        Refuse an origin further than this from the network.

    Returns
    -------
    GeoDataFrame
        ``minutes``, ``area_km2`` (equal-area, via ``geo.measure``), ``nodes_reached`` and the
        polygon, EPSG:4326, sorted by ``minutes`` ascending.

    Raises
    ------
    SiteError
        For a non-positive budget or an origin off the network.
    """
    budgets = _budgets(minutes)
    if not math.isfinite(edge_buffer_m) or edge_buffer_m <= 0:
        raise SiteError(f"edge_buffer_m must be a positive number of metres, not {edge_buffer_m!r}")
    _check_graph(graph)
    lon, lat = (float(v) for v in origin_lonlat)
    index = _NodeIndex(graph)
    node, snap = index.nearest(np.array([lon]), np.array([lat]))
    if snap[0] > max_snap_m:
        raise SiteError(
            f"the origin ({lon:.5f}, {lat:.5f}) is {snap[0] / 1000:.1f} km from the nearest road of"
            f" the loaded network (limit {max_snap_m / 1000:.1f} km): load a network that covers it")
    reached = nx.single_source_dijkstra_path_length(graph, node[0], cutoff=max(budgets) * 60.0,
                                                    weight="travel_time")
    node_time = np.full(len(index.ids), np.inf)
    for reached_node, seconds in reached.items():
        node_time[index.position[reached_node]] = seconds

    u, v, travel, lines = _edge_arrays(graph, index)
    u_time = node_time[u]
    near = u_time < max(budgets) * 60.0  # edges that no budget reaches are never drawn
    u, v, travel, u_time = u[near], v[near], travel[near], u_time[near]
    local_lines = _transform_geoms(lines[near], index.to_local)
    # An edge and its reverse are one road on the map: draw each road once.
    metres = np.round(shapely.length(local_lines), 1)
    _, road = np.unique(np.column_stack([np.minimum(u, v), np.maximum(u, v), metres]), axis=0,
                        return_inverse=True)
    road = road.reshape(-1)
    n_roads = int(road.max()) + 1 if len(road) else 0
    line_of_road = np.zeros(n_roads, dtype=np.intp)
    line_of_road[road] = np.arange(len(road))
    drawn = np.zeros(n_roads, dtype=bool)
    node_drawn = np.zeros(len(node_time), dtype=bool)
    polygons, counts, previous = [], [], shapely.Polygon()
    for budget in budgets:
        seconds = budget * 60.0
        full = u_time + travel <= seconds
        new_roads = np.unique(road[full])
        new_roads = new_roads[~drawn[new_roads]]
        drawn[new_roads] = True
        partial = (u_time < seconds) & ~full & ~drawn[road]
        fraction = (seconds - u_time[partial]) / np.where(travel[partial] > 0, travel[partial], 1.0)
        # The reachable part of a partly reached edge: from its start to the point reached,
        # straight (shapely has no vectorised substring; edges are short next to a buffer).
        ends = shapely.line_interpolate_point(local_lines[partial], fraction, normalized=True)
        starts = shapely.points(index.x[u[partial]], index.y[u[partial]])
        reached_nodes = node_time <= seconds
        new_nodes = reached_nodes & ~node_drawn
        node_drawn |= reached_nodes
        pieces = np.concatenate([local_lines[line_of_road[new_roads]],
                                 shapely.shortest_line(starts, ends),
                                 shapely.points(index.x[new_nodes], index.y[new_nodes])])
        # Each budget adds what it newly reaches to the previous polygon: nested by construction.
        shape = shapely.union_all(np.concatenate(
            [np.array([previous], dtype=object), shapely.buffer(pieces, edge_buffer_m, quad_segs=4)]))
        if fill_holes:
            shape = _without_holes(shape)
        previous = shape
        polygons.append(shape)
        counts.append(int(reached_nodes.sum()))
    lonlat = _transform_geoms(np.array(polygons, dtype=object), _transformer(index.crs, inverse=True))
    frame = gpd.GeoDataFrame({"minutes": budgets, "nodes_reached": counts},
                             geometry=gpd.GeoSeries(lonlat, crs=4326), crs=4326)
    frame.insert(1, "area_km2", areas(frame, unit="km2").to_numpy())
    return frame


def _budgets(minutes: Sequence[float]) -> list[float]:
    try:
        budgets = sorted({float(m) for m in minutes})
    except (TypeError, ValueError) as exc:
        raise SiteError(f"minutes must be numbers, not {minutes!r}") from exc
    if not budgets or any(not math.isfinite(m) or m <= 0 for m in budgets):
        raise SiteError(f"minutes must be positive numbers, not {list(minutes)!r}")
    return budgets


def _edge_arrays(graph: nx.MultiDiGraph, index: _NodeIndex
                 ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.object_]]:
    edges = list(graph.edges(data=True))
    if not edges:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, np.empty(0, dtype=np.float64), np.empty(0, dtype=object)
    position = index.position
    u = np.fromiter((position[a] for a, _, _ in edges), dtype=np.intp, count=len(edges))
    v = np.fromiter((position[b] for _, b, _ in edges), dtype=np.intp, count=len(edges))
    travel = np.fromiter((d["travel_time"] for _, _, d in edges), dtype=np.float64, count=len(edges))
    geoms = np.array([d.get("geometry") for _, _, d in edges], dtype=object)
    straight = shapely.linestrings(
        np.stack([np.column_stack([index.lon[u], index.lat[u]]),
                  np.column_stack([index.lon[v], index.lat[v]])], axis=1))
    missing = np.array([g is None for g in geoms], dtype=bool)
    geoms[missing] = straight[missing]
    return u, v, travel, geoms


def _without_holes(shape: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(shape)
    parts = parts[np.isin(shapely.get_type_id(parts), [3])]
    if len(parts) == 0:
        return shape
    return shapely.union_all(shapely.polygons(shapely.get_exterior_ring(parts)))


# --------------------------------------------------------------------------- benchmark


def synthetic_grid_graph(*, bounds: tuple[float, float, float, float], n_nodes: int = 10_000,
                         speed_pattern: tuple[str, ...] = ("primary", "residential", "residential",
                                                           "secondary")) -> nx.MultiDiGraph:
    """A two-way street grid of about ``n_nodes`` nodes over ``bounds`` (lon/lat), with
    travel times, for benchmarks; every fourth street is faster."""
    min_lon, min_lat, max_lon, max_lat = bounds
    side = max(int(round(math.sqrt(n_nodes))), 2)
    lons = np.linspace(min_lon, max_lon, side)
    lats = np.linspace(min_lat, max_lat, side)
    graph = nx.MultiDiGraph(crs="epsg:4326")
    ids = np.arange(side * side).reshape(side, side)
    for j in range(side):
        for i in range(side):
            graph.add_node(int(ids[j, i]), x=float(lons[i]), y=float(lats[j]))
    pairs = []
    for j in range(side):
        highway = speed_pattern[j % len(speed_pattern)]
        pairs += [(int(ids[j, i]), int(ids[j, i + 1]), highway) for i in range(side - 1)]
    for i in range(side):
        highway = speed_pattern[i % len(speed_pattern)]
        pairs += [(int(ids[j, i]), int(ids[j + 1, i]), highway) for j in range(side - 1)]
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    node_lon = np.tile(lons, side)
    node_lat = np.repeat(lats, side)
    length = straight_line_m(node_lon[a], node_lat[a], node_lon[b], node_lat[b])
    for (p, q, highway), metres in zip(pairs, length, strict=True):
        graph.add_edge(p, q, highway=highway, length=float(metres), oneway=False)
        graph.add_edge(q, p, highway=highway, length=float(metres), oneway=False)
    return add_travel_times(graph)


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
