"""Writers of small OpenStreetMap extracts for tests: OSM XML (.osm, .osm.bz2, .osm.gz) and PBF.

Tests build their own extracts, so no test needs the internet. Two levels of API:

* ``write_osm_xml(path, nodes, ways, relations)`` / ``write_osm_pbf(...)`` write lists of
  ``OsmNode``, ``OsmWay`` and ``OsmRelation`` records as they are;
* ``OsmBuilder`` hands out ids and builds the records from coordinates: ``point``,
  ``line`` (for example a street: ``line(coords, {"highway": "primary"})``), ``polygon``
  (a closed way), ``multipolygon`` (a relation of outer and inner ways), ``grid`` (a street
  grid), then ``write_xml(path)`` or ``write_pbf(path)``.

Coordinates are longitude/latitude (WGS84), as in OSM.

Example
-------
>>> builder = OsmBuilder()
>>> builder.polygon([(116.27, 40.09), (116.29, 40.09), (116.29, 40.10), (116.27, 40.10)],
...                 {"landuse": "industrial", "name": "中关村生命科学园"})  # doctest: +SKIP
>>> builder.write_xml(tmp_path / "parks.osm")  # doctest: +SKIP
"""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

DEFAULT_TIMESTAMP = "2024-05-01T08:00:00Z"

Coordinates = Sequence[tuple[float, float]]


@dataclass(frozen=True)
class OsmNode:
    id: int
    lon: float
    lat: float
    tags: Mapping[str, str] = field(default_factory=dict)
    version: int = 1
    timestamp: str = DEFAULT_TIMESTAMP


@dataclass(frozen=True)
class OsmWay:
    id: int
    refs: Sequence[int]
    tags: Mapping[str, str] = field(default_factory=dict)
    version: int = 1
    timestamp: str = DEFAULT_TIMESTAMP


@dataclass(frozen=True)
class OsmMember:
    type: str  # "node", "way" or "relation"
    ref: int
    role: str = ""


@dataclass(frozen=True)
class OsmRelation:
    id: int
    members: Sequence[OsmMember]
    tags: Mapping[str, str] = field(default_factory=dict)
    version: int = 1
    timestamp: str = DEFAULT_TIMESTAMP


def _attrs(element: OsmNode | OsmWay | OsmRelation) -> str:
    return (f'id="{element.id}" version="{element.version}" timestamp="{element.timestamp}" '
            'changeset="1" uid="1" user="fixture" visible="true"')


def _tags(tags: Mapping[str, str]) -> list[str]:
    return [f"    <tag k={quoteattr(str(k))} v={quoteattr(str(v))}/>" for k, v in tags.items()]


def osm_xml_text(nodes: Iterable[OsmNode], ways: Iterable[OsmWay] = (),
                 relations: Iterable[OsmRelation] = ()) -> str:
    """The OSM XML document (API 0.6) holding the given elements, in that order."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<osm version="0.6" generator="tests.osm_fixtures" '
             'copyright="OpenStreetMap and contributors" '
             'license="https://opendatacommons.org/licenses/odbl/1-0/">']
    for node in nodes:
        head = f'  <node {_attrs(node)} lat="{node.lat:.7f}" lon="{node.lon:.7f}"'
        if node.tags:
            lines += [head + ">", *_tags(node.tags), "  </node>"]
        else:
            lines.append(head + "/>")
    for way in ways:
        lines.append(f"  <way {_attrs(way)}>")
        lines += [f'    <nd ref="{ref}"/>' for ref in way.refs]
        lines += [*_tags(way.tags), "  </way>"]
    for relation in relations:
        lines.append(f"  <relation {_attrs(relation)}>")
        lines += [f'    <member type="{m.type}" ref="{m.ref}" role={quoteattr(m.role)}/>'
                  for m in relation.members]
        lines += [*_tags(relation.tags), "  </relation>"]
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def write_osm_xml(path: str | Path, nodes: Iterable[OsmNode], ways: Iterable[OsmWay] = (),
                  relations: Iterable[OsmRelation] = ()) -> Path:
    """Write an OSM XML file; ``.bz2`` and ``.gz`` suffixes are compressed. Returns the path."""
    path = Path(path)
    data = osm_xml_text(nodes, ways, relations).encode("utf-8")
    if path.suffix == ".bz2":
        data = bz2.compress(data)
    elif path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def write_osm_pbf(path: str | Path, nodes: Iterable[OsmNode], ways: Iterable[OsmWay] = (),
                  relations: Iterable[OsmRelation] = ()) -> Path:
    """Write an OSM PBF file with pyosmium's ``SimpleWriter``. Returns the path."""
    import osmium

    path = Path(path)
    if path.exists():
        path.unlink()  # SimpleWriter refuses to overwrite
    writer = osmium.SimpleWriter(str(path))
    try:
        for node in nodes:
            writer.add_node(osmium.osm.mutable.Node(
                id=node.id, location=(node.lon, node.lat), tags=dict(node.tags),
                version=node.version, timestamp=node.timestamp, changeset=1, uid=1, user="fixture"))
        for way in ways:
            writer.add_way(osmium.osm.mutable.Way(
                id=way.id, nodes=list(way.refs), tags=dict(way.tags),
                version=way.version, timestamp=way.timestamp, changeset=1, uid=1, user="fixture"))
        for relation in relations:
            writer.add_relation(osmium.osm.mutable.Relation(
                id=relation.id, members=[(m.type[0], m.ref, m.role) for m in relation.members],
                tags=dict(relation.tags), version=relation.version, timestamp=relation.timestamp,
                changeset=1, uid=1, user="fixture"))
    finally:
        writer.close()
    return path


