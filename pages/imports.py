"""Import your own data: upload a file, check its coordinates, then map, filter, measure, join,
plan with it, export it and save it. Every step is in geo/ and layers/; this page only wires them."""

import hashlib
from dataclasses import replace

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import config
from geo.errors import GeoError
from geo.export import FORMATS, MEDIA_TYPES, export_filename, export_frame
from geo.imports import LIMITS, SUPPORTED_SUFFIXES, ImportedLayer, import_metadata, read_upload
from geo.joins import compare_with_reported, place_layer
from geo.geocoders import KEY_ENV, geocoder
from geo.locate import LOCATE_TIERS, review_table
from geo.locate_osm import candidate_summary
from geo.measure import has_extent, measure_features
from geo.parcels import intake_frame
from geo.scenarios import MAX_NAME_CHARS, ScenarioStore
from geo.tables import INPUT_DATUMS
from layers.basemap import base_map, fit_to
from layers.figures import reported_comparison
from layers.html import markdown_text
from layers.i18n import FORMAT_LABELS, format_number, format_quantity, t, term, translator
from layers.imported import imported_layer, location_legend
from layers.parks import parks_layer
from pages import _data as cached, _locate_review as locate_review, _map as maps, _session as session

TEXT = {
    "title": ("Import your data", "导入数据"),
    "intro": ("GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ, CSV or XLSX (longitude/latitude or WKT columns). "
              "Files are read in memory and checked before anything parses them; nothing leaves this server.",
              "支持 GeoJSON、GeoPackage、Shapefile（zip 压缩）、KML/KMZ、CSV、XLSX（经纬度列或 WKT 列）。"
              "文件仅在内存中读取，解析前先做安全检查，不会发送到其他服务器。"),
    "limits": ("Limits: {mb} MB per file, {features} features, {vertices} vertices, {columns} columns.",
               "限制：单个文件 {mb} MB，{features} 个要素，{vertices} 个顶点，{columns} 列。"),
    "file": ("File", "文件"),
    "found": ("{fmt} · {rows} rows", "{fmt} · {rows} 行"),
    "declared": ("Declared coordinate system: {crs}", "文件声明的坐标系：{crs}"),
    "datum": ("Coordinate system of the coordinates", "坐标所用的坐标系"),
    "as_declared": ("As the file declares (WGS84 if it declares nothing)", "按文件声明（未声明则为 WGS84）"),
    "lon": ("Longitude / easting column", "经度 / 东坐标列"),
    "lat": ("Latitude / northing column", "纬度 / 北坐标列"),
    "wkt": ("or a WKT geometry column", "或 WKT 几何列"),
    "none": ("(none)", "（无）"),
    "imported": ("Imported {n} features as layer “{name}”.", "已导入 {n} 个要素，图层名“{name}”。"),
    "session": ("Your layers (kept for this session)", "本次会话中的图层"),
    "layer": ("Layer", "图层"),
    "saved_layers": ("Saved layers", "已保存的图层"),
    "open_saved": ("Open a saved layer", "打开已保存的图层"),
    "open": ("Open", "打开"),
    "filter_column": ("Filter by column", "按列筛选"),
    "filter_values": ("Values", "取值"),
    "shown": ("{n} of {total} features shown", "显示 {n} / {total} 个要素"),
    "label": ("Label column (tooltips, parcel names)", "标签列（提示、地块名称）"),
    "measure": ("Measurements (geodesic)", "量算（大地测量）"),
    "total_area": ("Total area of polygons", "面要素总面积"),
    "total_length": ("Total length of lines", "线要素总长度"),
    "join": ("Where the features are", "要素所在位置"),
    "category": ("Count per category column", "按分类列统计"),
    "by_park": ("Per park", "按园区"),
    "by_district": ("Per district", "按区"),
    "by_hub": ("Per hub", "按核心区/增长点"),
    "vs_reported": ("Per park, beside the enterprise counts reported in the sources",
                    "按园区统计，并与来源中公开报道的企业数并列"),
    "outside": ("outside every park", "不在任何园区内"),
    "plan": ("Add the polygons to a planner scenario", "将面要素加入规划方案"),
    "scenario_name": ("Scenario (new or existing)", "方案名称（新建或已有）"),
    "add": ("Add {n} parcels", "加入 {n} 个地块"),
    "added": ("Added {n} parcels to scenario “{name}” (version {version}).",
              "已将 {n} 个地块加入方案“{name}”（版本 {version}）。"),
    "no_polygons": ("This layer has no polygons, so it cannot become planner parcels.",
                    "该图层没有面要素，无法作为规划地块。"),
    "export": ("Export", "导出"),
    "format": ("Format", "格式"),
    "download": ("Download “{name}” ({fmt})", "下载“{name}”（{fmt}）"),
    "save": ("Save the layer under a name", "以名称保存图层"),
    "save_button": ("Save", "保存"),
    "saved": ("Saved “{name}” (version {version}).", "已保存“{name}”（版本 {version}）。"),
    "remove": ("Remove from this session", "从本次会话中移除"),
    "empty": ("Upload a file, or open a saved layer, to start.", "请上传文件或打开已保存的图层。"),
    "by_address": ("No coordinate columns: the rows are placed by their names and addresses, offline first"
                   " (a park named in the address, or a road in one: the park's anchor; else the district:"
                   " a point inside it). Neither is the site, and each row says how it was placed.",
                   "没有坐标列：按名称和地址定位，先离线匹配（地址含园区名称或园区内道路：标在园区定位点；"
                   "否则标在所在区内的代表点）。两者都不是实际地址，每行都注明定位依据。"),
    "address_column": ("Address column", "地址列"),
    "name_column": ("Name column", "名称列"),
    "providers": ("Locators, in order (the first that places a row keeps it)", "定位方式（按顺序，先定位者为准）"),
    "review": ("Review the placements", "核对定位结果"),
    "review_help": ("Untick a row to leave it out of the map, the counts, the export and the saved layer."
                    " Unplaced rows are listed with the reason.",
                    "取消勾选即从地图、统计、导出和保存中排除该行。未能定位的行列出原因。"),
    "accept": ("Keep", "保留"),
    "accept_all": ("Keep all placed rows", "保留全部已定位行"),
    "reject_all": ("Leave all out", "全部排除"),
    "reject_district": ("Leave out district-only rows", "排除仅定位到区的行"),
    "tier_counts": ("{kept} of {placed} placed rows kept; {unplaced} unplaced", "已定位 {placed} 行中保留 {kept} 行；{unplaced} 行未能定位"),
    "unplaced": ("unplaced", "未定位"),
    "col_row": ("Row", "行号"),
    "col_name": ("Name", "名称"),
    "col_address": ("Address", "地址"),
    "col_tier": ("Tier", "定位级别"),
    "col_evidence": ("Evidence", "依据"),
    "col_point": ("Point", "点位"),
    "col_flag": ("Check", "请核对"),
    "col_provider": ("By", "来源"),
    "col_reason": ("Why not placed", "未定位原因"),
    "col_candidates": ("OpenStreetMap candidates", "开放街图候选"),
}
tr = translator(TEXT)
MAX_FILTER_VALUES = 300


