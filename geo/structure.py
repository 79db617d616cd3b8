"""The plan's structure at a glance: hub -> parks -> specialisations, with organisation counts.

Pure: the cluster map's panel and its tests read the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo.shapes import is_drawn
from geo.vocab import split_codes

ROLE_ORDER = ("core_hub", "growth_point")


@dataclass(frozen=True)
class ParkLine:
    """One park under its hub: its organisations, whether it is drawn, and its specialisations
    with the number of its organisations working in each (0 where none is recorded)."""

    park_id: str
    organisations: int
    drawn: bool
    specialisations: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class HubLine:
    """One hub of the plan with its parks, in the order of the parks table."""

    hub_id: str
    role: str
    organisations: int
    parks: tuple[ParkLine, ...]


def hub_structure(hubs: pd.DataFrame, parks: gpd.GeoDataFrame, organisations: pd.DataFrame) -> list[HubLine]:
    """Core hubs first, then growth points (each in the order of the hubs table), each with its
    parks; a park's specialisations are its own, counted over the organisations in the park.

    Parameters
    ----------
    hubs, parks, organisations : DataFrame
        Snapshot layers (``hub_id``/``role``; ``park_id``/``hub_id``/``specialisations``/geometry;
        ``park_id``/``specialisations``).
    """
    drawn = dict(zip(parks["park_id"], is_drawn(parks.geometry), strict=True))
    codes_of_orgs = {pid: [split_codes(v) for v in group["specialisations"]]
                     for pid, group in organisations.groupby("park_id")}
    lines = []
    for role in ROLE_ORDER:
        for hub in hubs[hubs["role"] == role].itertuples(index=False):
            members = []
            for park in parks[parks["hub_id"] == hub.hub_id].itertuples(index=False):
                orgs = codes_of_orgs.get(park.park_id, [])
                specs = tuple((code, sum(code in codes for codes in orgs)) for code in split_codes(park.specialisations))
                members.append(ParkLine(park.park_id, len(orgs), bool(drawn[park.park_id]), specs))
            lines.append(HubLine(hub.hub_id, role, sum(p.organisations for p in members), tuple(members)))
    return lines
