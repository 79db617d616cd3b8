"""Turning a snapshot layer into the small, escaped GeoJSON a map layer embeds."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.datums import convert_frame
from layers.html import escape, script_safe


DISPLAY_DECIMALS = 5


def display_frame(frame: gpd.GeoDataFrame, *, datum: str,
                  properties: Mapping[str, Sequence[object] | pd.Series],
                  raw: Mapping[str, Sequence[object] | pd.Series] | None = None) -> gpd.GeoDataFrame:
    """Keep only what the map shows: escaped text ``properties``, trusted ``raw`` values
    (codes and numbers the code itself produced), and the geometry shifted to ``datum``."""
    out = gpd.GeoDataFrame(index=frame.index, geometry=frame.geometry.values, crs=frame.crs)
    for name, values in properties.items():
        out[name] = [escape(v) for v in values]
    for name, values in (raw or {}).items():
        out[name] = list(values)
    if datum != "wgs84":
        out = convert_frame(out, source="wgs84", target=datum)
    # 5 decimals (about 1 m) is finer than any screen pixel at the zooms used and keeps the
    # page payload small; stored and exported data keep 7.
    geoms = np.asarray(out.geometry.values, dtype=object)
    out[out.geometry.name] = gpd.GeoSeries(
        shapely.transform(geoms, lambda xy: np.round(xy, DISPLAY_DECIMALS)), index=out.index, crs=out.crs)
    return out.reset_index(drop=True)


def geometry_texts(frame: gpd.GeoDataFrame) -> list[str | None]:
    """Each geometry of a display frame as GeoJSON text (GEOS, whole-array); None for a missing one."""
    return list(shapely.to_geojson(np.asarray(frame.geometry.values, dtype=object)))


def feature_collection_text(frame: gpd.GeoDataFrame, *, columns: Sequence[str]) -> str:
    """A display frame (``display_frame``) as GeoJSON text for a ``<script>`` block, built whole-array:
    geometries by GEOS (``shapely.to_geojson``), properties with ``json``. Much faster than
    ``GeoDataFrame.to_json`` for thousands of polygons; ``</`` can never close the script."""
    geometries = geometry_texts(frame)
    records = frame[list(columns)].to_dict(orient="records")
    features = [f'{{"type":"Feature","properties":{json.dumps(record, ensure_ascii=False, default=str)},'
                f'"geometry":{geometry if geometry is not None else "null"}}}'
                for record, geometry in zip(records, geometries, strict=True)]
    text = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
    return script_safe(text)
