"""``python -m geo store``: which store the app uses, and moving a workspace between stores.

    python -m geo store check                                   # backend, schema version, counts
    python -m geo store migrate --to postgresql://user@host/db  # copy everything, verify
    python -m geo store migrate --from postgresql://... --to sqlite:///var-copy
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict


def _open(url: str | None, data_dir: str | None):  # noqa: ANN202 - ScenarioStore, imported late
    from geo.scenarios import ScenarioStore

    return ScenarioStore(data_dir, url=url) if url or data_dir else ScenarioStore()


def _open_outlines(url: str | None, data_dir: str | None):  # noqa: ANN202 - ParkGeometryStore, imported late
    from geo.osm_store import ParkGeometryStore

    return ParkGeometryStore(data_dir, url=url) if url or data_dir else ParkGeometryStore()


def _print_summary(title: str, summary) -> None:  # noqa: ANN001 - StoreSummary
    print(f"{title}: {summary.backend} {summary.location}")
    print(f"  schema version {summary.schema_version}; {summary.scenarios} scenarios, {summary.layers} saved"
          f" layers, {summary.deleted} deleted (restorable), {summary.history} versions in the history")
    print(f"  checksum {summary.checksum[:16]}")
    if summary.outlines is not None:
        print(f"  {summary.outlines} confirmed park outlines, {summary.outline_history} entries in their history;"
              f" checksum {summary.outlines_checksum[:16]}")


def _cmd_check(args: argparse.Namespace) -> int:
    from geo.store_copy import summary

    found = summary(_open(args.url, args.data_dir), _open_outlines(args.url, args.data_dir))
    if args.json:
        print(json.dumps(asdict(found), indent=2))
    else:
        _print_summary("store", found)
    return 0


def _sync_reference(target, outlines, args: argparse.Namespace) -> None:  # noqa: ANN001 - the target's stores
    from geo import store_pg
    from geo.osm_store import snapshot_with_overrides
    from geo.snapshot import load_snapshot
    from geo.store_backend import PostgresBackend

    if not isinstance(target.backend, PostgresBackend):
        return
    from geo.store_copy import summary

    snapshot = snapshot_with_overrides(load_snapshot(args.snapshot), store=outlines)
    if store_pg.sync_reference(target.backend, snapshot, outlines=summary(target, outlines).outlines_checksum or ""):
        print(f"reference layers (districts, hubs, parks of snapshot {snapshot.version}) written for the views")


def _cmd_migrate(args: argparse.Namespace) -> int:
    from geo.store_copy import copy_outlines, copy_store, summary

    source = _open(args.source, args.data_dir)
    target = _open(args.to, None)
    if str(source.path) == str(target.path):
        print(f"error: --to names the store being copied ({target.path}): name another one", file=sys.stderr)
        return 2
    source_outlines, target_outlines = _open_outlines(args.source, args.data_dir), _open_outlines(args.to, None)
    report = copy_store(source, target)
    outlines = copy_outlines(source_outlines, target_outlines)
    _sync_reference(target, target_outlines, args)
    _print_summary("from", summary(source, source_outlines))
    _print_summary("to  ", summary(target, target_outlines))
    print(f"copied {report.copied} new, {report.updated} updated, {report.unchanged} already there;"
          f" {report.history_added} versions added to the history; verified: every copied row and version"
          " matches the source (checksum above)")
    print(f"park outlines: {outlines.copied} copied, {outlines.restored} restored as in the source,"
          f" {outlines.unchanged} already there; {outlines.history_added} history entries added; verified"
          f" (checksum {outlines.checksum[:16]})")
    return 0


def add_parser(sub: argparse._SubParsersAction, *, snapshot_dir: str) -> None:
    """Register ``store check`` and ``store migrate``."""
    store_parser = sub.add_parser("store", help="the scenario store: check it, or move it to PostgreSQL/SQLite")
    store_sub = store_parser.add_subparsers(dest="store_command", required=True)
    p = store_sub.add_parser("check", help="backend, schema version and counts of the store the app uses")
    p.add_argument("--url", default=None, help="postgresql://... or sqlite:///FOLDER (default: the app's)")
    p.add_argument("--data-dir", default=None, help="an SQLite data folder (default $PHARMA_MAP_DATA_DIR or ./var)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_check)
    p = store_sub.add_parser("migrate", help="copy every scenario, saved layer and confirmed park outline, with"
                             " history, to another store and verify (safe to run again)")
    p.add_argument("--to", required=True, help="postgresql://user:password@host:port/db or sqlite:///FOLDER")
    p.add_argument("--from", dest="source", default=None,
                   help="the store to copy (default: the app's, $PHARMA_MAP_DATABASE_URL or the data folder)")
    p.add_argument("--data-dir", default=None, help="the SQLite data folder to copy (default $PHARMA_MAP_DATA_DIR"
                   " or ./var): its scenarios, saved layers and confirmed OSM outlines")
    p.add_argument("--snapshot", default=snapshot_dir, help="snapshot folder (reference layers of the views)")
    p.set_defaults(func=_cmd_migrate)
