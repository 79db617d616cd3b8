"""Moving a workspace between stores (SQLite <-> PostgreSQL/PostGIS): every scenario and saved layer
with its ids, versions, timestamps and whole history, and every confirmed park outline with its
history (``copy_outlines``), verified by counts, versions and checksums.

``copy_store`` is safe to run again: rows already copied are left alone, rows the source has moved
on are brought up to date, and anything the target changed on its own (a newer version there, a
different content at the same version, a live name used by another scenario) stops the copy with
a message before anything is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from geo.errors import StoreCopyError  # noqa: F401  re-exported
from geo.osm_store import ParkGeometryStore
from geo.scenarios import ScenarioStore
from geo.store_backend import PostgresBackend

_SCENARIO_COLUMNS = ("id", "name", "kind", "version", "created_at", "updated_at", "author", "features", "area_m2",
                     "deleted_at", "content")
_HISTORY_COLUMNS = ("scenario_id", "version", "saved_at", "author", "change", "content")



@dataclass(frozen=True)
class StoreSummary:
    """What a store holds, and one checksum over all of it."""

    backend: str
    location: str
    schema_version: int
    scenarios: int
    layers: int
    deleted: int
    history: int
    checksum: str
    outlines: int | None = None
    outline_history: int | None = None
    outlines_checksum: str | None = None


@dataclass(frozen=True)
class OutlineCopyReport:
    copied: int
    restored: int
    unchanged: int
    history_added: int
    checksum: str


@dataclass(frozen=True)
class CopyReport:
    copied: int
    updated: int
    unchanged: int
    history_added: int
    source: StoreSummary
    target: StoreSummary


def _rows(store: ScenarioStore) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with store.backend.read() as connection:
        scenarios = [tuple(r) for r in connection.execute(
            f"SELECT {', '.join(_SCENARIO_COLUMNS)} FROM scenario ORDER BY id").fetchall()]
        history = [tuple(r) for r in connection.execute(
            f"SELECT {', '.join(_HISTORY_COLUMNS)} FROM scenario_history ORDER BY scenario_id, version").fetchall()]
    return ([(*r[:-1], bytes(r[-1])) for r in scenarios], [(*r[:-1], bytes(r[-1])) for r in history])


def _digest(scenarios: list[tuple[Any, ...]], history: list[tuple[Any, ...]]) -> str:
    """sha256 over every row (content by its own sha256), in id order: equal on two stores when
    they hold the same scenarios, versions, names, dates and histories."""
    total = hashlib.sha256()
    for row in scenarios:
        total.update(repr((*row[:8], None if row[8] is None else round(float(row[8]), 6), row[9],
                           hashlib.sha256(row[10]).hexdigest())).encode())
    for row in history:
        total.update(repr((*row[:-1], hashlib.sha256(row[-1]).hexdigest())).encode())
    return total.hexdigest()


def schema_version(store: ScenarioStore) -> int:
    if isinstance(store.backend, PostgresBackend):
        from geo import store_pg

        return store_pg.schema_version(store.backend)
    with store.backend.read() as connection:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])


def summary(store: ScenarioStore, outlines: ParkGeometryStore | None = None) -> StoreSummary:
    """Backend, address (no password), schema version, counts and checksum of ``store`` (and of the
    confirmed park outlines of ``outlines``, the same store's)."""
    scenarios, history = _rows(store)
    live = [r for r in scenarios if r[9] is None]
    outline_rows = outlines.rows() if outlines is not None else None
    return StoreSummary(backend=store.kind, location=str(store.path), schema_version=schema_version(store),
                        scenarios=sum(r[2] != "import" for r in live), layers=sum(r[2] == "import" for r in live),
                        deleted=len(scenarios) - len(live), history=len(history),
                        checksum=_digest(scenarios, history),
                        outlines=None if outline_rows is None else len(outline_rows[0]),
                        outline_history=None if outline_rows is None else len(outline_rows[1]),
                        outlines_checksum=None if outline_rows is None else _outline_digest(*outline_rows))


def _outline_digest(overrides: list[tuple[Any, ...]], history: list[tuple[Any, ...]]) -> str:
    """sha256 over every override and history entry (geometries by their 2D WKB), in key order."""
    total = hashlib.sha256()
    for row in [*overrides, *history]:
        total.update(repr(tuple(hashlib.sha256(v).hexdigest() if isinstance(v, bytes)
                                else round(v, 6) if isinstance(v, float) else v for v in row)).encode())
    return total.hexdigest()


def copy_outlines(source: ParkGeometryStore, target: ParkGeometryStore) -> OutlineCopyReport:
    """Copy every confirmed park outline and its history from ``source`` into ``target``, verified.

    The target ends with the source's override (or none, if the source restored it) for every park
    the source's history names, and with every history entry under its number. Safe to run again.

    Raises
    ------
    StoreCopyError
        If the target has history of its own for those parks (applied or restored there since a
        copy): nothing is written then. Or if the copy does not match the source afterwards.
    """
    overrides, history = source.rows()
    parks = {r[1] for r in history} | {r[0] for r in overrides}
    by_park = {r[0]: r for r in overrides}
    with target.transaction() as connection:
        there_overrides, there_history = target.rows(connection)
        entries = {r[0]: r for r in history}
        for row in there_history:
            if row[1] in parks and entries.get(row[0]) != row:
                raise StoreCopyError(
                    f"the target's outline history entry {row[0]} ({row[2]} of park {row[1]!r}, {row[3]}) is not"
                    " the source's: the outline was changed there since the copy; nothing was copied; settle"
                    " which store is right (python -m geo osm list) before copying again")
        known = {r[0] for r in there_history}
        added = [r for r in history if r[0] not in known]
        current = {r[0]: r for r in there_overrides}
        changed = [r for p, r in sorted(by_park.items()) if current.get(p) != r]
        gone = sorted(p for p in parks if p not in by_park and p in current)
        target.write_rows(connection, overrides=changed, deleted=gone, history=added)
    copied_overrides, copied_history = target.rows()
    mine = [r for r in copied_overrides if r[0] in parks]
    mine_history = [r for r in copied_history if r[1] in parks]
    checksum = _outline_digest(overrides, history)
    if _outline_digest(mine, mine_history) != checksum:
        raise StoreCopyError(f"the outlines copied to {target.location} do not match the source"
                             f" ({len(mine)}/{len(overrides)} outlines, {len(mine_history)}/{len(history)} history"
                             " entries): run the command again; if it persists, report it")
    return OutlineCopyReport(copied=len(changed), restored=len(gone), unchanged=len(overrides) - len(changed),
                             history_added=len(added), checksum=checksum)



def copy_store(source: ScenarioStore, target: ScenarioStore) -> CopyReport:
    """Copy every scenario and saved layer of ``source`` into ``target`` and verify the copy.

    Raises
    ------
    StoreCopyError
        If the target has changes of its own (nothing is written then), or if the copied rows do
        not match the source afterwards.
    """
    scenarios, history = _rows(source)
    copied = updated = unchanged = history_added = 0
    with target._transaction() as tx:
        connection = tx.connection
        existing = {int(r[0]): tuple(r) for r in connection.execute(
            f"SELECT {', '.join(_SCENARIO_COLUMNS)} FROM scenario").fetchall()}
        live_names = {r[1]: int(r[0]) for r in existing.values() if r[9] is None}
        stored_history = {(int(r[0]), int(r[1])): hashlib.sha256(bytes(r[2])).hexdigest() for r in connection.execute(
            "SELECT scenario_id, version, content FROM scenario_history").fetchall()}
        # check everything before writing anything
        for row in scenarios:
            there = existing.get(int(row[0]))
            if there is not None and (int(there[3]) > int(row[3]) or (
                    int(there[3]) == int(row[3]) and bytes(there[10]) != row[10])):
                raise StoreCopyError(f"the target already holds {there[1]!r} (id {row[0]}) at version {there[3]},"
                                     f" changed there since the copy (the source has version {row[3]}):"
                                     " nothing was copied; copy into an empty store or settle which one is right")
            owner = live_names.get(row[1]) if row[9] is None else None
            if owner is not None and owner != int(row[0]):
                raise StoreCopyError(f"the target has another live scenario named {row[1]!r} (id {owner}):"
                                     " nothing was copied; rename or delete one of them first")
        for row in history:
            digest = stored_history.get((int(row[0]), int(row[1])))
            if digest is not None and digest != hashlib.sha256(row[-1]).hexdigest():
                raise StoreCopyError(f"version {row[1]} of scenario id {row[0]} differs in the target: nothing"
                                     " was copied")
        placeholders = ", ".join("?" * len(_SCENARIO_COLUMNS))
        for row in scenarios:
            there = existing.get(int(row[0]))
            if there is not None and tuple(there[:10]) == tuple(row[:10]) and bytes(there[10]) == row[10]:
                unchanged += 1
                continue
            connection.execute(
                f"INSERT INTO scenario({', '.join(_SCENARIO_COLUMNS)}) VALUES ({placeholders})"
                " ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _SCENARIO_COLUMNS[1:]),
                row)
            tx.publish(int(row[0]), row[2], row[10])
            copied, updated = (copied + 1, updated) if there is None else (copied, updated + 1)
        for row in history:
            if (int(row[0]), int(row[1])) in stored_history:
                continue
            connection.execute(f"INSERT INTO scenario_history({', '.join(_HISTORY_COLUMNS)}) VALUES (?,?,?,?,?,?)",
                               row)
            history_added += 1
        if isinstance(target.backend, PostgresBackend):  # new scenarios get ids after the copied ones
            connection.execute("SELECT setval(pg_get_serial_sequence('scenario', 'id'),"
                               " (SELECT coalesce(max(id), 0) + 1 FROM scenario), false)")
    source_summary, target_summary = summary(source), summary(target)
    copied_scenarios, copied_history = _rows(target)
    ids = {int(r[0]) for r in scenarios}
    mine = [r for r in copied_scenarios if int(r[0]) in ids]
    mine_history = [r for r in copied_history if int(r[0]) in ids]
    if _digest(mine, mine_history) != source_summary.checksum:
        raise StoreCopyError(f"the copy in {target.path} does not match the source {source.path} (counts"
                             f" {len(mine)}/{len(scenarios)} scenarios, {len(mine_history)}/{len(history)} versions):"
                             " run the command again; if it persists, report it")
    return CopyReport(copied=copied, updated=updated, unchanged=unchanged, history_added=history_added,
                      source=source_summary, target=target_summary)