def _secret(name: str) -> str | None:
    try:
        return st.secrets.get(name)  # type: ignore[no-any-return]
    except FileNotFoundError:  # no secrets.toml
        return None


def _keys() -> dict[str, str]:
    """Geocoder keys from the environment or .streamlit/secrets.toml (never shown)."""
    keys = {"amap": config.geocoder_key("amap") or _secret(KEY_ENV["amap"]), "tianditu": session.tianditu_key()}
    return {provider: key for provider, key in keys.items() if key}


def _providers() -> list[str]:
    """OpenStreetMap with an extract; offline always; Nominatim (public server, 1 request/s); Amap and
    Tianditu when a key is set."""
    return [*(["osm"] if locate_review.extract_of_session() is not None else []), "offline", "nominatim", *_keys()]


@st.cache_resource(show_spinner=False)
def _geocoder(provider: str, version: str):  # noqa: ANN202 - a geo.geocoders.Geocoder
    del version
    return geocoder(provider, keys=_keys(), districts=cached.snapshot().districts, timeout=5.0)


def _locators(providers: tuple[str, ...]) -> list:
    version = cached.snapshot().version
    extract = locate_review.extract_of_session()
    chosen = [p for p in providers if p != "osm" or extract is not None]
    return [locate_review.offline_locator(version) if p == "offline"
            else locate_review.osm_locator(extract) if p == "osm" else _geocoder(p, version) for p in chosen]


