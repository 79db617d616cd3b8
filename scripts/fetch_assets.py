"""Fetch the map's JavaScript and CSS into static/vendor so the app needs no CDN.

Each package is downloaded from the npm registry with ``npm pack`` (the ordinary client, by
package name), checked against the sha256 in static/assets.lock.json, and only the files the
map uses are unpacked. The lock's bundles are then joined from those files. Runs in a second when
everything is already in place.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "static" / "assets.lock.json"
VENDOR = ROOT / "static" / "vendor"


def _wanted(member: str, keep: list[str]) -> str | None:
    if not member.startswith("package/"):
        return None
    relative = member[len("package/"):]
    if ".." in Path(relative).parts:
        return None
    for prefix in keep:
        if relative == prefix or (prefix.endswith("/") and relative.startswith(prefix)):
            return relative
    return None


def fetch(name: str, entry: dict) -> None:
    target = VENDOR / name
    stamp = target / ".sha256"
    if stamp.is_file() and stamp.read_text().strip() == entry["sha256"]:
        return
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(["npm", "pack", entry["spec"], "--silent", "--pack-destination", tmp],
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            sys.exit(f"error: 'npm pack {entry['spec']}' failed: {result.stderr.strip()}")
        tarball = next(Path(tmp).glob("*.tgz"))
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        if digest != entry["sha256"]:
            sys.exit(f"error: {entry['spec']} has sha256 {digest}, expected {entry['sha256']}")
        if target.exists():
            shutil.rmtree(target)
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                relative = _wanted(member.name, entry["keep"])
                if relative is None or not member.isfile():
                    continue
                out = target / relative
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.extractfile(member) as source, open(out, "wb") as sink:
                    shutil.copyfileobj(source, sink)
    stamp.write_text(entry["sha256"] + "\n")
    print(f"fetched {entry['spec']} into {target.relative_to(ROOT)}")


_SOURCE_MAP = re.compile(rb"^//# sourceMappingURL=.*$", re.MULTILINE)


def bundle(name: str, parts: list[str]) -> None:
    """Join fetched scripts into static/vendor/<name> (rewritten only when it changes)."""
    target = VENDOR / name
    if ".." in Path(name).parts or any(".." in Path(part).parts for part in parts):
        sys.exit(f"error: bundle paths stay inside static/vendor: {name}")
    # Each part ends its own statements; the ';' guards against a part without a final newline.
    # Source-map comments are dropped: their paths are relative to the part, not the bundle.
    text = b"\n;\n".join(_SOURCE_MAP.sub(b"", (VENDOR / part).read_bytes()) for part in parts) + b"\n"
    if target.is_file() and target.read_bytes() == text:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text)
    print(f"bundled {', '.join(parts)} into {target.relative_to(ROOT)}")


def main() -> None:
    if shutil.which("npm") is None:
        sys.exit("error: npm is needed to fetch the map assets (apt-get install npm)")
    lock = json.loads(LOCK.read_text())
    for name, entry in lock["packages"].items():
        fetch(name, entry)
    for name, parts in lock.get("bundles", {}).items():
        if name != "comment":
            bundle(name, parts)


if __name__ == "__main__":
    main()
