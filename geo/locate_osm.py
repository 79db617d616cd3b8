"""Place names and addresses on OpenStreetMap features: the ``osm`` locator of :mod:`geo.locate`.

An extract (a file, an upload, or what ``geo.osm.fetch_osm`` returned) is read with
``NAMED_TAGS`` (every feature with a name, an ``addr:*`` tag, an operator or a brand). Each row
(name and/or address) is compared with every feature that shares character pairs with it, and
each candidate is scored like the park matcher (``geo.osm.match``), on weighted parts
(``LOCATE_WEIGHTS``):

- **name**: the row's name against the feature's ``name``, ``name:zh``, ``name:en``, official,
  alternative and short names, ``operator`` and ``brand`` (``geo.osm.match.name_similarity``);
- **address**: the feature's ``addr:street`` found in the row's address (0.6), with its
  ``addr:housenumber`` right after it (1.0), or the likeness of ``addr:full``;
- **location**: the feature inside the park the row is expected in (1.0; nearer than
  ``search_radius_m`` to its outline: less), or in its district only (0.5); in another district:
  0 and flagged. The expectation comes from the offline locator's reading of the address
  (:class:`geo.locate.OfflineLocator`), or, for the snapshot's organisations, their stated park.

A part the row cannot have (no name, no address, nothing known about where it is) is left out
and the others weigh more. A row is placed (tier ``osm``) only by a candidate of high confidence
(``confidence``: score >= ``ACCEPT_SCORE``, a nearly equal name or the street in the address,
not in another district) that is not tied with the next one; every other row keeps its
candidates for the review, where a person can confirm one (:func:`geo.locate.accept_candidates`).
Features outside Beijing's districts are not candidates. OpenStreetMap data is
(c) OpenStreetMap contributors, ODbL 1.0: the attribution travels with every placement.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import LocateError
from geo.locate import LocatedTable, OfflineLocator, Placement
from geo.osm.match import name_similarity, normalise_name
from geo.osm.read import NAME_KEYS, OSM_ATTRIBUTION, read_osm_file
from geo.projection import local_metric
from geo.shapes import is_drawn

NAMED_TAGS: dict[str, bool | str | list[str]] = {
    "name": True, "name:zh": True, "name:en": True, "official_name": True, "alt_name": True,
    "addr:street": True, "addr:housenumber": True, "addr:full": True, "operator": True, "brand": True,
}
FEATURE_NAME_KEYS: tuple[str, ...] = (*NAME_KEYS, "operator", "operator:zh", "brand", "brand:zh")
LOCATE_WEIGHTS: dict[str, float] = {"name": 0.5, "address": 0.3, "location": 0.2}
ACCEPT_SCORE = 0.7
STRONG_NAME = 0.9  # a name this alike (one contains the other, nearly whole) may place a row alone
MEDIUM_SCORE = 0.45
TIE_MARGIN = 0.02
POOL_SIZE = 15  # candidates scored per row: the features sharing most character pairs with it, by name and by address
COMMON_PAIR_SHARE = 0.02  # a character pair in more than this share of the features (and > COMMON_PAIR_MIN) is skipped
COMMON_PAIR_MIN = 50
CANDIDATE_COLUMNS = ("rank", "osm_id", "osm_name", "score", "confidence", "name_score", "matched_name",
                     "address_score", "matched_address", "location_score", "evidence", "flag", "lon", "lat",
                     "park_id", "district_id", "osm_version", "osm_timestamp")
_BRACKETS = re.compile(r"[(（][^)）]*[)）]")
_NUMBER = re.compile(r"^\D*(\d+)")


def read_named_features(source: str | os.PathLike[str] | bytes, *, filename: str | None = None) -> gpd.GeoDataFrame:
    """The features of an extract that can place a name or an address (``NAMED_TAGS``), as
    ``geo.osm.read_osm_file`` reads them (no network; the same damaged-file messages)."""
    return read_osm_file(source, tags=NAMED_TAGS, filename=filename)


def _variants(value: object) -> list[str]:
    """A name normalised, with and without what it says in brackets."""
    if not isinstance(value, str) or not value.strip():
        return []
    text = unicodedata.normalize("NFKC", value)
    out = [normalise_name(text), normalise_name(_BRACKETS.sub("", text))]
    return [v for v in dict.fromkeys(out) if v]


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else ({text} if text else set())


def _house_number(value: object) -> str | None:
    match = _NUMBER.match(normalise_name(value)) if isinstance(value, str) else None
    return match.group(1) if match else None


class OSMLocator:
    """Places rows on the named features of an OpenStreetMap extract; lists candidates for review.

    Build it once per extract and snapshot; :meth:`place` answers one row (the
    :class:`geo.locate.Locator` protocol), :meth:`candidates` ranks the features for a row.

    Parameters
    ----------
    features : GeoDataFrame
        From :func:`read_named_features` (or any frame of ``geo.osm.read_osm_file``), EPSG:4326.
    districts : GeoDataFrame
        Beijing's districts (``district_id``): features outside them are not candidates.
    parks : GeoDataFrame, optional
        The parks as shown (``park_id``, outlines): the location part of the score.
    offline : OfflineLocator, optional
        Reads the park or district a row's address names (the location expected).
    source : str, optional
        The extract's name, quoted in the evidence (default: ``features.attrs["source"]``).
    search_radius_m : float
        A candidate this far from the expected park's outline scores no location.
    max_candidates : int
        Candidates kept per row, best first.
    """

    name = "osm"

    def __init__(self, features: gpd.GeoDataFrame, *, districts: gpd.GeoDataFrame,
                 parks: gpd.GeoDataFrame | None = None, offline: OfflineLocator | None = None,
                 source: str | None = None, search_radius_m: float = 3_000.0, max_candidates: int = 5) -> None:
        if features.crs is not None and not features.crs.equals("EPSG:4326"):
            raise LocateError(f"OSM features are in {features.crs.to_string()!r}: pass them as read (EPSG:4326)")
        self.offline = offline
        self.source = source or features.attrs.get("source") or "OpenStreetMap extract"
        self.search_radius_m = float(search_radius_m)
        self.max_candidates = int(max_candidates)
        geoms = np.asarray(features.geometry.values, dtype=object)
        usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        points = np.full(len(geoms), None, dtype=object)
        points[usable] = shapely.point_on_surface(geoms[usable])
        district_ids = districts["district_id"].astype(str).to_numpy(dtype=object)
        district_geoms = np.asarray(districts.geometry.values, dtype=object)
        in_district = np.full(len(geoms), None, dtype=object)
        if usable.any():
            tree = shapely.STRtree(district_geoms)
            point_pos, district_pos = tree.query(points[usable], predicate="intersects")
            where = np.flatnonzero(usable)
            in_district[where[point_pos[::-1]]] = district_ids[district_pos[::-1]]  # the first district wins
        named_columns = [c for c in FEATURE_NAME_KEYS if c in features.columns]
        address_columns = [c for c in ("addr:street", "addr:housenumber", "addr:full") if c in features.columns]
        keep = usable & (in_district != None)  # noqa: E711 - element-wise
        if named_columns or address_columns:
            tagged = features[named_columns + address_columns].notna().any(axis=1).to_numpy()
            keep &= tagged
        else:
            keep &= False
        self.outside_beijing = int((usable & (in_district == None)).sum())  # noqa: E711
        chosen = np.flatnonzero(keep)
        frame = features.iloc[chosen]
        self._points = points[chosen]
        self._lon = shapely.get_x(self._points) if len(chosen) else np.zeros(0)
        self._lat = shapely.get_y(self._points) if len(chosen) else np.zeros(0)
        self._district = in_district[chosen]
        self._ids = frame["osm_id"].astype(str).to_numpy(dtype=object)
        self._versions = (pd.array(frame["osm_version"], dtype="Int64") if "osm_version" in frame
                          else pd.array([pd.NA] * len(frame), dtype="Int64"))
        self._stamps = (frame["osm_timestamp"].to_numpy(dtype=object) if "osm_timestamp" in frame
                        else np.full(len(frame), None, dtype=object))
        values = frame[named_columns].to_numpy(dtype=object) if named_columns else np.empty((len(frame), 0))
        self._names: list[list[tuple[str, str, list[str]]]] = [
            [(key, value, _variants(value)) for key, value in zip(named_columns, row, strict=True)
             if isinstance(value, str) and value.strip()] for row in values]

        def column(key: str) -> list[object]:
            return frame[key].tolist() if key in frame else [None] * len(frame)

        self._street = [normalise_name(v) if isinstance(v, str) else "" for v in column("addr:street")]
        self._street_raw = column("addr:street")
        self._number = [_house_number(v) for v in column("addr:housenumber")]
        self._number_raw = column("addr:housenumber")
        self._full = [normalise_name(v) if isinstance(v, str) else "" for v in column("addr:full")]
        self._full_raw = column("addr:full")
        self._name_index: dict[str, set[int]] = {}
        self._address_index: dict[str, set[int]] = {}
        for position, names in enumerate(self._names):
            for _key, _value, variants in names:
                for variant in variants:
                    for pair in _bigrams(variant):
                        self._name_index.setdefault(pair, set()).add(position)
            for text in (self._street[position], self._full[position]):
                for pair in _bigrams(text):
                    self._address_index.setdefault(pair, set()).add(position)
        # the parks: which feature lies in which park, and how far from each drawn outline (metres)
        self._park_ids: list[str] = []
        self._park_distance = np.zeros((len(chosen), 0))
        if parks is not None and len(parks) and len(chosen):
            outlines = np.asarray(parks.geometry.values, dtype=object)
            drawn = is_drawn(outlines)
            self._park_ids = [str(p) for p in parks["park_id"].to_numpy(dtype=object)[drawn]]
            if drawn.any():
                plane = local_metric(outlines[drawn])
                local_outlines = plane.to_metres(outlines[drawn])
                local_points = plane.to_metres(self._points)
                self._park_distance = shapely.distance(local_points[:, None], local_outlines[None, :])
        self.features = len(chosen)

    # ------------------------------------------------------------------ scoring

    def _pool(self, names: Sequence[str], address: str) -> list[int]:
        """The features sharing the most character pairs with the row's names, then its address.
        Pairs most features share (有限, 公司, 北京 ...) say nothing and are skipped, unless the row
        has no other."""
        pool = self._shared(self._name_index, {pair for variant in names for pair in _bigrams(variant)})
        pool += self._shared(self._address_index, _bigrams(address))
        return list(dict.fromkeys(pool))

    def _shared(self, index: dict[str, set[int]], pairs: set[str]) -> list[int]:
        postings = sorted((index[pair] for pair in pairs if pair in index), key=len)
        if not postings:
            return []
        common = max(COMMON_PAIR_MIN, int(COMMON_PAIR_SHARE * self.features))
        rare = [p for p in postings if len(p) <= common] or postings[:1]
        counts: Counter[int] = Counter()
        for posting in rare:
            counts.update(posting)
        return [p for p, _ in counts.most_common(POOL_SIZE)]

    def _name_score(self, position: int, names: Sequence[str]) -> tuple[float, str | None]:
        best, matched = 0.0, None
        for key, value, variants in self._names[position]:
            for variant in variants:
                for target in names:
                    value_ = name_similarity(variant, target)
                    if value_ > best:
                        best, matched = value_, f"{key}={value}"
        return best, matched

    def _address_score(self, position: int, address: str) -> tuple[float, str | None]:
        if not address:
            return 0.0, None
        best, matched = 0.0, None
        street = self._street[position]
        if len(street) >= 2 and street in address:
            best, matched = 0.6, f"addr:street={self._street_raw[position]}"
            number = self._number[position]
            if number is not None:
                after = address.split(street, 1)[1]
                found = _NUMBER.match(after)
                if found is not None and found.group(1) == number and after.startswith(number):
                    best, matched = 1.0, f"addr:street={self._street_raw[position]} + " \
                                         f"addr:housenumber={self._number_raw[position]}"
        full = self._full[position]
        if full:
            value = name_similarity(full, address)
            if value > best:
                best, matched = value, f"addr:full={self._full_raw[position]}"
        return best, matched

    def _location_score(self, position: int, park_id: str | None, district_id: str | None) -> tuple[float, str]:
        if park_id is not None and park_id in self._park_ids:
            distance = float(self._park_distance[position, self._park_ids.index(park_id)])
            if distance == 0.0:
                return 1.0, f"inside the park {park_id}"
            if distance < self.search_radius_m:
                return 0.7 * (1.0 - distance / self.search_radius_m), f"{distance:,.0f} m from the park {park_id}"
        if district_id is not None:
            if self._district[position] == str(district_id):
                return 0.5, f"in district {district_id}"
            return 0.0, f"in district {self._district[position]}, not {district_id}"
        return 0.0, ""

    def candidates(self, *, names: Iterable[object] = (), address: object = None, park_id: str | None = None,
                   district_id: str | None = None) -> list[dict[str, object]]:
        """The features that could be this row, best first (at most ``max_candidates``).

        Parameters
        ----------
        names : iterable of str
            The row's names (Chinese, English, ...); empty ones are ignored.
        address : str, optional
        park_id, district_id : str, optional
            Where the row is expected (its park, its district); the location part of the score.

        Returns
        -------
        list of dict
            ``CANDIDATE_COLUMNS``: rank, OSM id, name, score (0-1), confidence (high, medium,
            low), the parts and what matched, the evidence in words, a flag (another district),
            the point (WGS84), the park and district it lies in, OSM version and timestamp.
        """
        targets = list(dict.fromkeys(v for name in names for v in _variants(name)))
        text = normalise_name(address) if isinstance(address, str) else ""
        if not targets and not text:
            return []
        weights = {"name": LOCATE_WEIGHTS["name"] if targets else 0.0,
                   "address": LOCATE_WEIGHTS["address"] if text else 0.0,
                   "location": LOCATE_WEIGHTS["location"] if (park_id or district_id) else 0.0}
        total = sum(weights.values())
        rows = []
        for position in self._pool(targets, text):
            name_score, matched_name = self._name_score(position, targets) if targets else (0.0, None)
            address_score, matched_address = self._address_score(position, text)
            if name_score < 0.5 and address_score < 0.6:
                continue  # shares a few characters, nothing more
            location, where = self._location_score(position, park_id, district_id)
            score = (weights["name"] * name_score + weights["address"] * address_score
                     + weights["location"] * location) / total
            evidence = []
            if matched_name and name_score >= 0.3:
                evidence.append(f"{matched_name} matches the name ({name_score:.2f})")
            if matched_address:
                evidence.append(f"{matched_address} in the address ({address_score:.2f})")
            if where:
                evidence.append(where)
            flag = ""
            if district_id is not None and self._district[position] != str(district_id):
                flag = f"the feature lies in district {self._district[position]}, the row says {district_id}"
            park_here = [pid for pid, d in zip(self._park_ids, self._park_distance[position], strict=True) if d == 0.0]
            rows.append({
                "confidence": confidence(score, name_score=name_score, address_score=address_score,
                                         flagged=bool(flag)),
                "osm_id": self._ids[position], "osm_name": self._display_name(position),
                "score": round(score, 4), "name_score": round(name_score, 4), "matched_name": matched_name,
                "address_score": round(address_score, 4), "matched_address": matched_address,
                "location_score": round(location, 4),
                "evidence": f"OpenStreetMap {self._ids[position]}: " + "; ".join(evidence), "flag": flag,
                "lon": float(self._lon[position]), "lat": float(self._lat[position]),
                "park_id": park_id if park_id in park_here else (park_here[0] if park_here else None),
                "district_id": self._district[position],
                "osm_version": None if pd.isna(self._versions[position]) else int(self._versions[position]),
                "osm_timestamp": self._stamps[position] if isinstance(self._stamps[position], str) else None})
        rows.sort(key=lambda r: (-float(r["score"]), str(r["osm_id"])))
        for rank, row in enumerate(rows[:self.max_candidates], start=1):
            row["rank"] = rank
        return [{c: row[c] for c in CANDIDATE_COLUMNS} for row in rows[:self.max_candidates]]

    def _display_name(self, position: int) -> str | None:
        names = self._names[position]
        if names:
            return names[0][1]
        street = self._street_raw[position]
        return f"{street} {self._number_raw[position] or ''}".strip() if isinstance(street, str) else None

    # ------------------------------------------------------------------ one row

    def place(self, address: str | None, name: str | None) -> Placement:
        """Place one row on its best OSM feature, if that one is of high confidence and not tied;
        the candidates travel with the placement either way."""
        park_id = district_id = None
        if self.offline is not None:
            expected = self.offline.place(address, name)
            park_id, district_id = expected.park_id, expected.district_id
        found = self.candidates(names=[name] if name else [], address=address, park_id=park_id,
                                district_id=district_id)
        return placement_of(found, source=self.source)


def confidence(score: float, *, name_score: float = 1.0, address_score: float = 1.0, flagged: bool = False) -> str:
    """``high`` (score >= ``ACCEPT_SCORE``), ``medium`` (>= ``MEDIUM_SCORE``) or ``low``.

    High needs more than a likely name: a candidate whose name is not (nearly) the row's
    (``name_score`` < ``STRONG_NAME``) and whose street is not in the address, or one in another
    district than the row's, is at most medium: a person confirms it.
    """
    if score >= ACCEPT_SCORE and not flagged and (name_score >= STRONG_NAME or address_score >= 0.6):
        return "high"
    return "medium" if score >= MEDIUM_SCORE else "low"


def placement_of(found: Sequence[Mapping[str, object]], *, source: str, chosen: str | None = None,
                 confirmed: bool = False) -> Placement:
    """The placement a candidate list gives: the candidate ``chosen`` (an OSM id, confirmed by a
    person), or else the best one if it is of high confidence and not tied with the next.

    Raises
    ------
    LocateError
        If ``chosen`` is not among the candidates.
    """
    kept = tuple(dict(c) for c in found)
    if chosen is not None:
        picked = [c for c in kept if c["osm_id"] == chosen]
        if not picked:
            raise LocateError(f"{chosen!r} is not a candidate of this row: choose one of "
                              f"{', '.join(str(c['osm_id']) for c in kept) or '(none)'}")
        best = picked[0]
    else:
        if not kept:
            return Placement(None, reason="no OpenStreetMap feature of the extract shares its name or address",
                             provider="osm")
        best = kept[0]
        if best["confidence"] != "high":
            return Placement(None, provider="osm", candidates=kept,
                             reason=f"the best OpenStreetMap candidate {best['osm_id']} ({best['osm_name']}) scores"
                                    f" {float(best['score']):.2f}, {best['confidence']} confidence: confirm it in the"
                                    " review if right")
        if len(kept) > 1 and float(best["score"]) - float(kept[1]["score"]) < TIE_MARGIN:
            return Placement(None, provider="osm", candidates=kept,
                             reason=f"OpenStreetMap candidates {best['osm_id']} and {kept[1]['osm_id']} score alike"
                                    f" ({float(best['score']):.2f}): choose one in the review")
    evidence = str(best["evidence"]) + (f"; score {float(best['score']):.2f}"
                                        + ("; confirmed in the review" if confirmed else ""))
    version = best.get("osm_version")
    point = (f"the OpenStreetMap feature {best['osm_id']}" + (f" (version {version})" if version else "")
             + f" of {source}, a point on it; {OSM_ATTRIBUTION}")
    return Placement("osm", float(best["lon"]), float(best["lat"]), evidence=evidence, point=point, provider="osm",
                     level="confirmed candidate" if confirmed else f"{best['confidence']} confidence",
                     flag=str(best.get("flag") or ""), park_id=best.get("park_id"),  # type: ignore[arg-type]
                     district_id=best.get("district_id"), candidates=kept,  # type: ignore[arg-type]
                     osm_id=str(best["osm_id"]), attribution=OSM_ATTRIBUTION)


def osm_locator(snapshot: object, features: gpd.GeoDataFrame, *, offline: OfflineLocator | None = None,
                source: str | None = None) -> OSMLocator:
    """The OSM locator of an extract's features for a snapshot (its districts, parks and offline
    locator for the expected place)."""
    return OSMLocator(features, districts=snapshot.districts, parks=snapshot.parks,  # type: ignore[attr-defined]
                      offline=offline or OfflineLocator.from_snapshot(snapshot), source=source)


def distance_m(lon_a: float, lat_a: float, lon_b: float, lat_b: float) -> float:
    """Metres between two WGS84 points (geodesic, ``geo.projection.geodesic_m``)."""
    from geo.projection import geodesic_m

    if not all(math.isfinite(v) for v in (lon_a, lat_a, lon_b, lat_b)):
        return math.nan
    return float(geodesic_m(lon_a, lat_a, lon_b, lat_b))


# ---------------------------------------------------------------------- the review


def candidate_table(located: LocatedTable) -> pd.DataFrame:
    """The OpenStreetMap candidates of a located table as the review lists them: one row per
    (table row, candidate), ``source_row`` first, then ``CANDIDATE_COLUMNS``; empty when none."""
    offered = located.candidates
    if offered is None or offered.empty:
        return pd.DataFrame(columns=["source_row", *CANDIDATE_COLUMNS])
    rows = located.frame["source_row"].to_numpy() if "source_row" in located.frame \
        else np.arange(len(located.frame)) + 1
    out = offered.drop(columns="position").copy()
    out.insert(0, "source_row", rows[offered["position"].to_numpy()])
    return out.reset_index(drop=True)


def best_choices(located: LocatedTable, *, min_score: float = ACCEPT_SCORE) -> dict[int, str]:
    """The bulk choice: for each row not yet placed on OpenStreetMap whose best candidate is of high
    confidence, scores at least ``min_score`` and is not tied with the next, that candidate
    (``source_row -> osm_id``)."""
    table = candidate_table(located)
    if table.empty:
        return {}
    tier = dict(zip(located.frame["source_row"], located.frame["location_tier"], strict=True)) \
        if "source_row" in located.frame else {}
    second = table[table["rank"] == 2].set_index("source_row")["score"]
    best = table[(table["rank"] == 1) & (table["score"] >= min_score) & (table["confidence"] == "high")]
    best = best[~(best["score"] - best["source_row"].map(second).fillna(-1.0) < TIE_MARGIN).to_numpy()]  # no ties
    return {int(r): str(o) for r, o in zip(best["source_row"], best["osm_id"], strict=True) if tier.get(r) != "osm"}


def accept_candidates(located: LocatedTable, choices: Mapping[int, str], *,
                      source: str = "the OpenStreetMap extract") -> LocatedTable:
    """The table with the rows in ``choices`` (``source_row -> osm_id``) placed on the chosen
    candidates: tier ``osm``, the OSM id, the ODbL attribution, the evidence ending with
    "confirmed in the review". Other rows are unchanged.

    Raises
    ------
    LocateError
        For a row that is not in the table, or an OSM id that is not among its candidates.
    """
    if not choices:
        return located
    frame = located.frame.copy()
    rows = frame["source_row"].to_numpy() if "source_row" in frame else np.arange(len(frame)) + 1
    position_of = {int(r): p for p, r in enumerate(rows)}
    offered = located.candidates if located.candidates is not None else pd.DataFrame(columns=["position"])
    by_position = {int(p): group for p, group in offered.groupby("position")} if len(offered) else {}
    for column in ("location_osm_id", "location_attribution"):
        if column not in frame:
            frame[column] = np.full(len(frame), None, dtype=object)
    for row, osm_id in choices.items():
        if int(row) not in position_of:
            raise LocateError(f"row {row!r} is not in the table: rows run from {int(rows.min())} to {int(rows.max())}")
        position = position_of[int(row)]
        group = by_position.get(position)
        found = [] if group is None else group.drop(columns="position").to_dict("records")
        try:
            placed = placement_of(found, source=source, chosen=str(osm_id), confirmed=True)
        except LocateError as exc:
            raise LocateError(f"row {row}: {exc}") from None
        values = {"location_tier": placed.tier, "location_evidence": placed.evidence, "location_point": placed.point,
                  "location_provider": placed.provider, "location_level": placed.level,
                  "location_flag": placed.flag or None, "located_park_id": placed.park_id,
                  "located_district_id": placed.district_id, "location_reason": None,
                  "location_osm_id": placed.osm_id, "location_attribution": placed.attribution,
                  "lon": placed.lon, "lat": placed.lat}
        for column, value in values.items():
            frame.iat[position, frame.columns.get_loc(column)] = value
    return dataclasses.replace(located, frame=frame)


def candidate_summary(located: LocatedTable, *, limit: int = 3) -> dict[int, str]:
    """Each row's best candidates in one line (``source_row -> "node/2 百济神州 1.00 high; ..."``),
    for the review table; rows without candidates are left out."""
    table = candidate_table(located)
    out: dict[int, str] = {}
    for row, group in table.groupby("source_row", sort=False):
        out[int(row)] = "; ".join(f"{r.osm_id} {r.osm_name or ''} {float(r.score):.2f} {r.confidence}".replace("  ", " ")
                                  for r in group.head(limit).itertuples(index=False))
    return out
