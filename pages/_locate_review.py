"""The Import page's OpenStreetMap review: the extract names and addresses are matched to, each
row's candidates (confirm one per row or the best in bulk), and the snapshot's organisations known
only by their park placed on OSM features (``geo.org_placements``), listed and restored.
Widgets -> geo.locate_osm / geo.org_placements -> display; nothing else."""

import hashlib

import pandas as pd
import streamlit as st

from geo.config import data_dir
from geo.errors import GeoError
from geo.imports import ImportedLayer, with_located
from geo.locate import OfflineLocator
from geo.locate_osm import OSMLocator, accept_candidates, best_choices, candidate_table, read_named_features
from geo.org_placements import (OrgPlacementStore, best_organisation_choices, organisation_candidates,
                                plan_placement)
from geo.osm import OSM_ATTRIBUTION
from layers.html import markdown_text
from layers.i18n import format_number, translator
from pages import _data as cached

TEXT = {
    "high": ("high", "高"),
    "medium": ("medium", "中"),
    "low": ("low", "低"),
    "col_row": ("Row", "行号"),
    "col_evidence": ("Evidence", "依据"),
    "col_flag": ("Check", "请核对"),
    "osm_file": ("OpenStreetMap extract to match names and addresses (optional: .osm, .osm.gz, .osm.bz2, .osm.pbf)",
                 "用于匹配名称和地址的开放街图数据（可选：.osm、.osm.gz、.osm.bz2、.osm.pbf）"),
    "osm_loaded": ("OpenStreetMap: {name} · {n} features with a name or an address · {attribution}",
                   "开放街图：{name} · {n} 个含名称或地址的要素 · {attribution}"),
    "candidates": ("OpenStreetMap candidates", "开放街图候选要素"),
    "candidates_help": ("Each row's best OpenStreetMap features, with the score (name, address, where it lies) and the"
                        " evidence. Tick one per row to place it there (tier OpenStreetMap feature); a row placed"
                        " automatically had a candidate of high confidence, not tied.",
                        "每行最匹配的开放街图要素，附得分（名称、地址、位置）和依据。每行勾选一个即定位到该要素"
                        "（定位级别：开放街图要素）；自动定位的行有高置信度且不并列的候选。"),
    "accept_best": ("Accept the best candidate of every row (high confidence, not tied)",
                    "接受每行的最佳候选（高置信度且不并列）"),
    "clear_choices": ("Clear the confirmations", "清除确认"),
    "choose": ("Place here", "定位于此"),
    "one_per_row": ("One candidate per row: row {rows} keeps {osm_id}.", "每行只能选一个候选：第 {rows} 行保留 {osm_id}。"),
    "confirmed": ("{n} rows placed on confirmed OpenStreetMap candidates.", "{n} 行已定位到经确认的开放街图候选。"),
    "col_rank": ("#", "序"),
    "col_osm": ("OSM feature", "开放街图要素"),
    "col_osm_name": ("OSM name", "开放街图名称"),
    "col_score": ("Score", "得分"),
    "col_confidence": ("Confidence", "置信度"),
    "orgs": ("Place the organisations known only by their park on OpenStreetMap",
             "将仅知所在园区的机构定位到开放街图要素"),
    "orgs_help": ("{at_park} organisations of the snapshot are located only by their park. Their OpenStreetMap"
                  " candidates (by Chinese and English name and address, in or near their park) are listed; tick one"
                  " per organisation and place it: it becomes a point of tier OpenStreetMap feature on every map,"
                  " with the OSM id and the ODbL attribution, until restored.",
                  "数据中有 {at_park} 个机构仅知所在园区。下表列出其开放街图候选（按中英文名称和地址，在园区内或附近）；"
                  "每个机构勾选一个后确认定位：该机构即在所有地图上显示为“开放街图要素”点位，附要素编号和 ODbL 署名，"
                  "可随时恢复。"),
    "no_org_candidates": ("No organisation located only by its park has a candidate in this extract.",
                          "该数据中没有仅知园区的机构的候选要素。"),
    "col_org": ("Organisation", "机构"),
    "col_park": ("Park", "园区"),
    "place_ticked": ("Place the ticked organisations", "确认定位所勾选的机构"),
    "place_best": ("Place every organisation on its best candidate (high confidence, not tied)",
                   "将每个机构定位到其最佳候选（高置信度且不并列）"),
    "placed_orgs": ("Placed {n} organisations on OpenStreetMap features.", "已将 {n} 个机构定位到开放街图要素。"),
    "placements": ("Organisations placed on OpenStreetMap", "已定位到开放街图的机构"),
    "restore_org": ("Put back at its park", "恢复为园区定位"),
    "restored_org": ("{org} is located by its park again.", "{org} 已恢复为园区定位。"),
    "col_at": ("Confirmed", "确认时间"),
}
tr = translator(TEXT)


@st.cache_resource(show_spinner=False)
def offline_locator(version: str) -> OfflineLocator:
    del version  # the cache key: one locator per snapshot
    return OfflineLocator.from_snapshot(cached.snapshot())