def _read_located(sha256: str, filename: str, address: str | None, name: str | None, providers: tuple[str, ...],
                  data: bytes) -> ImportedLayer:
    """An address table located, kept in the server's byte-bounded upload cache like other uploads."""
    extract = locate_review.extract_of_session() if "osm" in providers else None
    return cached.upload_cache().get_or_compute(
        ("import.located", sha256, filename, address, name, providers, cached.snapshot().version,
         extract["key"] if extract else None),
        lambda: read_upload(data, filename=filename, locators=_locators(providers), address_column=address,
                            name_column=name))


def _note(level: str, text: str) -> None:
    (st.warning if level == "warning" else st.info)(markdown_text(text))


def _upload_section(lang: str):  # noqa: ANN202 - (st container, ImportedLayer) of an address table, or None
    # A new key empties the uploader: "remove" must not see the layer re-read from a file still in it.
    uploader_key = f"import_file_{st.session_state.get('import_uploads_cleared', 0)}"
    uploaded = st.file_uploader(tr("file", lang), type=sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES),
                                key=uploader_key)
    if uploaded is None:
        return
    data = uploaded.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    try:
        inspection = cached.inspect_import(sha, uploaded.name, data)
    except GeoError as exc:
        st.error(markdown_text(str(exc)))
        return
    st.caption(markdown_text(tr("found", lang, fmt=inspection.source_format.upper(),
                                rows=format_number(inspection.rows, lang))))
    if inspection.by_address:
        layer = _address_upload(inspection, uploaded.name, sha, data, lang)
        if layer is None:
            return None
        # Its notes are written once the review below has confirmed OpenStreetMap candidates, so
        # they count the rows as they are placed now.
        slot = st.container()
        st.session_state.setdefault("imports", {})[layer.name] = layer
        return slot, layer
    lon = lat = wkt = None
    codes = list(INPUT_DATUMS)
    if inspection.is_table:
        columns = [""] + list(inspection.columns)
        found = inspection.coordinates
        c1, c2, c3 = st.columns(3)
        lon = c1.selectbox(tr("lon", lang), columns, index=columns.index(found.lon or found.pair or "")
                           if (found.lon or found.pair) in columns else 0, key=f"import_lon_{sha}",
                           format_func=lambda c: c or tr("none", lang)) or None
        lat = c2.selectbox(tr("lat", lang), columns, index=columns.index(found.lat) if found.lat in columns else 0,
                           key=f"import_lat_{sha}", format_func=lambda c: c or tr("none", lang)) or None
        wkt = c3.selectbox(tr("wkt", lang), columns, index=columns.index(found.wkt) if found.wkt in columns else 0,
                           key=f"import_wkt_{sha}", format_func=lambda c: c or tr("none", lang)) or None
        if found.pair and lon == found.pair:
            lon = lat = None  # a "lon,lat" pair column is detected by the loader itself
        options: list[str | None] = list(codes)
    else:
        if inspection.declared_crs:
            st.caption(markdown_text(tr("declared", lang, crs=inspection.declared_crs)))
        options = [None, *codes]
    suggestion = inspection.suggestion
    default = options.index(suggestion.datum) if suggestion and suggestion.datum in options and (
        inspection.is_table or suggestion.datum.startswith("epsg")) else 0
    if suggestion is not None:
        _note("info", suggestion.message())
    datum = st.selectbox(tr("datum", lang), options, index=default, key=f"import_datum_{sha}",
                         format_func=lambda c: tr("as_declared", lang) if c is None else term(INPUT_DATUMS[c], lang))
    try:
        layer = cached.read_import(sha, uploaded.name, data, datum=datum, lon=lon if not wkt else None,
                                   lat=lat if not wkt else None, wkt=wkt)
    except GeoError as exc:
        st.error(markdown_text(str(exc)))
        return
    _imported(layer, lang)


def _imported(layer: ImportedLayer, lang: str, *, keep: bool = True) -> None:
    for note in layer.notes:
        _note(note.level, note.text)
    st.success(markdown_text(tr("imported", lang, n=format_number(len(layer.frame), lang), name=layer.name)))
    if keep:
        st.session_state.setdefault("imports", {})[layer.name] = layer


def _seen_versions() -> dict[str, int]:
    """Saved layer name -> the version this session opened or saved last."""
    return st.session_state.setdefault("import_saved_versions", {})


