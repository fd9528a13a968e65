"""Whole-database snapshots for tests that must prove nothing changed (the authorization matrix,
the fuzz test): every table's rows, the rows that are one participant's, a restore, and a net
for errors the bot logs (bot.common.on_error) while a test drives it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, insert, select, text

from db.models import Base

Snapshot = dict[str, dict[tuple, dict[str, Any]]]

# Kept only to make delivery exactly-once: every update is stored before it is handled.
BOOKKEEPING = frozenset({"inbound_updates"})
# Tables that hold nobody's personal data (the program's meeting list, the bot's own facts,
# the count of paid broadcast messages a day) or staff data. A new table must be added here or
# link to a participant. "awaiting" is routing only (which question a Telegram user's next
# message answers: a kind and an internal id); a participant's row goes with /deleteme.
NOT_PARTICIPANT_DATA = frozenset({"counselors", "meetings", "bot_state", "inbound_updates",
                                  "awaiting", "dashboard_login_tokens", "dashboard_sessions",
                                  "paid_broadcast_days"})
TABLES = {table.name: table for table in Base.metadata.sorted_tables}


async def snapshot(sessionmaker, skip: frozenset[str] = BOOKKEEPING) -> Snapshot:
    """Every row of every table (but `skip`), keyed by primary key."""
    taken: Snapshot = {}
    async with sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            key = [column.name for column in table.primary_key.columns]
            rows = (await session.execute(select(table))).mappings().all()
            taken[table.name] = {tuple(row[k] for k in key): dict(row) for row in rows}
    return taken


def _fingerprint_sql(dialect: str, skip: frozenset[str]) -> str:
    """One query whose single row has, for each table but `skip`, all its rows as one string
    in primary-key order: the database's own text of each value, so two equal strings mean
    equal rows (SQLite's quote() keeps a REAL's every digit and shows a BLOB in hex). The
    names in it are our own tables' and columns' (S608)."""
    parts = []
    for table in Base.metadata.sorted_tables:
        if table.name in skip:
            continue
        key = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
        if dialect == "sqlite":
            row = " || ',' || ".join(f'quote("{c.name}")' for c in table.columns)
            parts.append(f'(SELECT group_concat(r, char(10)) FROM (SELECT {row} AS r '  # noqa: S608
                         f'FROM "{table.name}" ORDER BY {key}))')  # fmt: skip
        else:
            order = ", ".join(f't."{c.name}"' for c in table.primary_key.columns)
            parts.append(f"(SELECT string_agg(t::text, chr(10) ORDER BY {order}) "  # noqa: S608
                         f'FROM "{table.name}" t)')  # fmt: skip
    return "SELECT " + ", ".join(parts)


_FINGERPRINTS: dict[tuple[str, frozenset[str]], str] = {}


async def fingerprint(sessionmaker, skip: frozenset[str] = BOOKKEEPING) -> tuple:
    """Every row of every table (but `skip`) in one query and no conversion of values: equal
    fingerprints are equal snapshots, at a fraction of snapshot()'s cost. For tests that
    usually change nothing: compare fingerprints, and take the snapshot only when they differ."""
    async with sessionmaker() as session:
        dialect = session.bind.dialect.name
        sql = _FINGERPRINTS.get((dialect, skip))
        if sql is None:
            sql = _FINGERPRINTS[(dialect, skip)] = _fingerprint_sql(dialect, skip)
        return tuple((await session.execute(text(sql))).one())


async def snapshot_unless_same(sessionmaker, before: Snapshot, printed: tuple,
                               skip: frozenset[str] = BOOKKEEPING) -> Snapshot:  # fmt: skip
    """snapshot(), or `before` itself when the database's fingerprint is still `printed`
    (the fingerprint taken with `before`): the same rows, without reading them all."""
    if await fingerprint(sessionmaker, skip) == printed:
        return before
    return await snapshot(sessionmaker, skip)


async def restore(sessionmaker, taken: Snapshot) -> None:
    """Put every snapshotted table back as it was (ids included)."""
    tables = [t for t in Base.metadata.sorted_tables if t.name in taken]
    async with sessionmaker.begin() as session:
        for table in reversed(tables):
            await session.execute(delete(table))
        for table in tables:
            rows = list(taken[table.name].values())
            if rows:
                await session.execute(insert(table), rows)


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    """What changed, table by table, readable in a failure."""
    found = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, {}), after.get(name, {})
        for key in sorted(set(old) | set(new), key=repr):
            if key not in old:
                found.append(f"{name} {key}: added")
            elif key not in new:
                found.append(f"{name} {key}: removed")
            elif old[key] != new[key]:
                changed = {c: (old[key][c], new[key][c]) for c in old[key]
                           if old[key][c] != new[key][c]}  # fmt: skip
                found.append(f"{name} {key}: {changed}")
    return found


def _links_to_participant(table) -> bool:
    if "participant_id" in table.columns or table.name == "participants":
        return True
    return any(_links_to_participant(fk.column.table) for fk in table.foreign_keys)


def participant_tables() -> set[str]:
    """Tables that can hold a participant's rows: linked to one by a key, or naming one."""
    linked = {name for name, table in TABLES.items() if _links_to_participant(table)}
    return linked | {"audit_log", "invites"}


def participant_rows(taken: Snapshot, participant_id: int) -> Snapshot:
    """The rows in `taken` that are this participant's: their own row, every row that carries
    their id or points (through foreign keys) at one that does, the audit entries about them,
    messages to their chat, and the invite they used."""
    person = taken["participants"].get((participant_id,))
    if person is None:
        return {}
    owned: Snapshot = {}
    for table in Base.metadata.sorted_tables:  # parents before children
        rows = taken.get(table.name, {})
        mine = {}
        for key, row in rows.items():
            if _owns(table, row, participant_id, person, owned):
                mine[key] = row
        owned[table.name] = mine
    return owned


def _owns(table, row, participant_id, person, owned: Snapshot) -> bool:
    if table.name == "participants":
        return row["id"] == participant_id
    if table.name == "audit_log":
        return row["subject"] == f"participant:{participant_id}"
    if table.name == "invites":
        return person["telegram_user_id"] is not None and (
            row["used_by_telegram_id"] == person["telegram_user_id"]
        )
    if row.get("participant_id") == participant_id:
        return True
    if table.name == "outbox" and person["chat_id"] is not None:
        return row["chat_id"] == person["chat_id"]
    for fk in table.foreign_keys:
        parent, value = fk.column.table.name, row.get(fk.parent.name)
        if value is not None and parent != "participants" and (value,) in owned.get(parent, {}):
            return True
    return False


@contextmanager
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    """Every ERROR the bot logs meanwhile: an exception that reached bot.common.on_error is
    logged there ("error while handling update ..."), as is any other failure worth a log."""
    caught: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            caught.append(record)

    handler = Catch(level=logging.ERROR)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield caught
    finally:
        root.removeHandler(handler)


def describe(records: list[logging.LogRecord]) -> str:
    lines = []
    for record in records:
        lines.append(f"{record.name}: {record.getMessage()}")
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(lines)
