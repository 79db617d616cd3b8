"""``python -m geo locate FILE``: place a table of names and addresses (CSV/XLSX) with the same
importer and locators as the Import page, print a summary by tier, write the located layer.

``python -m geo locate --check-snapshot`` locates the snapshot's organisations by their own
addresses and compares each with the park and district the snapshot states (offline, no extract).
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
    from geo.locate import check_snapshot_organisations

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


def make_locators(snapshot, *, providers: list[str], extract: str | None = None,  # noqa: ANN001, ARG001
                  data_dir: str | None = None, timeout: float = 5.0) -> list:
    """The locators named by ``providers``, in that order (the first that places a row keeps it)."""
    from geo.locate import OfflineLocator

    locators: list = []
    for provider in providers:
        if provider == "offline":
            locators.append(OfflineLocator.from_snapshot(snapshot))
        elif provider == "osm":
            raise GeoError("--provider osm (matching names and addresses to an OpenStreetMap extract) is not"
                           " available yet: use offline or an online geocoder; park outlines from OpenStreetMap"
                           " are matched by python -m geo osm match")
        else:
            from geo.geocoders import geocoder

            locators.append(geocoder(provider, data_dir=data_dir, timeout=timeout, districts=snapshot.districts))
    return locators


def _cmd_locate(args: argparse.Namespace) -> int:
    if args.check_snapshot:
        return _check_snapshot(args)
    if not args.file:
        print("error: give a FILE (CSV or XLSX with a name and/or address column), or --check-snapshot",
              file=sys.stderr)
        return 2
    from geo.export import export_frame
    from geo.imports import import_metadata, read_upload

    snapshot = _snapshot(args)
    providers = args.provider or (["offline", "osm"] if args.extract else ["offline"])
    locators = make_locators(snapshot, providers=providers, extract=args.extract, data_dir=args.data_dir,
                             timeout=args.timeout)
    source = Path(args.file)
    layer = read_upload(source.read_bytes(), filename=source.name, locators=locators,
                        address_column=args.address_column, name_column=args.name_column)
    located = layer.located
    if located is None:
        print(f"error: {source.name} has coordinate columns: import it with python -m geo import", file=sys.stderr)
        return 2
    summary = located.summary()
    out = {"file": source.name, "rows": len(located.frame), "providers": list(located.providers),
           "address_column": located.columns.address, "name_column": located.columns.name, "by_tier": summary,
           "unplaced": [{"row": number, "reason": reason} for number, reason in layer.refused]}
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
    p.add_argument("--extract", default=None, help="an OpenStreetMap extract (.osm, .osm.bz2, .osm.pbf)")
    p.add_argument("--address-column", default=None, help="the address column, if its name is not recognised")
    p.add_argument("--name-column", default=None, help="the name column, if its name is not recognised")
    p.add_argument("-o", "--output", default=None, help="write the located layer (.geojson, .gpkg, .csv)")
    p.add_argument("--format", choices=("geojson", "gpkg", "csv"), default=None)
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per online request")
    p.add_argument("--data-dir", default=None, help="where the geocoder cache is kept (default"
                                                     " $PHARMA_MAP_DATA_DIR or ./var)")
    p.add_argument("--check-snapshot", action="store_true",
                   help="locate the snapshot's organisations by their addresses and compare (>= 95 %% agree)")
    p.add_argument("--snapshot", default=snapshot_dir, help="snapshot folder")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_locate)