def _address_upload(inspection, filename: str, sha: str, data: bytes, lang: str) -> ImportedLayer | None:
    st.info(tr("by_address", lang))
    locate_review.osm_upload_section(lang)
    columns = [""] + list(inspection.columns)
    found = inspection.address_columns
    c1, c2 = st.columns(2)
    address = c1.selectbox(tr("address_column", lang), columns, index=columns.index(found.address or ""),
                           key=f"import_address_{sha}", format_func=lambda c: c or tr("none", lang)) or None
    name = c2.selectbox(tr("name_column", lang), columns, index=columns.index(found.name or ""),
                        key=f"import_name_{sha}", format_func=lambda c: c or tr("none", lang)) or None
    offered = _providers()
    extract = locate_review.extract_of_session()
    providers = tuple(st.multiselect(tr("providers", lang), offered, default=[p for p in ("osm", "offline")
                                                                              if p in offered],
                                     # a new extract offers osm: the choice starts again from its default
                                     key=f"import_providers_{sha}_{(extract or {}).get('key', '')[:12]}")
                      or ["offline"])
    try:
        return _read_located(sha, filename, address, name, providers, data)
    except GeoError as exc:
        st.error(markdown_text(str(exc)))
        return None


def _review_section(layer: ImportedLayer, lang: str, reviewed: dict[str, ImportedLayer]) -> ImportedLayer:
    """The review of a layer placed by address: confirm OpenStreetMap candidates, keep or leave out
    each row, in bulk too; the layer with the rows kept (``reviewed`` gets it with every placed row)."""
    layer = reviewed[layer.name] = locate_review.candidates_section(layer, lang)
    st.subheader(tr("review", lang))
    st.caption(tr("review_help", lang))
    table = review_table(layer.located)
    summary = candidate_summary(layer.located)
    if summary:
        table["candidates"] = table["source_row"].map(summary)
    placed = table["location_tier"] != "unplaced"
    state_key = f"import_rejected_{layer.name}_{layer.sha256[:12]}"
    version_key = f"{state_key}_v"
    rejected: set[int] = st.session_state.setdefault(state_key, set())
    c1, c2, c3 = st.columns(3)
    bulk = None
    if c1.button(tr("accept_all", lang), key=f"{state_key}_all"):
        bulk = set()
    if c2.button(tr("reject_all", lang), key=f"{state_key}_none"):
        bulk = set(table.loc[placed, "source_row"].tolist())
    if c3.button(tr("reject_district", lang), key=f"{state_key}_district"):
        bulk = rejected | set(table.loc[table["location_tier"] == "district", "source_row"].tolist())
    if bulk is not None:
        rejected = st.session_state[state_key] = bulk
        st.session_state[version_key] = st.session_state.get(version_key, 0) + 1
    tier_names = {key: term(value, lang) for key, value in LOCATE_TIERS.items()} | {"unplaced": tr("unplaced", lang)}
    shown = table.assign(location_tier=table["location_tier"].map(tier_names))
    shown.insert(0, "keep", placed & ~table["source_row"].isin(rejected))
    labels = {"keep": tr("accept", lang), "source_row": tr("col_row", lang), "name": tr("col_name", lang),
              "address": tr("col_address", lang), "location_tier": tr("col_tier", lang),
              "location_evidence": tr("col_evidence", lang), "location_point": tr("col_point", lang),
              "location_flag": tr("col_flag", lang), "location_provider": tr("col_provider", lang),
              "location_reason": tr("col_reason", lang), "candidates": tr("col_candidates", lang)}
    edited = st.data_editor(shown, hide_index=True, width="stretch", disabled=[c for c in shown.columns if c != "keep"],
                            column_config={c: st.column_config.Column(label) for c, label in labels.items()},
                            key=f"{state_key}_editor_{st.session_state.get(version_key, 0)}")
    rejected = set(table.loc[placed & ~edited["keep"].astype(bool), "source_row"].tolist())
    st.session_state[state_key] = rejected
    kept = layer.frame[~layer.frame["source_row"].isin(rejected)].reset_index(drop=True)
    st.caption(tr("tier_counts", lang, kept=format_number(len(kept), lang), placed=format_number(int(placed.sum()), lang),
                  unplaced=format_number(int((~placed).sum()), lang)))
    return replace(layer, frame=kept)


