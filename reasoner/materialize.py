"""The access matrix of a whole policy, built by a bulk SQL backend from the same rules.

    from reasoner.materialize import materialize
    matrix = materialize(reasoner, backend="duckdb")        # or "spark"
    matrix.who_can("select", "table", "db1.t1", account="acc1")
    matrix.what_can("acc1:joe")
    matrix.to_parquet("matrix.parquet")

Why a separate path: the point path (``Reasoner.who_can`` / ``what_can``) asks pyDatalog one
question at a time, top-down, which is exact and instant for one user but re-derives the
role closure for every question; "everything for everyone" is a bulk job (pyDatalog's
all-free query of the large matrix takes minutes and gigabytes). Here every fact of the
reasoner's :class:`~reasoner.facts.FactStore` goes to a SQL engine in bulk, the rule base is
compiled (:mod:`reasoner.backends.sql_compiler`) and only what ``user_may_via``
(``rules/matrixone/matrix.dl``) depends on is materialised. The last step, turning ids into
the names users write, is a join with the catalogue's names: naming, not semantics.

The rows say what ``what_can`` says, for every user at once: each privilege a user may use
on an object through a role granted to them (``via_role``, the role to SET ROLE to), with
ALL and OWNERSHIP spelled out. Rows on objects that no longer exist are left out, as
``what_can`` leaves them out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlglot import exp

from reasoner.backends.sql_compiler import STR, SYM, Codec, Evaluation, Relation, SqlBackend

if TYPE_CHECKING:
    from reasoner.api import Reasoner

MATRIX_PREDICATE = "user_may_via"  # (account, user, privilege, kind, object, root role)
COLUMNS = ("account", "user", "privilege", "kind", "object", "via_role")
BACKENDS = ("duckdb", "spark")

__all__ = ["BACKENDS", "COLUMNS", "Matrix", "MatrixRow", "materialize"]


class MatrixRow(NamedTuple):
    """One cell of the access matrix, in the names statements use."""

    account: str
    user: str
    privilege: str
    kind: str
    object: str  # "*" (the account), "db1" (a database), "db1.t1" (a table or view)
    via_role: str


def catalogue_names(reasoner: Reasoner) -> list[tuple[str, str, str]]:
    """(id, name, object as written) for every account, user, role, database and object."""
    catalogue = reasoner.engine.catalogue
    out = []
    for rec_id, rec in catalogue.by_id.items():
        described = catalogue.describe(rec_id)
        if described is None:
            continue
        name = getattr(rec, "name", described[1])
        out.append((rec_id, str(name), described[1]))
    return out


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _table(name: str, alias: str) -> exp.Expression:
    return exp.alias_(exp.Table(this=_ident(name)), alias, table=True)


def _col(name: str, table: str) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


@dataclass
class Matrix:
    """The access matrix held by a bulk backend; every answer is sorted.

    The backend keeps ``user_may_via`` as it derived it (ids, interned); names are put in
    on the way out: in Python for the rows of one question, by joins for a whole export.
    """

    backend: SqlBackend
    source: Relation  # user_may_via: (account, user, privilege, kind, object, root role)
    names_table: Relation  # (id, name, object) of every live catalogue entry
    symbols_table: Relation | None  # (id, value) of the dictionary, when interned
    names: dict[Any, tuple[str, str]]  # stored id -> (name, object as written)
    codec: Codec
    evaluation: Evaluation | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    # questions -------------------------------------------------------------------------

    def _stored(self, value: str) -> Any:
        kind = self.source.kinds[2]
        return self.codec.encode(value, kind) if kind == SYM else value

    def _ids(self, *, name: str | None = None, written: str | None = None) -> list[Any]:
        """The stored ids of catalogue entries with this name (or this object text)."""
        return [i for i, (n, o) in self.names.items()
                if (name is None or n == name) and (written is None or o == written)]

    def _question(self, conditions: list[exp.Expression]) -> list[MatrixRow]:
        if any(isinstance(c, exp.Boolean) and not c.this for c in conditions):
            return []
        select = exp.select(*[_col(c, "v") for c in self.source.columns]).from_(
            _table(self.source.table, "v"))
        if conditions:
            select = select.where(exp.and_(*conditions))
        with self.backend._guard():
            stored = self.backend._engine().fetch(select)
        return sorted(self._decode(stored))

    def _decode(self, stored: Iterable[tuple[Any, ...]]) -> Iterator[MatrixRow]:
        kinds = self.source.kinds
        for a, u, p, k, o, r in stored:
            if o not in self.names:
                continue  # an orphan row left by a dropped object
            yield MatrixRow(self.names[a][0], self.names[u][0], str(self.codec.decode(p,
                            kinds[2])), str(self.codec.decode(k, kinds[3])),
                            self.names[o][1], self.names[r][0])

    def _is(self, column: int, values: list[Any]) -> exp.Expression:
        """``v.column IN (values)`` (FALSE for none)."""
        if not values:
            return exp.false()
        ref = _col(self.source.columns[column], "v")
        literals = [exp.Literal.number(v) if isinstance(v, int) else exp.Literal.string(v)
                    for v in values]
        return exp.In(this=ref, expressions=literals)

    def who_can(self, privilege: str, kind: str, name: str, *,
                account: str | None = None) -> list[MatrixRow]:
        """Every (user, via role) that may use ``privilege`` on ``kind name`` (``"table",
        "db1.t1"``; the account is ``"account", "*"``), in one account or in all."""
        privilege, kind, name = privilege.strip().lower(), kind.strip().lower(), name.strip()
        objects = self._ids(written=name) or self._ids(written=name.lower())
        conditions = [self._is(2, [v for v in [self._stored(privilege)] if v is not None]),
                      self._is(3, [v for v in [self._stored(kind)] if v is not None]),
                      self._is(4, objects)]
        if account is not None:
            conditions.append(self._is(0, self._ids(name=account.strip().lower())))
        return [row for row in self._question(conditions) if row.kind == kind]

    def what_can(self, principal: str) -> list[MatrixRow]:
        """Everything ``ACCOUNT:USER`` may reach (a bare ``USER`` is in account sys)."""
        from reasoner.dialects.matrixone import split_principal

        account, user, _ = split_principal(principal)
        rows = self._question([self._is(0, self._ids(name=account)),
                               self._is(1, self._ids(name=user))])
        return [row for row in rows if row.account == account and row.user == user]

    def rows(self) -> list[MatrixRow]:
        """Every row (for small matrices; export large ones)."""
        return self._question([])

    def __iter__(self) -> Iterator[MatrixRow]:
        return iter(self.rows())

    def __len__(self) -> int:
        return self.count()

    def count(self) -> int:
        """Rows of the matrix (orphans excluded)."""
        query = exp.select(exp.Count(this=exp.Star())).from_(
            _table(self.source.table, "v")).join(
            _table(self.names_table.table, "o"),
            on=exp.EQ(this=_col("id", "o"), expression=_col(self.source.columns[4], "v")))
        with self.backend._guard():
            return int(self.backend._engine().fetch(query)[0][0])

    # exports ---------------------------------------------------------------------------

    def named_query(self, *, ordered: bool = False) -> exp.Select:
        """The whole matrix with names, as one query (joins with the names and, when
        interned, the dictionary). ``ordered``: sorted by the stored ids, so that two
        exports of one policy are byte-identical (the sort costs more than the joins)."""
        v = self.source.columns
        names = self.names_table.table

        def label(column: str, alias: str) -> tuple[exp.Expression, exp.Expression | None]:
            if self.symbols_table is None:
                return _col(column, "v"), None
            join = _table(self.symbols_table.table, alias)
            return _col("value", alias), join

        privilege, privilege_join = label(v[2], "p")
        kind, kind_join = label(v[3], "k")
        select = exp.select(
            _col("name", "a").as_(_ident("account")), _col("name", "u").as_(_ident("user")),
            privilege.as_(_ident("privilege")), kind.as_(_ident("kind")),
            _col("object", "o").as_(_ident("object")),
            _col("name", "r").as_(_ident("via_role")),
        ).from_(_table(self.source.table, "v"))
        for alias, column in (("a", v[0]), ("u", v[1]), ("o", v[4]), ("r", v[5])):
            select = select.join(_table(names, alias), on=exp.EQ(
                this=_col("id", alias), expression=_col(column, "v")))
        for join, alias, column in ((privilege_join, "p", v[2]), (kind_join, "k", v[3])):
            if join is not None:
                select = select.join(join, on=exp.EQ(this=_col("id", alias),
                                                     expression=_col(column, "v")))
        return select.order_by(*[_col(c, "v") for c in v]) if ordered else select

    def to_parquet(self, path: str | Path, *, ordered: bool = False) -> Path:
        """One Parquet file (columns :data:`COLUMNS`); returns the path."""
        return self._write(Path(path), "parquet", ordered)

    def to_csv(self, path: str | Path, *, ordered: bool = False) -> Path:
        """One CSV file with a header line; returns the path."""
        return self._write(Path(path), "csv", ordered)

    def _write(self, path: Path, fmt: str, ordered: bool) -> Path:
        query = self.named_query(ordered=ordered)
        backend = self.backend
        with backend._guard():
            engine: Any = backend._engine()
            if backend.dialect == "duckdb":
                relation = engine.connection.sql(query.sql(dialect="duckdb"))
                if fmt == "parquet":
                    relation.write_parquet(str(path))
                else:
                    relation.write_csv(str(path), header=True)
            else:  # Spark: through the driver, so that the result is one file as asked,
                # written by DuckDB so that both backends write the same bytes
                import duckdb

                table = engine.spark.sql(query.sql(dialect="spark")).toArrow()
                relation = duckdb.from_arrow(table)
                if fmt == "parquet":
                    relation.write_parquet(str(path))
                else:
                    relation.write_csv(str(path), header=True)
        return path


def materialize(reasoner: Reasoner, backend: str = "duckdb", *, spark: Any = None,
                database: str | Path = ":memory:", strategy: str = "semi-naive",
                intern: bool = True) -> Matrix:
    """The access matrix of everything ``reasoner`` has loaded (all accounts).

    ``backend``: ``"duckdb"`` (embedded, the default) or ``"spark"`` (``spark``: a
    SparkSession to use, else one from the usual configuration, see
    :func:`reasoner.backends.spark_backend.spark_session`). ``database`` (DuckDB): a file
    instead of memory. ``strategy`` (DuckDB): ``"semi-naive"`` or ``"recursive-cte"``.
    ``intern``: strings as dictionary ranks (default) or as text.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r} (known: {', '.join(BACKENDS)})")
    engine = reasoner.engine
    program = engine.backend.program
    if MATRIX_PREDICATE not in program.predicates():
        raise ValueError(f"the rule base of {reasoner.target} defines no {MATRIX_PREDICATE}; "
                         f"the access matrix is available for MatrixOne targets")
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with reasoner.lock:
        facts = [(pred, args) for pred, args, _ in engine.facts.all_facts()]
        catalogue = catalogue_names(reasoner)
    seconds["collect"] = time.perf_counter() - started

    bulk: SqlBackend
    if backend == "duckdb":
        from reasoner.backends.duckdb_backend import DuckDBBackend

        bulk = DuckDBBackend(database, strategy=strategy, targets=(MATRIX_PREDICATE,),
                             intern=intern)
    else:
        from reasoner.backends.spark_backend import SparkBackend

        bulk = SparkBackend(spark, targets=(MATRIX_PREDICATE,), intern=intern)
    bulk.load_program(program)
    started = time.perf_counter()
    bulk.add_facts(facts)
    seconds["load"] = time.perf_counter() - started
    started = time.perf_counter()
    evaluation = bulk.materialise()
    seconds["rules"] = time.perf_counter() - started
    started = time.perf_counter()
    with bulk._guard():
        source = bulk.relation(MATRIX_PREDICATE)
        codec = bulk.decoder()
        id_kind = source.kinds[0]
        names: dict[Any, tuple[str, str]] = {}
        for rec_id, name, written in catalogue:
            stored = codec.encode(rec_id, id_kind) if id_kind == SYM else rec_id
            if stored is not None:
                names[stored] = (name, written)
        names_table = Relation("names", "m_names", ("id", "name", "object"),
                               (id_kind, STR, STR), 3)
        sql = bulk._engine()
        sql.store_rows(names_table, [(i, n, o) for i, (n, o) in names.items()])
        symbols_table = None
        if codec.interned:
            symbols_table = Relation("symbols", "m_symbols", ("id", "value"), (SYM, STR), 2)
            sql.store_rows(symbols_table, list(enumerate(codec.values)))
    seconds["names"] = time.perf_counter() - started
    return Matrix(bulk, source, names_table, symbols_table, names, codec, evaluation, seconds)
