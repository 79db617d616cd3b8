"""Where the shared stores live: an SQLite file in the data folder (the default) or a PostgreSQL/PostGIS
database (``PHARMA_MAP_DATABASE_URL=postgresql://...``), behind one small interface.

A store (``geo.scenarios.ScenarioStore``) writes the same simple, parametrised SQL (``?``
placeholders) to either backend and gets the same guarantees from both:

- ``write()`` is one transaction that waits for every other writer of the store (SQLite: ``BEGIN
  IMMEDIATE``; PostgreSQL: ``LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE``, which readers never wait
  for), so a version check made inside it holds across threads, processes and app servers;
- a transaction that returned is durable (SQLite: WAL with ``synchronous=FULL``; PostgreSQL:
  ``synchronous_commit`` as the server has it, ``on`` by default) and a killed process or server
  leaves the old state or the new one, never half;
- an unreachable database raises ``StoreUnavailableError`` with the address (no password) and what
  to do; the PostgreSQL pool reconnects by itself when the server is back.

``open_backend`` is the one way a store picks its backend (scenarios and saved layers in
``planner.sqlite``, confirmed park outlines in ``park_geometry.sqlite``, or all of them in the one
PostgreSQL database, migrated once per process).

The setting is read here (environment, then Streamlit's ``secrets.toml`` files, read as TOML so the
core stays UI-free).
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
import time
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from geo import config, storage
from geo.errors import GeoError, StoreError, StoreUnavailableError  # noqa: F401  re-exported

DATABASE_URL_ENV = config.DATABASE_URL_ENV
CONNECT_TIMEOUT_S = 5.0
POOL_TIMEOUT_S = 5.0
#: After a failed connection, calls within this many seconds fail at once with the same message
#: (a page reads the stores several times per run; it should not wait for each), then one tries again.
RETRY_AFTER_S = 2.0


def redact(url: str) -> str:
    """``url`` without its password, for messages, logs and cache keys."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _secrets_files() -> list[Path]:
    from geo.snapshot import PROJECT_ROOT

    return [Path.cwd() / ".streamlit" / "secrets.toml", PROJECT_ROOT / ".streamlit" / "secrets.toml",
            Path.home() / ".streamlit" / "secrets.toml"]


def database_url(explicit: str | None = None) -> str | None:
    """The configured shared database: ``explicit``, else $PHARMA_MAP_DATABASE_URL, else the key of
    that name in Streamlit's ``secrets.toml`` (the project's or the user's); None means SQLite in
    the data folder (as does the variable set but empty)."""
    if explicit:
        return explicit
    value = config.database_url_setting()
    if value is not None:  # set, even empty (SQLite), the environment decides
        return value or None
    for path in _secrets_files():
        try:
            secrets = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        found = secrets.get(DATABASE_URL_ENV)
        if isinstance(found, str) and found:
            return found
    return None


def sqlite_folder(url: str) -> Path:
    """The data folder of ``sqlite:///PATH`` (relative) or ``sqlite:////abs/PATH``."""
    if not url.startswith("sqlite:///"):
        raise StoreError(f"{url!r} is not an SQLite store address: write sqlite:///FOLDER (a data folder,"
                         " relative) or sqlite:////absolute/folder")
    return Path(unquote(url[len("sqlite:///"):]))


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.split("://", 1)[0] in ("postgresql", "postgres")


# --------------------------------------------------------------------------- connections

class Connection(Protocol):
    """What a store sees of a connection: ``execute`` with ``?`` placeholders, rows that can be
    read by position or by column name."""

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...


class Backend(Protocol):
    kind: str
    location: str

    def read(self) -> Any: ...

    def write(self, table: str) -> Any: ...


class SQLiteBackend:
    """One SQLite file (``geo.storage.connect``: WAL, ``synchronous=FULL``)."""

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)

    def _connect(self) -> sqlite3.Connection:
        connection = storage.connect(self.path)
        connection.row_factory = sqlite3.Row
        return connection

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        connection = self._connect()
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def write(self, table: str) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on any error."""
        del table  # SQLite locks the whole file
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        finally:
            connection.close()


class _Row(tuple):
    """A row readable by position and by column name, like ``sqlite3.Row``."""

    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    description = cursor.description or []
    names = {column.name: index for index, column in enumerate(description)}
    row_class = type("Row", (_Row,), {"_names": names})

    def make(values: Sequence[Any]) -> _Row:
        return row_class(values)

    return make


class _PgConnection:
    """A psycopg connection that takes the stores' ``?`` placeholders."""

    def __init__(self, connection: Any) -> None:
        self.raw = connection

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(self._sql(sql), tuple(params))  # a tuple, even empty: "%%" is then "%"

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        cursor = self.raw.cursor()
        cursor.executemany(self._sql(sql), rows)
        return cursor


_POOLS: dict[str, Any] = {}
_POOLS_LOCK = threading.Lock()
_DOWN: dict[str, tuple[float, BaseException]] = {}  # url -> (when it last failed, why)


