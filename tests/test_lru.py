"""Caches bounded in bytes (geo.lru.ByteLRU) and the server's upload caches built on them.

Found: the upload caches were bounded by entry count (8 layers of any size): 16 uploads of
100,000 points took the server from 332 MB to 1.1 GB. ``scripts/bench_upload_memory.py`` prints
the server's memory after 1 and after 16 uploads."""

from __future__ import annotations

import hashlib
import threading

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.config import MIB, upload_cache_bytes
from geo.lru import ByteLRU, estimate_bytes


def test_the_cache_never_holds_more_bytes_than_its_budget():
    cache: ByteLRU[bytes] = ByteLRU(max_bytes=1000, sizeof=len)
    for i in range(20):
        cache.put(i, b"x" * 300)
        assert cache.total_bytes <= 1000
    assert len(cache) == 3 and list(range(17, 20)) == [k for k in range(20) if k in cache]
    cache.get(17)  # used: now the most recent
    cache.put("new", b"y" * 300)
    assert 17 in cache and 18 not in cache
    cache.put("new", b"w" * 10)  # a replaced value is charged once
    assert cache.total_bytes == sum(len(cache.get(k)) for k in (17, 19, "new"))
    # a value over the whole budget is kept alone (the upload being worked on is not read again)
    assert cache.put("huge", b"z" * 5000) == b"z" * 5000
    assert [k for k in (17, 19, "new", "huge") if k in cache] == ["huge"]
    cache.put("next", b"n" * 10)
    assert "huge" not in cache and cache.total_bytes == 10
    cache.clear()
    assert len(cache) == 0 and cache.total_bytes == 0


def test_a_value_is_computed_once_when_threads_ask_at_once():
    cache: ByteLRU[int] = ByteLRU(max_bytes=10_000, sizeof=lambda v: 8)
    calls = []
    gate = threading.Event()

    def compute() -> int:
        calls.append(1)
        gate.wait(1.0)
        return 42

    threads = [threading.Thread(target=lambda: cache.get_or_compute("k", compute)) for _ in range(5)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join()
    assert calls == [1] and cache.get("k") == 42


def test_a_failed_computation_keeps_nothing():
    cache: ByteLRU[int] = ByteLRU(max_bytes=100)

    def fail() -> int:
        raise ValueError("bad upload")

    with pytest.raises(ValueError, match="bad upload"):
        cache.get_or_compute("k", fail)
    assert "k" not in cache


def test_sizes_count_geometries_and_text_not_just_pointers():
    n = 50_000
    frame = gpd.GeoDataFrame({"name": [f"企业 {i}" for i in range(n)]},
                             geometry=shapely.points(np.random.rand(n), np.random.rand(n)), crs=4326)
    size = estimate_bytes(frame)
    assert 200 * n < size < 600 * n  # ~200 B per point in GEOS, ~60 B per short string
    assert estimate_bytes(frame) > 10 * int(frame.memory_usage(deep=False).sum()) / 3
    polygons = shapely.buffer(frame.geometry.values[:1000], 0.001, quad_segs=8)  # 33 vertices each
    assert estimate_bytes(polygons) > 1000 * 33 * 16


def test_the_budget_comes_from_the_environment():
    assert upload_cache_bytes(environ={}) == 64 * MIB
    assert upload_cache_bytes(environ={"PHARMA_MAP_UPLOAD_CACHE_MB": "32"}) == 32 * MIB
    with pytest.raises(ValueError, match="PHARMA_MAP_UPLOAD_CACHE_MB='lots'"):
        upload_cache_bytes(environ={"PHARMA_MAP_UPLOAD_CACHE_MB": "lots"})


def _table(seed: int, rows: int) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["name,lon,lat"] + [f"firm {seed}-{i},{x:.6f},{y:.6f}"
                                for i, (x, y) in enumerate(zip(rng.uniform(116.1, 116.6, rows),
                                                               rng.uniform(39.7, 40.1, rows), strict=True))]
    return "\n".join(lines).encode()


def test_sixteen_uploads_stay_within_the_upload_budget(isolated_app, monkeypatch):
    from geo import imports
    from pages import _data as cached

    monkeypatch.setenv("PHARMA_MAP_UPLOAD_CACHE_MB", "2")
    first_size = None
    for seed in range(16):
        data = _table(seed, 3_000)
        sha = hashlib.sha256(data).hexdigest()
        cached.inspect_import(sha, f"sites {seed}.csv", data)
        layer = cached.read_import(sha, f"sites {seed}.csv", data, datum="wgs84")
        assert len(layer.frame) == 3_000
        first_size = first_size or estimate_bytes(layer)
        cache = cached.upload_cache()
        assert cache.total_bytes <= 2 * MIB
        assert imports._PARSED.total_bytes <= imports._PARSED.max_bytes
    assert len(cached.upload_cache()) < 16  # older uploads were forgotten, not kept by count
    assert len(cached.upload_cache()) >= (2 * MIB) // (2 * first_size)  # and the budget is used
    # the most recent upload is served from the cache: the same object, not read again
    again = cached.read_import(sha, "sites 15.csv", data, datum="wgs84")
    assert again is layer
