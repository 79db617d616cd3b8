"""One search over parks, organisations, hubs and districts, by Chinese or English name or alias.

The index is built from the snapshot and its aliases (``Snapshot.aliases``, built from
``data/curated/aliases.csv``: each alias with its source or a note saying where it comes from). Matching is on normalised text
(Unicode NFKC, case-folded, spaces and punctuation dropped), so "e-town", "E Town" and
"ＥＴＯＷＮ" are one query, and 亦庄 finds the BDA through its alias. Pure: no UI.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.datums import convert
from geo.errors import AliasError
from geo.shapes import is_drawn
from geo.snapshot import ALIAS_COLUMNS

ALIASES_PATH = Path(__file__).resolve().parent.parent / "data" / "curated" / "aliases.csv"
KINDS = ("park", "hub", "district", "organisation")  # ties are broken in this order

SCORE_EXACT = 100
SCORE_PREFIX = 80
SCORE_CONTAINS = 60

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class Entry:
    """One searchable thing.

    Attributes
    ----------
    kind : str
        "park", "hub", "district" or "organisation".
    id : str
        Its id in the snapshot (park_id, hub_id, district_id, org_id).
    name_zh, name_en : str
        Its names.
    aliases : tuple of str
        Other names it is known by (curated, with sources).
    park_id : str or None
        The park a pick selects: the park itself, or the organisation's park.
    bounds : tuple of float or None
        WGS84 (minx, miny, maxx, maxy) to show, None if it has no place on the map.
    """

    kind: str
    id: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...] = ()
    park_id: str | None = None
    bounds: Bounds | None = None

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Match:
    """An entry found by a query, with its score and the name or alias that matched."""

    entry: Entry
    score: int
    matched: str


def normalise(text: object) -> str:
    """Text as compared: NFKC, case-folded, without spaces or punctuation ('' for missing)."""
    if not isinstance(text, str):
        return ""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def alias_row_problems(frame: pd.DataFrame) -> list[str]:
    """Every problem of an alias table on its own: columns present, a known subject type and
    language, map_label 0 or 1, a non-empty alias, a source or a note on every row (line numbers
    as in the CSV file). References to the snapshot are ``geo.validate``'s."""
    missing = [c for c in ALIAS_COLUMNS if c not in frame.columns]
    if missing:
        return [f"missing column(s) {', '.join(missing)}"]
    problems = []
    text = frame[list(ALIAS_COLUMNS)].fillna("").astype(str)
    for line, row in enumerate(text.itertuples(index=False), start=2):
        if row.subject_type not in KINDS:
            problems.append(f"line {line}: unknown subject type {row.subject_type!r}")
        if row.lang not in ("en", "zh"):
            problems.append(f"line {line}: language must be en or zh, not {row.lang!r}")
        if row.map_label not in ("0", "1"):
            problems.append(f"line {line}: map_label must be 0 or 1")
        if not row.alias.strip():
            problems.append(f"line {line}: empty alias")
        if not row.source_id.strip() and not row.note.strip():
            problems.append(f"line {line}: an alias needs a source or a note")
    return problems