def _saved_section(lang: str, store: ScenarioStore) -> None:
    saved = store.list_layers()
    if not saved:
        return
    with st.expander(tr("saved_layers", lang)):
        names = [s.name for s in saved]
        pick = st.selectbox(tr("open_saved", lang), names, key="import_saved_pick")
        if st.button(tr("open", lang), key="import_saved_open"):
            frame, version = store.load_layer(pick)
            _seen_versions()[pick] = version
            st.session_state.setdefault("imports", {})[pick] = ImportedLayer(
                name=pick, frame=frame, source_format="saved", source_datum="wgs84", notes=(),
                skipped_rows=(), sha256=f"saved v{version}")
            st.session_state["import_pick"] = pick


def _filtered(layer: ImportedLayer, lang: str) -> gpd.GeoDataFrame:
    frame = layer.frame
    filterable = [c for c in frame.columns if c not in ("geometry",) and frame[c].nunique() <= MAX_FILTER_VALUES]
    c1, c2 = st.columns([1, 2])
    column = c1.selectbox(tr("filter_column", lang), [""] + filterable, key=f"import_filter_col_{layer.name}",
                          format_func=lambda c: c or tr("none", lang))
    if column:
        values = sorted(frame[column].astype(str).unique())
        chosen = c2.multiselect(tr("filter_values", lang), values, key=f"import_filter_values_{layer.name}_{column}",
                                placeholder=t("all", lang))
        if chosen:
            frame = frame[frame[column].astype(str).isin(chosen)]
    st.caption(tr("shown", lang, n=format_number(len(frame), lang), total=format_number(len(layer.frame), lang)))
    return frame


def _join_section(frame: gpd.GeoDataFrame, lang: str) -> None:
    data = cached.snapshot()
    name_col = "name_zh" if lang == "zh" else "name_en"
    names = {**dict(zip(data.parks["park_id"], data.parks[name_col], strict=False)),
             **dict(zip(data.districts["district_id"], data.districts[name_col], strict=False)),
             **dict(zip(data.hubs["hub_id"], data.hubs[name_col], strict=False))}
    st.subheader(tr("join", lang))
    columns = [c for c in frame.columns if c not in ("geometry", "source_row") and frame[c].nunique() <= 60]
    category = st.selectbox(tr("category", lang), [""] + columns, key="import_category",
                            format_func=lambda c: c or tr("none", lang)) or None
    joined = place_layer(frame, parks=data.parks, districts=data.districts, hubs=data.hubs, category_column=category)
    tabs = st.tabs([tr("by_park", lang), tr("by_district", lang), tr("by_hub", lang), tr("vs_reported", lang)])
    for tab, key in zip(tabs[:3], ("by_park", "by_district", "by_hub"), strict=True):
        counts = joined[key].copy()
        counts.iloc[:, 0] = counts.iloc[:, 0].map(lambda v: names.get(v, v))
        tab.dataframe(counts, hide_index=True, width="stretch")
    per_park = joined["placed"].dropna(subset=["park_id_joined"]).groupby("park_id_joined").size()
    comparison = compare_with_reported(per_park.rename("count").reset_index(), data.facts,
                                       subject_column="park_id_joined", subject_type="park")
    tabs[3].dataframe(reported_comparison(comparison, names, data.sources, lang), hide_index=True, width="stretch")


def _plan_section(frame: gpd.GeoDataFrame, lang: str, label: str | None, store: ScenarioStore,
                  row_label: str) -> None:
    st.subheader(tr("plan", lang))
    # The planner's door: the same checks as a drawing or an upload on the Planner page.
    intake = intake_frame(frame, name_column=label, row_label=row_label, polygons_only=True)
    if intake.parcels.empty and not intake.refused:
        st.caption(tr("no_polygons", lang))
        return
    for refused in intake.refused[:50]:
        st.warning(markdown_text(refused.text()))
    if intake.parcels.empty:
        return
    existing = [s.name for s in store.list_scenarios()]
    name = st.text_input(tr("scenario_name", lang), key="import_scenario", max_chars=MAX_NAME_CHARS,
                         help=", ".join(existing[:30]) or None).strip()
    if name and st.button(tr("add", lang, n=len(intake.parcels)), key="import_add_parcels"):
        try:
            new_version = store.append(name, intake.parcels)
            st.success(markdown_text(tr("added", lang, n=len(intake.parcels), name=name, version=new_version)))
        except GeoError as exc:
            st.error(markdown_text(str(exc)))


