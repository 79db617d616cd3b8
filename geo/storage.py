"""The SQLite settings every store of the data folder uses (planner scenarios, OSM outlines).

Write-ahead log with ``synchronous=FULL``: a transaction that returned is on disk, and a killed
process leaves either the old or the new state. Autocommit mode, so callers open their own
``BEGIN IMMEDIATE`` transactions and two writers queue instead of interleaving.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from geo.config import SQLITE_TIMEOUT_S


def connect(path: Path | str, *, timeout_s: float = SQLITE_TIMEOUT_S) -> sqlite3.Connection:
    """Open a store's database with the durability settings above."""
    connection = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection
