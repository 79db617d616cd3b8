"""Beijing addresses read offline: which district, town, park and road an address names.

An address such as "北京市昌平区中关村生命科学园生命园路8号院8号楼" or "No. 8 Life Science Park
Road, Changping District, Beijing" is matched against a table of :class:`Term` s built from the
snapshot (district names, park names) and the curated files ``data/curated/aliases.csv`` (park
aliases) and ``data/curated/address_places.csv`` (roads that lie in a park, towns and wider areas,
each with its source or a note). Matching is on normalised text (NFKC, case-folded, punctuation
and the spaces between Chinese characters dropped) and takes the longest term at each place, so
"中关村生命科学园" wins over "生命科学园" and "大兴生物医药产业基地" over "大兴".

Pure: no UI, no network. :func:`parse` answers what an address *names*; deciding where a row is
placed is :mod:`geo.locate`'s job.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.errors import AddressDataError, GeoError  # noqa: F401  re-exported

PLACES_PATH = Path(__file__).resolve().parent.parent / "data" / "curated" / "address_places.csv"
PLACE_COLUMNS = ("kind", "name_zh", "name_en", "park_id", "district_id", "source_id", "note")
PLACE_KINDS = ("road", "town", "area")
TERM_KINDS = ("district", "district_short", "park", "road", "town", "area")

_CJK = "\u3400-\u9fff"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
_NOT_WORD = re.compile(r"[^\w" + _CJK + r"]+", re.UNICODE)
_BRACKETS = re.compile(r"[（(][^）)]*[）)]|[“”\"'‘’]")
_NUMBER = re.compile(r"(?:甲|乙|丙)?\d+(?:-\d+)?号|\bno \d+\b")
_ROAD = re.compile(r"(?:^|(?<=[|区市县镇乡]))([^\W\d|区市县]{1,8}?(?:大街|大道|胡同|路|街|巷))(?=(?:甲|乙|丙)?\d)")
_TOWN = re.compile(r"(?:^|(?<=[区市县]))([^\W\d区市县]{2,5}?(?:镇|乡|街道|地区))")
# A province or a municipality other than Beijing at the head of the address.
_OUTSIDE = re.compile(rf"^(?:中国)?((?:天津|上海|重庆)市?|[{_CJK}]{{2,3}}省|[{_CJK}]{{2,6}}自治区|香港|澳门|台湾)")
_BEIJING_PREFIX = re.compile(r"^(?:中国|china)?\s*(?:北京市|北京|beijing(?: city| municipality)?)\s*")



@dataclass(frozen=True)
class Term:
    """One thing an address can name.

    Attributes
    ----------
    text : str
        The words as curated (quoted in evidence).
    kind : str
        "district", "district_short" (a district's name without 区), "park", "road", "town" or "area".
    district_id, park_id : str or None
        Where the term lies.
    basis : str
        Where the term comes from: a source id, or the note that stands in for one.
    """

    text: str
    kind: str
    district_id: str | None
    park_id: str | None
    basis: str


@dataclass(frozen=True)
class Found:
    """A term found in an address, with the words as they appear there."""

    term: Term
    words: str


@dataclass(frozen=True)
class ParsedAddress:
    """What one address names.

    ``found`` holds every known term, longest first at each place; ``road`` and ``number`` are the
    road and door number read from the address's shape (known or not); ``town`` the first town or
    subdistrict written; ``outside`` a province or municipality other than Beijing at its head.
    """

    text: str
    found: tuple[Found, ...]
    road: str | None = None
    number: str | None = None
    town: str | None = None
    outside: str | None = None

    def of_kind(self, *kinds: str) -> list[Found]:
        return [f for f in self.found if f.term.kind in kinds]


def normalise(text: object) -> str:
    """Address text as matched: NFKC, case-folded, punctuation as one space, no spaces next to
    Chinese characters ('' for missing values)."""
    if not isinstance(text, str):
        return ""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE_NEAR_CJK.sub("", _NOT_WORD.sub(" ", folded)).strip()


def _missing(value: object) -> bool:
    return not isinstance(value, str) or not value.strip()


def read_places(path: Path | str = PLACES_PATH) -> pd.DataFrame:
    """The curated roads, towns and areas, with the columns checked (see :func:`place_problems`)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in PLACE_COLUMNS if c not in frame.columns]
    if missing:
        raise AddressDataError(f"{path}: missing column(s) {', '.join(missing)}: the header must be "
                               + ",".join(PLACE_COLUMNS))
    return frame


