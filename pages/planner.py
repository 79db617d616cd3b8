"""Planner: draw, upload and edit parcels, manage scenarios, and track the plan's land and
factory-space targets per district and hub."""

import hashlib

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.errors import GeoError, ImportRefusedError
from geo.export import FORMATS, MEDIA_TYPES
from geo.imports import inspect_upload
from geo.parcels import (STATUSES, USES, ParcelIntake, apply_map_edits, fix_parcels, intake_features,
                         intake_upload, suggest_name_column)
from geo.planner import (TARGETS, export_scenario, export_scenario_filename, overlap_table, progress, scenario_bounds,
                         totals)
from geo.scenarios import MAX_NAME_CHARS, RETENTION_DAYS, ScenarioError, ScenarioInfo, ScenarioStore
from geo.tables import INPUT_DATUMS
from geo.vocab import PARCEL_PROBLEMS
from layers.basemap import base_map
from layers.html import markdown_text
from layers.i18n import FORMAT_LABELS, format_number, format_quantity, metric_label, parcel_label, t, term, term_of
from layers.parcels import ParcelLegend, parcel_draw_control
from layers.parks import parks_layer
from pages import _data as cached, _map as maps, _session as session
from pages._planner_cache import (OVERLAPS_LISTED, measured_outlines, measured_scenario, name_maps, overlap_display,
                                  parcel_table, parcels_layer_of)
from pages._planner_scenarios import compare_tab, scenarios_tab
from pages._planner_state import (add_to_scenario, current_name, default_new_name, flash, open_scenario,
                                  report_intake, show_flash, tr, when)


# ------------------------------------------------------------------ sections

def scenario_bar(store: ScenarioStore, name: str | None, info: ScenarioInfo | None, lang: str) -> None:
    version = info.version if info is not None else None
    saved = store.list_scenarios()
    names = [s.name for s in saved]
    left, middle, right = st.columns([3, 1, 1])
    if names:
        options = names if name in names else [""] + names
        pick = left.selectbox(tr("scenario", lang), options, index=options.index(name) if name in options else 0,
                              key=f"planner_pick_{hashlib.sha256(str(name).encode()).hexdigest()[:8]}",
                              format_func=lambda n: n or "—")
        if pick and pick != name:
            open_scenario(pick)
            st.rerun()
    if middle.button(tr("new", lang), key="planner_new", width="stretch"):
        open_scenario(None)
        st.rerun()
    if name and version is not None and right.button(tr("undo", lang), key="planner_undo", width="stretch"):
        try:
            flash("success", tr("undone", lang, version=store.undo(name, expected_version=version)))
        except ScenarioError as exc:
            flash("error", markdown_text(str(exc)))
        st.rerun()
    if name is not None and version is None:
        st.info(markdown_text(tr("not_yet", lang, name=name)))
        return
    if name is None:
        st.info(markdown_text(tr("no_scenario", lang, name=st.session_state.get("planner_new_name")
                                 or default_new_name(lang))))
        st.text_input(tr("new_name", lang), value=default_new_name(lang), key="planner_new_name",
                      max_chars=MAX_NAME_CHARS)
        return
    author = tr("by", lang, author=info.author) if info.author else ""
    st.caption(markdown_text(tr("editing", lang, name=name, version=version, when=when(info.updated_at),
                                author=author)))
    with st.expander(tr("manage", lang)):
        c1, c2 = st.columns(2)
        key = hashlib.sha256(f"{name}|{version}".encode()).hexdigest()[:8]
        new = c1.text_input(tr("rename_to", lang), value=name, key=f"planner_rename_{key}", max_chars=MAX_NAME_CHARS)
        if c1.button(tr("rename", lang), key="planner_rename", disabled=new.strip() == name):
            try:
                store.rename(name, new, expected_version=version)
                open_scenario(new.strip())
                flash("success", markdown_text(tr("renamed", lang, name=new.strip())))
            except ScenarioError as exc:
                flash("error", markdown_text(str(exc)))
            st.rerun()
        author_text = c2.text_input(tr("author", lang), value=info.author, key=f"planner_author_{key}", max_chars=80)
        if author_text.strip() != info.author:
            store.set_author(name, author_text, expected_version=version)
            st.rerun()
        if c2.button(tr("duplicate", lang), key="planner_duplicate"):
            copy, _ = store.duplicate(name, name[:MAX_NAME_CHARS - 8] + tr("copy_suffix", lang), author=info.author)
            open_scenario(copy)
            flash("success", markdown_text(tr("duplicated", lang, name=copy)))
            st.rerun()
        sure = c2.checkbox(tr("delete_confirm", lang, days=RETENTION_DAYS), key=f"planner_delete_sure_{key}")
        if c2.button(tr("delete", lang), key="planner_delete", disabled=not sure, type="primary"):
            try:
                store.delete(name, expected_version=version)
                open_scenario(None)
                flash("success", markdown_text(tr("deleted", lang, name=name, days=RETENTION_DAYS)))
            except ScenarioError as exc:
                flash("error", markdown_text(str(exc)))
            st.rerun()


