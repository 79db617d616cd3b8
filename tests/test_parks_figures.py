"""Parks page, issue 11 observations 6 and 7: honest comparisons, and a series is not a conflict."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import TINY_CURATED, TINY_OUTLINES

APP = str(Path(__file__).resolve().parent.parent / "app.py")
COMPARED = ["zgc_life_science_park", "future_science_city_life_valley", "bda_yizhuang", "daxing_biomedicine_base"]

pytestmark = pytest.mark.usefixtures("isolated_app")


def _parks_page(lang: str = "en", **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if lang != "en":
        at.sidebar.radio(key="lang").set_value(lang).run()
    at.switch_page("pages/parks.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _charts(at: AppTest) -> list[tuple[dict, str]]:
    """Each Vega-Lite chart's spec and the text of its data."""
    out = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        text = []
        for dataset in chart.proto.datasets:
            table = pa.ipc.open_stream(dataset.data.data).read_all()
            text.append(json.dumps(table.to_pylist(), ensure_ascii=False, default=str))
        out.append((spec, " ".join(text)))
    return out


def _comparison(at: AppTest):
    return next(d.value for d in at.dataframe if any("Enterprises" in c or "企业" in c for c in d.value.columns)
                and len(d.value) == len(COMPARED))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_compared_figures_keep_qualifier_date_source_and_what_they_count(lang):
    at = _parks_page(lang, parks_compare=COMPARED)
    table = _comparison(at)
    rows = {row.iloc[0]: row for _, row in table.iterrows()}
    assert len(rows) == 4
    text = table.to_string()
    assert "None" not in text and "nan" not in text.lower()
    if lang == "en":
        lsp, valley = rows["Zhongguancun Life Science Park"], rows["Future Science City 'Life Valley'"]
        bda = rows["Beijing Economic-Technological Development Area (Yizhuang)"]
        daxing = rows["Daxing Biomedicine Industry Base (Zhongguancun)"]
        assert lsp["Enterprises reported (latest)"] == "more than 1,000 enterprises"
        assert "2025" in lsp["Enterprises: date · source"] and "Caixin" in lsp["Enterprises: date · source"]
        assert valley["Enterprises reported (latest)"] == "more than 800 enterprises"
        assert valley["Area"] == "more than 7 km²" and "Nature" in valley["Area: date · source"]
        assert bda["Enterprises reported (latest)"] == "not reported"
        assert daxing["Enterprises reported (latest)"] == "more than 4,000 enterprises and institutions"
        assert "2021-05-12" in daxing["Enterprises: date · source"]
    else:
        assert rows["中关村生命科学园"]["公开报道企业数（最新）"] == "超过1000家企业"
        assert rows["未来科学城“生命谷”"]["面积"] == "超过7平方公里"
        assert rows["北京经济技术开发区（亦庄）"]["公开报道企业数（最新）"] == "未公布"
        assert rows["中关村大兴生物医药产业基地"]["公开报道企业数（最新）"] == "超过4000家企业和机构"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_comparison_charts_have_titles_axis_titles_and_full_names(lang):
    at = _parks_page(lang, parks_compare=COMPARED)
    charts = _charts(at)
    assert len(charts) >= 4  # area, enterprises, enterprises over time, organisations (+ the fact sheet's)
    full_names = (["Beijing Economic-Technological Development Area (Yizhuang)", "Future Science City 'Life Valley'"]
                  if lang == "en" else ["北京经济技术开发区（亦庄）", "未来科学城“生命谷”"])
    for spec, data in charts:
        assert spec.get("title", {}).get("text"), spec
        encodings = [layer.get("encoding", {}) for layer in spec["layer"]]
        assert all(e["x"].get("title") and e["y"].get("title") for e in encodings[:1])
        if lang == "zh":
            assert any("\u4e00" <= ch <= "\u9fff" for ch in spec["title"]["text"])
    compared = [(spec, data) for spec, data in charts if all(name in data for name in full_names)]
    assert len(compared) >= 3
    specs = json.dumps([s for s, _ in charts], ensure_ascii=False)
    area_title, area_axis = ("Reported area of each park", "Area (km²)") if lang == "en" else ("各园区公开面积",
                                                                                          "面积（平方公里）")
    assert area_title in specs and area_axis in specs
    area = next(data for spec, data in charts if spec["title"]["text"] == area_title)
    assert ("more than 7 km²" in area) if lang == "en" else ("超过7平方公里" in area)


def test_a_host_parks_area_is_labelled_as_the_host_parks():
    at = _parks_page(parks_compare=["mentougou_cardiology_park", "zgc_bonded_zone"])
    table = next(d.value for d in at.dataframe if "Area" in d.value.columns)
    assert table.iloc[0]["Area"] == "189 ha (Host park area)"
    assert table.iloc[1]["Area"] == "about 0.4 km²"


def test_the_life_science_parks_enterprises_over_time_are_a_series_not_a_conflict():
    at = _parks_page(parks_pick="zgc_life_science_park")
    assert not any("disagree" in w.value for w in at.warning)
    series = [(spec, data) for spec, data in _charts(at) if spec["title"]["text"] == "Reported enterprises over time"]
    assert series, "no chart of the enterprises over time"
    spec, data = series[0]
    for label in (">400", ">500", ">600", ">1,000"):
        assert label in data
    assert "Enterprises and institutions" in data  # the 2017 figure says what it counts


def _curated_with(tmp_path: Path, extra_facts: str) -> Path:
    folder = tmp_path / "curated_conflict"
    folder.mkdir()
    for name, text in TINY_CURATED.items():
        (folder / name).write_text(text + (extra_facts if name == "facts.csv" else ""), encoding="utf-8")
    (folder / "park_outlines.json").write_text(json.dumps(TINY_OUTLINES), encoding="utf-8")
    (folder / "sources.csv").write_text(TINY_CURATED["sources.csv"] + "news,A paper,A report,2025-03-01,,en,\n",
                                        encoding="utf-8")
    return folder


def test_two_sources_at_one_date_are_still_said_to_disagree(tmp_path, monkeypatch):
    from geo.build import build

    curated = _curated_with(tmp_path, "lsp_firms_news,park,lsp,enterprises,800,count,about,,2025-03,news,"
                                      "about 800 firms,\n")
    build(curated_dir=curated, out_dir=tmp_path / "snap", build_date="2026-01-01")
    monkeypatch.setenv("PHARMA_MAP_SNAPSHOT_DIR", str(tmp_path / "snap"))
    at = _parks_page(parks_pick="lsp")
    warnings = [w.value for w in at.warning]
    assert any("Sources disagree on Enterprises (2025" in w for w in warnings), warnings


def test_the_organisations_pages_reported_counts_say_qualifier_and_what_they_count():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/organisations.py")
    at.run()
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if "Reported" in d.value.columns)
    reported = dict(zip(table["Reported"], table["Source"], strict=True))
    assert "more than 1,000 enterprises" in reported
    assert "more than 4,000 enterprises and institutions" in reported
    assert "more_than" not in table.to_string() and "None" not in table.to_string()
