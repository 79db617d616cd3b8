"""Place rows of names and addresses: offline (park or district, from the words of the address),
then, where configured, by OpenStreetMap or an online geocoder (:mod:`geo.geocoders`).

Every placed row says how it was placed:

- ``location_tier``: ``geocoded`` (a provider's point), ``park`` (the address names a park, or a
  road that lies in one: the point is the park's anchor) or ``district`` (only the district is
  known: the point is a representative point inside the district's boundary). Neither ``park``
  nor ``district`` is a site, and ``location_point`` says so for each row.
- ``location_evidence``: the words matched, quoted, with where each term comes from.
- ``location_provider``, ``location_level`` (what matched: park name, road in park, district,
  or the provider's own level), ``location_flag`` (a conflict, a result outside Beijing, a
  district-centroid answer), ``located_park_id``, ``located_district_id``.

Rows that nothing places are not invented a point: they are listed with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.address import (AddressDataError, AddressParser, Found, ParsedAddress, build_terms, normalise,
                         place_problems, read_places)
from geo.errors import LocateError  # noqa: F401  re-exported
from geo.points import points as make_points
from geo.vocab import Term as VocabTerm
from geo.vocab import split_codes

LOCATE_TIERS: dict[str, VocabTerm] = {
    "osm": VocabTerm("OpenStreetMap feature", "开放街图要素",
                     "Matched to an OpenStreetMap feature by name and address (ODbL).",
                     "按名称和地址匹配到开放街图要素（ODbL）。"),
    "geocoded": VocabTerm("Geocoded", "地理编码",
                          "A point from an online geocoder, converted to WGS84; its level says how precise.",
                          "在线地理编码服务返回的点，已转换为WGS84；精度见其级别。"),
    "park": VocabTerm("Park (anchor)", "园区（定位点）",
                      "The address names a park, or a road in one: drawn at the park's anchor, not at the site.",
                      "地址含园区名称或园区内道路：标注在园区定位点，并非实际地址。"),
    "district": VocabTerm("District (point in district)", "区（区内代表点）",
                          "Only the district is known: drawn at a point inside the district, not at the site.",
                          "仅知所在区：标注在区内代表点，并非实际地址。"),
}
LOCATION_COLUMNS = ("location_tier", "location_evidence", "location_point", "location_provider",
                    "location_level", "location_flag", "located_park_id", "located_district_id",
                    "location_osm_id", "location_attribution")

# Column names (normalised) that hold a name or an address, Chinese and English.
ADDRESS_NAMES = ("地址", "注册地址", "住所", "企业地址", "公司地址", "详细地址", "通讯地址", "办公地址", "经营地址",
                 "通信地址", "联系地址", "单位地址", "生产地址", "所在地址", "address", "addr", "registeredaddress",
                 "companyaddress", "streetaddress", "fulladdress", "addresszh", "addressen")
NAME_NAMES = ("名称", "企业名称", "公司名称", "单位名称", "机构名称", "企业名", "名字", "name", "namezh", "nameen",
              "company", "companyname", "enterprise", "enterprisename", "organisation", "organization",
              "institution", "firm")



@dataclass(frozen=True)
class Placement:
    """Where one row was placed and why (``tier`` None: not placed, ``reason`` says why)."""

    tier: str | None
    lon: float = math.nan
    lat: float = math.nan
    evidence: str = ""
    point: str = ""
    provider: str = "offline"
    level: str = ""
    flag: str = ""
    park_id: str | None = None
    district_id: str | None = None
    reason: str = ""
    candidates: tuple[dict[str, object], ...] = ()  # OpenStreetMap candidates (geo.locate_osm), best first
    osm_id: str | None = None
    attribution: str | None = None


class Locator(Protocol):
    """Anything that places one (address, name) pair: the offline locator, a geocoder, OSM."""

    name: str

    def place(self, address: str | None, name: str | None) -> Placement: ...


@dataclass(frozen=True)
class AddressColumns:
    address: str | None
    name: str | None

    @property
    def found(self) -> bool:
        return bool(self.address or self.name)


def _column_key(name: object) -> str:
    return normalise(str(name)).replace(" ", "").replace("_", "")


def detect_address_columns(columns: Iterable[object]) -> AddressColumns:
    """The name and the address column of a table, by their header (名称/企业名称/name ...,
    地址/注册地址/住所/address ...); the first of each, or None."""
    address = name = None
    for column in columns:
        key = _column_key(column)
        if address is None and (key in ADDRESS_NAMES or key.endswith("地址")):
            address = str(column)
        elif name is None and (key in NAME_NAMES or key.endswith("名称")):
            name = str(column)
    return AddressColumns(address=address, name=name)


def _quote(words: str) -> str:
    return f"“{words}”"


def _basis(found: Found) -> str:
    return found.term.basis


@dataclass
class _Names:
    park: dict[str, tuple[str, str]] = field(default_factory=dict)
    district: dict[str, tuple[str, str]] = field(default_factory=dict)


class OfflineLocator:
    """Places addresses in a park or a district from their words alone: no network, no extract.

    Build it once per snapshot (:meth:`from_snapshot`); :meth:`place` answers one row,
    :func:`locate_table` a whole table.
    """

    name = "offline"

    def __init__(self, *, parks: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, hubs: pd.DataFrame | None = None,
                 aliases: pd.DataFrame | None = None, places: pd.DataFrame | None = None) -> None:
        self.parser = AddressParser(build_terms(parks=parks, districts=districts, aliases=aliases, places=places))
        self._names = _Names(
            park={r.park_id: (r.name_en, r.name_zh) for r in parks.itertuples(index=False)},
            district={str(r.district_id): (r.name_en, r.name_zh) for r in districts.itertuples(index=False)})
        self._park_district = dict(zip(parks["park_id"], parks["district_id"].astype(str), strict=False))
        area = parks["official_area_km2"] if "official_area_km2" in parks else pd.Series(np.nan, index=parks.index)
        self._park_area = dict(zip(parks["park_id"], area.fillna(np.inf).astype(float), strict=False))
        self._park_tier = dict(zip(parks["park_id"], parks.get("geometry_tier", pd.Series("", index=parks.index)),
                                   strict=False))
        anchors = parks[["park_id", "anchor_lon", "anchor_lat"]] if "anchor_lon" in parks else None
        self._park_anchor = {} if anchors is None else {
            r.park_id: (float(r.anchor_lon), float(r.anchor_lat)) for r in anchors.itertuples(index=False)
            if r.anchor_lon is not None and np.isfinite(float(r.anchor_lon))}
        # The districts a park may be written with: its own, and its hub's (the BDA: Daxing, Tongzhou).
        hub_districts = {} if hubs is None else {
            r.hub_id: set(split_codes(r.district_ids)) for r in hubs.itertuples(index=False)}
        park_hub = dict(zip(parks["park_id"], parks.get("hub_id", pd.Series(None, index=parks.index)), strict=False))
        self._park_allowed = {pid: {did} | hub_districts.get(park_hub.get(pid), set())
                              for pid, did in self._park_district.items()}
        geoms = np.asarray(districts.geometry.values, dtype=object)
        points = shapely.point_on_surface(geoms)
        self._district_point = {str(d): (float(shapely.get_x(p)), float(shapely.get_y(p)))
                                for d, p in zip(districts["district_id"], points, strict=True)}

    @staticmethod
    def data_problems(snapshot: object, places: pd.DataFrame | None = None) -> list[str]:
        """Every problem of the curated address places against ``snapshot`` (empty when valid)."""
        places = read_places() if places is None else places
        return place_problems(places, park_ids=snapshot.parks["park_id"],
                              district_ids=snapshot.districts["district_id"].astype(str),
                              source_ids=snapshot.sources["source_id"],
                              park_districts=dict(zip(snapshot.parks["park_id"],
                                                      snapshot.parks["district_id"].astype(str), strict=False)))

    @classmethod
    def from_snapshot(cls, snapshot: object, *, aliases: pd.DataFrame | None = None,
                      places: pd.DataFrame | None = None, check: bool = True) -> OfflineLocator:
        """The locator of a snapshot with its aliases (``Snapshot.aliases``) and the curated address
        places (read from ``data/curated`` unless given), checked against the snapshot first.

        Raises
        ------
        AddressDataError
            Listing every problem of the curated address places.
        """
        aliases = snapshot.aliases if aliases is None else aliases
        places = read_places() if places is None else places
        if check:
            found = cls.data_problems(snapshot, places)
            if found:
                raise AddressDataError(f"{len(found)} problem(s) in the curated address places: " + "; ".join(found))
        return cls(parks=snapshot.parks, districts=snapshot.districts, hubs=snapshot.hubs, aliases=aliases,
                   places=places)

    # ------------------------------------------------------------------ one row

    def park_name(self, park_id: str) -> str:
        return self._names.park.get(park_id, (park_id, park_id))[0]

    def district_name(self, district_id: str) -> str:
        return self._names.district.get(district_id, (district_id, district_id))[0]

    def _district_placement(self, district_id: str, evidence: str, level: str, flag: str = "") -> Placement:
        lon, lat = self._district_point[district_id]
        return Placement("district", lon, lat, evidence=evidence, level=level, flag=flag,
                         point=f"a point inside {self.district_name(district_id)} district (a representative point"
                               " of its boundary), not the site",
                         district_id=district_id)

    def _park_placement(self, park_id: str, district_id: str, evidence: str, level: str, flag: str) -> Placement:
        anchor = self._park_anchor.get(park_id)
        if anchor is None:  # an 'unlocated' park: no point of its own
            lon, lat = self._district_point[district_id]
            point = (f"{self.park_name(park_id)} is not on the map: a point inside"
                     f" {self.district_name(district_id)} district, not the site")
        else:
            lon, lat = anchor
            point = (f"the anchor of {self.park_name(park_id)} ({self._park_tier.get(park_id) or 'park'} extent),"
                     " not the site")
        return Placement("park", lon, lat, evidence=evidence, level=level, flag=flag, point=point,
                         park_id=park_id, district_id=district_id)

    def decide(self, parsed: ParsedAddress, *, origin: str = "address") -> Placement:
        """Place one parsed text (``origin``: "address" or "name", quoted in the evidence)."""
        if not parsed.text:
            return Placement(None, reason=f"no {origin}")
        full = parsed.of_kind("district")
        short = parsed.of_kind("district_short")
        districts = list(dict.fromkeys(f.term.district_id for f in full)) or \
            list(dict.fromkeys(f.term.district_id for f in short))
        district_words = full or short
        towns = parsed.of_kind("town", "area")
        parks = parsed.of_kind("park")
        roads = [f for f in parsed.of_kind("road") if f.term.park_id]
        if parsed.outside and not (full or parks or roads or towns):
            return Placement(None, reason=f"the {origin} is outside Beijing ({_quote(parsed.outside)})")
        flag = ""
        if len(districts) > 1:
            flag = "the {0} names several districts: {1}".format(
                origin, ", ".join(_quote(f.words) for f in district_words))
        stated = districts[0] if districts else None
        evidence: list[str] = []
        if stated:
            evidence.append(f"district {_quote(district_words[0].words)} in the {origin}")
        chosen: Found | None = None
        if parks:
            chosen = min(parks, key=lambda f: (self._park_area.get(f.term.park_id, np.inf), -len(f.words)))
            others = {f.term.park_id for f in parks} - {chosen.term.park_id}
            evidence.insert(0, f"park {_quote(chosen.words)} in the {origin} ({chosen.term.basis})")
            if others:
                evidence.append("also names " + ", ".join(self.park_name(p) for p in sorted(others))
                                + " (the smallest park is kept)")
            level = "park name"
        elif roads:
            chosen = roads[0]
            evidence.insert(0, f"road {_quote(chosen.words)} in the {origin} lies in {self.park_name(chosen.term.park_id)}"
                               f" (source {chosen.term.basis})")
            level = "road in park"
        if chosen is not None:
            park_id = chosen.term.park_id
            allowed = self._park_allowed.get(park_id, set())
            if stated is not None and stated not in allowed:
                conflict = (f"the {origin} names {self.park_name(park_id)} ({_quote(chosen.words)}), which lies in"
                            f" {self.district_name(self._park_district[park_id])}, but district"
                            f" {_quote(district_words[0].words)}: placed in the district only")
                return self._district_placement(stated, "; ".join(evidence[1:] or evidence), "district",
                                                flag="; ".join(filter(None, [flag, conflict])))
            district_id = stated if stated is not None else self._park_district[park_id]
            if stated is None:
                evidence.append(f"district from the park ({self.district_name(district_id)})")
            return self._park_placement(park_id, district_id, "; ".join(evidence), level, flag)
        if stated is not None:
            level = "district" if full else "district (short name)"
            for town in towns:
                if town.term.district_id != stated:
                    flag = "; ".join(filter(None, [flag, f"{town.term.kind} {_quote(town.words)} lies in"
                                                          f" {self.district_name(town.term.district_id)}"]))
            return self._district_placement(stated, "; ".join(evidence), level, flag)
        if towns:
            town = towns[0]
            return self._district_placement(
                town.term.district_id, f"{'area' if town.term.kind == 'area' else 'town'} {_quote(town.words)} in the"
                f" {origin} lies in {self.district_name(town.term.district_id)} (source {town.term.basis})", "town")
        read = []
        if parsed.town:
            read.append(f"town {_quote(parsed.town)} is not in the curated list")
        if parsed.road:
            read.append(f"road {_quote(parsed.road)} is not in the curated road list")
        detail = f" ({'; '.join(read)})" if read else ""
        return Placement(None, reason=f"the {origin} has no Beijing district, town, park or known road{detail}")

    def place(self, address: str | None, name: str | None) -> Placement:
        """Place one row from its address, then its name.

        The address decides; the name is read when the address places nothing, or when it names
        a park in the district the address gives (东城... "同仁医院（亦庄院区）").
        """
        by_address = self.decide(self.parser.parse(address), origin="address")
        if by_address.tier == "park":
            return by_address
        by_name = self.decide(self.parser.parse(name), origin="name") if isinstance(name, str) and name.strip() \
            else Placement(None, reason="no name")
        if by_name.tier == "park" and (by_address.tier is None
                                       or by_address.district_id in self._park_allowed.get(by_name.park_id, set())):
            return by_name
        if by_address.tier is not None:
            return by_address
        if by_name.tier is not None:
            return by_name
        reasons = [by_address.reason] + ([by_name.reason] if by_name.reason != "no name" else [])
        return Placement(None, reason="; ".join(reasons))


# ---------------------------------------------------------------------- tables


@dataclass(frozen=True)
class LocatedTable:
    """A table's rows placed: ``frame`` (every row, the location columns added, ``lon``/``lat``
    NaN where unplaced), with the columns used and one :class:`Placement` per distinct input."""

    frame: pd.DataFrame
    columns: AddressColumns
    providers: tuple[str, ...]
    notes: tuple[str, ...] = ()
    # OpenStreetMap candidates, one row per (row position, rank): geo.locate_osm.CANDIDATE_COLUMNS
    candidates: pd.DataFrame | None = None

    @property
    def placed(self) -> NDArrayBool:
        return self.frame["location_tier"].notna().to_numpy()

    def summary(self) -> dict[str, int]:
        """Rows per tier, and ``unplaced``."""
        counts = self.frame["location_tier"].fillna("unplaced").value_counts()
        order = [*LOCATE_TIERS, "unplaced"]
        return {tier: int(counts.get(tier, 0)) for tier in order if counts.get(tier, 0)}


NDArrayBool = np.ndarray


def _text(values: pd.Series | None, size: int) -> list[str | None]:
    if values is None:
        return [None] * size
    out = values.astype(object).where(values.notna(), None).tolist()
    return [v if isinstance(v, str) else (None if v is None else str(v)) for v in out]


def locate_table(table: pd.DataFrame, *, locators: Sequence[Locator], address_column: str | None = None,
                 name_column: str | None = None) -> LocatedTable:
    """Place every row of ``table`` with the first locator that places it.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with a name and/or an address column.
    locators : sequence of Locator
        Tried in order for each distinct (address, name); the offline locator usually first
        (it never fails), then OSM or online geocoders for what it leaves at district level or
        unplaced.
    address_column, name_column : str, optional
        The columns to read; found by their header when not given.

    Raises
    ------
    LocateError
        If the table has neither a name nor an address column, or a given column is missing.
    """
    for given in (address_column, name_column):
        if given is not None and given not in table.columns:
            raise LocateError(f"the table has no column {given!r}; its columns are {list(table.columns)[:20]}")
    detected = detect_address_columns(table.columns)
    columns = AddressColumns(address=address_column or detected.address,
                             name=name_column or (detected.name if name_column is None else None))
    if not columns.found:
        raise LocateError(f"no name or address column was recognised among {list(table.columns)[:20]}: call them"
                          " 名称/企业名称/name and 地址/注册地址/住所/address, or choose the columns")
    size = len(table)
    addresses = _text(table[columns.address] if columns.address else None, size)
    names = _text(table[columns.name] if columns.name else None, size)
    keys = pd.MultiIndex.from_arrays([pd.Series(addresses, dtype=object), pd.Series(names, dtype=object)])
    codes, uniques = pd.factorize(keys)
    placements: list[Placement] = []
    for address, name in uniques:
        address = address if isinstance(address, str) else None
        name = name if isinstance(name, str) else None
        reasons: list[str] = []
        best = None
        offered: tuple[dict[str, object], ...] = ()
        for locator in locators:  # the first locator that places the row keeps it
            found = locator.place(address, name)
            offered = offered or found.candidates  # the candidates of a locator tried, placed or not
            if found.tier is not None:
                best = found
                break
            reasons.append(found.reason if locator.name == "offline" else f"{locator.name}: {found.reason}")
        if best is None:
            best = Placement(None, reason="; ".join(dict.fromkeys(reasons)) or "no locator")
        if offered and not best.candidates:
            best = replace(best, candidates=offered)
        placements.append(best)
    return _located(table.reset_index(drop=True), placements, codes, columns=columns,
                    providers=tuple(loc.name for loc in locators))


def _located(table: pd.DataFrame, placements: Sequence[Placement], codes: np.ndarray, *, columns: AddressColumns,
             providers: tuple[str, ...]) -> LocatedTable:
    """The located table of ``table``'s rows, row ``i`` placed by ``placements[codes[i]]``."""
    frame = table.copy()
    attributes = {
        "location_tier": [p.tier for p in placements],
        "location_evidence": [p.evidence or None for p in placements],
        "location_point": [p.point or None for p in placements],
        "location_provider": [p.provider if p.tier else None for p in placements],
        "location_level": [p.level or None for p in placements],
        "location_flag": [p.flag or None for p in placements],
        "located_park_id": [p.park_id for p in placements],
        "located_district_id": [p.district_id for p in placements],
        "location_reason": [p.reason or None for p in placements],
    }
    if "osm" in providers or any(p.osm_id for p in placements):
        attributes["location_osm_id"] = [p.osm_id for p in placements]
        attributes["location_attribution"] = [p.attribution for p in placements]
    for column, values in attributes.items():
        frame[column] = np.asarray(values, dtype=object)[codes]
    frame["lon"] = np.array([p.lon for p in placements], dtype=float)[codes]
    frame["lat"] = np.array([p.lat for p in placements], dtype=float)[codes]
    return LocatedTable(frame=frame, columns=columns, providers=providers,
                        candidates=_candidate_rows(placements, codes))


