"""geo.search: one search over parks, hubs, districts and organisations, with curated aliases."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.search import (ALIASES_PATH, AliasError, build_index, map_labels, normalise, read_aliases, search,
                        view_for)
from geo.snapshot import load_snapshot


@pytest.fixture(scope="module")
def bundled():
    return load_snapshot()


@pytest.fixture(scope="module")
def index(bundled):
    return build_index(parks=bundled.parks, organisations=bundled.organisations, districts=bundled.districts,
                       hubs=bundled.hubs, aliases=read_aliases())


def _top(index, query):
    found = search(index, query)
    assert found, f"nothing found for {query!r}"
    return found[0].entry.kind, found[0].entry.id


@pytest.mark.parametrize(("query", "expected"), [
    ("亦庄", ("park", "bda_yizhuang")),
    ("经开区", ("park", "bda_yizhuang")),
    ("BDA", ("park", "bda_yizhuang")),
    ("bda", ("park", "bda_yizhuang")),
    ("E Town", ("park", "bda_yizhuang")),
    ("生命科学园", ("park", "zgc_life_science_park")),
    ("未来科学城", ("park", "future_science_city_life_valley")),
    ("Life Valley", ("park", "future_science_city_life_valley")),
    ("中国心谷", ("park", "mentougou_cardiology_park")),
    ("综保区", ("park", "zgc_bonded_zone")),
    ("副中心", ("hub", "tongzhou")),
    ("Tongzhou", ("district", "110112")),
    ("大兴区", ("hub", "daxing")),
    ("百济神州", ("organisation", "beigene")),
    ("ＢＤＡ", ("park", "bda_yizhuang")),  # full-width letters, as a Chinese keyboard may type them
])
def test_names_and_aliases_find_the_right_thing(index, query, expected):
    assert _top(index, query) == expected


def test_an_organisation_found_selects_its_park_and_shows_its_site(index):
    entry = next(m.entry for m in search(index, "NIBS"))
    assert entry.kind == "organisation" and entry.park_id == "zgc_life_science_park"
    minx, miny, maxx, maxy = entry.bounds
    assert minx == maxx and miny == maxy  # its own point


def test_a_park_not_on_the_map_is_shown_by_its_district(index, bundled):
    entry = next(m.entry for m in search(index, "国际医谷"))
    assert entry.id == "zgc_science_city_medical_valley"
    haidian = bundled.districts[bundled.districts["district_id"].astype(str) == "110108"].total_bounds
    assert entry.bounds == pytest.approx(tuple(haidian))


def test_exact_beats_prefix_beats_contains_and_nothing_is_found_for_noise(index):
    found = search(index, "亦庄")
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    assert found[0].score == 100 and all(m.score < 100 for m in found[1:])
    assert search(index, "   ") == [] and search(index, "-") == []
    assert search(index, "xyzzy") == []
    assert len(search(index, "园", limit=50)) == 0  # one character only matches a name's start


def test_normalise_drops_case_width_spaces_and_punctuation():
    assert normalise("E-Town") == normalise("e town") == normalise("ＥＴＯＷＮ") == "etown"
    assert normalise("北京经开区（亦庄）") == "北京经开区亦庄"
    assert normalise(None) == ""


def test_every_alias_has_a_source_or_a_note_and_names_a_real_subject(bundled):
    aliases = read_aliases()
    assert (aliases["source_id"].str.strip().astype(bool) | aliases["note"].str.strip().astype(bool)).all()
    cited = set(aliases["source_id"]) - {""}
    assert cited <= set(bundled.sources["source_id"]), cited - set(bundled.sources["source_id"])
    build_index(parks=bundled.parks, organisations=bundled.organisations, districts=bundled.districts,
                hubs=bundled.hubs, aliases=aliases)  # raises for an unknown subject


def test_every_drawn_park_has_a_short_map_label_in_both_languages(bundled):
    aliases = read_aliases()
    for lang in ("en", "zh"):
        labels = map_labels(aliases, lang)
        drawn = bundled.parks.loc[bundled.parks.geometry.notna(), "park_id"]
        assert all(("park", p) in labels for p in drawn), lang


def test_a_malformed_alias_table_is_refused_with_every_problem(tmp_path):
    path = tmp_path / "aliases.csv"
    text = ALIASES_PATH.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([text[0], "park,x,,fr,2,,", "planet,y,Y,en,0,,note"]), encoding="utf-8")
    with pytest.raises(AliasError) as error:
        read_aliases(path)
    message = str(error.value)
    for problem in ("language must be en or zh", "map_label must be 0 or 1", "empty alias",
                    "needs a source or a note", "unknown subject type 'planet'"):
        assert problem in message


def test_an_alias_of_an_unknown_park_is_refused(bundled):
    aliases = pd.DataFrame([{"subject_type": "park", "subject_id": "atlantis", "alias": "A", "lang": "en",
                             "map_label": "0", "source_id": "", "note": "n"}])
    with pytest.raises(AliasError, match="park atlantis"):
        build_index(parks=bundled.parks, organisations=bundled.organisations, districts=bundled.districts,
                    hubs=bundled.hubs, aliases=aliases)


def test_view_for_fits_the_bounds_in_half_zoom_steps():
    lat, lng, zoom = view_for((116.42, 39.76, 116.55, 39.84), width_px=640, height_px=480)
    assert (lat, lng) == pytest.approx((39.80, 116.485))
    assert zoom == 12.0 and zoom * 2 == int(zoom * 2)
    # One zoom step more would not fit: the bounds' width at zoom + 0.5 exceeds the frame.
    assert view_for((116.0, 39.5, 117.0, 40.5))[2] < zoom
    assert view_for((116.3, 40.0, 116.3, 40.0), max_zoom=15)[2] == 15


def test_a_stored_view_is_wgs84_and_is_shifted_only_for_a_gcj02_map():
    from geo.datums import wgs84_to_gcj02
    from geo.search import view_centre

    assert view_centre((39.9, 116.3, 12), datum="wgs84") == (39.9, 116.3)
    lon, lat = wgs84_to_gcj02(116.3, 39.9)
    shifted = view_centre((39.9, 116.3, 12), datum="gcj02")
    assert shifted == pytest.approx((float(lat), float(lon)), abs=1e-6)
    assert abs(shifted[1] - 116.3) > 0.004  # about 500 m east: the shift is there
