"""OpenStreetMap: match park boundaries to the snapshot's parks, review the diff, confirm or
restore; and the site context around the parks, on a map and as a download. Every step is in
geo/ and layers/; this page only wires them. Nothing is replaced without the confirm button."""

import hashlib

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import osm as osm_core
from geo.export import FORMATS, export_frame
from geo.config import OSM_FETCH_TIMEOUT_S, data_dir
from geo.osm import OSM_ATTRIBUTION, OSMError, context_export_metadata, context_summary
from geo.osm_store import ParkGeometryError, ParkGeometryStore, plan_replacement
from geo.vocab import GEOMETRY_TIERS
from layers.basemap import base_map, fit_to
from layers.context import context_layer, osm_boundaries_layer
from layers.context import tr as context_tr
from layers.html import markdown_text
from layers.i18n import FORMAT_LABELS, format_number, t, term, translator
from layers.parks import parks_layer
from pages import _data as cached, _map as maps, _session as session

TEXT = {
    "intro": ("Park boundaries and site context from OpenStreetMap. A boundary replaces a park's outline "
              "only after you review the diff and confirm it; the previous outline is kept and can be "
              "restored. The same steps run on the command line: `python -m geo osm match|context|fetch|"
              "restore|list`.",
              "来自开放街图的园区边界与周边配套。只有在核对差异并确认后，才会用开放街图边界替换园区轮廓；"
              "原轮廓会保留，可随时恢复。命令行同样可用：`python -m geo osm match|context|fetch|restore|list`。"),
    "source": ("OpenStreetMap data", "开放街图数据"),
    "file": ("Upload an extract (.osm, .osm.bz2, .osm.gz, .osm.pbf)", "上传数据文件（.osm、.osm.bz2、.osm.gz、.osm.pbf）"),
    "fetch_park": ("or fetch online around a park", "或按园区在线获取"),
    "fetch": ("Fetch from OpenStreetMap", "从开放街图获取"),
    "fetching": ("Querying OpenStreetMap (at most {s} s)…", "正在查询开放街图（最多 {s} 秒）……"),
    "fetched_name": ("OpenStreetMap around {park} ({at})", "{park}周边开放街图数据（{at}）"),
    "extract": ("Extract: {name} · {n} features", "数据：{name} · {n} 个要素"),
    "streets": ("Drivable streets found: the Parks page can load the street network for travel times.",
                "含可通行道路：园区页可加载路网计算行车时间。"),
    "no_streets": ("No street network in this extract (street networks are read from .osm or .osm.bz2 files "
                   "with highway ways); the Parks page shows straight-line distances.",
                   "该数据不含路网（路网需 .osm 或 .osm.bz2 文件中的 highway 道路）；园区页显示直线距离。"),
    "remove": ("Remove the extract from this session", "从本次会话中移除该数据"),
    "empty": ("Upload an extract or fetch one online to match park boundaries and list the site context.",
              "请上传数据文件或在线获取，以匹配园区边界并列出周边配套。"),
    "matches": ("Boundary candidates", "边界候选"),
    "no_matches": ("No OSM area in this extract lies near a park.", "该数据中没有靠近园区的开放街图面要素。"),
    "park": ("Park", "园区"),
    "osm_name": ("OSM name", "OSM名称"),
    "osm_id": ("OSM id", "OSM编号"),
    "score": ("Score", "得分"),
    "confidence": ("Confidence", "可信度"),
    "area_before": ("Area now (km²)", "现面积（km²）"),
    "area_after": ("OSM area (km²)", "OSM面积（km²）"),
    "area_change": ("Area change (%)", "面积变化（%）"),
    "iou": ("Overlap (IoU)", "重叠度（IoU）"),
    "review": ("Review a replacement", "核对替换"),
    "candidate": ("OSM outline", "开放街图边界"),
    "diff": ("Diff", "差异"),
    "now": ("Outline now", "现轮廓"),
    "after": ("OSM outline", "开放街图轮廓"),
    "overlap": ("Overlap", "重叠"),
    "overlap_value": ("{park:.0%} of now · {osm:.0%} of OSM", "占现轮廓 {park:.0%} · 占OSM {osm:.0%}"),
    "already": ("This OSM outline is the park's outline already.", "该园区当前轮廓即为此开放街图边界。"),
    "confirm": ("Replace the outline with {osm_id}", "用 {osm_id} 替换园区轮廓"),
    "applied": ("{park}: outline replaced by {osm_id} (tier OpenStreetMap, revision {revision}).",
                "{park}：轮廓已替换为 {osm_id}（开放街图级，第 {revision} 版）。"),
    "overrides": ("Outlines from OpenStreetMap", "来自开放街图的轮廓"),
    "no_overrides": ("No park outline has been replaced.", "尚无园区轮廓被替换。"),
    "osm_date": ("OSM data of", "OSM数据日期"),
    "applied_at": ("Applied", "替换时间"),
    "previous_tier": ("Previous tier", "原精度等级"),
    "restore_park": ("Restore the previous outline of", "恢复原轮廓的园区"),
    "restore": ("Restore", "恢复"),
    "restored": ("{park}: the {tier} outline is back.", "{park}：已恢复原{tier}轮廓。"),
    "history": ("History of replacements and restores", "替换与恢复记录"),
    "action": ("Action", "操作"),
    "at": ("At", "时间"),
    "detail": ("Detail", "详情"),
    "context": ("Site context", "周边配套"),
    "no_context": ("No hospital, metro station, university, research institute or airport of this extract "
                   "lies near a park.", "该数据中园区附近没有医院、地铁站、高校、科研机构或机场。"),
    "kind": ("Kind", "类型"),
    "count": ("Count", "数量"),
    "tertiary": ("Tertiary hospitals", "三级医院"),
    "tertiary_flag": ("Tertiary", "三级"),
    "nearest": ("Nearest", "最近"),
    "nearest_m": ("Nearest (m)", "最近距离（米）"),
    "name": ("Name", "名称"),
    "distance_m": ("Distance (m)", "距离（米）"),
    "format": ("Format", "格式"),
    "download": ("Download the site context ({fmt})", "下载周边配套（{fmt}）"),
}
tr = translator(TEXT)
FETCH_TIMEOUT_S = OSM_FETCH_TIMEOUT_S  # the whole query; an offline server is reported well within 30 s
UPLOAD_TYPES = ["osm", "bz2", "gz", "pbf"]


