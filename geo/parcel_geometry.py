"""The outline part of measuring a planner scenario: each parcel's geodesic area (in an
equal-area plane fitted to the scenario), the overlaps between parcels, each parcel's *counted*
area (the part no earlier parcel counted, so counted areas add up to the union), the park it
overlaps most and its district and hub. What depends on the outlines alone is kept
(``GeometryMeasures``), so an attribute edit measures nothing again and an outline edit measures
only what it changed (``measure_geometries(previous=...)``). ``geo.planner`` adds the attributes,
totals, progress and exports.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo.geometry_check import GeometryProblem
from geo.joins import assign_areas
from geo.measure import project_equal_area, repair_geometries
from geo.parcels import diagnose_parcels, parcel_problems
from geo.projection import equal_area
from geo.shapes import is_drawn

# Overlaps smaller than this (m2) are shared edges seen through floating point, not overlaps.
MIN_OVERLAP_M2 = 0.5

class OverlapPairs:
    """The overlapping pairs of a measured scenario, kept in ``measured.attrs["overlaps"]``:
    parcel numbers ``a`` < ``b`` and the overlap in m2, sorted.

    Immutable (read-only arrays), so a deep copy is the object itself: pandas deep-copies
    ``attrs`` on every column access and copy, and a scenario of 2,000 overlapping parcels has
    tens of thousands of pairs (as a tuple of tuples that cost 1 s per Planner rerun).
    """

    __slots__ = ("a", "b", "overlap_m2")

    def __init__(self, a: np.ndarray, b: np.ndarray, overlap_m2: np.ndarray) -> None:
        order = np.lexsort((np.asarray(b), np.asarray(a)))
        for name, values, dtype in (("a", a, np.int64), ("b", b, np.int64), ("overlap_m2", overlap_m2, float)):
            array = np.array(values, dtype=dtype)[order]
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("OverlapPairs is immutable")

    def __len__(self) -> int:
        return len(self.a)

    def __iter__(self):
        return zip(self.a.tolist(), self.b.tolist(), self.overlap_m2.tolist(), strict=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OverlapPairs):
            return NotImplemented
        return (np.array_equal(self.a, other.a) and np.array_equal(self.b, other.b)
                and np.array_equal(self.overlap_m2, other.overlap_m2))

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple:
        return OverlapPairs, (self.a, self.b, self.overlap_m2)

    def __copy__(self) -> OverlapPairs:
        return self

    def __deepcopy__(self, memo: dict) -> OverlapPairs:
        return self

    def __repr__(self) -> str:
        return f"OverlapPairs({len(self)} pairs)"


def union_area_m2(parcels: gpd.GeoDataFrame, *, measured: GeometryMeasures | None = None) -> float:
    """The area (m2) of the union of a scenario's usable parcels: each square metre counted once
    (the sum of the parcels' counted areas, as ``measure_parcels`` computes them). ``measured``
    is ``measure_geometries`` of these outlines when the caller has it (checked by its key)."""
    if measured is not None and measured.key == geometry_key(parcels):
        return float(np.nansum(measured.counted_m2))
    problems = diagnose_parcels(parcels)
    geoms = np.asarray(parcels.geometry.values, dtype=object)[[p is None for p in problems]]
    if not len(geoms):
        return 0.0
    fixed, _ = repair_geometries(geoms)
    _, counted, _ = _own_and_counted(project_equal_area(fixed))
    return float(counted.sum())


def _own_and_counted(projected: np.ndarray) -> tuple[np.ndarray, np.ndarray, OverlapPairs]:
    """Own area, counted area (net of overlaps with earlier parcels) and the overlapping pairs
    (earlier position ``a``, later position ``b``, overlap m2)."""
    own = shapely.area(projected)
    positions = np.arange(len(projected))
    earlier, later, overlap = _overlaps(projected, positions, positions)
    counted = _counted(projected, own, earlier, later, positions)
    return own, counted, OverlapPairs(earlier, later, overlap)


def _overlaps(projected: np.ndarray, candidates: np.ndarray,
              among: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The real overlaps (over ``MIN_OVERLAP_M2``) between the outlines at positions
    ``candidates`` and those at positions ``among`` (each pair once): earlier position, later
    position, overlap m2. Each overlap is measured as (later intersection earlier), whichever
    side was asked, so a pair measured again gives the same figure to the last bit."""
    empty = (np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype=float))
    if not len(candidates) or len(among) < 1:
        return empty
    tree = shapely.STRtree(projected[among])
    index, found = tree.query(projected[candidates], predicate="intersects")
    first, second = candidates[index], among[found]
    keep = first != second
    # A pair of two candidates is found from both sides: keep it once.
    both = np.isin(second, candidates)
    keep &= ~both | (first < second)
    first, second = first[keep], second[keep]
    earlier, later = np.minimum(first, second), np.maximum(first, second)
    if not len(earlier):
        return empty
    overlap = shapely.area(shapely.intersection(projected[later], projected[earlier]))
    real = overlap > MIN_OVERLAP_M2
    return earlier[real].astype(np.int64), later[real].astype(np.int64), overlap[real]


