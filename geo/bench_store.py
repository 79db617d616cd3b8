"""The store under concurrent writers: ``python -m geo bench --store postgresql://...``.

``writers`` processes (8 by default) save for ``seconds`` (20) into a few shared scenarios, each
save based on the version the writer has just read, as a planner session does. Every save is
either acknowledged (its version returned) or refused (``ScenarioConflictError``). Afterwards
every acknowledged save is looked up in the history: it must be there (else it was **lost**) and
hold what that writer wrote (else another writer **silently overwrote** it). The same run on a
fresh SQLite store is printed beside it.

Use a scratch database: the benchmark's scenarios (named ``bench <run id> ...``) are deleted at
the end (recoverable for 30 days, like any deleted scenario).
"""

from __future__ import annotations

import multiprocessing
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import shapely


@dataclass(frozen=True)
class StoreBenchResult:
    backend: str
    location: str
    writers: int
    seconds: float
    saves: int
    conflicts: int
    silent_overwrites: int
    lost: int
    errors: int

    @property
    def saves_per_s(self) -> float:
        return self.saves / self.seconds if self.seconds > 0 else 0.0


def _parcels(label: str, count: int = 20) -> gpd.GeoDataFrame:
    from geo.planner import parcels_from_features

    return parcels_from_features([
        {"type": "Feature", "properties": {"name": label if i == 0 else f"{label}/{i}", "status": "planned"},
         "geometry": shapely.geometry.mapping(shapely.box(116.50 + i * 0.002, 39.78, 116.501 + i * 0.002, 39.781))}
        for i in range(count)])


def _writer(url: str, names: list[str], writer: int, ready: Any, go: Any, seconds: float, queue: Any) -> None:
    from geo.errors import GeoError
    from geo.scenarios import ScenarioConflictError, ScenarioStore

    store = ScenarioStore(url=url)
    rng = random.Random(writer)
    acks: list[tuple[str, int, str]] = []
    conflicts = errors = 0
    store.info(names[0])  # connected, code loaded
    ready.put(writer)
    go.wait()
    deadline = time.time() + seconds
    i = 0
    while time.time() < deadline:
        name = rng.choice(names)
        label = f"w{writer}-{i}"
        i += 1
        try:
            version = store.info(name).version
            acks.append((name, store.save(name, _parcels(label), expected_version=version), label))
        except ScenarioConflictError:
            conflicts += 1
        except GeoError:
            errors += 1
    queue.put((acks, conflicts, errors))


def bench_store(url: str, *, writers: int = 8, seconds: float = 20.0, scenarios: int = 4) -> StoreBenchResult:
    """``writers`` processes saving into ``scenarios`` shared scenarios of ``url`` for ``seconds``."""
    from geo.scenarios import ScenarioStore

    store = ScenarioStore(url=url)
    run = uuid.uuid4().hex[:8]
    names = [f"bench {run} {k}" for k in range(scenarios)]
    for name in names:
        store.save(name, _parcels("start"), expected_version=None)
    context = multiprocessing.get_context("spawn")
    queue, ready, go = context.Queue(), context.Queue(), context.Event()
    processes = [context.Process(target=_writer, args=(url, names, w, ready, go, seconds, queue))
                 for w in range(writers)]
    for process in processes:
        process.start()
    for _ in processes:  # every writer is up (imports done, connected) before any saves
        ready.get(timeout=300)
    go.set()
    outcomes = [queue.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join(30)
    acks = [a for outcome in outcomes for a in outcome[0]]
    ids = {name: store.info(name).scenario_id for name in names}
    history = {name: {h.version for h in store.history(name)} for name in names}
    lost = silent = 0
    for name, version, label in acks:
        if version not in history[name]:
            lost += 1
        elif store.load_version(ids[name], version)["name"].iloc[0] != label:
            silent += 1
    for name in names:
        store.delete(name, expected_version=store.info(name).version)
    return StoreBenchResult(backend=store.kind, location=str(store.path), writers=writers, seconds=seconds,
                            saves=len(acks), conflicts=sum(o[1] for o in outcomes), silent_overwrites=silent,
                            lost=lost, errors=sum(o[2] for o in outcomes))


def run_store_bench(url: str, *, writers: int = 8, seconds: float = 20.0, as_json: bool = False) -> int:
    """The benchmark on ``url`` and on a fresh SQLite store, printed side by side; exit 1 if any
    acknowledged save was lost or silently overwritten."""
    import json
    from dataclasses import asdict

    with tempfile.TemporaryDirectory(prefix="pharma-bench-store-") as folder:
        results = [bench_store(url, writers=writers, seconds=seconds),
                   bench_store(f"sqlite:///{folder}", writers=writers, seconds=seconds)]
    if as_json:
        print(json.dumps([{**asdict(r), "saves_per_s": r.saves_per_s} for r in results], indent=2))
    else:
        print(f"store benchmark: {writers} writers x {seconds:g} s, each save based on the version just read"
              " (20 parcels); every acknowledged save looked up in the history afterwards")
        print(f"{'backend':<11} {'saves':>7} {'saves/s':>8} {'conflicts':>10} {'silent overwrites':>18}"
              f" {'lost':>5} {'errors':>7}  store")
        for r in results:
            print(f"{r.backend:<11} {r.saves:>7} {r.saves_per_s:>8.1f} {r.conflicts:>10} {r.silent_overwrites:>18}"
                  f" {r.lost:>5} {r.errors:>7}  {r.location}")
    return 1 if any(r.lost or r.silent_overwrites for r in results) else 0