def map_section(store: ScenarioStore, measured: gpd.GeoDataFrame | None, name: str | None, version: int | None,
                data, settings, lang: str, author: str, parks: str, *, scenario_id: int | None = None) -> None:
    st.caption(tr("draw_hint", lang))
    names = name_maps(data, lang)
    shown_ids = [] if measured is None else measured.loc[measured["problem"].isna(), "parcel_id"].tolist()

    # The parcels' data changes with every edit, the rest of the map does not: the map is rendered
    # once per scenario and outline extent, and each version's parcels are put into it.
    editable = (parcels_layer_of(str(store.path), name, version, lang, settings.datum, parks, measured,
                               names) if measured is not None and shown_ids else None)
    bounds = scenario_bounds(measured) if editable is not None else None

    def build():
        fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key, zoom_start=10)
        parks_layer(data.parks, lang=lang, datum=settings.datum).add_to(fmap)
        if editable is not None:
            editable.add_to(fmap)
            minx, miny, maxx, maxy = bounds
            fmap.fit_bounds([[miny, minx], [maxy, maxx]], max_zoom=15)
        parcel_draw_control(editable, lang=lang).add_to(fmap)
        ParcelLegend(lang=lang).add_to(fmap)
        return fmap

    key = "planner_map_" + hashlib.sha256(f"{store.path}|{name}|{version}|{settings.basemap}|{lang}".encode()
                                          ).hexdigest()[:12]
    skeleton = (str(store.path), name, settings.basemap, settings.datum, lang, parks,
                None if bounds is None else tuple(round(b, 5) for b in bounds))
    result = maps.show_map(build, key=key, height=520, returned_objects=["all_drawings"], cache_key=skeleton,
                             payloads=editable.deferred_payloads if editable is not None else None)
    drawings = result.get("all_drawings")
    if drawings is None:
        return
    current = measured[["parcel_id", *[c for c in measured.columns if c in (
        "number", "name", "status", "use", "floor_area_m2", "plot_ratio")], "geometry"]] if measured is not None else None
    if current is None:
        add_to_scenario(store, intake_features(drawings, datum=settings.datum), lang, author)
        st.rerun()
    edit = apply_map_edits(current, drawings, shown_ids=shown_ids, datum=settings.datum)
    if not edit.changed and not edit.refused:
        return
    report_intake(ParcelIntake(edit.parcels.iloc[0:0], edit.refused, edit.notes), lang)
    if edit.changed:
        try:
            store.save(name, edit.parcels, expected_version=version, change="map edit",
                       measured=measured_outlines(store, scenario_id, edit.parcels, data, parks))
            flash("success", tr("map_changed", lang, added=edit.added, edited=edit.edited, deleted=edit.deleted))
        except ScenarioError as exc:
            flash("error", markdown_text(str(exc)))
    st.rerun()