def _candidate_rows(placements: Sequence[Placement], codes: np.ndarray) -> pd.DataFrame | None:
    """The candidates of every row, long: ``position`` (the row's position) then the candidate."""
    per_key = [(key, c) for key, p in enumerate(placements) for c in p.candidates]
    if not per_key:
        return None
    offered = pd.DataFrame([c for _, c in per_key]).assign(key=[key for key, _ in per_key])
    rows = pd.DataFrame({"position": np.arange(len(codes)), "key": codes})
    out = rows.merge(offered, on="key", how="inner").drop(columns="key")
    return out.sort_values(["position", "rank"], kind="stable").reset_index(drop=True)


REVIEW_COLUMNS = ("source_row", "name", "address", "location_tier", "location_evidence", "location_point",
                  "location_flag", "location_provider", "location_reason")


def review_table(located: LocatedTable) -> pd.DataFrame:
    """Every row of a located table as the review shows it: its row number, name, address, tier
    ('unplaced' where nothing placed it), evidence, point, flag, provider and the reason it was
    not placed."""
    frame = located.frame
    size = len(frame)
    rows = frame["source_row"] if "source_row" in frame else pd.Series(np.arange(size) + 1)
    out = pd.DataFrame({
        "source_row": rows.to_numpy(),
        "name": frame[located.columns.name].to_numpy(dtype=object) if located.columns.name else [None] * size,
        "address": frame[located.columns.address].to_numpy(dtype=object) if located.columns.address else [None] * size,
    })
    for column in REVIEW_COLUMNS[3:]:
        out[column] = frame[column].to_numpy(dtype=object)
    out["location_tier"] = out["location_tier"].where(out["location_tier"].notna(), "unplaced")
    return out


def located_points(located: LocatedTable) -> tuple[np.ndarray, dict[int, str]]:
    """The points of a located table (None where unplaced) and the reason of each unplaced row
    (by position)."""
    frame = located.frame
    lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    ok = np.isfinite(lon) & np.isfinite(lat) & frame["location_tier"].notna().to_numpy()
    geoms = np.full(len(frame), None, dtype=object)
    if ok.any():
        geoms[ok] = make_points(lon[ok], lat[ok])
    why = frame["location_reason"].to_numpy(dtype=object)
    reasons = {int(p): "it was not placed: " + str(why[p] or "no reason recorded") for p in np.flatnonzero(~ok)}
    return geoms, reasons


# ---------------------------------------------------------------------- snapshot check