IMPORT_OSM = "import_osm_extract"  # {"name", "key", "data"}: an extract uploaded on this page


def extract_of_session() -> dict | None:
    """The extract names and addresses are matched to: one uploaded here, else the OSM page's."""
    own = st.session_state.get(IMPORT_OSM)
    return own if isinstance(own, dict) else cached.osm_extract()


def osm_locator(extract: dict) -> OSMLocator:
    """The OSM locator of an extract (its named features), kept in the server's upload cache."""
    data = cached.snapshot()

    def build() -> OSMLocator:
        features = (read_named_features(extract["data"], filename=extract["name"]) if extract.get("data")
                    else extract["features"])
        return OSMLocator(features, districts=data.districts, parks=data.parks,
                          offline=offline_locator(data.version), source=extract["name"])
    return cached.upload_cache().get_or_compute(("import.osm_locator", extract["key"], cached.parks_key()), build)


def osm_upload_section(lang: str) -> None:
    uploaded = st.file_uploader(tr("osm_file", lang), type=["osm", "gz", "bz2", "pbf"], key="import_osm_file")
    if uploaded is not None:
        data = uploaded.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        if (st.session_state.get(IMPORT_OSM) or {}).get("key") != sha:
            st.session_state[IMPORT_OSM] = {"name": uploaded.name, "key": sha, "data": data}
    extract = extract_of_session()
    if extract is None:
        return
    try:
        locator = osm_locator(extract)
    except GeoError as exc:
        st.session_state.pop(IMPORT_OSM, None)
        st.error(markdown_text(str(exc)))
        return
    st.caption(markdown_text(tr("osm_loaded", lang, name=extract["name"], n=format_number(locator.features, lang),
                                attribution=OSM_ATTRIBUTION)))


CANDIDATE_LABELS = {"choose": "choose", "source_row": "col_row", "rank": "col_rank", "osm_id": "col_osm",
                    "osm_name": "col_osm_name", "score": "col_score", "confidence": "col_confidence",
                    "evidence": "col_evidence", "flag": "col_flag"}


def _candidate_columns(lang: str, *, row_name: str | None = None) -> dict:
    config = {c: st.column_config.Column(tr(label, lang)) for c, label in CANDIDATE_LABELS.items()}
    config["score"] = st.column_config.NumberColumn(tr("col_score", lang), format="%.2f")
    if row_name:
        config["row_name"] = st.column_config.Column(row_name)
    return config


def _one_per_row(edited: pd.DataFrame, key: str, previous: dict[object, str], lang: str) -> dict[object, str]:
    """The candidate ticked for each row (``key`` -> osm_id); where several are ticked, the one that
    is new wins and the page says so."""
    picked: dict[object, str] = {}
    for row, group in edited[edited["choose"].astype(bool)].groupby(key, sort=False):
        ids = group["osm_id"].tolist()
        new = [i for i in ids if i != previous.get(row)]
        picked[row] = (new or ids)[0]
        if len(ids) > 1:
            st.caption(tr("one_per_row", lang, rows=row, osm_id=picked[row]))
    return picked


def candidates_section(layer: ImportedLayer, lang: str) -> ImportedLayer:
    """Each row's OpenStreetMap candidates: tick one per row, or accept the best in bulk; the layer
    with the confirmed rows placed on their features."""
    offered = candidate_table(layer.located)
    if offered.empty:
        return layer
    key = f"import_osm_choices_{layer.name}_{layer.sha256[:12]}"
    version_key = f"{key}_v"
    choices: dict[object, str] = st.session_state.setdefault(key, {})
    st.subheader(tr("candidates", lang))
    st.caption(tr("candidates_help", lang) + f" {OSM_ATTRIBUTION}")
    c1, c2 = st.columns(2)
    bulk = None
    if c1.button(tr("accept_best", lang), key=f"{key}_best"):
        bulk = {**choices, **best_choices(layer.located)}
    if c2.button(tr("clear_choices", lang), key=f"{key}_clear"):
        bulk = {}
    if bulk is not None:
        choices = st.session_state[key] = bulk
        st.session_state[version_key] = st.session_state.get(version_key, 0) + 1
    frame = layer.located.frame
    automatic = dict(zip(frame["source_row"], frame.get("location_osm_id", pd.Series(None, index=frame.index)),
                         strict=True))
    current = {**{r: o for r, o in automatic.items() if isinstance(o, str)}, **choices}
    shown = offered[[c for c in CANDIDATE_LABELS if c != "choose"]].copy()
    shown["confidence"] = shown["confidence"].map(lambda c: tr(c, lang))
    shown.insert(0, "choose", [current.get(r) == o for r, o in zip(shown["source_row"], shown["osm_id"], strict=True)])
    label_column = layer.located.columns.name or layer.located.columns.address
    if label_column:  # which row is which: its name (or address) beside its number
        names = dict(zip(frame["source_row"], frame[label_column], strict=True))
        shown.insert(2, "row_name", shown["source_row"].map(names))
    edited = st.data_editor(shown, hide_index=True, width="stretch", disabled=[c for c in shown.columns if c != "choose"],
                            column_config=_candidate_columns(lang, row_name=label_column),
                            key=f"{key}_editor_{st.session_state.get(version_key, 0)}")
    picked = _one_per_row(edited, "source_row", current, lang)
    choices = {row: osm_id for row, osm_id in picked.items() if automatic.get(row) != osm_id}
    st.session_state[key] = choices
    if not choices:
        return layer
    extract = extract_of_session()
    located = accept_candidates(layer.located, {int(r): o for r, o in choices.items()},
                                source=extract["name"] if extract else "the OpenStreetMap extract")
    st.caption(tr("confirmed", lang, n=format_number(len(choices), lang)))
    return with_located(layer, located)