def place_problems(places: pd.DataFrame, *, park_ids: Iterable[str], district_ids: Iterable[str],
                   source_ids: Iterable[str], park_districts: dict[str, str] | None = None) -> list[str]:
    """Every broken rule of the curated address places, each naming its line and the bad value.

    Rules: a known kind; a Chinese name; a known district; a road's park (if any) exists and lies
    in the road's district; a town or area has no park; a known source id, or a note; no name twice.
    """
    parks, districts, sources = set(park_ids), set(district_ids), set(source_ids)
    out = []
    seen: dict[str, int] = {}
    for line, row in enumerate(places.itertuples(index=False), start=2):
        where = f"address_places.csv line {line} ({row.name_zh!r})"
        if row.kind not in PLACE_KINDS:
            out.append(f"{where}: kind {row.kind!r} is not one of {', '.join(PLACE_KINDS)}")
        if _missing(row.name_zh):
            out.append(f"{where}: name_zh is empty")
        elif normalise(row.name_zh) in seen:
            out.append(f"{where}: {row.name_zh!r} is already on line {seen[normalise(row.name_zh)]}")
        else:
            seen[normalise(row.name_zh)] = line
        if row.district_id not in districts:
            out.append(f"{where}: district_id {row.district_id!r} is not a district of the snapshot")
        if row.park_id:
            if row.kind != "road":
                out.append(f"{where}: a {row.kind} names no park (park_id {row.park_id!r}); only roads lie in parks")
            elif row.park_id not in parks:
                out.append(f"{where}: park_id {row.park_id!r} is not a park of the snapshot")
            elif park_districts and park_districts.get(row.park_id) != row.district_id:
                out.append(f"{where}: park {row.park_id!r} lies in district {park_districts.get(row.park_id)!r},"
                           f" not {row.district_id!r}")
        if row.source_id and row.source_id not in sources:
            out.append(f"{where}: source_id {row.source_id!r} is not in sources.csv")
        if _missing(row.source_id) and _missing(row.note):
            out.append(f"{where}: give a source_id or a note saying where the entry comes from")
    return out


def _strip(name: str) -> str:
    return _BRACKETS.sub("", name).strip()


