"""``python -m geo scenario ...``: planner scenarios from the command line, with the same store,
the same door for parcels, the same measurements and the same export as the app."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from geo.errors import ImportRefusedError
from geo.snapshot import Snapshot


def _snapshot(args: argparse.Namespace) -> Snapshot:
    """The snapshot as the app shows it (``geo.workspace``): the data folder's confirmed outlines and placements."""
    from geo.workspace import load_workspace

    return load_workspace(args.snapshot, data_dir=args.data_dir)


def _store(args: argparse.Namespace):  # noqa: ANN202 - ScenarioStore, imported late to keep the CLI quick
    from geo.scenarios import ScenarioStore

    return ScenarioStore(args.data_dir)


def _cmd_list(args: argparse.Namespace) -> int:
    infos = _store(args).list_scenarios()
    rows = [{"name": i.name, "parcels": i.parcels, "area_m2": None if i.area_m2 is None else round(i.area_m2, 1),
             "area_mu": None if i.area_mu is None else round(i.area_mu, 2), "version": i.version,
             "updated_at": i.updated_at, "author": i.author} for i in infos]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no scenarios (python -m geo scenario import FILE --name NAME adds one)")
    for row in rows:
        area = "-" if row["area_mu"] is None else f"{row['area_mu']:,.2f} mu"
        author = f", {row['author']}" if row["author"] else ""
        print(f"{row['name']}: {row['parcels']} parcels, {area}, version {row['version']},"
              f" {row['updated_at']}{author}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from geo.errors import DatumRequiredError
    from geo.parcels import intake_upload

    from geo.imports import inspect_upload
    from geo.parcels import suggest_name_column

    source = Path(args.file)
    data = source.read_bytes()
    try:
        name_column = args.name_column or suggest_name_column(inspect_upload(data, filename=source.name).columns)
        intake = intake_upload(data, filename=source.name, datum=args.datum, swap_axes=args.swap_axes,
                               name_column=None if args.corners else name_column, corner_column=args.corners)
    except DatumRequiredError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.suggestion is not None:
            print(f"hint: add --datum {exc.suggestion.datum}", file=sys.stderr)
        return 2
    except ImportRefusedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for refused in intake.refused:
        hint = {"swap_axes": " (try --swap-axes)", "choose_datum": " (try --datum)"}.get(refused.fix or "", "")
        print(f"refused {refused.label}: {refused.message}{hint}", file=sys.stderr)
    for note in intake.notes:
        print(f"repaired {note}")
    if len(intake.parcels):
        version = _store(args).append(args.name, intake.parcels, author=args.author or "")
        print(f"added {len(intake.parcels)} parcel(s) to {args.name!r} (version {version})")
    else:
        print("no parcel was added", file=sys.stderr)
    return 1 if intake.refused or not len(intake.parcels) else 0


def _show(args: argparse.Namespace) -> dict[str, Any]:
    from geo.planner import measure_parcels, overlap_table, progress, totals

    parcels, version = _store(args).load(args.name)
    snapshot = _snapshot(args)
    measured = measure_parcels(parcels, parks=snapshot.parks, districts=snapshot.districts, hubs=snapshot.hubs)
    columns = ["number", "name", "status", "use", "area_m2", "area_ha", "area_mu", "counted_m2", "counted_mu",
               "overlaps_with", "district_id", "hub_id", "park_id", "park_share", "floor_area_m2", "plot_ratio",
               "floor_area_effective_m2", "problem", "problem_message"]
    records = json.loads(measured[columns].to_json(orient="records", force_ascii=False))
    pairs = overlap_table(measured)
    return {
        "scenario": args.name, "version": version, "snapshot_version": snapshot.version,
        "totals": totals(measured).as_dict(),
        "overlaps": json.loads(pairs.to_json(orient="records")),
        "progress": {"city": _records(progress(measured)), "by_district": _records(progress(measured, by="district_id")),
                     "by_hub": _records(progress(measured, by="hub_id"))},
        "parcels": records,
    }


def _records(frame: Any) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", force_ascii=False))


def _cmd_show(args: argparse.Namespace) -> int:
    shown = _show(args)
    if args.json:
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return 0
    totals = shown["totals"]
    print(f"{shown['scenario']} (version {shown['version']}, snapshot {shown['snapshot_version']})")
    print(f"  {totals['parcels']} parcels measured, {totals['problems']} with problems")
    print(f"  land {totals['area_mu']:,.2f} mu ({totals['area_m2']:,.1f} m2), overlaps counted once;"
          f" overlap {totals['overlap_mu']:,.2f} mu in {totals['overlapping_pairs']} pair(s)")
    for pair in shown["overlaps"]:
        print(f"    parcels {pair['a']} and {pair['b']} overlap by {pair['overlap_mu']:,.2f} mu")
    print("  progress against the city targets (Action Plan 2024-2026, item 30):")
    for row in shown["progress"]["city"]:
        print(f"    {row['target']}: {row['achieved']:,.1f} / {row['target_value']:,.0f} {row['unit']}"
              f" ({row['share']:.1%})")
    print("  parcels:")
    for parcel in shown["parcels"]:
        label = f"{parcel['number']} {parcel['name'] or ''}".strip()
        if parcel["problem"]:
            print(f"    {label}: NOT MEASURED: {parcel['problem_message']}")
            continue
        park = f", park {parcel['park_id']} ({parcel['park_share']:.0%})" if parcel["park_id"] else ""
        print(f"    {label}: {parcel['area_mu']:,.2f} mu, {parcel['status']}, {parcel['use']},"
              f" district {parcel['district_id']}, hub {parcel['hub_id']}{park}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from geo.planner import export_scenario

    parcels, version = _store(args).load(args.name)
    exported = export_scenario(parcels, scenario=args.name, version=version, snapshot=_snapshot(args),
                               fmt=args.format, datum=args.datum)
    out = Path(args.output) if args.output else Path(exported.filename)
    out.write_bytes(exported.data)
    print(f"wrote {out} ({args.format}, {args.datum}, {len(parcels)} parcels of {args.name!r} version {version})")
    return 0


def _cmd_rename(args: argparse.Namespace) -> int:
    store = _store(args)
    version = store.rename(args.old, args.new, expected_version=store.info(args.old).version)
    print(f"renamed {args.old!r} to {args.new!r} (version {version})")
    return 0


def _cmd_delete(args: argparse.Namespace) -> int:
    from geo.scenarios import RETENTION_DAYS

    store = _store(args)
    store.delete(args.name, expected_version=store.info(args.name).version)
    print(f"deleted {args.name!r}; restore it within {RETENTION_DAYS} days with: python -m geo scenario restore"
          f" {json.dumps(args.name, ensure_ascii=False)}")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    name, version = _store(args).restore(args.name, new_name=args.as_name)
    print(f"restored {name!r} (version {version})")
    return 0


def _cmd_undo(args: argparse.Namespace) -> int:
    store = _store(args)
    version = store.undo(args.name, expected_version=store.info(args.name).version)
    print(f"{args.name!r}: back to the previous version (now version {version})")
    return 0


def add_parser(sub: argparse._SubParsersAction, *, snapshot_dir: str) -> None:  # type: ignore[type-arg]
    """Register ``scenario`` and its commands on the main parser's subparsers."""
    from geo.export import EXPORT_DATUMS, FORMATS

    parser = sub.add_parser("scenario", help="planner scenarios: list, import, show, export, rename, delete, restore")
    commands = parser.add_subparsers(dest="scenario_command", required=True)

    def command(name: str, func, text: str) -> argparse.ArgumentParser:  # noqa: ANN001
        p = commands.add_parser(name, help=text)
        p.add_argument("--data-dir", default=None, help="the store's folder (default: $PHARMA_MAP_DATA_DIR or ./var)")
        p.add_argument("--snapshot", default=snapshot_dir, help="snapshot folder")
        p.set_defaults(func=func)
        return p

    p = command("list", _cmd_list, "every scenario with parcels, area, version, last change and author")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = command("import", _cmd_import, "add a file's parcels to a scenario (created if new); exit 1 if any"
                                       " parcel was refused")
    p.add_argument("file", help="GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ, CSV/XLSX with a WKT column")
    p.add_argument("--name", required=True, help="the scenario (any text, commas, slashes and Chinese included)")
    p.add_argument("--datum", default=None, help="the file's coordinate system (wgs84, gcj02, bd09, cgcs2000,"
                                                 " epsg:4548...); tables need one")
    p.add_argument("--swap-axes", action="store_true", help="read the coordinates as (latitude, longitude)")
    p.add_argument("--corners", default=None, metavar="COLUMN",
                   help="a table of corner points, one row per corner in order: one parcel per value of COLUMN")
    p.add_argument("--name-column", default=None, help="column holding the parcel names (default: name, 名称, ... if there is one)")
    p.add_argument("--author", default=None, help="kept with the scenario")
    p = command("show", _cmd_show, "parcels with measurements, totals (overlaps once), overlaps and progress")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = command("export", _cmd_export, "write the measured parcels as GeoJSON, GeoPackage or CSV")
    p.add_argument("name")
    p.add_argument("--format", choices=FORMATS, default="geojson")
    p.add_argument("--datum", choices=EXPORT_DATUMS, default="wgs84")
    p.add_argument("-o", "--output", default=None, help="output file (default: a name with the version)")
    p = command("rename", _cmd_rename, "rename a scenario")
    p.add_argument("old")
    p.add_argument("new")
    p = command("delete", _cmd_delete, "delete a scenario (restorable for 30 days)")
    p.add_argument("name")
    p = command("restore", _cmd_restore, "bring back a deleted scenario")
    p.add_argument("name")
    p.add_argument("--as", dest="as_name", default=None, help="restore under another name")
    p = command("undo", _cmd_undo, "go back to the scenario's previous version")
    p.add_argument("name")