def _counted(projected: np.ndarray, own: np.ndarray, earlier: np.ndarray, later: np.ndarray,
             positions: np.ndarray) -> np.ndarray:
    """The counted area at each of ``positions``: its own area less the part already covered by
    the earlier parcels it overlaps (never below 0). ``own`` is indexed by position."""
    counted = own[positions].astype(float).copy()
    if len(later):
        order = np.lexsort((earlier, later))
        later_sorted, earlier_sorted = later[order], earlier[order]
        starts = np.searchsorted(later_sorted, positions, side="left")
        ends = np.searchsorted(later_sorted, positions, side="right")
        for slot in np.flatnonzero(ends > starts):
            before = earlier_sorted[starts[slot]:ends[slot]]
            position = positions[slot]
            covered = shapely.intersection(projected[position], shapely.union_all(projected[before]))
            counted[slot] = own[position] - shapely.area(covered)
    return np.maximum(counted, 0.0)


def _park_shares(projected: np.ndarray, parks_projected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each parcel, the park it overlaps most (its position, -1 for none) and the share of the
    parcel's area inside it."""
    best = np.full(len(projected), -1, dtype=np.intp)
    share = np.zeros(len(projected))
    if not len(projected) or not len(parks_projected):
        return best, share
    tree = shapely.STRtree(parks_projected)
    parcel_pos, park_pos = tree.query(projected, predicate="intersects")
    if not len(parcel_pos):
        return best, share
    inside = shapely.area(shapely.intersection(projected[parcel_pos], parks_projected[park_pos]))
    own = shapely.area(projected[parcel_pos])
    fraction = np.divide(inside, own, out=np.zeros_like(inside), where=own > 0)
    order = np.lexsort((-fraction, parcel_pos))
    first = np.ones(len(order), dtype=bool)
    first[1:] = parcel_pos[order][1:] != parcel_pos[order][:-1]
    chosen = order[first]
    keep = fraction[chosen] > 0
    best[parcel_pos[chosen][keep]] = park_pos[chosen][keep]
    share[parcel_pos[chosen][keep]] = fraction[chosen][keep]
    return best, share


@dataclass(frozen=True, eq=False)
class GeometryMeasures:
    """What the measurement of a scenario takes from its outlines alone (positions, not parcel
    numbers), so attribute edits (names, status, floor figures) reuse it: see ``geometry_key``,
    and an outline edit measures only what it changed: see ``measure_geometries(previous=...)``."""

    geometries: np.ndarray  # repaired where usable
    problems: tuple[GeometryProblem | None, ...]
    area_m2: np.ndarray
    counted_m2: np.ndarray
    park_share: np.ndarray
    park_ids: np.ndarray
    district_ids: np.ndarray
    hub_ids: np.ndarray
    pairs: OverlapPairs  # a: earlier position, b: later position, overlap m2
    repaired: tuple[int, ...]
    key: str  # geometry_key of the outlines measured
    inputs: np.ndarray  # each outline as given (before repair): what "unchanged" is compared with
    projected: np.ndarray  # the repaired outlines in the equal-area plane (None where unusable)
    plane: str  # that plane's definition
    context: str  # fingerprint of the parks, districts and hubs measured against


def geometry_key(parcels: gpd.GeoDataFrame | np.ndarray) -> str:
    """A fingerprint of a scenario's outlines, in order: sha256 of their types, their parts and
    rings and every coordinate (NumPy arrays from GEOS: ~50x faster than hashing their WKB)."""
    geometries = parcels.geometry.values if isinstance(parcels, gpd.GeoDataFrame) else parcels
    geoms = np.asarray(geometries, dtype=object)
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    part_types = shapely.get_type_id(parts)
    polygons = part_types == 3
    rings, ring_of = shapely.get_rings(parts[polygons], return_index=True)
    digest = hashlib.sha256()
    for array in (shapely.get_type_id(geoms).astype(np.int8), np.bincount(part_of, minlength=len(geoms)),
                  part_types.astype(np.int8), shapely.get_num_coordinates(parts),
                  np.bincount(ring_of, minlength=int(polygons.sum())), shapely.get_num_coordinates(rings),
                  shapely.get_coordinates(geoms, include_z=True)):
        digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(b"|")
    return digest.hexdigest()


def measure_geometries(geometries: np.ndarray, *, parks: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                       hubs: gpd.GeoDataFrame, key: str | None = None,
                       previous: GeometryMeasures | None = None) -> GeometryMeasures:
    """Areas, overlaps, park shares and the district/hub of each outline (see ``measure_parcels``).

    ``key`` is the outlines' ``geometry_key`` when the caller has it already. ``previous`` is the
    measurement of an earlier version of the same scenario: the outlines found unchanged in it
    keep their figures and only the changed ones, their overlaps and the counted areas those
    touch are measured again (a map edit of one parcel among thousands). The result is the same
    as measuring everything, to the last bit; everything is measured when the areas' plane,
    the parks, districts or hubs changed, or when most outlines did.
    """
    geoms = np.asarray(geometries, dtype=object).copy()
    key = key or geometry_key(geoms)
    inputs = geoms.copy()
    context = _context(parks, districts, hubs)
    drawn_parks = parks[is_drawn(parks.geometry.values)] if len(parks) else parks
    park_geoms, _ = repair_geometries(np.asarray(drawn_parks.geometry.values, dtype=object))
    if previous is not None and previous.context == context:
        measured = _measure_changes(geoms, inputs, previous, drawn_parks=drawn_parks, park_geoms=park_geoms,
                                    districts=districts, hubs=hubs, parks=parks, key=key)
        if measured is not None:
            return measured
    problems = tuple(parcel_problems(geoms))
    usable_positions = np.flatnonzero(np.array([p is None for p in problems], dtype=bool))
    fixed, report = repair_geometries(geoms[usable_positions])
    geoms[usable_positions] = fixed
    repaired = tuple(int(usable_positions[p]) for p in report.repaired)
    plane = equal_area(np.concatenate([fixed, park_geoms])) if len(fixed) else None
    projected = np.full(len(geoms), None, dtype=object)
    if plane is not None:
        projected[usable_positions] = plane.to_metres(fixed)
    own = np.full(len(geoms), np.nan)
    own[usable_positions] = shapely.area(projected[usable_positions])
    earlier, later, overlap = _overlaps(projected, usable_positions, usable_positions)
    counted = np.full(len(geoms), np.nan)
    counted[usable_positions] = _counted(projected, own, earlier, later, usable_positions)
    return _with_places(geoms, problems, own, counted, OverlapPairs(earlier, later, overlap), repaired,
                        projected=projected, measure=usable_positions, plane=plane, drawn_parks=drawn_parks,
                        park_geoms=park_geoms, parks=parks, districts=districts, hubs=hubs, key=key, inputs=inputs,
                        context=context)


def _context(parks: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame) -> str:
    """A fingerprint of what parcels are measured against: the outlines and ids of the parks,
    districts and hubs. Kept for the frames last fingerprinted (held weakly, checked by
    identity): hashing every district's boundary on each edit cost more than the edit."""
    frames = (parks, districts, hubs)
    with _CONTEXT_LOCK:
        if _LAST_CONTEXT and all(ref() is frame for ref, frame in zip(_LAST_CONTEXT[0], frames, strict=True)):
            return _LAST_CONTEXT[1]
    digest = hashlib.sha256()
    for layer, column in ((parks, "park_id"), (districts, "district_id"), (hubs, "hub_id")):
        digest.update(geometry_key(layer).encode())
        digest.update("\x00".join(map(str, layer[column].tolist() if column in layer else [])).encode())
    context = digest.hexdigest()
    with _CONTEXT_LOCK:
        _LAST_CONTEXT[:] = [tuple(weakref.ref(frame) for frame in frames), context]
    return context


_CONTEXT_LOCK = threading.Lock()
_LAST_CONTEXT: list = []  # [(weak references to parks, districts, hubs), their fingerprint]


def _measure_changes(geoms: np.ndarray, inputs: np.ndarray, previous: GeometryMeasures, *,
                     drawn_parks: gpd.GeoDataFrame, park_geoms: np.ndarray, parks: gpd.GeoDataFrame,
                     districts: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame, key: str) -> GeometryMeasures | None:
    """``measure_geometries`` from ``previous``: None when it is not worth it or not exact (most
    outlines changed, or the equal-area plane moved with the scenario's extent)."""
    n = len(geoms)
    old_of = _unchanged(inputs, previous.inputs)
    changed = np.flatnonzero(old_of < 0)
    if len(changed) > max(64, n // 4):
        return None
    kept = np.flatnonzero(old_of >= 0)
    problems = [None] * n
    for position, old in zip(kept.tolist(), old_of[kept].tolist(), strict=True):
        problems[position] = previous.problems[old]
    for position, problem in zip(changed.tolist(), parcel_problems(geoms[changed]), strict=True):
        problems[position] = problem
    usable = np.array([p is None for p in problems], dtype=bool)
    fresh = changed[usable[changed]]
    geoms[kept] = previous.geometries[old_of[kept]]
    fixed, report = repair_geometries(geoms[fresh])
    geoms[fresh] = fixed
    usable_positions = np.flatnonzero(usable)
    if not len(usable_positions):
        return None
    plane = equal_area(np.concatenate([geoms[usable_positions], park_geoms]))
    if plane.crs.srs != previous.plane:
        return None
    projected = np.full(n, None, dtype=object)
    projected[kept] = previous.projected[old_of[kept]]
    projected[fresh] = plane.to_metres(fixed) if len(fresh) else np.array([], dtype=object)
    own = np.full(n, np.nan)
    own[kept] = previous.area_m2[old_of[kept]]
    own[fresh] = shapely.area(projected[fresh])
    # Overlaps between kept outlines are as before (at their new positions); the fresh ones' are new.
    new_of_old = np.full(len(previous.inputs), -1, dtype=np.int64)
    new_of_old[old_of[kept]] = kept
    old_a, old_b = new_of_old[previous.pairs.a], new_of_old[previous.pairs.b]
    stay = (old_a >= 0) & (old_b >= 0)
    first, second, overlap = old_a[stay], old_b[stay], previous.pairs.overlap_m2[stay].copy()
    flipped = first > second  # measured again in (later, earlier) order, as a full measurement does
    first[flipped], second[flipped] = second[flipped], first[flipped]
    overlap[flipped] = shapely.area(shapely.intersection(projected[second[flipped]], projected[first[flipped]]))
    real = ~flipped | (overlap > MIN_OVERLAP_M2)
    stayed = (first[real], second[real], overlap[real])
    found = _overlaps(projected, fresh, usable_positions)
    earlier, later, overlap = (np.concatenate([x, y]) for x, y in zip(stayed, found, strict=True))
    # The counted area changes where the set of earlier overlapping parcels changed.
    width = n + 1
    was = old_b[old_b >= 0] * width + (old_a[old_b >= 0] + 1)
    now = later * width + (earlier + 1)
    touched = np.union1d(np.setxor1d(was, now) // width, fresh)
    touched = touched[usable[touched]]
    counted = np.full(n, np.nan)
    counted[kept] = previous.counted_m2[old_of[kept]]
    counted[touched] = _counted(projected, own, earlier, later, touched)
    repaired = sorted({int(new_of_old[p]) for p in previous.repaired if new_of_old[p] >= 0}
                      | {int(fresh[p]) for p in report.repaired})
    measured = _with_places(geoms, tuple(problems), own, counted, OverlapPairs(earlier, later, overlap),
                            tuple(repaired), projected=projected, measure=fresh, plane=plane, drawn_parks=drawn_parks,
                            park_geoms=park_geoms, parks=parks, districts=districts, hubs=hubs, key=key,
                            inputs=inputs, context=previous.context)
    for name in ("park_share", "park_ids", "district_ids", "hub_ids"):
        getattr(measured, name)[kept] = getattr(previous, name)[old_of[kept]]
    return measured


def _unchanged(inputs: np.ndarray, before: np.ndarray) -> np.ndarray:
    """For each outline, the position of the identical outline in ``before`` (-1: none), each
    earlier outline matched once. Position by position first (an edit in place: one vectorised
    comparison); by content when parcels were added, deleted or reordered."""
    if len(inputs) == len(before):
        same = shapely.equals_identical(inputs, before)
        if np.count_nonzero(~same) <= max(64, len(inputs) // 4):
            return np.where(same, np.arange(len(inputs)), -1).astype(np.int64)
    waiting: dict[bytes, list[int]] = {}
    for position, wkb in enumerate(shapely.to_wkb(before).tolist()):
        if wkb is not None:
            waiting.setdefault(wkb, []).append(position)
    out = np.full(len(inputs), -1, dtype=np.int64)
    for position, wkb in enumerate(shapely.to_wkb(inputs).tolist()):
        queue = waiting.get(wkb) if wkb is not None else None
        if queue:
            out[position] = queue.pop(0)
    return out


def _with_places(geoms: np.ndarray, problems: tuple, own: np.ndarray, counted: np.ndarray, pairs: OverlapPairs,
                 repaired: tuple[int, ...], *, projected: np.ndarray, measure: np.ndarray, plane,
                 drawn_parks: gpd.GeoDataFrame, park_geoms: np.ndarray, parks: gpd.GeoDataFrame,
                 districts: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame, key: str, inputs: np.ndarray,
                 context: str) -> GeometryMeasures:
    """The measurement with the park, district and hub of the outlines at positions ``measure``
    (the others: none, unless the caller fills them in)."""
    n = len(geoms)
    share = np.where(np.isnan(own), np.nan, 0.0)
    park_ids, district_ids, hub_ids = (np.full(n, None, dtype=object) for _ in range(3))
    if len(measure):
        parks_projected = plane.to_metres(park_geoms) if len(park_geoms) else np.array([], dtype=object)
        best, fraction = _park_shares(projected[measure], parks_projected)
        in_park = best >= 0
        park_ids[measure[in_park]] = drawn_parks["park_id"].to_numpy()[best[in_park]]
        share[measure] = fraction
        joined = assign_areas(gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms[measure], crs=4326), crs=4326),
                              parks=parks, districts=districts, hubs=hubs)
        district_ids[measure] = joined["district_id_joined"].to_numpy()
        hub_ids[measure] = joined["hub_id_joined"].to_numpy()
    return GeometryMeasures(geoms, problems, own, counted, share, park_ids, district_ids, hub_ids, pairs, repaired,
                            key, inputs, projected, plane.crs.srs if plane is not None else "", context)