def upload_section(store: ScenarioStore, lang: str, author: str) -> None:
    # A plain section, not an expander: an expander closes whenever the page above it changes shape.
    with st.container(border=True):
        upload = st.file_uploader(tr("upload", lang), key="planner_upload",
                                  type=["geojson", "json", "gpkg", "zip", "kml", "kmz", "csv", "tsv", "txt", "xlsx"])
        with st.container():  # the result of the last upload, beside the button that made it
            show_flash("upload")
        if upload is None:
            return
        data_bytes = upload.getvalue()
        file_key = hashlib.sha256(data_bytes).hexdigest()[:10]  # widgets per file: their options differ
        try:
            inspection = inspect_upload(data_bytes, filename=upload.name)
        except ImportRefusedError as exc:
            st.error(markdown_text(str(exc)))
            return
        options = ([] if inspection.is_table else [""]) + list(INPUT_DATUMS)
        suggested = inspection.suggestion.datum if inspection.suggestion is not None else None
        index = options.index(suggested) if inspection.is_table and suggested in options else 0
        c1, c2 = st.columns(2)
        datum = c1.selectbox(tr("file_datum", lang), options, index=index, key=f"planner_upload_datum_{file_key}",
                             format_func=lambda d: term(INPUT_DATUMS[d], lang) if d else tr("as_declared", lang))
        if inspection.suggestion is not None:
            c1.caption(markdown_text(tr("suggested", lang, datum=term(INPUT_DATUMS[inspection.suggestion.datum], lang)
                                        if inspection.suggestion.datum in INPUT_DATUMS else inspection.suggestion.datum,
                                        why="; ".join(inspection.suggestion.reasons)[:200])))
        columns = [c for c in inspection.columns if c not in ("geometry",)]
        guess = suggest_name_column(columns)
        name_column = c2.selectbox(tr("name_column", lang), [""] + columns, key=f"planner_upload_name_{file_key}",
                                   index=columns.index(guess) + 1 if guess else 0,
                                   format_func=lambda c: c or tr("no_name_column", lang))
        corner_column = None
        if inspection.is_table:
            corner_column = c2.selectbox(tr("corners", lang), [""] + columns, key=f"planner_upload_corners_{file_key}",
                                         format_func=lambda c: c or tr("no_corners", lang)) or None
        swap = False
        if not inspection.is_table:  # tables find swapped columns themselves
            if inspection.suggestion is not None and inspection.suggestion.swapped:
                c1.warning(tr("looks_swapped", lang))
            swap = c1.checkbox(tr("swap_all", lang), key=f"planner_upload_swap_{file_key}")
        if st.button(tr("add_from_file", lang), key="planner_upload_add", type="primary"):
            try:
                intake = intake_upload(data_bytes, filename=upload.name, datum=datum or None,
                                       name_column=None if corner_column else name_column or None, swap_axes=swap,
                                       corner_column=corner_column)
            except (ImportRefusedError, GeoError) as exc:
                flash("error", markdown_text(str(exc)), slot="upload")
                st.rerun()
            add_to_scenario(store, intake, lang, author, slot="upload")
            swap_rows = intake.rows_with_fix("swap_axes")
            st.session_state["planner_swap_fix"] = ({"sha": hashlib.sha256(data_bytes).hexdigest(), "rows": swap_rows,
                                                     "datum": datum or None, "name_column": name_column or None}
                                                    if swap_rows else None)
            st.rerun()
        pending = st.session_state.get("planner_swap_fix")
        if pending and pending["sha"] == hashlib.sha256(data_bytes).hexdigest():
            rows = ", ".join(map(str, pending["rows"][:12]))
            label = f"{inspection.source_format} #{rows}" if inspection.is_table else f"feature {rows}"
            if st.button(tr("swap_fix", lang, rows=label), key="planner_upload_swap"):
                intake = intake_upload(data_bytes, filename=upload.name, datum=pending["datum"], swap_axes=True,
                                       rows=tuple(pending["rows"]), name_column=pending["name_column"])
                st.session_state["planner_swap_fix"] = None
                add_to_scenario(store, intake, lang, author, slot="upload")
                st.rerun()