def _flash() -> None:
    message = st.session_state.pop("osm_flash", None)
    if message:
        level, text = message
        (st.success if level == "success" else st.info)(markdown_text(text))


def _source_section(lang: str, parks: gpd.GeoDataFrame, names: dict[str, str]) -> None:
    st.subheader(tr("source", lang))
    left, right = st.columns([3, 2])
    uploaded = left.file_uploader(tr("file", lang), type=UPLOAD_TYPES, key="osm_file")
    if uploaded is not None:
        data = uploaded.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        if st.session_state.get("osm_upload_sha") != sha:  # a new file, not the same one again
            try:
                features = cached.read_osm_extract(sha, uploaded.name, data)
            except OSMError as exc:
                left.error(markdown_text(str(exc)))
            else:
                st.session_state["osm_upload_sha"] = sha
                st.session_state[cached.OSM_EXTRACT] = {"name": uploaded.name, "key": sha, "data": data,
                                                        "features": features}
    park_id = right.selectbox(tr("fetch_park", lang), list(names), format_func=names.get, key="osm_fetch_park")
    if right.button(tr("fetch", lang), key="osm_fetch"):
        try:
            with st.spinner(tr("fetching", lang, s=f"{FETCH_TIMEOUT_S:g}")):
                polygon = osm_core.park_query_polygon(parks, park_id, districts=cached.snapshot().districts)
                features = osm_core.fetch_osm(polygon=polygon, timeout_s=FETCH_TIMEOUT_S, data_dir=data_dir())
        except OSMError as exc:
            right.error(markdown_text(str(exc)))
        else:
            retrieved = str(features["osm_retrieved"].iloc[0]) if len(features) and "osm_retrieved" in features \
                else pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")
            name = tr("fetched_name", lang, park=names[park_id], at=retrieved)
            st.session_state[cached.OSM_EXTRACT] = {
                "name": name, "key": "fetch:" + hashlib.sha256(f"{park_id}|{retrieved}".encode()).hexdigest(),
                "data": None, "features": features}


