"""One configuration module (geo.config): every environment variable read there, listed in the
README, and read when asked for, not at import."""

from __future__ import annotations

import re
from pathlib import Path

from geo import config

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration"):]
    section = section[:section.index("\n## ", 4)]
    for name in config.ENVIRONMENT_VARIABLES:
        assert f"`{name}`" in section, name


def test_no_other_module_reads_the_environment():
    pattern = re.compile(r"os\.environ|getenv\(")
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for folder in ("geo", "layers", "pages") for path in (ROOT / folder).rglob("*.py")
                 if path.name != "config.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []


def test_settings_are_read_when_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("PHARMA_MAP_DATA_DIR", str(tmp_path / "a"))
    assert config.data_dir() == tmp_path / "a" and (tmp_path / "a").is_dir()
    monkeypatch.setenv("PHARMA_MAP_DATA_DIR", str(tmp_path / "b"))
    assert config.data_dir() == tmp_path / "b"
    assert config.data_dir(tmp_path / "c") == tmp_path / "c"  # --data-dir wins
    monkeypatch.setenv("PHARMA_MAP_SNAPSHOT_DIR", str(tmp_path / "snap"))
    assert config.snapshot_dir() == tmp_path / "snap"
    monkeypatch.delenv("PHARMA_MAP_SNAPSHOT_DIR")
    assert config.snapshot_dir() == config.DEFAULT_SNAPSHOT_DIR
    assert config.tianditu_key(environ={"TIANDITU_KEY": "k"}) == "k"
    assert config.build_date(environ={}) is None
