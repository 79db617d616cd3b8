"""A real Streamlit server and Debian's chromium driven by Playwright, with the internet blocked.

Playwright cannot download its own browsers here, so it drives /usr/bin/chromium. Every request
to a host other than the local server is aborted and recorded, so a test can assert that the
app needs no CDN.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("chromium is not installed but CI needs the browser tests: apt-get install chromium")
    skip = pytest.mark.skip(reason="chromium not installed (apt-get install chromium)")
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(tmp_path_factory, **settings: str):
    """``streamlit run app.py`` on a free loopback port, with a data folder of its own and the
    environment variables ``settings`` (e.g. ``PHARMA_MAP_DATABASE_URL``)."""
    port = _free_port()
    env = dict(os.environ, PHARMA_MAP_DATA_DIR=str(tmp_path_factory.mktemp("store")), **settings)
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "serve.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        raise RuntimeError(f"streamlit did not start; see {log.name}")
    return process, url, log


def _stop_server(process, log) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    process, url, log = _start_server(tmp_path_factory)
    yield url
    _stop_server(process, log)


@pytest.fixture
def fresh_server(tmp_path_factory):
    """A server no session has visited yet (for what happens on the first visit after a start)."""
    process, url, log = _start_server(tmp_path_factory)
    yield url
    _stop_server(process, log)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, server):
    """A fresh page whose requests to anything but the local server are blocked and recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    blocked: list[str] = []
    del server  # started for its side effect; any server of ours is on loopback

    def guard(route):
        parsed = urlparse(route.request.url)
        if parsed.netloc and parsed.hostname not in ("127.0.0.1", "localhost") \
                and not route.request.url.startswith(("data:", "blob:")):
            blocked.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    page = context.new_page()
    page.blocked = blocked  # type: ignore[attr-defined]
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
