"""Serve the files every new visitor downloads from memory, compressed once.

A first visit to the cluster map loads about 120 files (3.6 MB): Streamlit's hashed frontend
bundle, streamlit-folium's component and the map's scripts in ``static/vendor``. Streamlit serves
each one from disk through Starlette's ``FileResponse`` (a worker-thread hop per 64 KiB chunk)
and gzips the component and vendor files again on every request; that was most of the server's
CPU per new session. :class:`StaticCache` is an ordinary ASGI middleware, added through
Streamlit's public ``st.App(middleware=...)`` (``serve.py``), that answers GET and HEAD for a
fixed list of files (listed at start-up: a request path is looked up, never joined to a
folder), reading each once and gzipping the compressible ones once. Every other request
(pages, the websocket, uploads, media, unknown files) goes to Streamlit unchanged.

Caching headers: content-hashed names (Streamlit's ``/static/...``, the component's
``static/`` build) are ``immutable`` for a year, as Streamlit sends them; everything else
(the vendor files, whose names carry no hash, the component's ``index.html``) is ``no-cache``
with an ``ETag``, so a browser revalidates and gets a 304 without the body.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ASGIApp = Any
IMMUTABLE = "public, immutable, max-age=31536000"
REVALIDATE = "no-cache"
# Types worth compressing (fonts and images are compressed already).
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml",
                 "application/xml", "text/javascript")
_MIN_GZIP_BYTES = 1000


@dataclass(frozen=True)
class Mount:
    """Files of ``folder`` answered under the URL ``prefix`` (which ends with ``/``).

    ``immutable`` says which relative paths (a prefix of them) carry a content hash in their
    names; ``extra_headers`` are sent with every file of the mount.
    """

    prefix: str
    folder: Path
    immutable: tuple[str, ...] = ()
    extra_headers: tuple[tuple[str, str], ...] = ()
    skip_suffixes: tuple[str, ...] = (".map", ".LICENSE.txt")


@dataclass
class _Entry:
    path: Path
    mount: Mount
    relative: str
    body: bytes | None = None
    gzipped: bytes | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    etag: bytes = b""

    def load(self) -> None:
        body = self.path.read_bytes()
        content_type = _content_type(self.path)
        etag = b'"' + hashlib.sha256(body).hexdigest()[:20].encode() + b'"'
        cache = IMMUTABLE if self.relative.startswith(self.mount.immutable) and self.mount.immutable else REVALIDATE
        headers = [(b"content-type", content_type.encode()), (b"cache-control", cache.encode()),
                   (b"etag", etag)]
        headers += [(k.lower().encode(), v.encode()) for k, v in self.mount.extra_headers]
        gzipped = None
        if len(body) >= _MIN_GZIP_BYTES and content_type.startswith(_COMPRESSIBLE):
            gzipped = gzip.compress(body, compresslevel=9, mtime=0)
            headers.append((b"vary", b"Accept-Encoding"))
        self.body, self.gzipped, self.headers, self.etag = body, gzipped, headers, etag


def _content_type(path: Path) -> str:
    if path.suffix == ".woff2":
        return "font/woff2"
    guessed, encoding = mimetypes.guess_type(path.name)
    if encoding is not None or guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/") or guessed in ("application/javascript", "application/json"):
        return f"{guessed}; charset=utf-8" if "charset" not in guessed else guessed
    return guessed


def index_files(mounts: list[Mount]) -> dict[str, _Entry]:
    """Every regular file of every mount, by the URL path it is served at."""
    files: dict[str, _Entry] = {}
    for mount in mounts:
        root = mount.folder.resolve()
        if not root.is_dir():
            continue
        for folder, _dirs, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                if name.endswith(mount.skip_suffixes) or not path.is_file():
                    continue
                relative = path.relative_to(root).as_posix()
                files.setdefault(mount.prefix + relative, _Entry(path, mount, relative))
    return files


def _accepts_gzip(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"accept-encoding":
            return any(part.split(b";")[0].strip() == b"gzip" for part in value.lower().split(b","))
    return False


def _header(headers: list[tuple[bytes, bytes]], wanted: bytes) -> bytes | None:
    for name, value in headers:
        if name == wanted:
            return value
    return None


class StaticCache:
    """ASGI middleware answering the files of ``mounts`` from memory (see the module docstring).

    Parameters
    ----------
    app
        The application every other request goes to (Streamlit's).
    mounts
        The folders to serve and their URL prefixes (without the server's base URL path).
    """

    def __init__(self, app: ASGIApp, *, mounts: list[Mount]) -> None:
        self.app = app
        self.files = index_files(mounts)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        entry = self.files.get(path)
        headers = scope.get("headers", [])
        # Ranges are rare for these files; Streamlit answers them as before.
        if entry is None or _header(headers, b"range") is not None:
            await self.app(scope, receive, send)
            return
        if entry.body is None:
            entry.load()
        if _header(headers, b"if-none-match") == entry.etag:
            await send({"type": "http.response.start", "status": 304,
                        "headers": [h for h in entry.headers if h[0] in (b"cache-control", b"etag", b"vary")]})
            await send({"type": "http.response.body", "body": b""})
            return
        body = entry.body
        out = list(entry.headers)
        if entry.gzipped is not None and _accepts_gzip(headers):
            body = entry.gzipped
            out.append((b"content-encoding", b"gzip"))
        assert body is not None
        out.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": out})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