class OsmBuilder:
    """Collects nodes, ways and relations with fresh ids, built from coordinates.

    Each method returns the id of the element it created. Node, way and relation ids are
    counted separately, starting at ``start_id``.
    """

    def __init__(self, *, start_id: int = 1, timestamp: str = DEFAULT_TIMESTAMP) -> None:
        self.nodes: list[OsmNode] = []
        self.ways: list[OsmWay] = []
        self.relations: list[OsmRelation] = []
        self._next = {"node": start_id, "way": start_id, "relation": start_id}
        self.timestamp = timestamp

    def _id(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] += 1
        return value

    def point(self, lon: float, lat: float, tags: Mapping[str, str] | None = None, *,
              version: int = 1) -> int:
        """A node; give it tags to make it a feature (a hospital, a metro station...)."""
        node_id = self._id("node")
        self.nodes.append(OsmNode(node_id, lon, lat, dict(tags or {}), version, self.timestamp))
        return node_id

    def line(self, coords: Coordinates, tags: Mapping[str, str] | None = None, *,
             version: int = 1, node_ids: Sequence[int] | None = None) -> int:
        """An open way through ``coords`` (new untagged nodes unless ``node_ids`` are given)."""
        refs = list(node_ids) if node_ids is not None else [self.point(x, y) for x, y in coords]
        way_id = self._id("way")
        self.ways.append(OsmWay(way_id, refs, dict(tags or {}), version, self.timestamp))
        return way_id

    def polygon(self, ring: Coordinates, tags: Mapping[str, str] | None = None, *,
                version: int = 1) -> int:
        """A closed way around ``ring`` (give the ring open: the first node is repeated)."""
        refs = [self.point(x, y) for x, y in _open(ring)]
        return self.line((), tags, version=version, node_ids=[*refs, refs[0]])

    def multipolygon(self, outers: Sequence[Coordinates], inners: Sequence[Coordinates] = (),
                     tags: Mapping[str, str] | None = None, *, version: int = 1) -> int:
        """A ``type=multipolygon`` relation of untagged closed outer and inner ways."""
        members = [OsmMember("way", self.polygon(ring), "outer") for ring in outers]
        members += [OsmMember("way", self.polygon(ring), "inner") for ring in inners]
        relation_id = self._id("relation")
        self.relations.append(OsmRelation(relation_id, members,
                                          {"type": "multipolygon", **dict(tags or {})},
                                          version, self.timestamp))
        return relation_id

    def grid(self, west: float, south: float, east: float, north: float, *, rows: int,
             columns: int, tags: Mapping[str, str] | None = None) -> list[int]:
        """A street grid: ``rows`` + 1 east-west and ``columns`` + 1 north-south ways sharing
        their crossing nodes (tags default to ``highway=residential``). Returns the way ids."""
        tags = dict(tags or {"highway": "residential"})
        xs = [west + (east - west) * i / columns for i in range(columns + 1)]
        ys = [south + (north - south) * j / rows for j in range(rows + 1)]
        ids = [[self.point(x, y) for x in xs] for y in ys]
        ways = [self.line((), tags, node_ids=row) for row in ids]
        ways += [self.line((), tags, node_ids=[row[i] for row in ids]) for i in range(columns + 1)]
        return ways

    def write_xml(self, path: str | Path) -> Path:
        return write_osm_xml(path, self.nodes, self.ways, self.relations)

    def write_pbf(self, path: str | Path) -> Path:
        return write_osm_pbf(path, self.nodes, self.ways, self.relations)


def rectangle(west: float, south: float, east: float, north: float) -> list[tuple[float, float]]:
    """The open ring of a longitude/latitude rectangle, counter-clockwise."""
    return [(west, south), (east, south), (east, north), (west, north)]


def _open(ring: Coordinates) -> list[tuple[float, float]]:
    points = [(float(x), float(y)) for x, y in ring]
    if len(points) > 1 and points[0] == points[-1]:
        points = points[:-1]
    return points
