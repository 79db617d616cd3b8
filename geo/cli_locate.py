"""``python -m geo locate FILE``: place a table of names and addresses (CSV/XLSX) with the same
importer and locators as the Import page, print a summary by tier and each row's OpenStreetMap
candidates, write the located layer (``--accept ROW=OSM_ID`` / ``--accept-best`` confirm them).

``python -m geo locate --check-snapshot`` locates the snapshot's organisations by their own
addresses and compares each with the park and district the snapshot states (offline, no extract).

``python -m geo locate --organisations --extract X`` lists the OSM candidates of the organisations
located only by their park; ``--place ORG=OSM_ID`` / ``--place-best`` confirm them (kept in the data
folder with their history, ``geo.org_placements``), ``--restore-organisation ORG`` undoes one and
``--placements`` lists them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo.errors import GeoError

PROVIDERS = ("offline", "osm", "nominatim", "amap", "tianditu")
_FORMATS = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".csv": "csv"}


def _snapshot(args: argparse.Namespace):  # noqa: ANN202 - a Snapshot, imported late to keep the CLI quick
    from geo.snapshot import load_snapshot

    return load_snapshot(args.snapshot)


def _check_snapshot(args: argparse.Namespace) -> int:
    from geo.locate_check import check_snapshot_organisations

    check = check_snapshot_organisations(_snapshot(args))
    rows = check.rows
    misses = check.misses()
    if args.json:
        print(json.dumps({"organisations_with_address": len(rows), "without_address": check.without_address,
                          "agreement": check.agreement, "rows": rows.to_dict("records")},
                         ensure_ascii=False, indent=2, default=str))
    else:
        print(f"{len(rows)} organisations have an address ({check.without_address} have none and are not counted);"
              f" located offline, no extract:")
        for tier, count in rows["tier"].fillna("unplaced").value_counts().items():
            print(f"  {tier:<10} {count:>4}")
        print(f"agree with the snapshot's park/district: {int(rows['agrees'].sum())} of {len(rows)}"
              f" ({check.agreement:.1%}; target >= 95 %)")
        for row in misses.itertuples(index=False):
            print(f"  miss {row.org_id}: {row.address}: {row.why}")
    return 0 if check.agreement >= 0.95 else 1


def _workspace(args: argparse.Namespace):  # noqa: ANN202 - the snapshot as users see it
    from geo.workspace import load_workspace

    return load_workspace(args.snapshot, data_dir=args.data_dir)


def _osm_locator(snapshot, extract: str | None, offline=None):  # noqa: ANN001, ANN202
    from geo.locate_osm import osm_locator, read_named_features

    if not extract:
        raise GeoError("--provider osm and --organisations match names and addresses to an OpenStreetMap extract:"
                       " give one with --extract X.osm.pbf (or .osm, .osm.gz, .osm.bz2)")
    return osm_locator(snapshot, read_named_features(extract), offline=offline, source=Path(extract).name)


def make_locators(snapshot, *, providers: list[str], extract: str | None = None,  # noqa: ANN001
                  data_dir: str | None = None, timeout: float = 5.0) -> list:
    """The locators named by ``providers``, in that order (the first that places a row keeps it)."""
    from geo.locate import OfflineLocator

    offline = OfflineLocator.from_snapshot(snapshot)
    locators: list = []
    for provider in providers:
        if provider == "offline":
            locators.append(offline)
        elif provider == "osm":
            locators.append(_osm_locator(snapshot, extract, offline=offline))
        else:
            from geo.geocoders import geocoder

            locators.append(geocoder(provider, data_dir=data_dir, timeout=timeout, districts=snapshot.districts))
    return locators


def _pairs(values: list[str] | None, *, what: str) -> dict[str, str]:
    out = {}
    for value in values or []:
        key, sep, osm_id = value.partition("=")
        if not sep or not key.strip() or not osm_id.strip():
            raise GeoError(f"{value!r} is not {what}=OSM_ID: write e.g. {'12' if what == 'ROW' else 'innocare'}=node/123")
        out[key.strip()] = osm_id.strip()
    return out


def _print_candidates(table, *, label: str, limit: int = 3) -> None:  # noqa: ANN001 - a pandas.DataFrame
    for key, group in table.groupby(label, sort=False):
        print(f"  candidates of {label.replace('_', ' ')} {key}:")
        for row in group.head(limit).itertuples(index=False):
            flag = f" [check: {row.flag}]" if row.flag else ""
            print(f"    {row.rank}. {row.osm_id} {row.osm_name or ''}  score {row.score:.2f} ({row.confidence}):"
                  f" {row.evidence}{flag}")


def _cmd_organisations(args: argparse.Namespace) -> int:
    from geo.org_placements import OrgPlacementStore, organisation_candidates, plan_placement

    store = OrgPlacementStore(args.data_dir)
    if args.restore_organisation:
        removed = store.restore(args.restore_organisation)
        print(f"restored {removed.org_id}: located by its park again (was at {removed.osm_id})")
        return 0
    if args.placements:
        placed = store.list()
        print(f"{len(placed)} organisation(s) placed on OpenStreetMap features:")
        for p in placed:
            print(f"  {p.org_id}: {p.osm_id} {p.osm_name or ''} at {p.lon:.6f}, {p.lat:.6f} (confirmed {p.applied_at};"
                  f" {p.attribution})")
        for row in store.history().itertuples(index=False):
            print(f"  history {row.entry}: {row.at} {row.action} {row.org_id} {row.osm_id or ''}")
        return 0
    snapshot = _workspace(args)
    locator = _osm_locator(snapshot, args.extract)
    candidates = organisation_candidates(locator, snapshot.organisations)
    at_park = int(snapshot.organisations["location_tier"].eq("park").sum())
    chosen = _pairs(args.place, what="ORG")
    if args.place_best:
        from geo.org_placements import best_organisation_choices

        chosen = {**best_organisation_choices(candidates), **chosen}
    if args.json:
        print(json.dumps({"organisations_at_park": at_park, "with_candidates": int(candidates["org_id"].nunique()),
                          "candidates": candidates.to_dict("records"), "placing": chosen},
                         ensure_ascii=False, indent=2, default=str))
    else:
        print(f"{at_park} organisations are located only by their park; {candidates['org_id'].nunique()} have"
              f" OpenStreetMap candidates in {Path(args.extract).name} ({locator.features} named features):")
        _print_candidates(candidates, label="org_id")
    for org_id, osm_id in chosen.items():
        plan = plan_placement(snapshot.organisations, candidates, org_id=org_id, osm_id=osm_id,
                              source=Path(args.extract).name)
        store.apply(plan)
        if not args.json:
            print("placed " + plan.describe())
    return 0


def _cmd_locate(args: argparse.Namespace) -> int:
    if args.check_snapshot:
        return _check_snapshot(args)
    if args.organisations or args.restore_organisation or args.placements:
        return _cmd_organisations(args)
    if not args.file:
        print("error: give a FILE (CSV or XLSX with a name and/or address column), --check-snapshot or"
              " --organisations", file=sys.stderr)
        return 2
    from geo.export import export_frame
    from geo.imports import import_metadata, read_upload, with_located
    from geo.locate_osm import accept_candidates, best_choices, candidate_table

    snapshot = _workspace(args)
    providers = args.provider or (["osm", "offline"] if args.extract else ["offline"])
    locators = make_locators(snapshot, providers=providers, extract=args.extract, data_dir=args.data_dir,
                             timeout=args.timeout)
    source = Path(args.file)
    layer = read_upload(source.read_bytes(), filename=source.name, locators=locators,
                        address_column=args.address_column, name_column=args.name_column)
    located = layer.located
    if located is None:
        print(f"error: {source.name} has coordinate columns: import it with python -m geo import", file=sys.stderr)
        return 2
    choices = {int(row): osm_id for row, osm_id in _pairs(args.accept, what="ROW").items() if row.isdigit()}
    if len(choices) != len(args.accept or []):
        raise GeoError(f"--accept takes ROW=OSM_ID with the row number the summary shows, not {args.accept!r}")
    if args.accept_best:
        choices = {**best_choices(located), **choices}
    if choices:
        located = accept_candidates(located, choices, source=Path(args.extract).name if args.extract else "OSM")
        layer = with_located(layer, located)
    candidates = candidate_table(located)
    summary = located.summary()
    out = {"file": source.name, "rows": len(located.frame), "providers": list(located.providers),
           "address_column": located.columns.address, "name_column": located.columns.name, "by_tier": summary,
           "unplaced": [{"row": number, "reason": reason} for number, reason in layer.refused],
           "accepted": {str(k): v for k, v in choices.items()},
           "candidates": candidates.to_dict("records")}
    if args.output:
        fmt = args.format or _FORMATS.get(Path(args.output).suffix.lower())
        if fmt is None:
            print(f"error: cannot tell the format of {args.output!r}: end it in .geojson, .gpkg or .csv,"
                  " or give --format", file=sys.stderr)
            return 2
        metadata = import_metadata(layer, snapshot_version=snapshot.version)
        Path(args.output).write_bytes(export_frame(layer.frame, fmt=fmt, metadata=metadata).data)
        out["output"] = args.output
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"located {len(located.frame)} rows of {source.name} by {', '.join(located.providers)}"
          f" (address column {located.columns.address!r}, name column {located.columns.name!r}):")
    for tier, count in summary.items():
        print(f"  {tier:<10} {count:>7}")
    print("  park / district: drawn at the park's anchor or a point inside the district, not at the site")
    for item in out["unplaced"][:50]:
        print(f"  unplaced {layer.row_label} {item['row']}: {item['reason']}")
    if len(out["unplaced"]) > 50:
        print(f"  ... and {len(out['unplaced']) - 50} more unplaced rows (--json lists all)")
    open_rows = candidates.iloc[0:0]
    if len(candidates):
        placed_osm = set(located.frame.loc[located.frame["location_tier"] == "osm", "source_row"])
        open_rows = candidates[~candidates["source_row"].isin(placed_osm)]
    if len(open_rows):
        print(f"  OpenStreetMap candidates of {open_rows['source_row'].nunique()} rows not placed on OSM"
              f" (confirm with --accept ROW=OSM_ID, or --accept-best):")
        shown = open_rows[open_rows["source_row"].isin(open_rows["source_row"].drop_duplicates().head(30))]
        _print_candidates(shown, label="source_row")
    if args.output:
        print(f"wrote {args.output} (WGS84; tier and evidence columns kept)")
    return 0


def add_parser(sub: argparse._SubParsersAction, *, snapshot_dir: str) -> None:
    """Register ``locate`` on the ``python -m geo`` parser."""
    p = sub.add_parser("locate", help="place a table of names and addresses (park, district, OSM, geocoders)")
    p.add_argument("file", nargs="?", help="CSV or XLSX with a name and/or address column (名称, 地址, address ...)")
    p.add_argument("--provider", nargs="+", choices=PROVIDERS, default=None,
                   help="locators in order, the first that places a row keeps it (default: offline, and osm"
                        " with --extract)")
    p.add_argument("--extract", default=None, help="an OpenStreetMap extract (.osm, .osm.gz, .osm.bz2, .osm.pbf)")
    p.add_argument("--accept", action="append", metavar="ROW=OSM_ID",
                   help="place a row on one of its OpenStreetMap candidates (repeatable)")
    p.add_argument("--accept-best", action="store_true",
                   help="place every row whose best OSM candidate scores >= 0.7 and is not tied on it")
    p.add_argument("--organisations", action="store_true",
                   help="list the OSM candidates of the snapshot's organisations located only by their park"
                        " (needs --extract)")
    p.add_argument("--place", action="append", metavar="ORG=OSM_ID",
                   help="with --organisations: place an organisation on a candidate (kept, with history)")
    p.add_argument("--place-best", action="store_true",
                   help="with --organisations: place each on its best candidate scoring >= 0.7, not tied")
    p.add_argument("--restore-organisation", metavar="ORG", default=None,
                   help="put a placed organisation back at its park")
    p.add_argument("--placements", action="store_true", help="list the organisations placed on OSM, with history")
    p.add_argument("--address-column", default=None, help="the address column, if its name is not recognised")
    p.add_argument("--name-column", default=None, help="the name column, if its name is not recognised")
    p.add_argument("-o", "--output", default=None, help="write the located layer (.geojson, .gpkg, .csv)")
    p.add_argument("--format", choices=("geojson", "gpkg", "csv"), default=None)
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per online request")
    p.add_argument("--data-dir", default=None, help="where the geocoder cache, confirmed outlines and placements are"
                                                     " kept (default $PHARMA_MAP_DATA_DIR or ./var)")
    p.add_argument("--check-snapshot", action="store_true",
                   help="locate the snapshot's organisations by their addresses and compare (>= 95 %% agree)")
    p.add_argument("--snapshot", default=snapshot_dir, help="snapshot folder")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_locate)
