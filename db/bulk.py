"""Set-based statements over a batch passed as one JSON parameter, on SQLite and PostgreSQL.

A tick writes 50,000 check-ins and outbox rows at 09:00. As an executemany, SQLAlchemy
processed every value of every row in Python (timestamps formatted for SQLite, JSON encoded,
parameters bound one by one): that was most of the tick. Here the batch is one JSON array,
encoded at once by json.dumps (C), and the database expands it (`json_each` on SQLite,
`json_array_elements` on PostgreSQL) in an INSERT ... SELECT or UPDATE ... FROM.

Values in the array are what the column stores: timestamps as `stored_timestamp` makes them
(the text SQLAlchemy writes on SQLite, ISO 8601 with the offset on PostgreSQL), JSON columns as
their JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import BigInteger, Dialect, TextClause, column, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TextualSelect

from db.types import UTCDateTime

Kind = Literal["int", "text", "timestamp", "json"]

_PG_CASTS = {"int": "::bigint", "text": "", "timestamp": "::timestamptz", "json": "::json"}
_UTC = UTCDateTime()


def dialect_of(session: AsyncSession) -> Dialect:
    return session.get_bind().dialect


def stored_timestamp(dialect: Dialect, value: datetime | None) -> str | None:
    """A UTC datetime as the JSON batch carries it: exactly what the column would store."""
    if value is None:
        return None
    processor = _UTC.dialect_impl(dialect).bind_processor(dialect)
    stored = processor(value) if processor is not None else value
    return stored if isinstance(stored, str) else stored.isoformat()


def rows_source(dialect: Dialect, columns: Sequence[tuple[str, Kind]], name: str = "rows") -> str:
    """A subquery yielding one row, with these named columns, per element of the JSON array
    bound as `:name` (each element a JSON array in column order)."""
    if dialect.name == "postgresql":
        fields = ", ".join(f"(e->>{i}){_PG_CASTS[kind]} AS {column}"
                           for i, (column, kind) in enumerate(columns))  # fmt: skip
        return f"(SELECT {fields} FROM jsonb_array_elements(CAST(:{name} AS jsonb)) AS e)"  # noqa: S608
    fields = ", ".join(f"json_extract(value, '$[{i}]') AS {column}"
                       for i, (column, _kind) in enumerate(columns))  # fmt: skip
    return f"(SELECT {fields} FROM json_each(:{name}))"  # noqa: S608 - names are constants


def id_set(dialect: Dialect, name: str) -> str:
    """A SELECT of the integers in the JSON array bound as `:name` (for `x IN (...)`; not
    parenthesized: `IN ((SELECT ...))` would be a scalar subquery, its first row only)."""
    if dialect.name == "postgresql":
        return f"SELECT jsonb_array_elements_text(CAST(:{name} AS jsonb))::bigint"  # noqa: S608
    return f"SELECT value FROM json_each(:{name})"  # noqa: S608 - a constant name


def ids_in(dialect: Dialect, ids: Iterable[int], name: str = "ids") -> TextualSelect:
    """The integers as a subquery for a Core `column.in_(...)`: one parameter, however many
    (an expanding IN of 1,000 ids cost more to bind than the query took to run)."""
    return (text(id_set(dialect, name)).bindparams(**{name: batch(ids)})
            .columns(column("value", BigInteger)))  # fmt: skip


def param(dialect: Dialect, name: str, kind: Kind) -> str:
    """A bound parameter in SQL text, cast as the column needs it on PostgreSQL (a timestamp
    or JSON column does not take text there; SQLite stores the text itself)."""
    if dialect.name == "postgresql" and _PG_CASTS[kind]:
        return f"CAST(:{name} AS {_PG_CASTS[kind][2:]})"
    return f":{name}"


def batch(values: Iterable[Any]) -> str:
    """The JSON parameter itself."""
    return json.dumps(list(values), separators=(",", ":"))


def statement(sql: str, **params: Any) -> TextClause:
    return text(sql).bindparams(**params)
