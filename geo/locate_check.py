"""The offline locator checked against the snapshot: its organisations' own addresses, located
offline, must land in the park or district the snapshot states for them (``geo locate
--check-snapshot``; issue 14's yardstick: at least 95 %, every miss explained)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from geo.locate import OfflineLocator, locate_table


@dataclass(frozen=True)
class SnapshotCheck:
    """The snapshot's organisations with an address, placed offline and compared with the park
    and district the snapshot states for them."""

    rows: pd.DataFrame  # org_id, address_zh, stated/located park and district, tier, agrees, why
    without_address: int

    @property
    def agreement(self) -> float:
        return float(self.rows["agrees"].mean()) if len(self.rows) else math.nan

    def misses(self) -> pd.DataFrame:
        return self.rows[~self.rows["agrees"]]


def check_snapshot_organisations(snapshot: object, *, locator: OfflineLocator | None = None) -> SnapshotCheck:
    """Locate the snapshot's organisations by their own addresses (the address column only) and
    say, for each, whether the park and district agree with what the snapshot states.

    An organisation with a park must land in that park; one without a park must land in its
    district. Each miss carries the locator's reason or the disagreement.
    """
    locator = locator or OfflineLocator.from_snapshot(snapshot)
    orgs = snapshot.organisations
    has_address = orgs["address_zh"].notna() & (orgs["address_zh"].astype(str).str.strip() != "")
    chosen = pd.DataFrame(orgs.loc[has_address, ["org_id", "name_zh", "address_zh", "park_id", "district_id"]])
    located = locate_table(chosen.rename(columns={"address_zh": "地址"}), locators=[locator],
                           address_column="地址", name_column=None).frame
    stated_park = chosen["park_id"].to_numpy(dtype=object)
    stated_district = chosen["district_id"].astype(str).to_numpy(dtype=object)
    rows = []
    for position, row in enumerate(located.itertuples(index=False)):
        park, district = stated_park[position], stated_district[position]
        park = park if isinstance(park, str) and park else None
        got_park = row.located_park_id if isinstance(row.located_park_id, str) else None
        got_district = row.located_district_id if isinstance(row.located_district_id, str) else None
        if row.location_tier is None:
            agrees, why = False, row.location_reason
        elif park is not None:
            agrees = got_park == park
            why = "" if agrees else (f"placed in {got_park or 'no park'} ({row.location_tier}: {row.location_evidence}),"
                                     f" the snapshot says park {park}")
        else:
            agrees = got_district == district and got_park is None
            why = "" if agrees else (f"placed in district {got_district}, park {got_park} ({row.location_evidence}),"
                                     f" the snapshot says district {district}, no park")
        rows.append({"org_id": chosen["org_id"].iat[position], "address": row.地址, "stated_park": park,
                     "stated_district": district, "tier": row.location_tier, "located_park": got_park,
                     "located_district": got_district, "evidence": row.location_evidence,
                     "agrees": bool(agrees), "why": why})
    return SnapshotCheck(rows=pd.DataFrame(rows), without_address=int((~has_address).sum()))
