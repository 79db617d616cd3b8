"""Damaged OpenStreetMap extracts, in every container the app reads, are refused in one line.

Found: a corrupt ``.osm.gz`` ended in a 31-line traceback (``zlib.error`` / ``gzip.BadGzipFile`` /
``EOFError``) while corrupt ``.osm``, ``.bz2`` and ``.pbf`` files got one-line messages. Each
container is damaged two ways (cut in half; garbage after a valid magic number) and read through
the command line and through the OSM page's upload function.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from geo.cli import main
from geo.errors import OSMFileError
from tests.osm_fixtures import OsmBuilder

CONTAINERS = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf")
MAGIC = {".osm": b"<?xml version='1.0'?><osm version='0.6'>", ".osm.gz": b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
         ".osm.bz2": b"BZh91AY&SY", ".osm.pbf": b"\x00\x00\x00\x0d\n\tOSMHeader"}


def _extract(folder: Path, suffix: str) -> bytes:
    builder = OsmBuilder()
    for i in range(300):  # big enough that half of it is a real truncation, not an empty file
        builder.point(116.27 + i * 1e-4, 40.08, {"amenity": "hospital", "name": f"医院 {i}"})
    builder.grid(116.26, 40.07, 116.30, 40.10, rows=4, columns=4)
    path = folder / f"good{suffix}"
    (builder.write_pbf if suffix == ".osm.pbf" else builder.write_xml)(path)
    return path.read_bytes()


def _damaged(folder: Path, suffix: str, how: str) -> tuple[str, bytes]:
    good = _extract(folder, suffix)
    if how == "truncated":
        data = good[: len(good) // 2]
    else:
        noise = random.Random(f"{suffix}{how}").randbytes(4000)
        data = MAGIC[suffix] + noise
    return f"{how}{suffix}", data


def _one_clear_line(text: str, name: str) -> None:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text and "zlib.error" not in text
    assert name in lines[0]
    assert "re-download" in lines[0] or "re-cut" in lines[0]


@pytest.mark.parametrize("how", ["truncated", "garbage"])
@pytest.mark.parametrize("suffix", CONTAINERS)
def test_a_damaged_extract_is_one_line_on_the_command_line(tmp_path, capsys, suffix, how):
    name, data = _damaged(tmp_path, suffix, how)
    path = tmp_path / name
    path.write_bytes(data)
    assert main(["osm", "context", str(path), "-o", str(tmp_path / "context.geojson")]) == 1
    captured = capsys.readouterr()
    _one_clear_line(captured.err, name)
    assert not (tmp_path / "context.geojson").exists()


@pytest.mark.parametrize("how", ["truncated", "garbage"])
@pytest.mark.parametrize("suffix", CONTAINERS)
def test_a_damaged_upload_is_one_line_on_the_osm_page(tmp_path, isolated_app, suffix, how):
    import hashlib

    from pages import _data as cached

    name, data = _damaged(tmp_path, suffix, how)
    with pytest.raises(OSMFileError) as caught:
        cached.read_osm_extract(hashlib.sha256(data).hexdigest(), name, data)
    _one_clear_line(str(caught.value), name)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_damaged_gzip_says_what_is_wrong_and_how_to_check(tmp_path):
    from geo.osm import read_osm_file

    good = _extract(tmp_path, ".osm.gz")
    (tmp_path / "cut.osm.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(OSMFileError, match=r"truncated download.*gzip -t"):
        read_osm_file(tmp_path / "cut.osm.gz")
    garbled = bytearray(good)
    garbled[40:80] = os.urandom(40)
    (tmp_path / "garbled.osm.gz").write_bytes(bytes(garbled))
    with pytest.raises(OSMFileError, match=r"gzip data is damaged|ends before"):
        read_osm_file(tmp_path / "garbled.osm.gz")


def test_the_street_sniffer_reads_the_same_containers(tmp_path):
    from geo.streets import street_suffix

    assert street_suffix(_extract(tmp_path, ".osm")) == ".osm"
    assert street_suffix(_extract(tmp_path, ".osm.bz2")) == ".osm.bz2"
    assert street_suffix(_extract(tmp_path, ".osm.pbf")) is None  # PBF: convert to XML first
    builder = OsmBuilder()
    builder.point(116.27, 40.08, {"amenity": "hospital"})
    (tmp_path / "noroads.osm").write_bytes(b"")
    builder.write_xml(tmp_path / "noroads.osm")
    assert street_suffix((tmp_path / "noroads.osm").read_bytes()) is None
    bz2_data = _extract(tmp_path, ".osm.bz2")
    with pytest.raises(OSMFileError, match="bzip2"):
        street_suffix(bz2_data[:60] + os.urandom(200))
