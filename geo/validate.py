"""Schema and integrity rules of the snapshot's tables.

``problems(...)`` returns every broken rule as a sentence that names the table, the row's id and
the bad value; ``check(...)`` raises ``ValidationError`` with all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import ValidationError
from geo.shapes import is_drawn
from geo.vocab import (CURATED_LOCATION_TIERS, GEOMETRY_TIERS, HUB_ROLES, LOCATION_TIERS, ORGANISATION_KINDS,
                       QUALIFIERS, SPECIALISATIONS, SUBJECT_TYPES, split_codes)

# Beijing's extent (WGS84) with a small margin: anything outside is a datum or axis-order slip.
BEIJING_BOUNDS = (115.35, 39.40, 117.55, 41.10)

SCHEMAS: dict[str, dict[str, str]] = {
    "sources": {"source_id": "str", "publisher": "str", "title": "str", "date": "date?",
                "url": "str?", "language": "str", "note": "str?"},
    "districts": {"district_id": "str", "name_zh": "str", "name_en": "str", "role": "str",
                  "hub_id": "str?", "area_km2": "float", "geometry": "geometry"},
    "hubs": {"hub_id": "str", "name_zh": "str", "name_en": "str", "role": "str",
             "district_ids": "str", "geometry_from": "str", "plan_item": "str", "description_en": "str",
             "description_zh": "str", "source_ids": "str", "geometry": "geometry"},
    "parks": {"park_id": "str", "name_zh": "str", "name_en": "str", "district_id": "str",
              "hub_id": "str", "specialisations": "str?", "geometry_tier": "str",
              "geometry_note": "str", "geometry_source_ids": "str", "official_area_km2": "float?",
              "area_km2": "float?", "anchor_lon": "float?", "anchor_lat": "float?",
              "geometry": "geometry?"},
    "organisations": {"org_id": "str", "name_zh": "str", "name_en": "str", "kind": "str",
                      "specialisations": "str?", "park_id": "str?", "district_id": "str",
                      "location_tier": "str", "address_zh": "str?", "location_note": "str",
                      "source_ids": "str", "geometry": "geometry"},
    "facts": {"fact_id": "str", "subject_type": "str", "subject_id": "str", "metric": "str",
              "value": "float", "unit": "str", "qualifier": "str", "period": "str?",
              "as_of": "date", "source_id": "str", "quote": "str"},
}

_ID_PATTERN = re.compile(r"^[a-z0-9_]+$")
_DATE_PATTERN = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def schema_problems(name: str, table: pd.DataFrame) -> list[str]:
    """Check one table against its schema: columns present, types and required values."""
    schema = SCHEMAS[name]
    out: list[str] = []
    missing_columns = [c for c in schema if c not in table.columns]
    if missing_columns:
        return [f"{name}: missing column(s) {', '.join(missing_columns)}"]
    id_column = next(iter(schema))
    for column, kind in schema.items():
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        values = table[column].tolist()
        for row_id, value in zip(table[id_column].tolist(), values, strict=False):
            where = f"{name} {row_id!r}"
            if kind == "geometry":
                if (value is None or shapely.is_empty(value)) and not optional:
                    out.append(f"{where}: empty geometry")
                continue
            if _missing(value):
                if not optional:
                    out.append(f"{where}: {column} is empty")
                continue
            if kind == "float":
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    out.append(f"{where}: {column} {value!r} is not a number")
                    continue
                if not np.isfinite(number):
                    out.append(f"{where}: {column} {value!r} is not finite")
            elif kind == "date" and not _DATE_PATTERN.match(str(value)):
                out.append(f"{where}: {column} {value!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
    ids = table[id_column]
    duplicated = sorted(set(ids[ids.duplicated()].tolist()))
    if duplicated:
        out.append(f"{name}: duplicate {id_column} {', '.join(map(repr, duplicated))}")
    bad_ids = [i for i in ids.tolist() if isinstance(i, str) and not _ID_PATTERN.match(i)]
    if bad_ids:
        out.append(f"{name}: {id_column} must be lower-case letters, digits and _: "
                   f"{', '.join(map(repr, bad_ids[:5]))}")
    return out


def _codes_problems(name: str, ids: Iterable[str], values: Iterable[object], column: str,
                    allowed: Mapping[str, object], *, multiple: bool = False) -> list[str]:
    out = []
    for row_id, value in zip(ids, values, strict=False):
        codes = split_codes(value) if multiple else ([value] if not _missing(value) else [])
        unknown = [c for c in codes if c not in allowed]
        if unknown:
            out.append(f"{name} {row_id!r}: unknown {column} {', '.join(map(repr, unknown))}"
                       f" (allowed: {', '.join(sorted(allowed))})")
    return out


def _reference_problems(name: str, ids: Iterable[str], values: Iterable[object], column: str,
                        known: set[str], target: str, *, multiple: bool = False) -> list[str]:
    out = []
    for row_id, value in zip(ids, values, strict=False):
        codes = split_codes(value) if multiple else ([value] if not _missing(value) else [])
        for code in codes:
            if code not in known:
                out.append(f"{name} {row_id!r}: {column} {code!r} is not a {target}")
    return out


def geometry_problems(name: str, table: gpd.GeoDataFrame, *, id_column: str,
                      within: shapely.Geometry | None = None) -> list[str]:
    """Geometries must be valid, in EPSG:4326, and inside Beijing."""
    out: list[str] = []
    if table.crs is None or not table.crs.equals("EPSG:4326"):
        out.append(f"{name}: CRS must be EPSG:4326 (WGS84), found {table.crs!r}")
    geoms = np.asarray(table.geometry.values, dtype=object)
    ids = table[id_column].tolist()
    present = np.array([g is not None for g in geoms], dtype=bool)
    valid = np.ones(len(geoms), dtype=bool)
    valid[present] = shapely.is_valid(geoms[present])
    for row_id, geom in zip(np.asarray(ids, dtype=object)[~valid], geoms[~valid], strict=False):
        out.append(f"{name} {row_id!r}: invalid geometry ({shapely.is_valid_reason(geom)})")
    min_x, min_y, max_x, max_y = BEIJING_BOUNDS
    bounds = shapely.bounds(geoms[present])
    outside = ((bounds[:, 0] < min_x) | (bounds[:, 1] < min_y)
               | (bounds[:, 2] > max_x) | (bounds[:, 3] > max_y))
    for row_id, b in zip(np.asarray(ids, dtype=object)[present][outside], bounds[outside], strict=False):
        out.append(f"{name} {row_id!r}: extends outside Beijing to "
                   f"({b[0]:.4f}, {b[1]:.4f})-({b[2]:.4f}, {b[3]:.4f}); check datum and axis order")
    if within is not None and present.any():
        shapely.prepare(within)
        # Allow 200 m (about 0.002 degrees) for boundary simplification.
        covered = shapely.covers(shapely.buffer(within, 0.002), geoms[present])
        for row_id in np.asarray(ids, dtype=object)[present][~covered]:
            if not any(str(row_id) in p for p in out):
                out.append(f"{name} {row_id!r}: lies outside the Beijing boundary")
    return out


def _park_tier_problems(parks: gpd.GeoDataFrame) -> list[str]:
    """What each geometry tier needs: a drawn park has a polygon, a nominal one its anchor and
    area; an 'unlocated' park has no polygon at all (never a shape at a guessed point)."""
    out: list[str] = []
    drawn = is_drawn(parks.geometry)
    for position, row in enumerate(parks.itertuples()):
        where = f"parks {row.park_id!r}"
        if row.geometry_tier == "unlocated":
            if drawn[position]:
                out.append(f"{where}: tier 'unlocated' but it has a polygon; give the polygon a "
                           "tier (official, osm, approximate, nominal) or remove it")
            continue
        if not drawn[position]:
            out.append(f"{where}: empty geometry (tier {row.geometry_tier!r}); a park that cannot "
                       "be placed from a citable source has tier 'unlocated'")
        if row.geometry_tier in ("approximate", "nominal") and _missing(row.official_area_km2):
            out.append(f"{where}: tier {row.geometry_tier!r} needs the official area it is drawn to "
                       "(official_area_km2)")
        if row.geometry_tier == "nominal" and (_missing(row.anchor_lon) or _missing(row.anchor_lat)):
            out.append(f"{where}: tier 'nominal' needs its anchor (anchor_lon, anchor_lat)")
    return out


def alias_problems(aliases: pd.DataFrame, *, sources: pd.DataFrame, subjects: Mapping[str, Iterable[str]]
                   ) -> list[str]:
    """Problems of the alias table: its rows (``geo.search.alias_row_problems``), a cited source
    that ``sources`` lacks, a subject that is not in the snapshot (``subjects``: ids per subject
    type), one alias given twice for one subject."""
    from geo.search import alias_row_problems

    out = [f"aliases: {p}" for p in alias_row_problems(aliases)]
    if out:
        return out
    known = {kind: set(map(str, ids)) for kind, ids in subjects.items()}
    source_ids = set(sources["source_id"])
    seen: set[tuple[str, str, str]] = set()
    for line, row in enumerate(aliases.fillna("").astype(str).itertuples(index=False), start=2):
        where = f"aliases line {line} ({row.alias!r})"
        if row.source_id and row.source_id not in source_ids:
            out.append(f"{where}: source {row.source_id!r} is not in sources.csv")
        if row.subject_id not in known.get(row.subject_type, set()):
            out.append(f"{where}: {row.subject_type} {row.subject_id!r} is not in the snapshot")
        key = (row.subject_type, row.subject_id, row.alias.strip())
        if key in seen:
            out.append(f"{where}: given twice for {row.subject_type} {row.subject_id!r}")
        seen.add(key)
    return out


def problems(*, sources: pd.DataFrame, districts: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame,
             parks: gpd.GeoDataFrame, organisations: gpd.GeoDataFrame,
             facts: pd.DataFrame, aliases: pd.DataFrame | None = None) -> list[str]:
    """Return every problem found in the snapshot's tables (empty when all is well); the
    aliases are checked when given."""
    tables = {"sources": sources, "districts": districts, "hubs": hubs, "parks": parks,
              "organisations": organisations, "facts": facts}
    out: list[str] = []
    for name, table in tables.items():
        out += schema_problems(name, table)
    if out:
        return out  # references cannot be checked on broken schemas

    source_ids = set(sources["source_id"])
    district_ids = set(districts["district_id"])
    hub_ids = set(hubs["hub_id"])
    park_ids = set(parks["park_id"])
    org_ids = set(organisations["org_id"])

    out += _codes_problems("districts", districts["district_id"], districts["role"], "role", HUB_ROLES)
    out += _reference_problems("districts", districts["district_id"], districts["hub_id"],
                               "hub_id", hub_ids, "hub")
    out += _codes_problems("hubs", hubs["hub_id"], hubs["role"], "role", HUB_ROLES)
    out += _codes_problems("hubs", hubs["hub_id"], hubs["geometry_from"], "geometry_from",
                           dict.fromkeys(("districts", "parks")))
    out += _reference_problems("hubs", hubs["hub_id"], hubs["district_ids"], "district_ids",
                               district_ids, "district", multiple=True)
    out += _reference_problems("hubs", hubs["hub_id"], hubs["source_ids"], "source_ids",
                               source_ids, "source", multiple=True)

    pid = parks["park_id"]
    out += _reference_problems("parks", pid, parks["district_id"], "district_id", district_ids, "district")
    out += _reference_problems("parks", pid, parks["hub_id"], "hub_id", hub_ids, "hub")
    out += _codes_problems("parks", pid, parks["specialisations"], "specialisation",
                           SPECIALISATIONS, multiple=True)
    out += _codes_problems("parks", pid, parks["geometry_tier"], "geometry_tier", GEOMETRY_TIERS)
    out += _reference_problems("parks", pid, parks["geometry_source_ids"], "geometry_source_ids",
                               source_ids, "source", multiple=True)
    out += _park_tier_problems(parks)
    for row in parks.itertuples():
        if row.geometry_tier in ("approximate", "nominal") and row.official_area_km2 > 0:
            off = abs(row.area_km2 - row.official_area_km2) / row.official_area_km2
            if off > 0.05:
                out.append(f"parks {row.park_id!r}: {row.geometry_tier} polygon measures "
                           f"{row.area_km2:.3f} km2, {off:.1%} from the official "
                           f"{row.official_area_km2:.3f} km2 (limit 5 %)")

    oid = organisations["org_id"]
    out += _codes_problems("organisations", oid, organisations["kind"], "kind", ORGANISATION_KINDS)
    out += _codes_problems("organisations", oid, organisations["specialisations"], "specialisation",
                           SPECIALISATIONS, multiple=True)
    out += _codes_problems("organisations", oid, organisations["location_tier"], "location_tier",
                           {k: LOCATION_TIERS[k] for k in CURATED_LOCATION_TIERS})
    out += _reference_problems("organisations", oid, organisations["park_id"], "park_id",
                               park_ids, "park")
    out += _reference_problems("organisations", oid, organisations["district_id"], "district_id",
                               district_ids, "district")
    out += _reference_problems("organisations", oid, organisations["source_ids"], "source_ids",
                               source_ids, "source", multiple=True)
    if aliases is not None:
        out += alias_problems(aliases, sources=sources, subjects={
            "park": park_ids, "hub": hub_ids, "district": district_ids, "organisation": org_ids})
    not_points = organisations.geometry.geom_type != "Point"
    for row_id in oid[not_points]:
        out.append(f"organisations {row_id!r}: geometry must be a Point")

    fid = facts["fact_id"]
    out += _codes_problems("facts", fid, facts["subject_type"], "subject_type",
                           dict.fromkeys(SUBJECT_TYPES))
    out += _codes_problems("facts", fid, facts["qualifier"], "qualifier", QUALIFIERS)
    out += _reference_problems("facts", fid, facts["source_id"], "source_id", source_ids, "source")
    known_subjects = {"city": {"beijing"}, "hub": hub_ids, "district": district_ids,
                      "park": park_ids, "organisation": org_ids}
    for row in facts.itertuples():
        if row.subject_id not in known_subjects.get(row.subject_type, set()):
            out.append(f"facts {row.fact_id!r}: {row.subject_type} {row.subject_id!r} does not exist")

    city = shapely.union_all(np.asarray(districts.geometry.values, dtype=object))
    out += geometry_problems("districts", districts, id_column="district_id")
    out += geometry_problems("hubs", hubs, id_column="hub_id", within=city)
    out += geometry_problems("parks", parks, id_column="park_id", within=city)
    out += geometry_problems("organisations", organisations, id_column="org_id", within=city)
    return out


def check(**tables: pd.DataFrame) -> None:
    """Raise ``ValidationError`` listing every problem, if there is any."""
    found = problems(**tables)  # type: ignore[arg-type]
    if found:
        raise ValidationError(found)


DISTRICT_AREA_TOLERANCE = 0.005


def district_area_check(districts: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Measured district areas beside every official figure, with the relative difference.

    Returns
    -------
    pandas.DataFrame
        Columns district_id, name_en, area_km2 (measured), official_km2, source_id, as_of,
        difference (measured / official - 1) and within_tolerance (|difference| <= 0.5 %).
    """
    official = facts[(facts["subject_type"] == "district") & (facts["metric"] == "land_area")]
    table = districts[["district_id", "name_en", "area_km2"]].merge(
        official[["subject_id", "value", "source_id", "as_of"]].rename(
            columns={"subject_id": "district_id", "value": "official_km2"}),
        on="district_id", how="left")
    table["difference"] = table["area_km2"] / table["official_km2"] - 1.0
    table["within_tolerance"] = table["difference"].abs() <= DISTRICT_AREA_TOLERANCE
    return table
