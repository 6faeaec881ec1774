"""Which tables and columns ordinary MaxCompute SQL reads and writes, found with sqlglot.

Column resolution is sqlglot's own (``qualify`` with the catalogue's schema): ``select *``
expands to every column of the table, unqualified columns are bound to their table, CTEs
and sub-queries are followed to the stored tables they read. Every column a query
references (select list, WHERE, JOIN, GROUP BY ...) counts as read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from reasoner.errors import StatementError

from .parser import SQL_DIALECT
from .statements import Name

# the columns of a stored table, or None when the catalogue does not know the table
Columns = Callable[[Name], "list[str] | None"]


@dataclass(frozen=True)
class Reads:
    """The stored tables a query reads, each with the columns it references."""

    tables: dict[Name, tuple[str, ...]]
    output: tuple[str, ...]  # the query's output column names (for CREATE TABLE AS)


def table_name(table: exp.Table, default: str) -> Name:
    project = table.args.get("db")
    return Name(project.name.lower() if project is not None else default, table.name.lower())


def stored_tables(tree: exp.Expression, default: str) -> Iterator[tuple[Name, exp.Table]]:
    """Every stored table a query's scopes read (CTE and sub-query names excluded)."""
    for scope in traverse_scope(tree):
        for source in scope.sources.values():
            if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
                yield table_name(source, default), source


def not_found(name: Name) -> StatementError:
    return StatementError(f"ODPS-0130131:Table not found - table {name.project}.{name.name} "
                          "cannot be resolved")


def reads(query: exp.Expression, default: str, columns: Columns) -> Reads:
    """The tables and columns ``query`` (a SELECT / set operation / WITH) reads."""
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for name, _ in stored_tables(query, default):
        cols = columns(name)
        if cols is None:
            raise not_found(name)
        schema.setdefault(name.project or default, {})[name.name] = {c: "string" for c in cols}
    try:
        tree = qualify(query.copy(), schema=schema, db=default, dialect=SQL_DIALECT,
                       validate_qualify_columns=True, quote_identifiers=False, identify=False)
    except OptimizeError as exc:
        raise StatementError(f"ODPS-0130071: Semantic analysis exception - {exc}") from None
    except SqlglotError as exc:
        raise StatementError(f"ODPS-0130161: Parse exception - {exc}") from None
    found: dict[Name, dict[str, None]] = {}
    for scope in traverse_scope(tree):
        for source in scope.sources.values():
            if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
                found.setdefault(table_name(source, default), {})
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if isinstance(source, exp.Table):
                found.setdefault(table_name(source, default), {})[column.name.lower()] = None
    output = tuple(n.lower() for n in tree.named_selects) if isinstance(tree, exp.Query) else ()
    return Reads({k: tuple(v) for k, v in found.items()}, output)


def target_table(tree: exp.Expression, default: str) -> Name | None:
    """The table an INSERT / UPDATE / DELETE / MERGE writes."""
    target = tree.this
    if isinstance(target, exp.Schema):
        target = target.this
    if isinstance(target, exp.Table):
        return table_name(target, default)
    return None


def other_tables(tree: exp.Expression, target: exp.Expression | None,
                 default: str) -> list[Name]:
    """Tables an UPDATE / DELETE / MERGE reads besides its target (read whole)."""
    names: list[Name] = []
    for table in tree.find_all(exp.Table):
        if table is target or (target is not None and table is getattr(target, "this", None)):
            continue
        if isinstance(table.this, exp.Identifier):
            name = table_name(table, default)
            if name not in names:
                names.append(name)
    return names
