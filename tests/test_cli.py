"""The command line: python -m geo validate / info / export / build."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from geo.cli import main
from geo.export import read_export

ROOT = Path(__file__).resolve().parent.parent


def test_validate_passes_on_a_good_snapshot(tiny_snapshot, capsys):
    assert main(["validate", "--snapshot", str(tiny_snapshot)]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_fails_and_names_the_changed_file(tiny_snapshot, capsys):
    path = tiny_snapshot / "organisations.geojson"
    path.write_text(path.read_text().replace("NIBS", "NIBZ"))
    assert main(["validate", "--snapshot", str(tiny_snapshot)]) == 1
    assert "organisations.geojson changed" in capsys.readouterr().err


def test_info_lists_layers_counts_and_sources(tiny_snapshot, capsys):
    assert main(["info", "--snapshot", str(tiny_snapshot)]) == 0
    out = capsys.readouterr().out
    assert "parks" in out and "nominal 1" in out and "[plan]" in out
    assert main(["info", "--snapshot", str(tiny_snapshot), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["layers"]["organisations"] == 2


@pytest.mark.parametrize(("fmt", "datum"), [("geojson", "wgs84"), ("gpkg", "wgs84"), ("csv", "gcj02")])
def test_export_writes_a_file_that_reads_back(tiny_snapshot, tmp_path, fmt, datum, capsys):
    out = tmp_path / f"parks.{fmt}"
    assert main(["export", "parks", "--format", fmt, "--datum", datum, "-o", str(out),
                 "--snapshot", str(tiny_snapshot)]) == 0
    written = out if datum == "wgs84" else tmp_path / f"parks_gcj02.{fmt}"
    frame, metadata = read_export(written.read_bytes(), fmt=fmt)
    assert sorted(frame["park_id"]) == ["box", "lsp"]
    assert metadata["datum"] == datum
    assert "wrote 2 parks" in capsys.readouterr().out


def test_unknown_layer_is_refused_by_argparse(capsys):
    with pytest.raises(SystemExit):
        main(["export", "factories"])
    assert "invalid choice: 'factories'" in capsys.readouterr().err


def test_missing_snapshot_gives_a_clear_error(tmp_path, capsys):
    assert main(["info", "--snapshot", str(tmp_path)]) == 1
    assert "python -m geo build" in capsys.readouterr().err


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "geo", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "validate" in result.stdout


def test_import_asks_for_the_datum_of_a_table_then_imports_joins_and_writes(tmp_path, capsys):
    source = tmp_path / "firms.csv"
    source.write_text("name,高德经度,高德纬度,kind\n百济神州,116.2846,40.1038,drugs\n坏,x,y,z\n", encoding="gb18030")
    assert main(["import", str(source)]) == 2
    assert "hint: add --datum gcj02" in capsys.readouterr().err
    out = tmp_path / "firms.geojson"
    assert main(["import", str(source), "--datum", "gcj02", "--category", "kind", "-o", str(out),
                 "--json", "--save", "firms", "--data-dir", str(tmp_path / "store")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["features"] == 1 and summary["skipped_rows"] == [3]
    assert summary["by_park"] == [{"park_id_joined": "zgc_life_science_park", "category": "drugs", "count": 1}]
    assert summary["saved_version"] == 1
    document = json.loads(out.read_text())
    assert document["features"][0]["properties"]["name"] == "百济神州" and "crs" not in document


def test_import_refuses_a_hostile_file_with_a_message(tmp_path, capsys):
    source = tmp_path / "passwd.geojson"
    source.write_text('<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd</SrcDataSource>'
                      "</OGRVRTLayer></OGRVRTDataSource>")
    assert main(["import", str(source)]) == 1
    assert "VRT" in capsys.readouterr().err