def organisations_section(lang: str) -> None:
    """The snapshot's organisations located only by their park, placed on OpenStreetMap features
    confirmed here (``geo.org_placements``; shown on every map through ``geo.workspace.assemble``)."""
    extract = extract_of_session()
    placements = OrgPlacementStore(data_dir())
    placed = placements.list()
    if extract is None and not placed:
        return
    data = cached.snapshot()
    name_col = "name_zh" if lang == "zh" else "name_en"
    org_names = dict(zip(data.organisations["org_id"], data.organisations[name_col], strict=False))
    park_names = dict(zip(data.parks["park_id"], data.parks[name_col], strict=False))
    with st.expander(tr("orgs", lang), expanded=bool(st.session_state.get("import_org_flash"))):
        flash = st.session_state.pop("import_org_flash", None)
        if flash:
            st.success(markdown_text(flash))
        at_park = int((data.organisations["location_tier"] == "park").sum())
        st.caption(tr("orgs_help", lang, at_park=format_number(at_park, lang)) + f" {OSM_ATTRIBUTION}")
        if extract is not None:
            try:
                locator = osm_locator(extract)
            except GeoError as exc:
                st.error(markdown_text(str(exc)))
                return
            candidates = cached.upload_cache().get_or_compute(
                ("import.org_candidates", extract["key"], cached.parks_key()),
                lambda: organisation_candidates(locator, data.organisations))
            if candidates.empty:
                st.caption(tr("no_org_candidates", lang))
            else:
                shown = candidates.assign(
                    org=candidates["org_id"].map(org_names), park=candidates["org_park_id"].map(park_names))
                shown = shown[["org_id", "org", "park", "rank", "osm_id", "osm_name", "score", "confidence",
                               "evidence", "flag"]]
                shown["confidence"] = shown["confidence"].map(lambda c: tr(c, lang))
                shown.insert(0, "choose", False)
                config = _candidate_columns(lang)
                config |= {"org": st.column_config.Column(tr("col_org", lang)), "org_id": None,
                           "park": st.column_config.Column(tr("col_park", lang))}
                edited = st.data_editor(shown, hide_index=True, width="stretch",
                                        disabled=[c for c in shown.columns if c != "choose"], column_config=config,
                                        key=f"import_org_editor_{cached.parks_key()}")
                ticked = _one_per_row(edited, "org_id", {}, lang)
                c1, c2 = st.columns(2)
                chosen = None
                if c1.button(tr("place_ticked", lang), key="import_org_place", disabled=not ticked):
                    chosen = ticked
                if c2.button(tr("place_best", lang), key="import_org_best"):
                    chosen = best_organisation_choices(candidates)
                if chosen:
                    for org_id, osm_id in chosen.items():
                        placements.apply(plan_placement(data.organisations, candidates, org_id=str(org_id),
                                                        osm_id=osm_id, source=extract["name"]))
                    st.session_state["import_org_flash"] = tr("placed_orgs", lang, n=len(chosen))
                    st.rerun()
        if placed:
            st.markdown(f"**{tr('placements', lang)}**")
            st.dataframe(pd.DataFrame({
                tr("col_org", lang): [org_names.get(p.org_id, p.org_id) for p in placed],
                tr("col_osm", lang): [p.osm_id for p in placed], tr("col_osm_name", lang): [p.osm_name for p in placed],
                tr("col_score", lang): [p.score for p in placed], tr("col_at", lang): [p.applied_at for p in placed]}),
                hide_index=True, width="stretch")
            c1, c2 = st.columns([2, 1])
            org_id = c1.selectbox(tr("col_org", lang), [p.org_id for p in placed], key="import_org_restore_pick",
                                  format_func=lambda o: org_names.get(o, o))
            if c2.button(tr("restore_org", lang), key="import_org_restore"):
                try:
                    placements.restore(org_id)
                except GeoError as exc:
                    st.error(markdown_text(str(exc)))
                else:
                    st.session_state["import_org_flash"] = tr("restored_org", lang, org=org_names.get(org_id, org_id))
                    st.rerun()
