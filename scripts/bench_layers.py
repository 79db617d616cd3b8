"""Map layer benchmarks (issue 13): the cluster map's organisation layer with 8,000 organisations,
built and rendered, against plain folium circle markers with the same tooltips in the same run.

Runs are interleaved (layer, plain, layer, plain ...) so a busy machine slows both alike; min and
median are printed with the ratio of medians. Target: the layer <= 1.2x plain folium.

    .venv/bin/python scripts/bench_layers.py [--orgs 8000] [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def synthetic_organisations(count: int, *, seed: int = 7):
    """``count`` organisations with sites scattered over Beijing's southern hubs, every kind and
    specialisation, names in both languages (some with characters that need escaping)."""
    import geopandas as gpd
    import numpy as np

    from geo.vocab import ORGANISATION_KINDS, SPECIALISATIONS

    rng = np.random.default_rng(seed)
    kinds, specs = list(ORGANISATION_KINDS), list(SPECIALISATIONS)
    lon, lat = rng.uniform(116.2, 116.7, count), rng.uniform(39.6, 40.2, count)
    return gpd.GeoDataFrame({
        "org_id": [f"org_{i}" for i in range(count)],
        "name_en": [f"Biotech & Devices Co. {i} <Ltd>" for i in range(count)],
        "name_zh": [f"北京生物医药科技有限公司{i}" for i in range(count)],
        "kind": [kinds[i % len(kinds)] for i in range(count)],
        "specialisations": [";".join(specs[j % len(specs)] for j in (i, i + 3)) for i in range(count)],
        "location_tier": ["site"] * count,
        "park_id": [None] * count,
        "address_zh": [f"北京经济技术开发区科创{i % 20}街{i}号" for i in range(count)],
    }, geometry=gpd.points_from_xy(lon, lat), crs=4326)


def _plain(orgs):
    """What a folium user writes: one CircleMarker with a tooltip per organisation."""
    import folium

    from layers.basemap import base_map

    fmap = base_map(basemap="none")
    group = folium.FeatureGroup(name="organisations").add_to(fmap)
    for name, point in zip(orgs["name_en"], orgs.geometry, strict=True):
        folium.CircleMarker([point.y, point.x], radius=7, color="#1f77b4", fill=True,
                            tooltip=folium.Tooltip(f"<b>{name}</b>", sticky=True)).add_to(group)
    return fmap


def _layer(orgs):
    from layers.basemap import base_map
    from layers.organisations import organisations_layer

    fmap = base_map(basemap="none")
    organisations_layer(orgs, lang="en").add_to(fmap)
    return fmap


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=8_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from pages._map import render_map

    orgs = synthetic_organisations(args.orgs)
    times: dict[str, list[float]] = {"layer": [], "plain": []}
    sizes: dict[str, int] = {}
    for _ in range(args.runs):
        for kind, build in (("layer", _layer), ("plain", _plain)):
            start = time.perf_counter()
            rendered = render_map(build(orgs), f"bench_{kind}")
            times[kind].append(time.perf_counter() - start)
            sizes[kind] = len(rendered.script)
    ratio = statistics.median(times["layer"]) / statistics.median(times["plain"])
    result = {"organisations": args.orgs, "runs": args.runs, "load_average_1min": os.getloadavg()[0],
              **{f"{kind}_min_s": min(v) for kind, v in times.items()},
              **{f"{kind}_median_s": statistics.median(v) for kind, v in times.items()},
              **{f"{kind}_script_bytes": size for kind, size in sizes.items()},
              "ratio_layer_to_plain": ratio, "target_ratio": 1.2}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:<28} {value:.3f}" if isinstance(value, float) else f"{key:<28} {value}")
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
