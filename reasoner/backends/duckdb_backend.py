"""Embedded DuckDB: the default engine for bulk work (access matrices, audits, exports).

Why DuckDB: measured on this project's workload it materialises the large access matrix
(16.9M rows) in about 5 s, where pyDatalog's all-free query takes 153 s and 8 GB
(/work/shared/spec/engines.md). It runs in-process, needs no server and no JVM, and writes
Parquet and CSV itself.

The program is compiled by :mod:`reasoner.backends.sql_compiler` (the same rules the point
path runs); this module only says how DuckDB stores a relation: one table per predicate,
created with its types and filled by ``INSERT ... SELECT``. Input facts go in through Arrow
(one columnar batch per predicate), far faster than row-wise ``executemany``.

Not for statement-by-statement replay: every change re-materialises the whole program on the
next question (bulk engines recompute; the pyDatalog backend answers changes at once).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from reasoner.backends.base import Value
from reasoner.backends.sql_compiler import INT, SYM, Relation, SqlBackend, SqlEngine

__all__ = ["DuckDBBackend", "DuckDBEngine", "arrow_table"]


def arrow_table(rel: Relation, rows: Sequence[tuple[Value, ...]]) -> pa.Table:
    """Rows of a relation as an Arrow table with the relation's column types."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in rel.columns]
    types = {INT: pa.int64(), SYM: pa.int32()}
    arrays = [pa.array(list(values), type=types.get(kind, pa.string()))
              for values, kind in zip(columns, rel.kinds, strict=True)]
    return pa.Table.from_arrays(arrays, names=list(rel.columns))


class DuckDBEngine(SqlEngine):
    """The :class:`SqlEngine` operations as DuckDB statements on one connection."""

    dialect = "duckdb"

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection
        self.tables: set[str] = set()
        self.statements = 0

    def sql(self, expression: exp.Expression) -> str:
        return expression.sql(dialect=self.dialect)

    def run(self, expression: exp.Expression | str) -> duckdb.DuckDBPyConnection:
        self.statements += 1
        text = expression if isinstance(expression, str) else self.sql(expression)
        return self.connection.execute(text)

    def _create(self, rel: Relation) -> None:
        create = rel.create()
        create.set("replace", True)
        self.run(create)
        self.tables.add(rel.table)

    def store(self, rel: Relation, query: exp.Query) -> None:
        self._create(rel)
        self.run(exp.insert(query, exp.Table(this=exp.to_identifier(rel.table, quoted=True))))

    def store_rows(self, rel: Relation, rows: Sequence[tuple[Value, ...]]) -> None:
        self._create(rel)
        if not rows:
            return
        batch = arrow_table(rel, rows)
        name = "_arrow_" + rel.table
        self.connection.register(name, batch)
        try:
            target = exp.Table(this=exp.to_identifier(rel.table, quoted=True))
            source = exp.select("*").from_(exp.Table(this=exp.to_identifier(name, quoted=True)))
            self.run(exp.insert(source, target))
        finally:
            self.connection.unregister(name)

    def append(self, target: Relation, source: Relation) -> None:
        table = exp.Table(this=exp.to_identifier(target.table, quoted=True))
        self.run(exp.insert(source.select_all(), table))

    def move(self, source: Relation, target: Relation) -> None:
        self.drop(target)
        self.run(f'ALTER TABLE "{source.table}" RENAME TO "{target.table}"')
        self.tables.discard(source.table)
        self.tables.add(target.table)

    def is_empty(self, rel: Relation) -> bool:
        query = exp.select(exp.Literal.number(1)).from_(
            exp.Table(this=exp.to_identifier(rel.table, quoted=True))).limit(1)
        return self.run(query).fetchone() is None

    def drop(self, rel: Relation) -> None:
        self.run(exp.Drop(kind="TABLE", exists=True,
                          tables=[exp.Table(this=exp.to_identifier(rel.table, quoted=True))]))
        self.tables.discard(rel.table)

    def fetch(self, query: exp.Query) -> list[tuple[Any, ...]]:
        return self.run(query).fetchall()

    def reset(self) -> None:
        """Drop every table this engine created."""
        for table in sorted(self.tables):
            self.run(f'DROP TABLE IF EXISTS "{table}"')
        self.tables.clear()


class DuckDBBackend(SqlBackend):
    """The whole program materialised in an embedded DuckDB database.

    ``database``: ``":memory:"`` (default) or a file, for relations larger than memory.
    ``strategy``: ``"semi-naive"`` (the portable Python loop) or ``"recursive-cte"``
    (DuckDB's ``WITH RECURSIVE ... UNION`` where the component allows it).
    ``targets``: materialise only what these predicates depend on (None: everything).
    ``intern``: strings as ranks in a dictionary (default) or as text.
    ``memory_limit`` / ``threads``: DuckDB settings (``"4GB"``, 2); its defaults otherwise.
    """

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, database: str | Path = ":memory:", *, strategy: str = "semi-naive",
                 targets: Iterable[str] | None = None, intern: bool = True,
                 memory_limit: str | None = None, threads: int | None = None) -> None:
        super().__init__(strategy=strategy, targets=targets, intern=intern)
        self._lock = threading.RLock()
        # insertion order is never relied on (answers are sorted), and dropping it lets
        # DuckDB stream joins in parallel with less memory
        config: dict[str, Any] = {"preserve_insertion_order": False}
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        if threads is not None:
            config["threads"] = threads
        self.connection = duckdb.connect(str(database), config=config)
        self._db = DuckDBEngine(self.connection)

    def __repr__(self) -> str:
        return f"DuckDBBackend({len(self._program.rules)} rules)"

    def _guard(self) -> Any:
        return self._lock

    def _engine(self) -> DuckDBEngine:
        return self._db

    def _reset(self) -> None:
        self._db.reset()

    @property
    def engine(self) -> DuckDBEngine:
        """The engine, for callers that add their own tables (e.g. the access matrix)."""
        return self._db

    def close(self) -> None:
        with self._lock:
            self.connection.close()
