"""Test databases commit without waiting for the disk: every SQLite connection this process
opens gets PRAGMA synchronous=OFF. For the test session only (tests/conftest.py, and the
processes the tests start, through tests/subprocess_site/); the product's engine keeps SQLite's
default (db/engine.py). A test database is thrown away, so what a crash could lose is nothing
a test looks at, and each commit no longer waits for an fsync."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

_installed = False


def _no_sync(dbapi_connection, _record) -> None:
    if "sqlite" not in type(dbapi_connection).__module__:
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def commit_without_waiting_for_the_disk() -> None:
    """Listen on every engine's new connections (the Engine class), once."""
    global _installed
    if not _installed:
        event.listen(Engine, "connect", _no_sync)
        _installed = True