def _pool(url: str) -> Any:
    """The process's connection pool for ``url`` (1 to $PHARMA_MAP_DATABASE_POOL_MAX connections,
    each checked before use, so a restarted server is reconnected to; a caller waits at most
    ``POOL_TIMEOUT_S`` for a connection)."""
    import psycopg
    from psycopg_pool import ConnectionPool

    with _POOLS_LOCK:
        pool = _POOLS.get(url)
        if pool is None:
            # One direct attempt first: a refused or unknown address fails at once, not after the
            # pool's timeout (and no pool is kept for it, so the next call tries again).
            psycopg.connect(url, connect_timeout=int(CONNECT_TIMEOUT_S)).close()
            pool = ConnectionPool(url, min_size=1, max_size=config.database_pool_max(), open=False, timeout=POOL_TIMEOUT_S,
                                  check=ConnectionPool.check_connection, name=f"pharma-map {redact(url)}",
                                  kwargs={"connect_timeout": int(CONNECT_TIMEOUT_S),
                                          "application_name": "pharma-map"})
            pool.open(wait=False)
            if not _POOLS:
                atexit.register(close_pools)
            _POOLS[url] = pool
        return pool


def _forget_pool(url: str, exc: BaseException) -> None:
    """The server went away: close the pool (its next user connects afresh, failing at once while the
    server is down instead of waiting for the pool) and remember when, for ``RETRY_AFTER_S``."""
    _DOWN[url] = (time.monotonic(), exc)
    with _POOLS_LOCK:
        pool = _POOLS.pop(url, None)
    if pool is not None:
        pool.close(timeout=0)


def close_pools() -> None:
    """Close every pool of this process (tests, the end of a command)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
        _DOWN.clear()
    for pool in pools:
        pool.close()


class PostgresBackend:
    """A PostgreSQL database with PostGIS, reached through a pooled psycopg 3 connection."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = redact(url)

    def _unavailable(self, exc: BaseException) -> StoreUnavailableError:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StoreUnavailableError(
            f"the shared database {self.location} cannot be reached ({reason}): the map still shows the"
            f" bundled data, but saved scenarios, saved layers and confirmed park outlines are unavailable"
            f" until it is back (the app reconnects by itself); check that the server runs and that"
            f" {DATABASE_URL_ENV} is right")

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        import psycopg
        from psycopg_pool import PoolTimeout

        down = _DOWN.get(self.url)
        if down is not None and time.monotonic() - down[0] < RETRY_AFTER_S:
            raise self._unavailable(down[1])
        try:
            with _pool(self.url).connection() as connection:
                connection.row_factory = _row_factory
                yield connection
        except (psycopg.OperationalError, PoolTimeout) as exc:
            if isinstance(exc, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable):
                raise
            _forget_pool(self.url, exc)
            raise self._unavailable(exc) from exc
        _DOWN.pop(self.url, None)

    @contextmanager
    def read(self) -> Iterator[_PgConnection]:
        with self._connection() as connection:
            yield _PgConnection(connection)

    @contextmanager
    def write(self, table: str) -> Iterator[_PgConnection]:
        """One transaction that first waits for every other writer of ``table`` (readers go on)."""
        with self._connection() as connection, connection.transaction():
            connection.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            yield _PgConnection(connection)

    @contextmanager
    def session(self) -> Iterator[_PgConnection]:
        """A connection for schema work (migrations), autocommit off."""
        with self._connection() as connection:
            yield _PgConnection(connection)


# --------------------------------------------------------------------------- choosing a backend

_MIGRATED: set[str] = set()


def open_backend(directory: str | os.PathLike[str] | None = None, *, url: str | None = None,
                 filename: str) -> Backend:
    """The backend of a store: the one way every store chooses.

    Parameters
    ----------
    directory : path, optional
        The data folder of an SQLite store; given, it wins over the configured database.
    url : str, optional
        ``postgresql://...`` or ``sqlite:///FOLDER``; default: the configured database
        (``database_url``), else SQLite in ``config.data_dir()``.
    filename : str
        The store's SQLite file in the data folder (``planner.sqlite``, ``park_geometry.sqlite``).

    Returns
    -------
    Backend
        ``SQLiteBackend`` (the caller creates its tables) or ``PostgresBackend``, its schema
        migrated to ``geo.store_pg.SCHEMA_VERSION`` once per process.

    Raises
    ------
    StoreUnavailableError
        If the PostgreSQL database cannot be reached.
    StoreError
        For an address of another kind of database.
    """
    chosen = url if url is not None else (None if directory is not None else database_url())
    if chosen and is_postgres(chosen):
        from geo import store_pg

        backend = PostgresBackend(chosen)
        if chosen not in _MIGRATED:
            store_pg.migrate(backend)
            _MIGRATED.add(chosen)
        else:  # migrated before: is it there now? (a store that opens is one that answers)
            with backend.read() as connection:
                connection.execute("SELECT 1")
        return backend
    if chosen and not chosen.startswith("sqlite:"):
        raise StoreError(f"{chosen.split('://')[0]!r} databases are not supported (store address"
                         f" {redact(chosen)[:80]!r}): use postgresql://user@host:port/db or sqlite:///FOLDER")
    return SQLiteBackend(config.data_dir(sqlite_folder(chosen) if chosen else directory) / filename)