def read_aliases(path: Path | str = ALIASES_PATH) -> pd.DataFrame:
    """An alias table (the curated one by default; the snapshot's copy is ``Snapshot.aliases``),
    checked by ``alias_row_problems``; missing values are empty strings.

    Raises
    ------
    AliasError
        Listing every problem found.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    problems = alias_row_problems(frame)
    if problems:
        raise AliasError(f"{path}: " + "; ".join(problems))
    return frame[list(ALIAS_COLUMNS)]


def map_labels(aliases: pd.DataFrame, lang: str) -> dict[tuple[str, str], str]:
    """Short labels for the map, per (subject_type, subject_id), from rows with map_label 1."""
    rows = aliases[(aliases["map_label"] == "1") & (aliases["lang"] == lang)]
    return {(r.subject_type, r.subject_id): r.alias for r in rows.itertuples(index=False)}


def _bounds(geometries: Iterable[object]) -> list[Bounds | None]:
    geoms = np.asarray(list(geometries), dtype=object)
    drawn = is_drawn(geoms)
    boxes = shapely.bounds(np.where(drawn, geoms, None))
    return [tuple(float(v) for v in box) if ok else None for box, ok in zip(boxes, drawn, strict=True)]


def build_index(*, parks: gpd.GeoDataFrame, organisations: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                hubs: gpd.GeoDataFrame, aliases: pd.DataFrame | None = None) -> tuple[Entry, ...]:
    """Every park, hub, district and organisation as an :class:`Entry`.

    A park that is not drawn (tier 'unlocated') is shown by its district's bounds; an
    organisation by its point, or its park's bounds if the point is missing.

    Raises
    ------
    AliasError
        If an alias names a subject that is not in the snapshot.
    """
    aliases = aliases if aliases is not None else pd.DataFrame(columns=list(ALIAS_COLUMNS))
    known = {"park": set(parks["park_id"]), "hub": set(hubs["hub_id"]),
             "district": set(districts["district_id"].astype(str)), "organisation": set(organisations["org_id"])}
    unknown = [f"{r.subject_type} {r.subject_id}" for r in aliases.itertuples(index=False)
               if r.subject_id not in known.get(r.subject_type, set())]
    if unknown:
        raise AliasError(f"aliases name subjects not in the snapshot: {', '.join(unknown)}")
    by_subject: dict[tuple[str, str], list[str]] = {}
    for r in aliases.itertuples(index=False):
        by_subject.setdefault((r.subject_type, r.subject_id), []).append(r.alias)

    district_bounds = dict(zip(districts["district_id"].astype(str), _bounds(districts.geometry), strict=True))
    park_bounds = {}
    for pid, did, box in zip(parks["park_id"], parks["district_id"].astype(str), _bounds(parks.geometry), strict=True):
        park_bounds[pid] = box if box is not None else district_bounds.get(did)

    entries: list[Entry] = []
    for r in parks.itertuples(index=False):
        entries.append(Entry("park", r.park_id, r.name_zh, r.name_en, tuple(by_subject.get(("park", r.park_id), ())),
                             park_id=r.park_id, bounds=park_bounds[r.park_id]))
    for r, box in zip(hubs.itertuples(index=False), _bounds(hubs.geometry), strict=True):
        entries.append(Entry("hub", r.hub_id, r.name_zh, r.name_en, tuple(by_subject.get(("hub", r.hub_id), ())),
                             bounds=box))
    for r, box in zip(districts.itertuples(index=False), district_bounds.values(), strict=True):
        did = str(r.district_id)
        entries.append(Entry("district", did, r.name_zh, r.name_en, tuple(by_subject.get(("district", did), ())),
                             bounds=box))
    for r, box in zip(organisations.itertuples(index=False), _bounds(organisations.geometry), strict=True):
        park = r.park_id if isinstance(r.park_id, str) and r.park_id else None
        entries.append(Entry("organisation", r.org_id, r.name_zh, r.name_en,
                             tuple(by_subject.get(("organisation", r.org_id), ())),
                             park_id=park, bounds=box if box is not None else park_bounds.get(park)))
    return tuple(entries)


def _score(query: str, names: Iterable[str]) -> tuple[int, str]:
    best, matched = 0, ""
    for name in names:
        text = normalise(name)
        if not text:
            continue
        if text == query:
            score = SCORE_EXACT
        elif text.startswith(query):
            score = SCORE_PREFIX
        elif len(query) >= 2 and query in text:
            score = SCORE_CONTAINS
        else:
            continue
        if score > best:
            best, matched = score, name
    return best, matched


def search(index: Iterable[Entry], query: str, *, limit: int = 8) -> list[Match]:
    """Entries whose name or alias matches ``query``, best first.

    An exact name or alias scores 100, a name starting with the query 80, a name containing it
    60 (queries of two characters or more). Ties go to parks, then hubs, districts and
    organisations, then to the shorter name.
    """
    text = normalise(query)
    if not text:
        return []
    found = []
    for entry in index:
        score, matched = _score(text, (entry.name_zh, entry.name_en, *entry.aliases))
        if score:
            found.append(Match(entry, score, matched))
    found.sort(key=lambda m: (-m.score, KINDS.index(m.entry.kind), len(m.entry.name_en), m.entry.id))
    return found[:limit]


def view_centre(view: tuple[float, float, float], *, datum: str) -> tuple[float, float]:
    """The (lat, lng) a map drawn in ``datum`` centres on to show ``view`` (lat, lng, zoom in
    WGS84, as stored in the page address): shifted to GCJ-02 on a GCJ-02 basemap, so one stored
    view shows the same place on every basemap."""
    lat, lng = float(view[0]), float(view[1])
    if datum == "wgs84":
        return lat, lng
    lons, lats = convert([lng], [lat], source="wgs84", target=datum)
    return round(float(lats[0]), 6), round(float(lons[0]), 6)


def view_for(bounds: Bounds, *, width_px: int = 640, height_px: int = 480, max_zoom: float = 14.0,
             padding: float = 0.15) -> tuple[float, float, float]:
    """The (lat, lng, zoom) of a web map showing ``bounds`` (WGS84) whole in a frame of the given
    size, with ``padding`` (a share of each side) around it, zoom in half steps up to ``max_zoom``.
    A point (empty bounds) gets ``max_zoom``."""
    minx, miny, maxx, maxy = bounds
    def mercator_y(lat: float) -> float:
        phi = np.radians(lat)
        return float(np.log(np.tan(np.pi / 4 + phi / 2)))
    dx = np.radians(maxx - minx)
    dy = mercator_y(maxy) - mercator_y(miny)
    usable_w, usable_h = width_px * (1 - 2 * padding), height_px * (1 - 2 * padding)
    # At zoom z the world is 256 * 2**z px across 2*pi radians.
    zooms = [max_zoom]
    if dx > 0:
        zooms.append(np.log2(usable_w * 2 * np.pi / (256 * dx)))
    if dy > 0:
        zooms.append(np.log2(usable_h * 2 * np.pi / (256 * dy)))
    zoom = float(np.floor(min(zooms) * 2) / 2)
    return round((miny + maxy) / 2, 5), round((minx + maxx) / 2, 5), zoom