def problems_section(store: ScenarioStore, measured: gpd.GeoDataFrame, name: str, version: int, lang: str) -> None:
    problems = measured[measured["problem"].notna()]
    if problems.empty:
        return
    st.warning(tr("problems", lang, n=len(problems)))
    for row in problems.itertuples():
        label = parcel_label(row.number, row.name, lang)
        problem = term_of("problem", row.problem, lang)
        hint = PARCEL_PROBLEMS[row.problem]
        with st.container(border=True):
            st.markdown(f"**{markdown_text(label)}**: {markdown_text(problem)} — {markdown_text(row.problem_message)}. "
                        f"{markdown_text(hint.description_zh if lang == 'zh' else hint.description_en)}")
            c1, c2, c3, c4 = st.columns([1, 2, 1, 1])
            fix, datum = None, None
            if row.problem_fix == "swap_axes" and c1.button(tr("fix_swap", lang), key=f"planner_fix_swap_{row.parcel_id}"):
                fix = "swap_axes"
            if row.problem_fix == "choose_datum":
                datum = c2.selectbox(tr("fix_datum", lang), list(INPUT_DATUMS), key=f"planner_fix_datum_{row.parcel_id}",
                                     format_func=lambda d: term(INPUT_DATUMS[d], lang))
                if c3.button(tr("fix_convert", lang), key=f"planner_fix_convert_{row.parcel_id}"):
                    fix = "choose_datum"
            if c4.button(tr("fix_delete", lang), key=f"planner_fix_delete_{row.parcel_id}"):
                fix = "delete"
            if fix is None:
                continue
            parcels, _ = store.load(name)
            try:
                if fix == "delete":
                    fixed = parcels[parcels["parcel_id"] != row.parcel_id]
                else:
                    fixed = fix_parcels(parcels, [row.parcel_id], fix=fix, datum=datum)
                store.save(name, fixed, expected_version=version, change=f"{fix}: parcel {row.number}")
                flash("success", markdown_text(tr("fixed", lang, label=label)))
            except GeoError as exc:
                flash("error", markdown_text(str(exc)))
            st.rerun()


