"""The park brief: one A4 page per park and language, read back with pdftotext (poppler-utils)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from geo.brief import FONT_ENV, find_cjk_font, park_brief
from geo.cli import main
from geo.errors import BriefError
from geo.snapshot import load_snapshot
from layers.figures import figure_value
from tests.osm_fixtures import OsmBuilder

SNAPSHOT = load_snapshot()
PARKS = SNAPSHOT.parks["park_id"].tolist()
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
                                   reason="pdftotext/pdfinfo missing: apt-get install poppler-utils")


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


def _flat(text: str) -> str:
    """Text without whitespace: wrapped lines and table cells join up again."""
    return re.sub(r"\s+", "", text)


def _info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


@needs_poppler
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("park_id", PARKS)
def test_the_cli_writes_a_one_page_a4_brief_with_name_area_qualifier_and_source(park_id, lang, tmp_path,
                                                                                  monkeypatch, capsys):
    monkeypatch.setenv("PHARMA_MAP_DATA_DIR", str(tmp_path / "store"))
    out = tmp_path / f"{park_id}_{lang}.pdf"
    assert main(["brief", park_id, "--lang", lang, "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    info = _info(out)
    assert info["Pages"] == "1"
    width, height = map(float, re.findall(r"[\d.]+", info["Page size"])[:2])
    assert (round(width), round(height)) == (595, 842)  # A4 in points (210 x 297 mm)
    text = _flat(_text(out))
    park = SNAPSHOT.parks.set_index("park_id").loc[park_id]
    assert _flat(park["name_zh" if lang == "zh" else "name_en"]) in text
    facts = SNAPSHOT.facts.set_index("fact_id")
    if isinstance(park["area_fact_id"], str):
        fact = facts.loc[park["area_fact_id"]]
        area = figure_value({**fact.to_dict(), "fact_id": park["area_fact_id"]}, lang)
        assert _flat(area) in text, area  # with its qualifier: 'more than 7 km²', '约95.3公顷'
        publisher = SNAPSHOT.sources.set_index("source_id").loc[fact["source_id"], "publisher"]
        assert _flat(publisher) in text
    else:
        assert ("未公布" if lang == "zh" else "notreported") in text
        cited = SNAPSHOT.sources.set_index("source_id").loc[park["geometry_source_ids"].split(";")[0], "publisher"]
        assert _flat(cited) in text
    assert SNAPSHOT.version in text
    if park["geometry_tier"] == "unlocated":
        assert ("未上图" if lang == "zh" else "Notonthemap") in text
    else:
        assert ("并非园区边界" if lang == "zh" else "notitsboundary") in text


@needs_poppler
def test_the_brief_embeds_its_cjk_font(tmp_path):
    out = tmp_path / "lsp.pdf"
    out.write_bytes(park_brief(SNAPSHOT, "zgc_life_science_park", lang="zh"))
    fonts = subprocess.run(["pdffonts", str(out)], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    cjk = [row for row in rows if "WenQuanYi" in row[0]]
    assert cjk and all(row[-5:-2] == ["yes", "yes", "yes"] for row in cjk), fonts  # embedded, subset, ToUnicode
    # reportlab lists Helvetica in every document's resources; no text on the page is set in it
    assert {row[0] for row in rows if row not in cjk} <= {"Helvetica"}, fonts
    assert "中关村生命科学园" in _text(out)


@needs_poppler
def test_the_brief_lists_the_site_context_of_a_loaded_extract(tmp_path):
    from geo.osm import context_layers, read_osm_file

    builder = OsmBuilder()
    builder.point(116.2950, 40.1150, {"railway": "station", "station": "subway", "name": "生命科学园站",
                                      "name:en": "Life Science Park station"})
    builder.point(116.2700, 40.0800, {"amenity": "hospital", "name": "北京大学国际医院",
                                      "name:en": "Peking University International Hospital"})
    extract = builder.write_xml(tmp_path / "lsp.osm")
    context = context_layers(read_osm_file(extract), SNAPSHOT.parks)
    out = tmp_path / "lsp.pdf"
    out.write_bytes(park_brief(SNAPSHOT, "zgc_life_science_park", lang="en", context=context,
                               context_name="lsp.osm"))
    text = _flat(_text(out))
    assert "Metrostations:1withinreach;nearestLifeSciencePark" in text
    assert "PekingUniversityInternationalHospital" in text and "lsp.osm" in text and "ODbL" in text
    without = tmp_path / "without.pdf"
    without.write_bytes(park_brief(SNAPSHOT, "zgc_life_science_park", lang="en"))
    assert "NoOpenStreetMapextractloaded" in _flat(_text(without))


def test_a_missing_cjk_font_names_what_to_install(tmp_path):
    with pytest.raises(BriefError, match="apt-get install fonts-wqy-zenhei"):
        find_cjk_font({}, candidates=[(str(tmp_path / "none.ttc"), 0, "fonts-wqy-zenhei")])
    with pytest.raises(BriefError, match=re.escape(str(tmp_path / "nope.ttf"))):
        find_cjk_font({FONT_ENV: str(tmp_path / "nope.ttf")})


def test_unknown_parks_and_languages_are_refused_by_name():
    with pytest.raises(BriefError, match="'nowhere'"):
        park_brief(SNAPSHOT, "nowhere")
    with pytest.raises(BriefError, match="'fr'"):
        park_brief(SNAPSHOT, "bda_yizhuang", lang="fr")


def test_the_brief_is_the_same_bytes_for_the_same_input():
    assert park_brief(SNAPSHOT, "zgc_bonded_zone", lang="zh") == park_brief(SNAPSHOT, "zgc_bonded_zone", lang="zh")


def _parks_page_downloads(monkeypatch, lang: str, park_id: str, **state):
    """Run the Parks page; return it and the deferred downloads it registered (id -> (callable, name))."""
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.testing.v1 import AppTest

    captured: dict[str, tuple] = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, data, mimetype, coordinates, file_name=None, element_id=""):
        file_id = original(self, data, mimetype, coordinates, file_name=file_name, element_id=element_id)
        captured[file_id] = (data, file_name)
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60)
    at.session_state["parks_pick"] = park_id
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if lang == "zh":
        at.sidebar.radio(key="lang").set_value("zh").run()
    at.switch_page("pages/parks.py")
    at.run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    return at, captured


@needs_poppler
@pytest.mark.usefixtures("isolated_app")
def test_the_parks_page_offers_the_brief_made_on_click(monkeypatch, tmp_path):
    at, captured = _parks_page_downloads(monkeypatch, "zh", "cmu_science_park")
    button = next(b for b in at.get("download_button") if b.proto.id.endswith("parks_brief"))
    assert button.proto.label == "园区简报（PDF，A4）"
    make, file_name = captured[button.proto.deferred_file_id]
    assert file_name == "brief_cmu_science_park_zh.pdf"
    out = tmp_path / file_name
    out.write_bytes(make())
    text = _text(out)
    assert "首都医科大学大学科技园" in text and "未上图" in text


@pytest.mark.usefixtures("isolated_app")
def test_without_a_cjk_font_the_parks_page_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "missing.ttf"))
    at, _ = _parks_page_downloads(monkeypatch, "en", "bda_yizhuang")
    assert not at.get("download_button")
    assert any("park brief cannot be made" in w.value and "missing.ttf" in w.value.replace("\\", "")
               for w in at.warning)


@needs_poppler
@pytest.mark.usefixtures("isolated_app")
def test_the_page_brief_carries_the_loaded_extracts_context_and_escapes_its_name(monkeypatch, tmp_path):
    from geo.osm import read_osm_file

    builder = OsmBuilder()
    builder.point(116.2950, 40.1150, {"railway": "station", "station": "subway", "name": "生命科学园站",
                                      "name:en": "Life Science Park station"})
    data = builder.write_xml(tmp_path / "x.osm").read_bytes()
    name = "**bold** [x](http://example.com).osm"
    extract = {"name": name, "data": data, "features": read_osm_file(data, filename="x.osm")}
    at, captured = _parks_page_downloads(monkeypatch, "en", "zgc_life_science_park", osm_extract=extract)
    button = next(b for b in at.get("download_button") if b.proto.id.endswith("parks_brief"))
    assert "\\*\\*bold\\*\\*" in button.proto.help and "](http" not in button.proto.help
    make, _ = captured[button.proto.deferred_file_id]
    out = tmp_path / "brief.pdf"
    out.write_bytes(make())
    text = _flat(_text(out))
    assert "Metrostations:1withinreach;nearestLifeSciencePark" in text and _flat(name) in text


@needs_poppler
@pytest.mark.parametrize("tier, words", [("osm", "fromOpenStreetMap(ODbL)"), ("official", "Anofficialboundary"),
                                         ("approximate", "Anapproximateoutline")])
def test_a_park_placed_later_says_what_its_outline_is(tier, words, tmp_path):
    import dataclasses

    import shapely

    parks = SNAPSHOT.parks.copy()
    row = parks.index[parks["park_id"] == "xisanqi_specialised_park"][0]
    parks.loc[row, "geometry"] = shapely.box(116.33, 40.05, 116.35, 40.06)  # as a confirmed outline would
    parks.loc[row, "geometry_tier"] = tier
    out = tmp_path / "x.pdf"
    out.write_bytes(park_brief(dataclasses.replace(SNAPSHOT, parks=parks), "xisanqi_specialised_park"))
    text = _flat(_text(out))
    assert words in text and "Notonthemap" not in text