def build_terms(*, parks: pd.DataFrame, districts: pd.DataFrame, aliases: pd.DataFrame | None = None,
                places: pd.DataFrame | None = None) -> tuple[Term, ...]:
    """Every term an address can name, from the snapshot and the curated tables.

    Parks: their Chinese and English names (with and without the bracketed part) and their
    aliases, except an alias that is a curated town or area or the stem of one (温泉镇, 马池口,
    未来科学城: an address there is in the town, not necessarily in the park). Districts: full
    names (昌平区, Changping District) and short forms (昌平, Changping), which count for less.
    """
    places = places if places is not None else pd.DataFrame(columns=list(PLACE_COLUMNS))
    terms: list[Term] = []
    for row in districts.itertuples(index=False):
        did = str(row.district_id)
        zh, en = str(row.name_zh), str(row.name_en)
        terms += [Term(zh, "district", did, None, "district name"),
                  Term(f"{en} District", "district", did, None, "district name"),
                  Term(f"{en} Dist", "district", did, None, "district name")]
        if zh.endswith("区") and len(zh) > 2:
            terms.append(Term(zh[:-1], "district_short", did, None, "district name without 区"))
        terms.append(Term(en, "district_short", did, None, "district name"))
    places_by_stem = set()
    for row in places.itertuples(index=False):
        if row.kind in ("town", "area"):
            key = normalise(row.name_zh)
            places_by_stem.add(key)
            places_by_stem.add(re.sub(r"(镇|乡|街道|地区)$", "", key))
            if row.name_en:
                places_by_stem.add(normalise(row.name_en))
    park_district = dict(zip(parks["park_id"], parks["district_id"].astype(str), strict=False))
    for row in parks.itertuples(index=False):
        for name in {str(row.name_zh), _strip(str(row.name_zh)), str(row.name_en), _strip(str(row.name_en))}:
            if normalise(name):
                terms.append(Term(name, "park", park_district[row.park_id], row.park_id, "park name"))
    if aliases is not None:
        for row in aliases.itertuples(index=False):
            if row.subject_type != "park" or row.subject_id not in park_district:
                continue
            if normalise(row.alias) in places_by_stem:
                continue  # a place around the park, not the park
            terms.append(Term(row.alias, "park", park_district[row.subject_id], row.subject_id,
                              row.source_id or "alias (note only)"))
    for row in places.itertuples(index=False):
        basis = row.source_id or "note"
        for name in (row.name_zh, row.name_en):
            if normalise(name):
                terms.append(Term(name, row.kind, row.district_id or None, row.park_id or None, basis))
    return tuple(terms)


class AddressParser:
    """Parses addresses against one term table (compiled once: build it once, parse many)."""

    def __init__(self, terms: Iterable[Term]) -> None:
        by_key: dict[str, Term] = {}
        rank = {kind: position for position, kind in enumerate(TERM_KINDS)}
        for term in terms:
            key = normalise(term.text)
            if not key:
                continue
            held = by_key.get(key)
            # One meaning per key: a full district name beats a park alias spelled the same.
            if held is None or rank[term.kind] < rank[held.kind]:
                by_key[key] = term
        self.terms = by_key
        # Keys by their first character, longest first: at each place of an address only the few
        # keys starting with its character are tried (a regex alternation of every key tried all).
        self._by_first: dict[str, list[tuple[str, bool]]] = {}
        for key in sorted(by_key, key=len, reverse=True):
            latin = re.search(rf"[{_CJK}]", key) is None
            self._by_first.setdefault(key[0], []).append((key, latin))

    def _scan(self, text: str) -> list[Found]:
        found, position, size = [], 0, len(text)
        while position < size:
            hit = None
            for key, latin in self._by_first.get(text[position], ()):
                if not text.startswith(key, position):
                    continue
                end = position + len(key)
                if latin and ((position and text[position - 1].isalnum())
                              or (end < size and text[end].isalnum())):
                    continue  # Latin words match whole words only
                hit = key
                break
            if hit is None:
                position += 1
                continue
            found.append(Found(self.terms[hit], hit))
            position += len(hit)
        return found

    def parse(self, address: object) -> ParsedAddress:
        """What ``address`` names (an empty :class:`ParsedAddress` for a missing value)."""
        text = normalise(address)
        if not text:
            return ParsedAddress(text="", found=())
        found = self._scan(text)
        outside_match = _OUTSIDE.match(text)
        outside = outside_match.group(1) if outside_match and not _BEIJING_PREFIX.match(text) else None
        rest = _BEIJING_PREFIX.sub("", text)
        for f in found:  # the shape of the rest: road and number after the known names
            rest = rest.replace(f.words, " ")
        road = _ROAD.search(rest.replace(" ", "|"))
        number = _NUMBER.search(text)
        town = _TOWN.search(text)
        return ParsedAddress(text=text, found=tuple(found), road=road.group(1) if road else None,
                             number=number.group(0) if number else None,
                             town=town.group(1) if town else None, outside=outside)