def parcels_section(store: ScenarioStore, measured: gpd.GeoDataFrame, name: str, version: int, data,
                    lang: str, parks: str) -> None:
    names = name_maps(data, lang)
    summary = totals(measured)
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("parcels", lang), format_number(summary.parcels, lang))
    c2.metric(tr("total_land", lang), format_quantity(summary.area_mu, "mu", lang),
              help=f"{format_quantity(summary.area_m2 / 10_000, 'ha', lang)} · {format_quantity(summary.area_m2, 'm2', lang)}")
    c3.metric(tr("overlap", lang), format_quantity(summary.overlap_mu, "mu", lang))
    pairs = overlap_table(measured)
    if pairs is not None and len(pairs):
        st.warning(tr("overlaps_found", lang, n=len(pairs), mu=format_quantity(summary.overlap_mu, "mu", lang)))
        st.dataframe(overlap_display(str(store.path), name, version, lang, measured, pairs), hide_index=True,
                     width="stretch")
        if len(pairs) > OVERLAPS_LISTED:
            st.caption(tr("overlaps_listed", lang, shown=OVERLAPS_LISTED, n=len(pairs)))
    unit_mu = "亩" if lang == "zh" else "mu"
    table = parcel_table(str(store.path), name, version, lang, parks, measured, names)
    read_only = ["parcel_id", "number", "area_mu", "area_ha", "area_m2", "counted_mu", "overlaps_with",
                 "floor_area_effective_m2", "district", "hub", "park", "park_share"]
    editor_key = f"planner_table_{hashlib.sha256(f'{name}|{version}|{lang}'.encode()).hexdigest()[:10]}"
    edited = st.data_editor(
        table, key=editor_key,
        hide_index=True, width="stretch", num_rows="delete", disabled=read_only, placeholder="–",
        column_order=[c for c in table.columns if c != "parcel_id"],
        column_config={
            "number": st.column_config.NumberColumn(tr("number", lang), format="%d", width="small"),
            "name": st.column_config.TextColumn(t("name", lang), max_chars=120),
            "status": st.column_config.SelectboxColumn(t("parcel_status", lang), options=list(STATUSES), required=True,
                                                       format_func=lambda c: term_of("status", c, lang)),
            "use": st.column_config.SelectboxColumn(t("parcel_use", lang), options=list(USES), required=True,
                                                    format_func=lambda c: term_of("use", c, lang)),
            "floor_area_m2": st.column_config.NumberColumn(tr("floor_given", lang), min_value=0.0, format="%.0f"),
            "plot_ratio": st.column_config.NumberColumn(tr("plot_ratio", lang), min_value=0.0, max_value=20.0,
                                                        format="%.2f"),
            "area_mu": st.column_config.NumberColumn(f"{t('area', lang)} ({unit_mu})", format="%.2f"),
            "area_ha": st.column_config.NumberColumn(f"{t('area', lang)} ({'公顷' if lang == 'zh' else 'ha'})",
                                                     format="%.2f"),
            "area_m2": st.column_config.NumberColumn(f"{t('area', lang)} (m²)", format="%.0f"),
            "counted_mu": st.column_config.NumberColumn(tr("counted", lang), format="%.2f"),
            "overlaps_with": st.column_config.TextColumn(tr("overlaps_with", lang)),
            "floor_area_effective_m2": st.column_config.NumberColumn(tr("floor_used", lang), format="%.0f"),
            "district": st.column_config.TextColumn(t("district", lang)),
            "hub": st.column_config.TextColumn(t("hub", lang)),
            "park": st.column_config.TextColumn(t("park", lang)),
            "park_share": st.column_config.NumberColumn(tr("park_share", lang), format="%.0f%%"),
        })
    changes = st.session_state.get(editor_key) or {}
    if not any(changes.get(kind) for kind in ("edited_rows", "deleted_rows", "added_rows")):
        return  # nothing typed in the table: no 2,000-row comparison
    editable = ["parcel_id", "name", "status", "use", "floor_area_m2", "plot_ratio"]
    if edited[editable].reset_index(drop=True).equals(table[editable].reset_index(drop=True)):
        return
    parcels, _ = store.load(name)
    problem_ids = set(measured.loc[measured["problem"].notna(), "parcel_id"])
    kept = parcels[parcels["parcel_id"].isin(set(edited["parcel_id"]) | problem_ids)].set_index("parcel_id")
    updates = edited.set_index("parcel_id")[editable[1:]]
    kept.loc[updates.index, editable[1:]] = updates.to_numpy()
    try:
        store.save(name, gpd.GeoDataFrame(kept.reset_index(), geometry="geometry", crs=4326),
                   expected_version=version, change="table edit")
    except GeoError as exc:
        flash("error", markdown_text(str(exc)))
    st.rerun()


def download_section(name: str, version: int, parcels_loader, data, lang: str) -> None:
    c1, c2 = st.columns([1, 2])
    fmt = c1.radio(tr("format", lang), list(FORMATS), format_func=FORMAT_LABELS.get, horizontal=True,
                   key="planner_download_format")
    # Built on click: a scenario of 2,000 parcels takes a moment to export.
    c2.download_button(tr("download", lang), lambda: export_scenario(
        parcels_loader(), scenario=name, version=version, snapshot=data, fmt=fmt).data,
        file_name=export_scenario_filename(name, version=version, snapshot=data, fmt=fmt),
        mime=MEDIA_TYPES[fmt], key="planner_download")


