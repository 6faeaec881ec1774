"""Which tables ordinary SQL reads and writes, read with sqlglot (never by hand).

MatrixOne authorizes DML from the plan's "privilege tips" (spec §4.3): a scanned table needs
``select``; the INSERT/REPLACE target ``insert``; UPDATE/DELETE targets ``update``/``delete``,
and a scan of a target inside its own UPDATE/DELETE counts as that action, not ``select``.
:func:`read_access` gives those (table, action) pairs in order of appearance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError as SqlglotParseError
from sqlglot.errors import TokenError

from reasoner.errors import ReasonerError

__all__ = ["MAX_QUERY_CHARS", "QueryAccess", "QueryTooLongError", "SqlSyntaxError", "TableUse",
           "read_access", "view_references"]


class SqlSyntaxError(ReasonerError):
    """sqlglot could not read the statement; line/column are 1-based, inside the SQL text."""

    def __init__(self, message: str, line: int, column: int) -> None:
        self.message, self.line, self.column = message, line, column
        super().__init__(f"{message} (line {line}, column {column})")


class QueryTooLongError(ReasonerError):
    """The statement is longer than :data:`MAX_QUERY_CHARS`; it is refused, not read."""


@dataclass(frozen=True)
class TableUse:
    """One table a statement touches and what it does with it."""

    database: str | None  # None: the session's current database
    name: str
    action: str  # "select" | "insert" | "update" | "delete"


@dataclass(frozen=True)
class QueryAccess:
    """Every (table, action) of one statement, first appearance first, without repeats."""

    uses: tuple[TableUse, ...]
    kind: str = "select"  # the statement: select, insert, replace, update, delete


# sqlglot reads about 30 KB of SQL a second here and keeps an AST node per token (1 MB: ~35 s,
# ~570 MB; 10 MB would be ~8 minutes and ~6 GB). Longer statements are refused -- a clear
# error, which is a deny -- rather than judged; an embedder that needs more may raise this.
MAX_QUERY_CHARS = 1_000_000

_Key = tuple[str | None, str]
_TOKEN_REPR = re.compile(r"<Token token_type: [^,]*, text: (.*?), line: .*?>")


def _key(table: exp.Table) -> _Key:
    db = table.args.get("db")
    return (db.name.lower() if db is not None else None), table.name.lower()


def _offset(node: exp.Expression) -> int:
    """Where a node starts in the SQL text (sqlglot keeps token positions on identifiers)."""
    starts = [
        ident.meta["start"]
        for ident in node.find_all(exp.Identifier)
        if isinstance(ident.meta.get("start"), int)
    ]
    return min(starts) if starts else 1 << 30


def _is_cte_reference(table: exp.Table) -> bool:
    """An unqualified name that a WITH clause around it defines is not a table."""
    if table.args.get("db") is not None:
        return False
    name = table.name.lower()
    node: exp.Expression | None = table.parent
    while node is not None:
        with_ = node.args.get("with_") or node.args.get("with")
        if isinstance(with_, exp.With) and any(
            cte.alias_or_name.lower() == name for cte in with_.expressions
        ):
            return True
        node = node.parent
    return False


def _real_tables(tree: exp.Expression) -> Iterator[exp.Table]:
    """The Table nodes that name stored tables (not CTEs, table functions or DUAL)."""
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # generate_series(...), unnest(...): table functions
        if table.args.get("db") is None and table.name.lower() == "dual":
            continue
        if _is_cte_reference(table):
            continue
        yield table


def _shallow_tables(node: exp.Expression | None) -> Iterator[exp.Table]:
    """Tables of a table list (FROM / UPDATE / DELETE list and its joins), not of sub-queries."""
    if node is None:
        return
    def inner_query(sub: exp.Expression) -> bool:
        return sub is not node and isinstance(sub, (exp.Subquery, exp.Query))

    for sub in node.walk(prune=inner_query):
        if isinstance(sub, exp.Table) and isinstance(sub.this, exp.Identifier):
            yield sub


def _parse(sql: str, dialect: str) -> tuple[exp.Expression, str]:
    """The one statement of ``sql`` and its kind; REPLACE is read as the INSERT it extends
    (sqlglot's MySQL dialect has no REPLACE; the keyword is swapped token-for-token so that
    positions in error messages stay right)."""
    if len(sql) > MAX_QUERY_CHARS:
        raise QueryTooLongError(f"statement too long for the reasoner to read: {len(sql)} "
                                f"characters (at most {MAX_QUERY_CHARS})")
    kind = ""
    try:
        reader = sqlglot.Dialect.get_or_raise(dialect)
        tokens = reader.tokenize(sql)
        if tokens and tokens[0].text.upper() == "REPLACE":
            first = tokens[0]
            sql = sql[: first.start] + "INSERT " + sql[first.end + 1 :]
            kind = "replace"
            tokens = reader.tokenize(sql)
        # parse the tokens already made: tokenizing twice was a third of a long query's time
        trees = [t for t in reader.parser().parse(tokens, sql) if t is not None]
    except SqlglotParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        message = str(err.get("description") or exc)
        # "Expected table name but got <Token token_type: ..., text: where, ...>" -> 'where'
        message = _TOKEN_REPR.sub(lambda m: repr(m.group(1)), message)
        raise SqlSyntaxError(message, int(err.get("line") or 1), int(err.get("col") or 1)
                             ) from None
    except TokenError as exc:
        raise SqlSyntaxError(str(exc), 1, 1) from None
    if len(trees) != 1:
        raise SqlSyntaxError(f"expected one statement, got {len(trees)}", 1, 1)
    tree = trees[0]
    if not isinstance(tree, (exp.Query, exp.Insert, exp.Update, exp.Delete)):
        what = str(tree.this).upper() if isinstance(tree, exp.Command) else tree.key.upper()
        raise SqlSyntaxError(f"not a query: {what}", 1, 1)
    if isinstance(tree, (exp.Insert, exp.Update, exp.Delete)) and not isinstance(
            tree.this, exp.Expression):  # sqlglot reads "delete a" as a DELETE of nothing
        expected = "FROM and a table" if isinstance(tree, exp.Delete) else "a table"
        where = tokens[1] if len(tokens) > 1 else tokens[0]
        raise SqlSyntaxError(f"expected {expected} after {tokens[0].text.upper()}",
                             where.line, max(1, where.col - len(where.text) + 1))
    if not kind:
        kind = {exp.Insert: "insert", exp.Update: "update", exp.Delete: "delete"}.get(
            type(tree), "select")
    return tree, kind


def _targets(tree: exp.Expression) -> tuple[str, set[_Key], set[int]]:
    """The write action of ``tree``, the keys of its target tables, and the ids of Table
    nodes that only name a target (DELETE's list, which may use aliases) -- not scans."""
    if isinstance(tree, exp.Insert):
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        if isinstance(target, exp.Table):
            return "insert", set(), {id(target)}
        return "insert", set(), set()
    if isinstance(tree, exp.Update):
        # multi-table UPDATE: every table of the UPDATE list is a target
        return "update", {_key(t) for t in _shallow_tables(tree.this)}, set()
    if isinstance(tree, exp.Delete):
        listed = tree.args.get("tables") or []
        if not listed:
            return "delete", {_key(t) for t in _shallow_tables(tree.this)}, set()
        sources = list(_shallow_tables(tree.this))
        for using in tree.args.get("using") or []:
            sources.extend(_shallow_tables(using))
        by_alias = {t.alias.lower(): _key(t) for t in sources if t.alias}
        keys: set[_Key] = set()
        for ref in listed:
            ref_key = _key(ref)
            alias = by_alias.get(ref.name.lower()) if ref_key[0] is None else None
            keys.add(alias or ref_key)
        return "delete", keys, {id(t) for t in listed}
    return "select", set(), set()


def _collect(tree: exp.Expression) -> tuple[TableUse, ...]:
    action, target_keys, target_ids = _targets(tree)
    found: list[tuple[int, int, TableUse]] = []
    for index, table in enumerate(_real_tables(tree)):
        key = _key(table)
        if isinstance(tree, exp.Insert):
            table_action = "insert" if id(table) in target_ids else "select"
        elif id(table) in target_ids:
            continue  # DELETE t1, t2 FROM ...: the list only names the targets
        else:
            table_action = action if key in target_keys else "select"
        found.append((_offset(table), index, TableUse(key[0], key[1], table_action)))
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(dict.fromkeys(use for _, _, use in found))


def _read_access(sql: str, dialect: str = "mysql") -> QueryAccess:
    """The tables one SELECT / INSERT / REPLACE / UPDATE / DELETE / WITH statement touches."""
    tree, kind = _parse(sql, dialect)
    return QueryAccess(_collect(tree), kind)


def _view_references(select_sql: str, dialect: str = "mysql") -> tuple[TableUse, ...]:
    """The tables and views a view body reads (all ``select``)."""
    tree, _ = _parse(select_sql, dialect)
    if not isinstance(tree, exp.Query):
        raise SqlSyntaxError(f"a view body must be a query, not {tree.key.upper()}", 1, 1)
    return tuple(
        dict.fromkeys(TableUse(use.database, use.name, "select") for use in _collect(tree))
    )



def read_access(sql: str, dialect: str = "mysql") -> QueryAccess:
    """The tables a query reads and writes (see ``_read_access``); a query nested deeper
    than Python's stack is a syntax error, not a crash."""
    try:
        return _read_access(sql, dialect)
    except RecursionError:
        raise SqlSyntaxError("query nested too deeply", 1, 1) from None


def view_references(select_sql: str, dialect: str = "mysql") -> tuple[TableUse, ...]:
    """The tables and views a view body reads (see ``_view_references``)."""
    try:
        return _view_references(select_sql, dialect)
    except RecursionError:
        raise SqlSyntaxError("query nested too deeply", 1, 1) from None
