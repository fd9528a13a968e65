"""SQLite has one dispatcher: a second `aftercare run` on the same file is refused."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


class AlreadyRunning(RuntimeError):
    pass


def sqlite_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


def hold_lock(database_url: str) -> int | None:
    """Take an exclusive lock beside the SQLite file for this process's lifetime (the OS drops
    it when the process ends, however it ends). Returns the descriptor; None on PostgreSQL."""
    path = sqlite_path(database_url)
    if path is None:
        return None
    lock = path.with_name(path.name + ".lock")
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(descriptor)
        raise AlreadyRunning(
            f"another aftercare process is already running on {path}. SQLite allows one; "
            "stop the other one, or use PostgreSQL (DATABASE_URL=postgresql+asyncpg://...) "
            "to run several workers."
        ) from exc
    return descriptor
