"""Hot statements: SQLAlchemy Core statements run straight on the DBAPI cursor of a SQLAlchemy Connection.

SQLAlchemy compiles each statement once per dialect and supplies every type conversion (JSON, dates, the
dialect's quirks) through its public type API. What is skipped is the per-execution bookkeeping of
`Connection.execute` (cache key, execution context, result object): about 30 µs a statement on this
project's machines, more than SQLite takes to run one of the webhook's indexed lookups. Only the few
statements every incoming message runs use this; everything else goes through `Connection.execute`.

Errors come out as SQLAlchemy's exceptions (IntegrityError, OperationalError, ...; a value a type cannot
convert is a StatementError); a lost connection is invalidated, with the rest of the pool, and reported with
`connection_invalidated`, like `Connection.execute` does. What is not done: the engine's `handle_error` event
hooks do not run (this project registers none). Statements run inside whatever transaction the Connection is
in (or none, in autocommit).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Table, bindparam, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import FromClause, Select

Statement = Select[Any] | UpdateBase  # a SELECT, or an INSERT/UPDATE/DELETE (with or without RETURNING)


@dataclass
class _Plan:
    compiled: Compiled
    sql: str
    positional: tuple[str, ...] | None  # bind names in order (qmark/numeric paramstyles); None = by name
    to_db: tuple[tuple[str, Callable[[Any], Any]], ...]  # bind name -> type conversion, once per name
    types: tuple[Any, ...]  # per result column, the dialect's implementation of its type
    # a SELECT, or DML with RETURNING (its own, or the dialect's implicit one): known when compiled, so the cursor's
    # description (psycopg builds it anew, one object per column, at every access) is read only at the first run
    returns_rows: bool
    # per result column, set at the first execution: some conversions depend on the type the database reports
    # (psycopg's float/numeric), which the cursor's description gives, as for Connection.execute
    from_db: tuple[Callable[[Any], Any] | None, ...] | None = None
    # the same, only the columns that have a conversion, by position (most have none: a wide row costs only those)
    converting: tuple[tuple[int, Callable[[Any], Any]], ...] = ()
    # what the cursor is given: psycopg takes the text as bytes, encoded and hashed (its statement cache's key) at
    # every execution when given a str; an ASCII text is the same bytes in every encoding PostgreSQL offers clients
    query: str | bytes = ""

    def converters(self, dialect: Dialect, description: Any) -> tuple[Callable[[Any], Any] | None, ...]:
        if self.from_db is None:
            # an INSERT without RETURNING of its own may get the dialect's implicit one (the new id): no conversion
            procs = tuple(impl.result_processor(dialect, desc[1])
                          for impl, desc in zip(self.types, description, strict=False)) \
                if len(self.types) == len(description) else (None,) * len(description)
            self.converting = tuple((i, proc) for i, proc in enumerate(procs) if proc is not None)
            self.from_db = procs
        return self.from_db


@dataclass(frozen=True)
class Result:
    rows: list[tuple[Any, ...]]
    rowcount: int

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


class Hot:
    """One statement, compiled once per dialect; `run(conn, params)` returns its converted rows."""

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, str, str, int], _Plan] = {}
        self._lock = threading.Lock()

    def plan(self, dialect: Dialect) -> _Plan:
        # what the compiled text depends on, and the engine: its type conversions may hold its own keys
        # (storage.sealed); a plan keeps its dialect alive, so the id is never reused for another one
        key = (dialect.name, dialect.driver, dialect.paramstyle, id(dialect))
        plan = self._plans.get(key)
        if plan is None:
            with self._lock:
                plan = self._plans.get(key) or self._compile(dialect)
                self._plans[key] = plan
        return plan

    def _compile(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect)
        to_db: dict[str, Callable[[Any], Any]] = {}  # a name bound in several places has one value
        for bind, name in compiled.bind_names.items():
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                to_db[compiled.escaped_bind_names.get(name, name)] = proc
        columns: Iterable[Any] = self.statement.exported_columns  # a SELECT's columns, or RETURNING's
        types = tuple(col.type.dialect_impl(dialect) for col in columns)
        positional = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        returns_rows = isinstance(self.statement, Select) or bool(getattr(compiled, "effective_returning", None))
        sql = str(compiled)
        query = sql.encode("ascii") if dialect.driver == "psycopg" and sql.isascii() else sql
        return _Plan(compiled, sql, positional, tuple(to_db.items()), types, returns_rows, query=query)

    def run(self, conn: Connection, params: Mapping[str, Any]) -> Result:
        dialect = conn.dialect
        plan = self.plan(dialect)
        values = plan.compiled.construct_params(params) or {}  # checks that every bind has a value
        try:
            for name, proc in plan.to_db:
                values[name] = proc(values[name])
        except Exception as exc:  # what execute() reports for a value its type cannot convert
            raise StatementError(f"({type(exc).__name__}) {exc}", plan.sql, params, exc) from exc
        args: Any = tuple(values[n] for n in plan.positional) if plan.positional is not None else values
        if not conn.in_transaction():
            conn.begin()  # what execute() does first: "commit as you go"
        fairy = conn.connection
        raw = fairy.dbapi_connection
        if raw is None:  # pragma: no cover - a detached or closed connection
            raise DBAPIError.instance(plan.sql, args, RuntimeError("connection is closed"), Exception)
        cursor = None
        try:
            cursor = raw.cursor()
            cursor.execute(plan.query, args)
            rows: list[tuple[Any, ...]] = cursor.fetchall() if plan.returns_rows else []  # type: ignore[assignment]
            description = cursor.description if plan.returns_rows and plan.from_db is None else None
            rowcount = cursor.rowcount
        except dialect.loaded_dbapi.Error as exc:
            lost = dialect.is_disconnect(exc, fairy, cursor)
            if lost:
                _invalidate(conn, exc)
            raise DBAPIError.instance(plan.sql, args, exc, dialect.loaded_dbapi.Error,
                                      connection_invalidated=lost, dialect=dialect) from exc
        finally:
            if cursor is not None:
                cursor.close()
        if plan.from_db is None and description:
            plan.converters(dialect, description)
        if rows and plan.converting:
            rows = [_converted(row, plan.converting) for row in rows]
        return Result(rows, rowcount)


def _converted(row: tuple[Any, ...], converting: tuple[tuple[int, Callable[[Any], Any]], ...]) -> tuple[Any, ...]:
    values = list(row)
    for i, proc in converting:
        values[i] = proc(values[i])
    return tuple(values)


def _invalidate(conn: Connection, exc: BaseException) -> None:
    """What `Connection.execute` does on a lost connection: a server that dropped one (a restart) has dropped
    them all, so every connection the pool handed out before now is replaced at its next checkout, then this
    one is closed. (`Pool._invalidate` is the call SQLAlchemy's own error handling makes for this.)"""
    if not conn.invalidated:
        conn.engine.pool._invalidate(conn.connection, exc)
        conn.invalidate(exc)


class NewRow:
    """One row's INSERT … ON CONFLICT DO NOTHING [RETURNING …] (storage.upsert's insert, for a row written at most
    once) as a Hot statement, built once per database; `run(conn, values)` returns the row inserted (its RETURNING
    columns), empty when a row clashing with a unique constraint was there. Binds are the column names."""

    def __init__(self, table: FromClause, columns: Iterable[str], returning: Iterable[str] = ()) -> None:
        """`table`: a mapped class's `__table__`."""
        self.table, self.columns, self.returning = cast(Table, table), tuple(columns), tuple(returning)
        self._hots: dict[str, Hot] = {}
        self._lock = threading.Lock()

    def _hot(self, dialect: str) -> Hot:
        hot = self._hots.get(dialect)
        if hot is None:
            values = {name: bindparam(name, type_=self.table.c[name].type) for name in self.columns}
            stmt: postgresql.Insert | sqlite.Insert
            if dialect == "postgresql":
                stmt = postgresql.insert(self.table).values(values).on_conflict_do_nothing()
            elif dialect == "sqlite":
                stmt = sqlite.insert(self.table).values(values).on_conflict_do_nothing()
            else:  # pragma: no cover - storage.db runs these two
                raise ValueError(f"no INSERT ... ON CONFLICT DO NOTHING for {dialect}")
            final: Statement = stmt.returning(*(self.table.c[name] for name in self.returning)) if self.returning \
                else stmt.inline()
            with self._lock:
                hot = self._hots.setdefault(dialect, Hot(final))
        return hot

    def run(self, conn: Connection, values: Mapping[str, Any]) -> Result:
        return self._hot(conn.dialect.name).run(conn, values)


T = TypeVar("T")


@dataclass(frozen=True)
class _Shape:
    """Where a mapped class's attributes sit in a row of its table's columns (`Table.c`, in order)."""

    mapper: Mapper[Any]
    keys: tuple[str, ...]
    primary: tuple[int, ...]  # the primary key's positions


_SHAPES: dict[type, _Shape] = {}


def _shape(cls: type) -> _Shape:
    found = _SHAPES.get(cls)
    if found is None:
        mapper: Mapper[Any] = inspect(cls)
        columns = list(cast(Table, mapper.local_table).c)
        names: list[Any] = [col.key for col in columns]
        found = _SHAPES.setdefault(cls, _Shape(
            mapper, tuple(mapper.get_property_by_column(col).key for col in columns),
            tuple(names.index(col.key) for col in mapper.primary_key)))  # in the identity key's order
    return found


def width(cls: type) -> int:
    """How many values `as_loaded` takes for `cls`: its table's columns."""
    return len(_shape(cls).keys)


def as_loaded(s: Session, cls: type[T], row: Sequence[Any]) -> T | None:
    """The ORM object of `cls` for `row`, every column of its table in `Table.c`'s order as a Hot statement read it
    (`select(*table.c, …)`), held by the session as if a query through it had loaded it: persistent, nothing
    changed, no SQL. An object the session holds already is returned as it is (a query does not overwrite what the
    session holds either); None when the primary key is NULL (the missing side of an outer join). Instead of a
    query through the session (`s.execute(select(cls, …))`), whose ORM execution and loading cost more than the
    statement on the hot path of a message (sqlalchemy.orm.make_transient_to_detached is made for this)."""
    shape = _shape(cls)
    ident = tuple(row[i] for i in shape.primary)
    if any(v is None for v in ident):
        return None
    held = s.identity_map.get(shape.mapper.identity_key_from_primary_key(ident))
    if held is not None:
        return cast(T, held)
    obj = shape.mapper.class_manager.new_instance()
    # column attributes only: their values live in the instance's dict, as the ORM's loading puts them there, and
    # make_transient_to_detached commits them all as loaded (set_committed_value per attribute costs more)
    instance_dict(obj).update(zip(shape.keys, row, strict=True))
    make_transient_to_detached(obj)
    s.add(obj)
    return cast(T, obj)
