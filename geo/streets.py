"""Street networks from OpenStreetMap XML and what they answer: travel times and isochrones.

``load_street_graph`` reads an ``.osm`` / ``.osm.bz2`` file (``street_graph_from_bytes`` an
upload) with osmnx, entirely offline, into a routable graph whose edges carry **free-flow**
travel times on the road class speeds (``maxspeed`` where mapped, ``DEFAULT_SPEEDS_KPH``
otherwise): there is no congestion model, so they are lower bounds of real driving times.
``street_suffix`` tells from an upload's bytes whether it holds such a network.
``isochrones`` draws the areas reachable from a point within 15 / 30 / 45 minutes; the site
metrics of the parks (``geo.site``) route on the same graphs through ``NodeIndex``.

Nothing is measured in degrees: nearest nodes and isochrone corridors are computed in
``geo.projection.local_metric`` (metres), road lengths come from osmnx (great-circle), and the
isochrone polygons are measured with ``geo.measure``.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from geo.errors import OSMFileError, SiteError, StreetGraphError
from geo.measure import areas
from geo.osm.read import DECOMPRESSION_ERRORS, MAX_UNCOMPRESSED_BYTES, _open_binary, damaged_file_error
from geo.projection import WGS84, MetricProjection, geodesic_m, local_metric

NetworkType = Literal["drive", "walk"]
NETWORK_TYPES: tuple[str, ...] = ("drive", "walk")
STREET_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2")  # OSM XML that load_street_graph reads
_HIGHWAY = re.compile(rb"""k\s*=\s*["']highway["']""")


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


def street_suffix(data: bytes, *, max_bytes: int = MAX_UNCOMPRESSED_BYTES) -> str | None:
    """``.osm`` or ``.osm.bz2`` if an upload is OSM XML with ``highway=*`` ways (a street network
    ``load_street_graph`` can read); None otherwise (PBF, gzip, no roads).

    Raises
    ------
    OSMFileError
        If the bzip2 container is damaged (one line, as ``geo.osm.read_osm_file`` says it).
    """
    data = bytes(data)
    if data[:3] == b"BZh":
        suffix = ".osm.bz2"
    elif data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        suffix = ".osm"
    else:
        return None
    tail, total = b"", 0
    try:
        with _open_binary(data, suffix) as handle:
            while block := handle.read(1 << 20):
                if _HIGHWAY.search(tail + block):
                    return suffix
                total += len(block)
                if total > max_bytes:
                    return None
                tail = block[-32:]
    except DECOMPRESSION_ERRORS as exc:
        raise damaged_file_error("the uploaded extract", suffix, exc) from None
    return None


def street_graph_from_bytes(data: bytes, *, network_type: NetworkType = "drive") -> nx.MultiDiGraph:
    """``load_street_graph`` of an upload's content (OSM XML, plain or bzip2).

    The bytes go to a private temporary file with a fixed suffix (never a name from the user),
    deleted once read.

    Raises
    ------
    StreetGraphError
        If the content holds no street network (PBF, gzip, no ``highway=*`` way).
    """
    try:
        suffix = street_suffix(data)
    except OSMFileError as exc:
        raise StreetGraphError(str(exc)) from None
    if suffix is None:
        raise StreetGraphError("the extract holds no street network: street networks are read from OSM XML "
                               f"({', '.join(STREET_SUFFIXES)}) with highway=* ways")
    with tempfile.TemporaryDirectory(prefix="pharma-map-streets-") as folder:
        path = Path(folder) / f"streets{suffix}"
        path.write_bytes(data)
        return load_street_graph(path, network_type=network_type)


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


def check_graph(graph: nx.MultiDiGraph) -> None:
    """Refuse a graph that is not in EPSG:4326, has no nodes or lacks travel times (``StreetGraphError``)."""
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


class NodeIndex:
    """Graph nodes in metres (``geo.projection.local_metric`` centred on the network), with an
    STRtree for nearest-node look-ups.

    osmnx.distance.nearest_nodes needs scikit-learn (unprojected graphs) or scipy (projected),
    neither of which the app depends on; shapely's STRtree answers the same question exactly.
    """

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        nodes = list(graph.nodes(data=True))
        self.ids = np.array([n for n, _ in nodes], dtype=object)
        self.lon = np.array([d["x"] for _, d in nodes], dtype=np.float64)
        self.lat = np.array([d["y"] for _, d in nodes], dtype=np.float64)
        self.plane: MetricProjection = local_metric(
            (self.lon.min(), self.lat.min(), self.lon.max(), self.lat.max()) if len(nodes) else (np.nan,) * 4)
        self.x, self.y = self.plane.xy(self.lon, self.lat)
        self.tree = shapely.STRtree(shapely.points(self.x, self.y))
        self.position = {node: i for i, node in enumerate(self.ids.tolist())}

    def nearest(self, lon: NDArray[np.float64], lat: NDArray[np.float64]
                ) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
        """Nearest node id of each point and its distance in metres."""
        x, y = self.plane.xy(lon, lat)
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
    check_graph(graph)
    return NodeIndex(graph).nearest(np.atleast_1d(lon), np.atleast_1d(lat))


# --------------------------------------------------------------------------- isochrones


def isochrones(graph: nx.MultiDiGraph, origin_lonlat: tuple[float, float], *,
               minutes: Sequence[float] = (15, 30, 45), edge_buffer_m: float = 100.0,
               fill_holes: bool = True, max_snap_m: float = 1500.0) -> gpd.GeoDataFrame:
    """Areas reachable from a point within each travel-time budget.

    The origin is snapped to its nearest node; every edge reached within the budget (and the
    reachable part of edges reached part-way) is buffered by ``edge_buffer_m`` in the local
    metric plane (``geo.projection.local_metric``) and the buffers are merged. Each polygon contains the ones of smaller budgets.

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
    check_graph(graph)
    lon, lat = (float(v) for v in origin_lonlat)
    index = NodeIndex(graph)
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
    local_lines = index.plane.to_metres(lines[near])
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
    lonlat = index.plane.to_lonlat(np.array(polygons, dtype=object))
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


def _edge_arrays(graph: nx.MultiDiGraph, index: NodeIndex
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
    length = geodesic_m(node_lon[a], node_lat[a], node_lon[b], node_lat[b])
    for (p, q, highway), metres in zip(pairs, length, strict=True):
        graph.add_edge(p, q, highway=highway, length=float(metres), oneway=False)
        graph.add_edge(q, p, highway=highway, length=float(metres), oneway=False)
    return add_travel_times(graph)

