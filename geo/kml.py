"""KML placemarks to geometries and attributes, parsed without GDAL and without DTDs.

KML is always WGS84 longitude/latitude (OGC KML 2.2, section 16.9). The parser is
``defusedxml`` with DTDs forbidden, so entity expansion ("billion laughs") and external
entities (reading server files) are refused before any element is built.
"""

from __future__ import annotations

from typing import Any

import shapely
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from xml.etree.ElementTree import Element, ParseError

from geo.errors import ImportRefusedError, UnsafeFileError


def _local(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _first_text(element: Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return None


def _coordinates(element: Element | None) -> list[tuple[float, float]]:
    if element is None:
        return []
    text = _first_text(element, "coordinates") or ""
    points = []
    for token in text.split():
        parts = token.split(",")
        if len(parts) < 2:
            raise ValueError(f"coordinate {token!r} is not 'longitude,latitude[,altitude]'")
        points.append((float(parts[0]), float(parts[1])))
    return points


def _ring(boundary: Element) -> list[tuple[float, float]]:
    rings = [child for child in boundary if _local(child.tag) == "LinearRing"]
    return _coordinates(rings[0]) if rings else []


def _geometry(element: Element) -> shapely.Geometry | None:
    kind = _local(element.tag)
    if kind == "Point":
        coords = _coordinates(element)
        return shapely.Point(coords[0]) if coords else None
    if kind == "LineString":
        return shapely.LineString(_coordinates(element))
    if kind == "LinearRing":
        return shapely.Polygon(_coordinates(element))
    if kind == "Polygon":
        outer = [_ring(b) for b in _children(element, "outerBoundaryIs")]
        holes = [_ring(b) for b in _children(element, "innerBoundaryIs")]
        return shapely.Polygon(outer[0], holes) if outer and outer[0] else None
    if kind == "MultiGeometry":
        parts = [g for child in element if (g := _geometry(child)) is not None]
        return _collect(parts) if parts else None
    return None


def _collect(parts: list[shapely.Geometry]) -> shapely.Geometry:
    """A MultiGeometry of one kind becomes a Multi* geometry; mixed kinds stay a collection."""
    flat = list(shapely.get_parts(parts))
    kinds = {g.geom_type for g in flat}
    if kinds == {"Polygon"}:
        return shapely.MultiPolygon(flat)
    if kinds == {"LineString"}:
        return shapely.MultiLineString(flat)
    if kinds == {"Point"}:
        return shapely.MultiPoint(flat)
    return shapely.GeometryCollection(flat)


_GEOMETRY_TAGS = {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"}


def _properties(placemark: Element) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name in ("name", "description", "address"):
        value = _first_text(placemark, name)
        if value is not None:
            props[name] = value
    for extended in _children(placemark, "ExtendedData"):
        for item in extended.iter():
            tag = _local(item.tag)
            key = item.get("name")
            if not key:
                continue
            if tag == "Data":
                props[key] = _first_text(item, "value")
            elif tag == "SimpleData":
                props[key] = (item.text or "").strip()
    return props


def parse_kml(data: bytes) -> tuple[list[dict[str, Any]], list[shapely.Geometry | None], list[str]]:
    """Read every Placemark of a KML document.

    Returns
    -------
    properties : list of dict
        One per placemark (``name``, ``description``, ``ExtendedData`` fields).
    geometries : list of shapely geometry or None
        None where a placemark has no usable geometry.
    problems : list of str
        One message per placemark whose coordinates could not be read (1-based placemark number).

    Raises
    ------
    UnsafeFileError
        If the document declares a DTD or entities.
    ImportRefusedError
        If it is not well-formed XML or not KML.
    """
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeFileError(
            f"the KML declares a DTD or entities ({type(exc).__name__}), which can expand into gigabytes"
            " or read server files: refused; export the KML again without a DOCTYPE") from exc
    except (ParseError, ValueError) as exc:
        raise ImportRefusedError(f"the KML is not well-formed XML ({exc}): check that the file is complete") from exc
    if _local(root.tag) != "kml":
        raise ImportRefusedError(
            f"the XML's root element is <{_local(root.tag)}>, not <kml>: this is not a KML document")
    properties: list[dict[str, Any]] = []
    geometries: list[shapely.Geometry | None] = []
    problems: list[str] = []
    for number, placemark in enumerate((e for e in root.iter() if _local(e.tag) == "Placemark"), start=1):
        properties.append(_properties(placemark))
        geometry = None
        try:
            for child in placemark:
                if _local(child.tag) in _GEOMETRY_TAGS:
                    geometry = _geometry(child)
                    break
        except (ValueError, TypeError, shapely.errors.ShapelyError) as exc:
            problems.append(f"placemark {number}: coordinates cannot be read ({exc})")
            geometry = None
        geometries.append(geometry)
    return properties, geometries, problems