def _export_section(layer: ImportedLayer, frame: gpd.GeoDataFrame, lang: str, store: ScenarioStore | None) -> None:
    st.subheader(tr("export", lang))
    c1, c2 = st.columns(2)
    fmt = c1.radio(tr("format", lang), list(FORMATS), format_func=FORMAT_LABELS.get,
                   horizontal=True, key="import_export_format")
    metadata = import_metadata(layer, snapshot_version=cached.snapshot().version)
    # Built only when the button is clicked: exporting 100,000 features on every rerun would cost seconds.
    c1.download_button(tr("download", lang, name=layer.name, fmt=FORMAT_LABELS[fmt]),
                       lambda: export_frame(frame, fmt=fmt, metadata=metadata).data,
                       file_name=export_filename(metadata, fmt=fmt), mime=MEDIA_TYPES[fmt], key="import_download")
    if store is None:  # the shared database is down (said above): the download still works
        return
    save_name = c2.text_input(tr("save", lang), value=layer.name, key=f"import_save_name_{layer.name}", max_chars=80)
    if c2.button(tr("save_button", lang), key="import_save"):
        try:
            # The version this session opened or saved (None: it never had one), never the store's
            # newest: a layer another session saved meanwhile is refused, not silently replaced.
            version = store.save_layer(save_name, layer.frame, expected_version=_seen_versions().get(save_name.strip()))
            _seen_versions()[save_name.strip()] = version
            c2.success(markdown_text(tr("saved", lang, name=save_name, version=version)))
        except GeoError as exc:
            c2.error(markdown_text(str(exc)))


settings = session.settings()
lang = settings.lang

with session.friendly_errors(lang):
    st.title(tr("title", lang))
    st.caption(tr("intro", lang))
    st.caption(tr("limits", lang, mb=LIMITS.max_file_bytes // 2**20, features=format_number(LIMITS.max_features, lang),
                  vertices=format_number(LIMITS.max_vertices, lang), columns=LIMITS.max_columns))
    store = cached.scenario_store(lang)  # None while the shared database is down: uploads still work
    by_address = _upload_section(lang)
    reviewed: dict[str, ImportedLayer] = {}
    locate_review.organisations_section(lang)
    if store is not None:
        _saved_section(lang, store)
    imports: dict[str, ImportedLayer] = st.session_state.get("imports", {})
    if not imports:
        st.info(tr("empty", lang))
    else:
        st.header(tr("session", lang))
        names = list(imports)
        if st.session_state.get("import_pick") not in names:
            st.session_state["import_pick"] = names[-1]
        pick = st.selectbox(tr("layer", lang), names, key="import_pick")
        layer = imports[pick]
        if layer.by_address:
            layer = _review_section(layer, lang, reviewed)
        frame = _filtered(layer, lang)
        columns = [c for c in frame.columns if c not in ("geometry", "source_row")]
        label = st.selectbox(tr("label", lang), [""] + columns, key=f"import_label_{pick}",
                             format_func=lambda c: c or tr("none", lang)) or None
        fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key, zoom_start=10)
        parks_layer(cached.snapshot().parks, lang=lang, datum=settings.datum).add_to(fmap)
        if len(frame):
            imported_layer(frame, name=pick, label_column=label, lang=lang, datum=settings.datum).add_to(fmap)
            legend = location_legend(frame, lang=lang)
            if legend is not None:
                fmap.add_child(legend)
            fit_to(fmap, frame, datum=settings.datum)
        maps.show_map(fmap, key="import_map", height=480)
        st.dataframe(pd.DataFrame(frame.drop(columns="geometry")).head(1000), hide_index=True, width="stretch")
        if has_extent(frame):
            measured = measure_features(frame)
            st.subheader(tr("measure", lang))
            m1, m2 = st.columns(2)
            m1.metric(tr("total_area", lang), format_quantity(float(measured["area_mu"].sum()), "mu", lang),
                      help=format_quantity(float(measured["area_m2"].sum()), "m2", lang))
            m2.metric(tr("total_length", lang), format_quantity(float(measured["length_m"].sum()) / 1000, "km", lang))
        if len(frame):
            _join_section(frame, lang)
            if store is not None:
                _plan_section(frame, lang, label, store, layer.row_label)
            _export_section(layer, frame, lang, store)
        if st.button(tr("remove", lang), key="import_remove"):
            imports.pop(pick, None)
            st.session_state["import_uploads_cleared"] = st.session_state.get("import_uploads_cleared", 0) + 1
            st.rerun()
    if by_address is not None:  # the upload's notes, as the review left its rows
        slot, uploaded = by_address
        with slot:
            _imported(reviewed.get(uploaded.name, uploaded), lang, keep=False)