def _extract_summary(extract: dict, lang: str) -> None:
    features = extract["features"]
    st.caption(markdown_text(tr("extract", lang, name=extract["name"], n=format_number(len(features), lang))
                             + f" · {OSM_ATTRIBUTION}"))
    data = extract.get("data")
    if data and cached.street_suffix(extract["key"], data):
        st.caption(tr("streets", lang))
    else:
        st.caption(tr("no_streets", lang))
    if st.button(tr("remove", lang), key="osm_remove"):
        st.session_state.pop(cached.OSM_EXTRACT, None)
        st.session_state.pop(cached.OSM_STREETS, None)
        st.rerun()


def _match_table(matches: gpd.GeoDataFrame, names: dict[str, str], lang: str) -> pd.DataFrame:
    return pd.DataFrame({
        tr("park", lang): [names.get(p, p) for p in matches["park_id"]],
        tr("osm_name", lang): [n if isinstance(n, str) else "–" for n in matches["osm_name"]],
        tr("osm_id", lang): matches["osm_id"].to_numpy(),
        tr("score", lang): matches["score"].round(2).to_numpy(),
        tr("confidence", lang): matches["confidence"].to_numpy(),
        tr("area_before", lang): matches["area_before_km2"].round(3).to_numpy(),
        tr("area_after", lang): matches["area_after_km2"].round(3).to_numpy(),
        tr("area_change", lang): matches["area_change_pct"].round(1).to_numpy(),
        tr("iou", lang): matches["overlap_iou"].round(2).to_numpy(),
    })


