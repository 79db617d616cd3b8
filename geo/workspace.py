"""The layers as users see them: the one way every reader gets a layer.

A *workspace* is the snapshot (``data/snapshot``, never modified) seen through the stores of a
data folder (``$PHARMA_MAP_DATA_DIR`` or the CLI's ``--data-dir``). ``assemble`` lays over the
snapshot everything a user has confirmed there, and every reader takes its layers from it: the
pages (``pages._data.snapshot``), the exports (``geo.export.export_layer``, the bundle), the
command line (``export``, ``info``, ``import``, ``osm``, ``brief``, ``scenario``) and the
benchmarks. So the command line and the Export page write the same file for the same data.

What ``assemble`` lays over the snapshot:

* **confirmed outlines**: the parks with their OpenStreetMap outlines
  (``geo.osm_store.snapshot_with_overrides``); an overridden park's ``geometry_source_ids``
  names the ``osm`` source, which joins the sources table (ODbL 1.0);
* **placements**: what follows from a park's shape moves with it. A hub drawn as the union of
  its parks (``geometry_from = parks``, the BDA) is redrawn from the parks as shown, and an
  organisation located only by its park (``location_tier = park``) whose point would fall
  outside the confirmed outline is placed inside it (``shapely.point_on_surface``); the point
  of an organisation with a site of its own never moves;
* **organisations placed on OpenStreetMap**: an organisation located only by its park whose OSM
  feature a person confirmed (``geo.org_placements``) is drawn at that feature, tier ``osm``,
  with the OSM id and the ODbL attribution; the ``osm`` source joins the sources table.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.osm import OSM_ATTRIBUTION, OSM_COPYRIGHT_URL
from geo.org_placements import OrgPlacementStore, apply_placements
from geo.osm_store import ParkGeometryStore, snapshot_with_overrides
from geo.snapshot import Snapshot, load_snapshot
from geo.vocab import split_codes

OSM_SOURCE_ID = "osm"


def load_workspace(snapshot_dir: str | os.PathLike[str] | None = None, *,
                   data_dir: str | os.PathLike[str] | None = None) -> Snapshot:
    """Load and verify the snapshot, then ``assemble`` it with the stores of ``data_dir``.

    Parameters
    ----------
    snapshot_dir : path, optional
        The snapshot folder (default ``$PHARMA_MAP_SNAPSHOT_DIR`` or ``data/snapshot``).
    data_dir : path, optional
        The folder of the app's stores (default ``$PHARMA_MAP_DATA_DIR`` or ``./var``).

    Raises
    ------
    SnapshotError
        If the snapshot is missing or does not match its manifest.
    """
    snapshot = load_snapshot(Path(snapshot_dir) if snapshot_dir is not None else None)
    return assemble(snapshot, store=ParkGeometryStore(data_dir), placements=OrgPlacementStore(data_dir))


def assemble(snapshot: Snapshot, *, store: ParkGeometryStore,
             placements: OrgPlacementStore | None = None) -> Snapshot:
    """The snapshot as users see it: confirmed OSM outlines and the placements that follow them,
    then the organisations placed on OSM features (``placements``; none when not given).

    Returns the snapshot itself when the stores hold nothing; otherwise a copy with new
    ``parks``, ``hubs``, ``organisations`` and ``sources`` (the input is not modified).
    """
    overrides = store.list()
    placed = placements.list() if placements is not None else []
    if not overrides and not placed:
        return snapshot
    shown = snapshot_with_overrides(snapshot, store=store) if overrides else snapshot
    parks = shown.parks.copy()
    changed: set[str] = set()
    if overrides:
        overridden = parks["osm_ids"].notna().to_numpy()
        if "geometry_source_ids" in parks:
            parks.loc[overridden, "geometry_source_ids"] = OSM_SOURCE_ID
        changed = set(parks.loc[overridden, "park_id"])
    organisations = _place_in_parks(shown.organisations, parks, changed)
    if placed:
        organisations = apply_placements(organisations, placed)
    moved = sorted(organisations.loc[organisations["location_tier"] == "osm", "org_id"]) if placed else []
    if moved and "source_ids" in organisations:  # the organisation's point now cites OpenStreetMap
        on_osm = (organisations["location_tier"] == "osm").to_numpy()
        organisations.loc[on_osm, "source_ids"] = [
            ";".join(dict.fromkeys([*split_codes(v), OSM_SOURCE_ID])) for v in organisations.loc[on_osm, "source_ids"]]
    dates = sorted([o.osm_date for o in overrides if o.osm_date]
                   + [p.osm_timestamp[:10] for p in placed if p.osm_timestamp])
    return dataclasses.replace(
        shown, parks=parks,
        hubs=_hubs_from_parks(shown.hubs, parks, changed),
        organisations=organisations,
        sources=_with_osm_source(shown.sources, date=dates[-1][:10] if dates else None,
                                 parks=sorted(changed), organisations=moved))


def _hubs_from_parks(hubs: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, changed: set[str]) -> gpd.GeoDataFrame:
    """Hubs drawn from their parks, redrawn where one of those parks changed shape."""
    if "geometry_from" not in hubs or "hub_id" not in parks:
        return hubs
    member_of = parks.loc[parks["park_id"].isin(changed), "hub_id"]
    redraw = (hubs["geometry_from"] == "parks").to_numpy() & hubs["hub_id"].isin(set(member_of)).to_numpy()
    if not redraw.any():
        return hubs
    out = hubs.copy()
    geoms = np.asarray(out.geometry.values, dtype=object).copy()
    park_geoms = np.asarray(parks.geometry.values, dtype=object)
    park_hubs = parks["hub_id"].to_numpy(dtype=object)
    for position in np.flatnonzero(redraw):
        members = park_geoms[park_hubs == out["hub_id"].iloc[position]]
        geoms[position] = shapely.union_all(members)  # unlocated parks (None) are left out
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
    return out


def _place_in_parks(organisations: gpd.GeoDataFrame, parks: gpd.GeoDataFrame,
                    changed: set[str]) -> gpd.GeoDataFrame:
    """Organisations located only by a park whose outline changed, moved inside it if outside."""
    if "location_tier" not in organisations:
        return organisations
    at_park = ((organisations["location_tier"] == "park") & organisations["park_id"].isin(changed)).to_numpy()
    if not at_park.any():
        return organisations
    outline_of = parks.set_index("park_id").geometry
    outlines = np.asarray(outline_of.reindex(organisations.loc[at_park, "park_id"]).values, dtype=object)
    points = np.asarray(organisations.geometry.values, dtype=object)[at_park]
    outside = ~shapely.covers(outlines, points)
    if not outside.any():
        return organisations
    moved = points.copy()
    moved[outside] = shapely.point_on_surface(outlines[outside])
    out = organisations.copy()
    geoms = np.asarray(out.geometry.values, dtype=object).copy()
    geoms[at_park] = moved
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
    return out


def _with_osm_source(sources: pd.DataFrame, *, date: str | None, parks: list[str],
                     organisations: Sequence[str] = ()) -> pd.DataFrame:
    """The sources table with the OpenStreetMap row the confirmed outlines and placements cite."""
    if (sources["source_id"] == OSM_SOURCE_ID).any():
        return sources
    what = []
    if parks:
        what.append("Outlines of " + ", ".join(parks) + ", applied with 'python -m geo osm' or the OpenStreetMap"
                    " page")
    if organisations:
        what.append("Sites of " + ", ".join(organisations) + ", placed with 'python -m geo locate"
                    " --organisations' or the Import page")
    row = {column: None for column in sources.columns}
    row.update({"source_id": OSM_SOURCE_ID, "publisher": "OpenStreetMap contributors",
                "title": f"OpenStreetMap {'boundaries' if parks else 'features'} confirmed in this workspace"
                         f" ({OSM_ATTRIBUTION})",
                "date": date, "url": OSM_COPYRIGHT_URL, "language": None,
                "note": "; ".join(what) + "; licensed under the ODbL 1.0."})
    return pd.concat([sources, pd.DataFrame([row], columns=sources.columns)], ignore_index=True)


def used_specialisations(*columns: Iterable[object]) -> list[str]:
    """The specialisation codes used in ``a;b;c`` lists (the filter offers only these), sorted."""
    return sorted({code for column in columns for value in column for code in split_codes(value)})


def specialisation_mask(values: Iterable[object], codes: Iterable[str]) -> np.ndarray:
    """Which ``a;b;c`` specialisation lists share a code with ``codes`` (all True if none given)."""
    wanted = set(codes)
    listed = list(values)
    if not wanted:
        return np.ones(len(listed), dtype=bool)
    return np.fromiter((bool(wanted.intersection(split_codes(v))) for v in listed), dtype=bool,
                       count=len(listed))