def progress_section(measured: gpd.GeoDataFrame | None, data, lang: str) -> None:
    facts = data.facts.set_index("fact_id")
    names = name_maps(data, lang)
    st.subheader(tr("targets", lang))
    source = measured if measured is not None else pd.DataFrame(
        {"use": [], "status": [], "area_mu": [], "floor_area_effective_m2": [], "problem": []})
    city = progress(source)
    for row in city.itertuples():
        fact = facts.loc[row.fact_id] if row.fact_id in facts.index else None
        target_text = cached.fact_text(fact, lang) if fact is not None else format_quantity(row.target_value, row.unit, lang)
        st.progress(min(float(row.share), 1.0),
                    text=f"{metric_label(row.target, lang)}: "
                         f"{format_quantity(row.achieved, row.unit, lang)} / {target_text} ({row.share:.1%})")
    first = facts.loc[TARGETS[0].fact_id] if TARGETS[0].fact_id in facts.index else None
    if first is not None:
        st.caption(tr("target_sources", lang, source=cached.source_label(first["source_id"])
))
    if measured is None or measured["problem"].isna().sum() == 0:
        return
    for scope, column, label in (("district_id", "district", tr("per_district", lang)),
                                 ("hub_id", "hub", tr("per_hub", lang))):
        st.markdown(f"#### {label}")
        table = progress(measured, by=scope)
        table["scope"] = table["scope"].map(lambda v: names[column].get(v, tr("unassigned", lang)))
        charts = st.columns(len(TARGETS))
        for chart, target in zip(charts, TARGETS, strict=True):
            part = table[table["target"] == target.key]
            unit = {"mu": "亩" if lang == "zh" else "mu", "m2": "m²"}[target.unit]
            chart.markdown(f"**{markdown_text(tr('chart_title', lang, target=metric_label(target.key, lang), scope=tr('scope_' + column, lang), value=format_quantity(target.value, target.unit, lang)))}**")
            if not part["achieved"].any():  # a chart of zeros is an axis without a scale: say it in words
                chart.caption(tr("nothing_counted", lang, value=format_quantity(0.0, target.unit, lang)))
                continue
            chart.bar_chart(part.rename(columns={"scope": tr("scope_" + column, lang), "achieved": unit}),
                            x=tr("scope_" + column, lang), y=unit, x_label=tr("scope_" + column, lang),
                            y_label=f"{metric_label(target.key, lang)} ({unit})", height=240)
        wide = table.pivot(index="scope", columns="target", values="achieved").rename_axis(
            tr("scope_" + column, lang))
        wide.columns = [metric_label(c, lang) for c in wide.columns]
        st.dataframe(wide, width="stretch")


def map_tab(store: ScenarioStore, measured: gpd.GeoDataFrame | None, name: str | None, info: ScenarioInfo | None,
            data, settings, lang: str, parks: str) -> None:
    version = info.version if info is not None else None
    author = info.author if info is not None else ""
    map_section(store, measured, name, version, data, settings, lang, author, parks,
                scenario_id=info.scenario_id if info is not None else None)
    upload_section(store, lang, author)
    st.subheader(tr("parcels", lang))
    if measured is None or measured.empty or info is None:
        st.info(tr("none_yet", lang))
        return
    problems_section(store, measured, name, version, lang)
    parcels_section(store, measured, name, version, data, lang, parks)
    # the version shown, even if another session saved a newer one meanwhile
    download_section(name, version, lambda: store.load_version(info.scenario_id, info.version), data, lang)


# ------------------------------------------------------------------ page

settings = session.settings()
lang = settings.lang

with session.friendly_errors(lang):
    data = cached.snapshot()
    parks = cached.parks_key()  # once per run: it reads the outline store
    store = ScenarioStore()
    st.title(tr("title", lang))
    name = current_name()
    info = store.find(name) if name else None  # read once per run: version, author, id
    measured = measured_scenario(store, info, data, parks) if info is not None else None
    scenario_bar(store, name, info, lang)
    # Always one element here, messages or not: a message that comes and goes would move the map to
    # another place in the page, and Streamlit would load it afresh (losing an edit in progress).
    with st.container():
        show_flash()
    # Lazy tabs: only the open tab's content runs (and the tab is kept in the URL, so a reload
    # stays on it). A rerun after an edit on the map does not draw six charts nobody sees.
    tab_map, tab_progress, tab_scenarios, tab_compare = st.tabs(
        [tr("tab_map", lang), tr("tab_progress", lang), tr("tab_scenarios", lang), tr("tab_compare", lang)],
        key="tab", on_change="rerun", bind="query-params")
    if tab_map.open:
        with tab_map:
            map_tab(store, measured, name, info, data, settings, lang, parks)
    if tab_progress.open:
        with tab_progress:
            progress_section(measured, data, lang)
    if tab_scenarios.open:
        with tab_scenarios:
            scenarios_tab(store, lang)
    if tab_compare.open:
        with tab_compare:
            compare_tab(store, data, settings, lang, parks)