def _match_section(extract: dict, settings: session.Settings, names: dict[str, str],
                   store: ParkGeometryStore) -> None:
    lang = settings.lang
    data = cached.snapshot()
    parks = data.parks
    st.header(tr("matches", lang))
    matches = cached.osm_matches(extract, parks, data.districts)
    if matches.empty:
        st.info(tr("no_matches", lang))
        return
    st.dataframe(_match_table(matches, names, lang), hide_index=True, width="stretch")

    st.subheader(tr("review", lang))
    candidates_of = {p: matches[matches["park_id"] == p] for p in dict.fromkeys(matches["park_id"])}
    left, right = st.columns(2)
    park_id = left.selectbox(tr("park", lang), list(candidates_of), format_func=names.get, key="osm_match_park")
    candidates = candidates_of[park_id]
    labels = {row.osm_id: f"{row.osm_id} {row.osm_name or ''} · {row.score:.2f} ({row.confidence})".strip()
              for row in candidates.itertuples(index=False)}
    osm_id = right.selectbox(tr("candidate", lang), list(labels), format_func=labels.get,
                             key=f"osm_candidate_{park_id}")

    current = store.get(park_id)
    revision = current.revision if current is not None else None
    # The revision this session saw when it last showed the park's diff: a confirm refers to it.
    seen = st.session_state.setdefault("osm_seen_revision", {})
    expected = seen.get(park_id, revision)
    seen[park_id] = revision

    park_row = parks[parks["park_id"] == park_id]
    fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key, zoom_start=12)
    parks_layer(parks, lang=lang, datum=settings.datum, selected=park_id).add_to(fmap)
    chosen = candidates[candidates["osm_id"] == osm_id]
    others = candidates[candidates["osm_id"] != osm_id]
    if len(others):
        osm_boundaries_layer(others.assign(rank=2), lang=lang, datum=settings.datum).add_to(fmap)
    osm_boundaries_layer(chosen.assign(rank=1), lang=lang, datum=settings.datum,
                         name=f"{context_tr('layer_boundaries', lang)}: {osm_id}").add_to(fmap)
    fit_to(fmap, pd.concat([park_row.geometry, candidates.geometry]), datum=settings.datum)
    map_column, diff_column = st.columns([3, 2])
    with map_column:
        maps.show_map(fmap, key="osm_match_map", height=440)

    plan = plan_replacement(parks, extract["features"], park_id=park_id, osm_ids=[osm_id])
    with diff_column:
        st.markdown(f"**{tr('diff', lang)}**")
        change = (plan.area_after_m2 / plan.area_before_m2 - 1.0) * 100.0 if plan.area_before_m2 > 0 else None
        st.metric(tr("now", lang), f"{format_number(plan.area_before_km2, lang, digits=3)} km²",
                  help=term(GEOMETRY_TIERS[plan.old_tier], lang) if plan.old_tier in GEOMETRY_TIERS else None)
        st.metric(tr("after", lang), f"{format_number(plan.area_after_km2, lang, digits=3)} km²",
                  delta=f"{change:+.1f} %" if change is not None else None, delta_color="off")
        st.metric(tr("overlap", lang), f"IoU {plan.overlap_iou:.2f}",
                  help=tr("overlap_value", lang, park=plan.overlap_of_park, osm=plan.overlap_of_osm))
        st.code(plan.describe(), language=None, wrap_lines=True)
        if current is not None and tuple(current.osm_ids) == (osm_id,):
            st.info(tr("already", lang))
        if st.button(tr("confirm", lang, osm_id=osm_id), key="osm_confirm", type="primary"):
            try:
                override = store.apply(plan, expected_revision=expected, check_revision=True)
            except ParkGeometryError as exc:
                st.error(markdown_text(str(exc)))
            else:
                seen[park_id] = override.revision
                st.session_state["osm_flash"] = ("success", tr("applied", lang, park=names[park_id], osm_id=osm_id,
                                                               revision=override.revision))
                st.rerun()


def _overrides_section(lang: str, names: dict[str, str], store: ParkGeometryStore) -> None:
    st.header(tr("overrides", lang))
    overrides = store.list()
    if not overrides:
        st.caption(tr("no_overrides", lang))
    else:
        st.dataframe(pd.DataFrame({
            tr("park", lang): [names.get(o.park_id, o.park_id) for o in overrides],
            tr("osm_id", lang): [", ".join(o.osm_ids) for o in overrides],
            tr("osm_date", lang): [o.osm_date or "–" for o in overrides],
            tr("applied_at", lang): [o.applied_at for o in overrides],
            tr("area_before", lang): [round(o.area_before_m2 / 1e6, 3) for o in overrides],
            tr("area_after", lang): [round(o.area_after_m2 / 1e6, 3) for o in overrides],
            tr("previous_tier", lang): [term(GEOMETRY_TIERS[o.previous_tier], lang)
                                        if o.previous_tier in GEOMETRY_TIERS else (o.previous_tier or "–")
                                        for o in overrides],
        }), hide_index=True, width="stretch")
        st.caption(OSM_ATTRIBUTION)
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        park_id = left.selectbox(tr("restore_park", lang), [o.park_id for o in overrides],
                                 format_func=lambda p: names.get(p, p), key="osm_restore_park")
        if right.button(tr("restore", lang), key="osm_restore"):
            try:
                removed = store.restore(park_id)
            except ParkGeometryError as exc:
                st.error(markdown_text(str(exc)))
            else:
                tier = removed.previous_tier
                st.session_state["osm_flash"] = ("success", tr(
                    "restored", lang, park=names.get(park_id, park_id),
                    tier=term(GEOMETRY_TIERS[tier], lang) if tier in GEOMETRY_TIERS else (tier or "")))
                st.rerun()
    history = store.history()
    if len(history):
        with st.expander(tr("history", lang)):
            st.dataframe(pd.DataFrame({
                tr("at", lang): history["at"], tr("park", lang): [names.get(p, p) for p in history["park_id"]],
                tr("action", lang): history["action"],
                tr("osm_id", lang): [", ".join(ids) for ids in history["osm_ids"]],
                tr("detail", lang): history["detail"],
            }).iloc[::-1], hide_index=True, width="stretch")


