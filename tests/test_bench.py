"""The benchmark harness itself (cheap: fake contenders and a fake clock, no timing asserted)."""

from __future__ import annotations

import json

import pytest

from geo import bench


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _contenders(log: list[str], clock: _FakeClock, costs: dict[str, float]) -> list[bench.Contender]:
    def make(label: str) -> bench.Contender:
        def run() -> None:
            log.append(f"run {label}")
            clock.now += costs[label]

        return bench.Contender(label, run, prepare=lambda: log.append(f"prepare {label}"))

    return [make(label) for label in costs]


def test_interleave_alternates_the_order_prepares_every_run_and_runs_each_equally() -> None:
    log: list[str] = []
    clock = _FakeClock()
    contenders = _contenders(log, clock, {"project": 1.0, "plain": 3.0})
    times = bench.interleave(contenders, 4, clock=clock)
    assert times == [[1.0] * 4, [3.0] * 4]
    runs = [entry for entry in log if entry.startswith("run")]
    # one untimed warm-up each, then rounds in alternating order
    assert runs == ["run project", "run plain",
                    "run project", "run plain", "run plain", "run project",
                    "run project", "run plain", "run plain", "run project"]
    for position, entry in enumerate(log):  # every run (warm-up too) right after its own prepare
        if entry.startswith("run"):
            assert log[position - 1] == entry.replace("run", "prepare")


def test_interleave_refuses_no_runs() -> None:
    with pytest.raises(ValueError, match="runs must be at least 1"):
        bench.interleave([], 0)


def test_run_benchmarks_refuses_fewer_than_five_runs_and_unknown_names() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        bench.run_benchmarks(runs=3)
    with pytest.raises(ValueError, match="unknown benchmark"):
        bench.run_benchmarks(only=["nope"])


def test_import_runs_are_cold_the_parse_cache_is_cleared_before_each() -> None:
    # The import benchmark's project contender must not time a second import of a parsed file.
    from geo import imports

    data = bench.gcj02_table(50)
    seen: list[int] = []
    contender = bench.Contender("import", lambda: (seen.append(len(imports._PARSED)),
                                                   imports.read_upload(data, filename="f.csv", datum="gcj02")),
                                prepare=imports._PARSED.clear)
    bench.interleave([contender], 5)
    assert seen == [0] * 6


def test_ratio_median_min_memory_ratio_and_pass_rules() -> None:
    project = bench.Figure("p", [1.0, 2.0, 9.0], peak_bytes=100)
    plain = bench.Figure("b", [4.0, 4.0, 1.0], peak_bytes=50)
    result = bench.Result("x", project, [plain], min_ratio=1.5, max_memory_ratio=2.5)
    assert (project.min_seconds, project.median_seconds) == (1.0, 2.0)
    assert result.ratio == 2.0 and result.memory_ratio == 2.0 and result.passed
    assert not bench.Result("x", project, [plain], min_ratio=2.5).passed
    assert not bench.Result("x", project, [plain], max_memory_ratio=1.5).passed
    assert not bench.Result("x", project, [plain], checks={"identical": False}).passed
    assert not bench.Result("x", project, target_seconds=1.5).passed
    as_json = json.loads(json.dumps(result.as_dict()))
    assert as_json["project"]["median_s"] == 2.0 and as_json["baselines"][0]["runs"] == 3


def test_peak_memory_measures_what_one_run_adds() -> None:
    import numpy as np

    peak = bench.peak_memory(bench.Contender("alloc", lambda: np.ones(50_000_000 // 8).sum()))
    if peak is None:
        pytest.skip("no fork or /proc here")
    assert 40_000_000 < peak < 200_000_000


def test_the_table_prints_min_median_ratio_and_target() -> None:
    result = bench.Result("conversion", bench.Figure("ours", [1.0, 1.0, 1.0]),
                          [bench.Figure("C batch", [2.0, 2.0, 2.0], accuracy="max error 3 m")],
                          target=">= 1.0x", min_ratio=1.0)
    table = bench.format_table([result], runs=3)
    assert "conversion  [PASS]  target: >= 1.0x" in table
    assert "ratio 2.00x" in table and "max error 3 m" in table and "median    2.000 s" in table


def test_the_address_list_of_the_locate_benchmark_is_realistic_and_mostly_placed() -> None:
    import io

    import pandas as pd

    from geo.imports import read_upload
    from geo.locate import OfflineLocator
    from geo.snapshot import load_snapshot

    data = bench.address_table(300)
    table = pd.read_csv(io.BytesIO(data))
    assert list(table.columns) == ["企业名称", "注册地址", "行业"] and len(table) == 300
    assert table["注册地址"].nunique() > 250
    layer = read_upload(data, filename="firms.csv", locators=[OfflineLocator.from_snapshot(load_snapshot())])
    tiers = layer.located.summary()
    assert tiers["park"] > 100 and tiers["district"] > 80 and 0 < tiers["unplaced"] < 60
    assert "locate" in bench.BENCHMARKS
