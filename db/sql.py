"""Small SQL helpers that differ by dialect."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable, Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, object_session

from db.models import Base


def dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def upsert_insert(session: AsyncSession):
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING (PostgreSQL and SQLite)."""
    return postgresql.insert if dialect(session) == "postgresql" else sqlite.insert


async def changed(session: AsyncSession, statement: Executable) -> int:
    """Run an UPDATE or DELETE (without RETURNING): how many rows it changed. SQLAlchemy
    returns a CursorResult for these but types Session.execute as a plain Result, and advises
    this cast (sqlalchemy/sqlalchemy#12913)."""
    return cast(CursorResult[Any], await session.execute(statement)).rowcount


async def insert_ignore(
    session: AsyncSession, model: type[Base], values: dict[str, Any], conflict: list[str]
) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new id, or None if it existed."""
    insert = upsert_insert(session)
    statement = (
        insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    ).returning(model.__table__.c.id)
    return (await session.execute(statement)).scalar_one_or_none()


def session_of(row: Base) -> Session:
    """The (sync) session a loaded row belongs to; a handler's rows always have one."""
    session = object_session(row)
    if session is None:
        raise RuntimeError(f"a {type(row).__name__} row outside any session")
    return session


def lock_skip_locked(session: AsyncSession, statement: Select) -> Select:
    """Row locks so several workers on PostgreSQL never take the same row; SQLite has one."""
    if dialect(session) == "postgresql":
        return statement.with_for_update(skip_locked=True)
    return statement
