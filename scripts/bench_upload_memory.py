"""The server's memory after 1 and after 16 different 100,000-point uploads (issue 12).

Runs in one process with the app's stack loaded (``pages._data``: Streamlit, the geo core) and
calls the Import page's own cached functions (``pages._data.inspect_import`` and ``read_import``,
through the server's upload cache ``pages._data.upload_cache``) the way the
page does for each upload: inspect, then read with the suggested datum. Each upload is a
different GCJ-02 CSV of ``--rows`` named points (``geo.bench.gcj02_table``, 4.6 MB at 100k rows).
Nothing else keeps the layers: this measures what the server holds for uploads it has seen, not
what an open session keeps of its own layers.

    .venv/bin/python scripts/bench_upload_memory.py                  # 16 uploads of 100k points
    .venv/bin/python scripts/bench_upload_memory.py --budget-mb 100000  # the budget lifted

Target: RSS after 16 uploads <= 1.5 x RSS after the first.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mb() -> float:
    """Resident set size of this process (Linux), in MB."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=16)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--budget-mb", type=float, default=None,
                        help="PHARMA_MAP_UPLOAD_CACHE_MB for this run (default: the app's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("PHARMA_MAP_DATA_DIR", tempfile.mkdtemp(prefix="bench_upload_memory_"))
    if args.budget_mb is not None:
        os.environ["PHARMA_MAP_UPLOAD_CACHE_MB"] = f"{args.budget_mb:g}"

    from geo import imports
    from geo.bench import gcj02_table
    from pages import _data as cached

    cached.bundled_snapshot()  # what a server has loaded before its first upload
    gc.collect()
    base = rss_mb()
    after: list[float] = []
    for i in range(args.uploads):
        data = gcj02_table(args.rows, seed=1000 + i)
        sha = hashlib.sha256(data).hexdigest()
        name = f"firms_{i:02d}.csv"
        inspection = cached.inspect_import(sha, name, data)
        datum = inspection.suggestion.datum if inspection.suggestion else "gcj02"
        layer = cached.read_import(sha, name, data, datum=datum)
        assert len(layer.frame) == args.rows
        del data, inspection, layer
        gc.collect()
        after.append(rss_mb())
    cache = cached.upload_cache()
    result = {
        "uploads": args.uploads, "rows": args.rows,
        "budget_mb": cache.max_bytes / 2**20, "parse_cache_mb": imports._PARSED.max_bytes / 2**20,
        "rss_base_mb": round(base, 1), "rss_after_1_mb": round(after[0], 1),
        "rss_after_last_mb": round(after[-1], 1), "ratio": round(after[-1] / after[0], 3),
        "cached_uploads": len(cache), "cached_mb": round(cache.total_bytes / 2**20, 1),
        "rss_each_mb": [round(v, 1) for v in after],
    }
    result["target_met"] = result["ratio"] <= 1.5
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.uploads} different uploads of {args.rows:,} points (GCJ-02 CSV), upload cache budget "
          f"{result['budget_mb']:g} MiB, parse cache {result['parse_cache_mb']:g} MiB")
    print(f"RSS before any upload: {base:8.1f} MB")
    print(f"RSS after upload 1:    {after[0]:8.1f} MB")
    print(f"RSS after upload {args.uploads}:   {after[-1]:8.1f} MB  ({result['ratio']:.2f}x the first; "
          f"target <= 1.5x: {'met' if result['target_met'] else 'NOT met'})")
    print(f"kept: {len(cache)} entries, {result['cached_mb']} MiB estimated")
    print("RSS after each upload: " + ", ".join(f"{v:.0f}" for v in after))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