def _context_section(extract: dict, settings: session.Settings, names: dict[str, str]) -> None:
    lang = settings.lang
    data = cached.snapshot()
    st.header(tr("context", lang))
    context = cached.osm_context(extract)
    if context.empty:
        st.info(tr("no_context", lang))
        return
    summary = context_summary(context)
    st.dataframe(pd.DataFrame({
        tr("park", lang): [names.get(p, p) for p in summary["park_id"]],
        tr("kind", lang): [context_tr(k, lang) for k in summary["kind"]],
        tr("count", lang): summary["count"].to_numpy(),
        tr("tertiary", lang): [int(v) if k == "hospital" else None
                               for v, k in zip(summary["tertiary"], summary["kind"], strict=True)],
        tr("nearest", lang): [n if isinstance(n, str) else "–" for n in summary["nearest_name"]],
        tr("nearest_m", lang): summary["nearest_m"].round(0).to_numpy(),
    }), hide_index=True, width="stretch")
    fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key, zoom_start=10)
    parks_layer(data.parks, lang=lang, datum=settings.datum).add_to(fmap)
    context_layer(context, lang=lang, datum=settings.datum, park_names=names).add_to(fmap)
    maps.show_map(fmap, key="osm_context_map", height=440)
    with st.expander(f"{tr('context', lang)} ({len(context)})"):
        name_column = "name_zh" if lang == "zh" else "name_en"
        st.dataframe(pd.DataFrame({
            tr("park", lang): [names.get(p, p) for p in context["park_id"]],
            tr("kind", lang): [context_tr(k, lang) for k in context["kind"]],
            tr("name", lang): [a if isinstance(a, str) else (b if isinstance(b, str) else "–")
                               for a, b in zip(context[name_column], context["name"], strict=True)],
            tr("tertiary_flag", lang): [bool(v) if k == "hospital" else None
                                        for v, k in zip(context["tertiary"], context["kind"], strict=True)],
            tr("distance_m", lang): context["distance_m"].to_numpy(),
            tr("osm_id", lang): context["osm_id"].to_numpy(),
        }), hide_index=True, width="stretch")
    fmt = st.radio(tr("format", lang), list(FORMATS), format_func=FORMAT_LABELS.get, horizontal=True,
                   key="osm_context_format")
    exported = export_frame(context, fmt=fmt, metadata=context_export_metadata(context, snapshot_version=data.version))
    st.download_button(tr("download", lang, fmt=FORMAT_LABELS[fmt]), exported.data, file_name=exported.filename,
                       mime=exported.media_type, key="osm_context_download")


settings = session.settings()
lang = settings.lang

with session.friendly_errors(lang):
    st.title(t("page_osm", lang))
    st.caption(tr("intro", lang))
    _flash()
    data = cached.snapshot()
    names = dict(zip(data.parks["park_id"], data.parks["name_zh" if lang == "zh" else "name_en"], strict=False))
    store = cached.park_geometry_store()
    _source_section(lang, data.parks, names)
    extract = cached.osm_extract()
    if extract is None:
        st.info(tr("empty", lang))
    else:
        _extract_summary(extract, lang)
        _match_section(extract, settings, names, store)
    _overrides_section(lang, names, store)
    if extract is not None:
        _context_section(extract, settings, names)
