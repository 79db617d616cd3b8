"""The deployed server's in-memory static files (server.static_cache, serve.py)."""

from __future__ import annotations

import asyncio
import gzip
import threading
from pathlib import Path

from server.static_cache import IMMUTABLE, Mount, StaticCache
from server.static_mounts import ROOT, mounts


def _call(app: StaticCache, path: str, *, method: str = "GET", headers: dict[str, str] | None = None):
    """One request through the middleware: (status, headers, body, reached the inner app)."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    # In a thread of its own: an earlier test may leave an event loop running in this one.
    worker = threading.Thread(target=lambda: asyncio.run(app(scope, receive, send)))
    worker.start()
    worker.join()
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body, start.get("inner", False)


async def _inner(scope, receive, send):
    await send({"type": "http.response.start", "status": 404, "headers": [], "inner": True})
    await send({"type": "http.response.body", "body": b"from streamlit"})


def _site(tmp_path: Path) -> StaticCache:
    (tmp_path / "js").mkdir(parents=True)
    (tmp_path / "js" / "main.abc123.js").write_text("var x = 1;\n" * 500)
    (tmp_path / "vendor.css").write_text(".a { color: red }\n" * 200)
    (tmp_path / "tiny.js").write_text("1")
    (tmp_path / "font.woff2").write_bytes(bytes(range(256)) * 20)
    (tmp_path.parent / "secret.txt").write_text("not served")
    return StaticCache(_inner, mounts=[Mount("/s/", tmp_path, immutable=("js/",),
                                              extra_headers=(("X-Content-Type-Options", "nosniff"),))])


def test_a_listed_file_is_answered_gzipped_once_and_decompresses_to_the_file(tmp_path):
    app = _site(tmp_path / "site")
    status, headers, body, inner = _call(app, "/s/js/main.abc123.js", headers={"Accept-Encoding": "gzip, br"})
    assert (status, inner) == (200, False)
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == (tmp_path / "site/js/main.abc123.js").read_bytes()
    assert len(body) < len(gzip.decompress(body)) / 5
    assert headers["content-type"].startswith("text/javascript") or headers["content-type"].startswith("application/javascript")
    assert headers["cache-control"] == IMMUTABLE
    assert headers["x-content-type-options"] == "nosniff"
    assert int(headers["content-length"]) == len(body)
    # Compressed once: the second answer is the same object, not a new compression.
    entry = app.files["/s/js/main.abc123.js"]
    first = entry.gzipped
    _call(app, "/s/js/main.abc123.js", headers={"Accept-Encoding": "gzip"})
    assert entry.gzipped is first


def test_without_gzip_the_plain_bytes_and_fonts_are_never_gzipped(tmp_path):
    app = _site(tmp_path / "site")
    status, headers, body, _ = _call(app, "/s/vendor.css")
    assert status == 200 and "content-encoding" not in headers
    assert body == (tmp_path / "site/vendor.css").read_bytes()
    # A name without a content hash is revalidated, with an ETag.
    assert headers["cache-control"] == "no-cache" and headers["etag"].startswith('"')
    _, headers, body, _ = _call(app, "/s/font.woff2", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in headers and headers["content-type"] == "font/woff2"
    _, headers, _, _ = _call(app, "/s/tiny.js", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in headers  # too small to be worth it


def test_a_revalidation_with_the_etag_is_a_304_without_body(tmp_path):
    app = _site(tmp_path / "site")
    _, headers, _, _ = _call(app, "/s/vendor.css")
    status, again, body, _ = _call(app, "/s/vendor.css", headers={"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"") and again["etag"] == headers["etag"]
    status, _, body, _ = _call(app, "/s/vendor.css", headers={"If-None-Match": '"other"'})
    assert status == 200 and body


def test_head_sends_the_headers_without_the_body(tmp_path):
    app = _site(tmp_path / "site")
    status, headers, body, _ = _call(app, "/s/vendor.css", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) == (tmp_path / "site/vendor.css").stat().st_size


def test_everything_else_goes_to_streamlit_unchanged(tmp_path):
    app = _site(tmp_path / "site")
    for path, method, headers in [
        ("/s/../secret.txt", "GET", {}),          # never joined to a folder: not in the list
        ("/s/%2e%2e/secret.txt", "GET", {}),
        ("/s/missing.js", "GET", {}),
        ("/s/vendor.css", "POST", {}),
        ("/s/vendor.css", "GET", {"Range": "bytes=0-10"}),
        ("/_stcore/health", "GET", {}),
        ("/", "GET", {}),
    ]:
        status, _, body, inner = _call(app, path, method=method, headers=headers)
        assert inner and body == b"from streamlit", path


def test_the_deployed_mounts_hold_streamlits_frontend_bundle():
    served = StaticCache(_inner, mounts=mounts()).files
    assert any(p.startswith("/static/js/index.") and p.endswith(".js") for p in served)
    assert any(p.startswith("/static/media/") and p.endswith(".woff2") for p in served)
    assert not any(p.endswith(".map") for p in served)  # source maps stay out of memory
    status, headers, _, _ = _call(StaticCache(_inner, mounts=mounts()), next(p for p in served if p.endswith(".css")),
                                  headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["cache-control"] == IMMUTABLE and headers["content-encoding"] == "gzip"


def test_serve_py_is_run_by_streamlit_as_the_app_with_the_middleware():
    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(ROOT / "serve.py")
    assert found.is_asgi_app and found.import_string == "serve:app"
    text = (ROOT / "serve.py").read_text()
    assert 'st.App("app.py"' in text and "StaticCache" in text
