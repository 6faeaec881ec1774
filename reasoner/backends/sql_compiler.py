"""Datalog -> SQL: one plan, built as sqlglot expressions, run by several SQL engines.

The rules stay the only statement of who has what: every table a SQL backend fills is
compiled from the same checked :class:`~reasoner.datalog.ast.Program` the pyDatalog backend
runs, never written by hand. The plan is a tree of sqlglot expressions, so the same plan is
printed for DuckDB and for Spark SQL (``expression.sql(dialect)``) and each engine only
decides *how* a relation is stored (a DuckDB table, a checkpointed Spark DataFrame).

What is compiled, and how:

- one table per ``.input`` predicate, its columns named by the declaration; predicates that
  only have rule-file facts (vocabularies) become a table filled from ``VALUES``;
- the derived predicates stratum by stratum, each stratum's strongly connected components
  in dependency order. A non-recursive predicate is one ``SELECT DISTINCT ... UNION ...``
  (one branch per rule) stored once (CTAS). A recursive component is evaluated by
  **semi-naive iteration driven from Python** (:func:`evaluate`): the base rules once, then
  for every rule and every body atom of the component one variant that reads the previous
  round's delta for that atom and the totals for the others; new facts are the union of the
  variants ``EXCEPT`` the total, and the loop stops when no delta has a row;
- a body is a join: the first occurrence of a variable binds it, later ones become
  equalities (``JOIN ... ON``), constants and comparisons become ``WHERE``, and ``!atom``
  becomes ``NOT EXISTS`` over a lower stratum (the program is stratified, so it is complete).

Why a Python-driven loop and not ``WITH RECURSIVE``: it is the one form that runs unchanged on
both engines. Spark accepts recursive CTEs only with ``UNION ALL``, which enumerates paths
rather than facts, fails on cycles once it reaches its 100-level limit and stops at 1M rows;
standard SQL recursion is linear and per-CTE, while Datalog components may be mutually
recursive or non-linear; and the loop can deduplicate each round (semi-naive) so no fact is
derived from the same delta twice. :func:`recursive_cte` still offers the ``WITH RECURSIVE
... UNION`` form of a linear one-predicate component, so DuckDB can be measured both ways.

Values: a column holds integers (``BIGINT``) or strings (``VARCHAR``), decided per column by
type inference (constants, rule-file facts, the stored facts, and every variable that links
two columns). ``1`` and ``"1"`` are different constants in the rule language; a column that
really holds both is stored as tagged text (``s<text>`` / ``i<offset integer>``, sortable),
so equality and order keep their meaning and :func:`decode` gives the Python value back.
"""

from __future__ import annotations

import bisect
import operator
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlglot import exp

from reasoner.backends.base import BaseBackend, Value, sorted_rows
from reasoner.datalog.ast import (
    Atom,
    Comparison,
    Const,
    Literal,
    Negation,
    Program,
    Rule,
    Var,
    conjunction_variables,
    literal_atom,
)
from reasoner.datalog.check import QUERY_SOURCE, check_program, strongly_connected_components
from reasoner.datalog.check import dependency_graph as _dependency_graph
from reasoner.errors import RuleError

INT, STR, MIXED, SYM = "int", "str", "mixed", "sym"
SQL_TYPES = {INT: "BIGINT", STR: "VARCHAR", MIXED: "VARCHAR", SYM: "INTEGER"}
UNIT = "_unit"  # the one column of a zero-arity relation (SQL has no zero-column tables)
_OFFSET = 2**63  # int -> non-negative, so the tagged text of integers sorts numerically
_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

__all__ = [
    "Component",
    "Relation",
    "SqlBackend",
    "SqlEngine",
    "SqlPlan",
    "compile_program",
    "compile_query",
    "decode",
    "encode",
    "evaluate",
    "recursive_cte",
    "restrict",
]


# --------------------------------------------------------------------------- values


def encode(value: Value, kind: str) -> Value:
    """The stored form of a value in a column of ``kind`` (tagged text only if mixed)."""
    if kind != MIXED:
        return value
    if isinstance(value, int):
        return f"i{value + _OFFSET:020d}"
    return "s" + value


def decode(value: Any, kind: str) -> Value:
    """The Python value of a stored one (the inverse of :func:`encode`)."""
    if kind != MIXED:
        return value
    if value.startswith("i"):
        return int(value[1:]) - _OFFSET
    return value[1:]


def value_type(value: Value) -> str:
    return INT if isinstance(value, int) else STR


class Codec:
    """How values are stored. Plain: strings as text. Interned (``symbols`` given): every
    string of a string column becomes its rank in the sorted dictionary of all strings
    known at compile time (the stored facts and the program's constants), an ``INTEGER``.

    Why intern: ids such as ``acc:table:d12.t634`` are longer than the 12 bytes DuckDB keeps
    inline, so joins, ``DISTINCT`` and the stored matrix cost several times more as text
    (measured on the medium matrix, see benchmarks/README.md). Ranks keep the order of
    strings, so ``<`` between strings still means what it means in Python.
    """

    def __init__(self, symbols: Iterable[str] | None = None) -> None:
        self.interned = symbols is not None
        self.values: list[str] = sorted(set(symbols)) if symbols is not None else []
        self.ids: dict[str, int] = {v: i for i, v in enumerate(self.values)}

    def kind(self, kind: str) -> str:
        """The stored kind of a column of inferred ``kind``."""
        return SYM if kind == STR and self.interned else kind

    def encode(self, value: Value, kind: str) -> Value | None:
        """The stored form; None for a string the dictionary does not hold (it can be in
        no stored row)."""
        if kind == SYM:
            return self.ids.get(value) if isinstance(value, str) else None
        return encode(value, kind)

    def decode(self, value: Any, kind: str) -> Value:
        if kind == SYM:
            return self.values[value]
        return decode(value, kind)

    def position(self, value: str) -> int:
        """Where an unknown string would sort among the dictionary's ranks."""
        return bisect.bisect_left(self.values, value)


def _literal(value: Value, kind: str, codec: Codec) -> exp.Expression:
    stored = codec.encode(value, kind)
    if stored is None:
        raise RuleError(f"{QUERY_SOURCE}:1:1: constant {value!r} is not in the dictionary")
    if isinstance(stored, int):
        return exp.Literal.number(stored)
    return exp.Literal.string(stored)


def program_strings(program: Program) -> set[str]:
    """Every string constant of the program's rules and facts (for the dictionary)."""
    out: set[str] = set()
    for fact in program.facts:
        out.update(a.value for a in fact.atom.args
                   if isinstance(a, Const) and isinstance(a.value, str))
    for rule in program.rules:
        for literal in (rule.head, *rule.body):
            terms = (literal.left, literal.right) if isinstance(literal, Comparison) else (
                literal_atom(literal).args)  # type: ignore[union-attr]
            out.update(t.value for t in terms
                       if isinstance(t, Const) and isinstance(t.value, str))
    return out


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _table(name: str, alias: str | None = None) -> exp.Expression:
    table = exp.Table(this=_ident(name))
    return exp.alias_(table, alias, table=True) if alias else table


def _col(column: str, table: str | None = None) -> exp.Column:
    return exp.column(column, table=table, quoted=True)


def _and(conditions: Sequence[exp.Expression]) -> exp.Expression | None:
    return exp.and_(*conditions) if conditions else None


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Relation:
    """A predicate's SQL table: its name, column names and per-column value kind."""

    pred: str
    table: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    arity: int  # the predicate's; 0 is stored as one ``_unit`` column

    @property
    def sql_types(self) -> tuple[str, ...]:
        return tuple(SQL_TYPES[k] for k in self.kinds)

    def named(self, table: str) -> Relation:
        """The same relation stored under another table name (deltas, new facts)."""
        return Relation(self.pred, table, self.columns, self.kinds, self.arity)

    def schema(self) -> exp.Schema:
        return exp.Schema(this=exp.Table(this=_ident(self.table)), expressions=[
            exp.ColumnDef(this=_ident(c), kind=exp.DataType.build(t))
            for c, t in zip(self.columns, self.sql_types, strict=True)])

    def create(self) -> exp.Create:
        """``CREATE TABLE t (typed columns)``."""
        return exp.Create(kind="TABLE", this=self.schema())

    def select_all(self) -> exp.Select:
        return exp.select(*[_col(c) for c in self.columns]).from_(_table(self.table))

    def empty(self) -> exp.Select:
        """A typed query with no rows (a relation nothing can derive)."""
        return exp.select(*[exp.cast(exp.null(), t).as_(_ident(c))
                            for c, t in zip(self.columns, self.sql_types, strict=True)]
                          ).where(exp.false())


@dataclass
class Component:
    """A strongly connected component of derived predicates, with its queries.

    ``base[p]``: the rules of ``p`` that read no member (plus its rule-file facts), or None.
    ``step[p]``: for a recursive component, the semi-naive variants of the other rules: each
    reads the delta table of exactly one member atom and the totals elsewhere, or None.
    ``linear[p]``: the recursive rules with a single member atom, reading the member's own
    total table, for :func:`recursive_cte`; None when the component does not qualify.
    """

    preds: tuple[str, ...]
    stratum: int
    recursive: bool
    base: dict[str, exp.Query | None] = field(default_factory=dict)
    step: dict[str, exp.Query | None] = field(default_factory=dict)
    linear: dict[str, exp.Query | None] | None = None


@dataclass
class SqlPlan:
    """Everything needed to evaluate a program in SQL, independent of the engine.

    ``constants``: fact-only predicates and their ``VALUES`` query; ``components``: the
    derived predicates in evaluation order (lower strata first, dependencies first).
    """

    program: Program
    relations: dict[str, Relation]
    inputs: list[Relation]
    constants: list[tuple[Relation, exp.Query]]
    components: list[Component]
    codec: Codec = field(default_factory=Codec)

    def delta(self, pred: str) -> Relation:
        return self.relations[pred].named(delta_table(self.relations[pred].table))

    def fresh(self, pred: str) -> Relation:
        return self.relations[pred].named(new_table(self.relations[pred].table))

    def strata(self) -> list[list[Component]]:
        """The components grouped by stratum, lowest first."""
        out: list[list[Component]] = []
        for comp in self.components:
            while len(out) <= comp.stratum:
                out.append([])
            out[comp.stratum].append(comp)
        return out

    def script(self, dialect: str = "duckdb") -> str:
        """The plan as text: DDL, the non-recursive steps and, for each recursive component,
        its base and step queries as comments-delimited blocks (for reading and debugging;
        the loop itself is run by :func:`evaluate`)."""
        lines: list[str] = []
        for rel in self.inputs:
            lines.append(rel.create().sql(dialect) + ";")
        for rel, query in self.constants:
            lines.append(_ctas(rel, query).sql(dialect) + ";")
        for comp in self.components:
            for pred in comp.preds:
                rel = self.relations[pred]
                base = comp.base.get(pred)
                lines.append(f"-- {pred}{' (recursive: base)' if comp.recursive else ''}")
                lines.append(_ctas(rel, base if base is not None else rel.empty()).sql(
                    dialect) + ";")
                if comp.recursive and comp.step.get(pred) is not None:
                    lines.append(f"-- {pred} (recursive: step, repeated until no delta)")
                    lines.append(comp.step[pred].sql(dialect) + ";")  # type: ignore[union-attr]
        return "\n".join(lines) + "\n"


def table_name(pred: str) -> str:
    return "r_" + pred


def delta_table(table: str) -> str:
    return "d_" + table


def new_table(table: str) -> str:
    return "n_" + table


_SQL_OPS: dict[str, type[exp.Binary]] = {
    "=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
_PYTHON_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
               ">": operator.gt, ">=": operator.ge}
_FLIPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _ctas(rel: Relation, query: exp.Query) -> exp.Create:
    return exp.Create(kind="TABLE", this=exp.Table(this=_ident(rel.table)), expression=query)


# --------------------------------------------------------------------------- types


class _Kinds:
    """Union-find over (predicate, column) positions, each class with the value types seen."""

    def __init__(self) -> None:
        self.parent: dict[tuple[str, int], tuple[str, int]] = {}
        self.types: dict[tuple[str, int], set[str]] = {}

    def find(self, pos: tuple[str, int]) -> tuple[str, int]:
        root = self.parent.setdefault(pos, pos)
        while root != self.parent[root]:
            root = self.parent[root]
        while pos != root:  # path compression
            self.parent[pos], pos = root, self.parent[pos]
        return root

    def union(self, a: tuple[str, int], b: tuple[str, int]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.types.setdefault(ra, set()).update(self.types.pop(rb, set()))

    def see(self, pos: tuple[str, int], kind: str | Iterable[str]) -> None:
        kinds = {kind} if isinstance(kind, str) else set(kind)
        self.types.setdefault(self.find(pos), set()).update(kinds)

    def kind(self, pos: tuple[str, int]) -> str:
        seen = self.types.get(self.find(pos), set())
        if seen == {INT}:
            return INT
        if len(seen) > 1:
            return MIXED
        return STR


def infer_kinds(program: Program, observed: Mapping[str, Sequence[Iterable[str]]]
                ) -> dict[str, tuple[str, ...]]:
    """Per predicate, the kind of each column (see the module docstring)."""
    kinds = _Kinds()
    for pred, arity in program.predicates().items():
        for i in range(arity):
            kinds.find((pred, i))
    for pred, columns in observed.items():
        for i, seen in enumerate(columns):
            kinds.see((pred, i), seen)
    for fact in program.facts:
        for i, arg in enumerate(fact.atom.args):
            if isinstance(arg, Const):
                kinds.see((fact.atom.pred, i), value_type(arg.value))
    for rule in program.rules:
        _unify_body(kinds, (rule.head, *rule.body))
    return {pred: tuple(kinds.kind((pred, i)) for i in range(arity))
            for pred, arity in program.predicates().items()}


def _unify_body(kinds: _Kinds, literals: Sequence[Literal]) -> None:
    first: dict[str, tuple[str, int]] = {}
    for literal in literals:
        atom = literal_atom(literal)
        if atom is None:
            continue
        for i, arg in enumerate(atom.args):
            pos = (atom.pred, i)
            if isinstance(arg, Const):
                kinds.see(pos, value_type(arg.value))
            elif not arg.anonymous:
                if arg.name in first:
                    kinds.union(first[arg.name], pos)
                else:
                    first[arg.name] = pos
    for literal in literals:
        if not isinstance(literal, Comparison):
            continue
        left, right = literal.left, literal.right
        if isinstance(left, Var) and isinstance(right, Var):
            if left.name in first and right.name in first:
                kinds.union(first[left.name], first[right.name])
        elif isinstance(left, Var) and isinstance(right, Const) and left.name in first:
            kinds.see(first[left.name], value_type(right.value))
        elif isinstance(right, Var) and isinstance(left, Const) and right.name in first:
            kinds.see(first[right.name], value_type(left.value))


# --------------------------------------------------------------------------- compiling


def _column_names(program: Program, pred: str, arity: int) -> tuple[str, ...]:
    """Declared column names when they are distinct identifiers, else ``c0, c1, ...``."""
    if arity == 0:
        return (UNIT,)
    decl = program.inputs.get(pred)
    if decl is not None:
        names = decl.columns
        if (len(set(names)) == len(names) and all(_COLUMN.match(n) for n in names)
                and UNIT not in names):
            return tuple(names)
    return tuple(f"c{i}" for i in range(arity))


def compile_program(program: Program,
                    observed: Mapping[str, Sequence[Iterable[str]]] | None = None,
                    symbols: Iterable[str] | None = None) -> SqlPlan:
    """The SQL plan of a checked, stratified program.

    ``observed``: per input predicate, per column, the value types (``"int"``, ``"str"``)
    of the facts that will be stored; it decides the column types together with the rules.
    ``symbols``: the strings of the stored facts, to intern strings (see :class:`Codec`);
    None keeps strings as text. Raises RuleError if the program does not pass
    :func:`check_program`.
    """
    check_program(program)
    kinds = infer_kinds(program, observed or {})
    codec = Codec(None if symbols is None else set(symbols) | program_strings(program))
    relations: dict[str, Relation] = {}
    for pred, arity in program.predicates().items():
        column_kinds = tuple(codec.kind(k) for k in kinds[pred]) if arity else (INT,)
        relations[pred] = Relation(pred, table_name(pred), _column_names(program, pred, arity),
                                   column_kinds, arity)
    derived = program.derived()
    inputs = [relations[p] for p in sorted(program.inputs)]
    fact_only = sorted(program.extensional() - set(program.inputs))
    constants = []
    for pred in fact_only:
        rel = relations[pred]
        constants.append((rel, _values(rel, [f.atom for f in program.facts_for(pred)], codec)))

    graph = _dependency_graph(program)
    order = strongly_connected_components({p: sorted(s) for p, s in graph.items()})
    stratum_of = {p: i for i, preds in enumerate(program.strata()) for p in preds}
    components: list[Component] = []
    for members in order:
        preds = tuple(sorted(p for p in members if p in derived))
        if not preds:
            continue
        member_set = set(preds)
        recursive = len(preds) > 1 or preds[0] in graph[preds[0]]
        comp = Component(preds, stratum_of[preds[0]], recursive)
        compiler = _RuleCompiler(relations, codec)
        for pred in preds:
            rel = relations[pred]
            base: list[exp.Query] = []
            step: list[exp.Query] = []
            for rule in program.rules_for(pred):
                positions = [i for i, lit in enumerate(rule.body)
                             if isinstance(lit, Atom) and lit.pred in member_set]
                if not positions:
                    base.append(compiler.rule(rule))
                for i in positions:
                    step.append(compiler.rule(rule, delta_at=i))
            facts = [f.atom for f in program.facts_for(pred)]
            if facts:
                base.append(_values(rel, facts, codec))
            comp.base[pred] = _union(base)
            if recursive:
                comp.step[pred] = _union(step)
        if recursive and len(preds) == 1:
            comp.linear = _linear(program, relations, preds[0], codec)
        components.append(comp)
    components.sort(key=lambda c: c.stratum)  # stable: dependencies stay first
    return SqlPlan(program, relations, inputs, constants, components, codec)


def restrict(program: Program, targets: Iterable[str]) -> Program:
    """The part of ``program`` that ``targets`` depend on: their rules, the rules of what
    those read, and so on (declarations and facts of other predicates are kept, so stored
    facts still have a home). Used to materialise only what a bulk question needs."""
    graph = _dependency_graph(program)
    wanted = set()
    todo = list(targets)
    while todo:
        pred = todo.pop()
        if pred in wanted:
            continue
        if pred not in graph:
            raise RuleError(f"{QUERY_SOURCE}:1:1: unknown predicate {pred}")
        wanted.add(pred)
        todo.extend(graph[pred])
    return Program(rules=tuple(r for r in program.rules if r.head.pred in wanted),
                   facts=tuple(f for f in program.facts
                               if f.atom.pred in wanted or f.atom.pred in program.inputs),
                   inputs=dict(program.inputs))


def _union(queries: Sequence[exp.Query]) -> exp.Query | None:
    """``q1 UNION q2 ...`` (set semantics), or None for no query."""
    if not queries:
        return None
    if len(queries) == 1:
        query = queries[0]
        return query.distinct() if isinstance(query, exp.Select) else query
    return exp.union(*queries, distinct=True)


def _values(rel: Relation, atoms: Sequence[Atom], codec: Codec) -> exp.Query:
    """Rule-file facts as ``SELECT ... FROM (VALUES ...)``; a typed empty query if none."""
    if not atoms:
        return rel.empty()
    rows = []
    for atom in atoms:
        values = [a.value for a in atom.args if isinstance(a, Const)] or [1]
        rows.append(exp.Tuple(expressions=[
            _literal(v, k, codec) for v, k in zip(values, rel.kinds, strict=True)]))
    values_expr = exp.Values(expressions=rows, alias=exp.TableAlias(
        this=_ident("v"), columns=[_ident(c) for c in rel.columns]))
    return exp.select(*[exp.cast(_col(c, "v"), t).as_(_ident(c))
                        for c, t in zip(rel.columns, rel.sql_types, strict=True)]
                      ).from_(values_expr).distinct()


def _linear(program: Program, relations: dict[str, Relation], pred: str, codec: Codec
            ) -> dict[str, exp.Query | None] | None:
    """The recursive step of a one-predicate component for ``WITH RECURSIVE``: only when
    every recursive rule reads the predicate once (linear recursion, as SQL requires)."""
    compiler = _RuleCompiler(relations, codec)
    steps = []
    for rule in program.rules_for(pred):
        uses = [i for i, lit in enumerate(rule.body) if isinstance(lit, Atom) and lit.pred == pred]
        if len(uses) > 1:
            return None
        if uses:
            steps.append(compiler.rule(rule))
    return {pred: _union(steps)}


class _RuleCompiler:
    """Compiles rule bodies (and query conjunctions) to SELECTs over the plan's tables."""

    def __init__(self, relations: Mapping[str, Relation], codec: Codec) -> None:
        self.relations = relations
        self.codec = codec

    def rule(self, rule: Rule, delta_at: int | None = None) -> exp.Select:
        """``SELECT head FROM body``; ``delta_at``: read that body atom's delta table."""
        rel = self.relations[rule.head.pred]
        select, bound = self.body(rule.body, delta_at)
        columns = []
        for arg, column, kind, sql_type in zip(rule.head.args, rel.columns, rel.kinds,
                                               rel.sql_types, strict=False):
            if isinstance(arg, Const):
                value: exp.Expression = exp.cast(_literal(arg.value, kind, self.codec),
                                                 sql_type)
            else:
                value = bound[arg.name][0]
            columns.append(value.as_(_ident(column)))
        if rule.head.arity == 0:
            columns = [exp.Literal.number(1).as_(_ident(UNIT))]
        return select.select(*columns, copy=False)

    def body(self, body: Sequence[Literal], delta_at: int | None = None
             ) -> tuple[exp.Select, dict[str, tuple[exp.Expression, str]]]:
        """The FROM/JOIN/WHERE of a conjunction (no columns yet) and each named variable's
        first binding: (column expression, kind)."""
        bound: dict[str, tuple[exp.Expression, str]] = {}
        where: list[exp.Expression] = []
        select: exp.Select | None = None
        alias_count = 0
        for index, literal in enumerate(body):
            if not isinstance(literal, Atom):
                continue
            rel = self.relations[literal.pred]
            table = rel.table
            if index == delta_at:
                table = delta_table(table)
            alias = f"t{alias_count}"
            alias_count += 1
            on: list[exp.Expression] = []
            for arg, column, kind in zip(literal.args, rel.columns, rel.kinds, strict=False):
                ref = _col(column, alias)
                if isinstance(arg, Const):
                    where.append(self._equals_const(ref, kind, arg.value))
                elif not arg.anonymous:
                    if arg.name in bound:
                        on.append(self._equals(bound[arg.name], (ref, kind), literal))
                    else:
                        bound[arg.name] = (ref, kind)
            source = _table(table, alias)
            if select is None:
                select = exp.select().from_(source)
                where.extend(on)
            elif on:
                select = select.join(source, on=exp.and_(*on), join_type="inner")
            else:
                select = select.join(source, join_type="cross")
        if select is None:  # a body of comparisons only (a query such as 1 < 2)
            select = exp.select()
        for literal in body:
            if isinstance(literal, Negation):
                where.append(self._not_exists(literal.atom, bound, alias_count))
                alias_count += 1
            elif isinstance(literal, Comparison):
                where.append(self._comparison(literal, bound))
        condition = _and(where)
        if condition is not None:
            select = select.where(condition)
        return select, bound

    def _equals_const(self, ref: exp.Expression, kind: str, value: Value) -> exp.Expression:
        stored = self.codec.encode(value, kind)
        if stored is None or (kind in (INT, STR) and value_type(value) != kind):
            return exp.false()  # 1 is never "1", an unknown string is in no row
        return exp.EQ(this=ref, expression=_literal(value, kind, self.codec))

    @staticmethod
    def _equals(a: tuple[exp.Expression, str], b: tuple[exp.Expression, str],
                where: object) -> exp.Expression:
        if a[1] == b[1]:
            return exp.EQ(this=a[0], expression=b[0])
        if MIXED not in (a[1], b[1]):
            return exp.false()  # an integer column never equals a string column
        raise RuleError(f"{QUERY_SOURCE}:1:1: {where} joins a column of integers or strings "
                        f"with one that holds both; the SQL backends cannot compare them")

    def _not_exists(self, atom: Atom, bound: Mapping[str, tuple[exp.Expression, str]],
                    number: int) -> exp.Expression:
        rel = self.relations[atom.pred]
        alias = f"n{number}"
        conditions: list[exp.Expression] = []
        for arg, column, kind in zip(atom.args, rel.columns, rel.kinds, strict=False):
            ref = _col(column, alias)
            if isinstance(arg, Const):
                conditions.append(self._equals_const(ref, kind, arg.value))
            elif not arg.anonymous:
                conditions.append(self._equals(bound[arg.name], (ref, kind), atom))
        sub = exp.select(exp.Literal.number(1)).from_(_table(rel.table, alias))
        condition = _and(conditions)
        if condition is not None:
            sub = sub.where(condition)
        return exp.Not(this=exp.Exists(this=sub))

    def _comparison(self, comparison: Comparison,
                    bound: Mapping[str, tuple[exp.Expression, str]]) -> exp.Expression:
        """``WHERE`` form of a comparison between bound variables and constants."""
        left, right, op = comparison.left, comparison.right, comparison.op
        if isinstance(left, Const) and isinstance(right, Const):
            if value_type(left.value) != value_type(right.value):
                return self._mismatch(comparison)
            return exp.true() if _PYTHON_OPS[op](left.value, right.value) else exp.false()
        if isinstance(left, Var) and isinstance(right, Var):
            (a, kind_a), (b, kind_b) = bound[left.name], bound[right.name]
            if kind_a == kind_b:
                return _SQL_OPS[op](this=a, expression=b)
            if MIXED in (kind_a, kind_b):
                raise RuleError(f"{QUERY_SOURCE}:1:1: {comparison} compares a column that "
                                f"holds both integers and strings with a plain one")
            return self._mismatch(comparison)  # integers against strings
        if isinstance(left, Const):  # constant op variable -> variable op' constant
            assert isinstance(right, Var)
            var, const, op = right, left, _FLIPPED[op]
        else:
            assert isinstance(left, Var) and isinstance(right, Const)
            var, const = left, right
        ref, kind = bound[var.name]
        value = const.value
        if kind != MIXED and value_type(value) != (INT if kind == INT else STR):
            return self._mismatch(comparison)
        if kind == SYM and value not in self.codec.ids:
            # a string no row holds: never equal; ordered by where it would sort
            if op in ("=", "!="):
                return exp.false() if op == "=" else exp.true()
            rank = exp.Literal.number(self.codec.position(str(value)))
            if op in ("<", "<="):
                return exp.LT(this=ref, expression=rank)
            return exp.GTE(this=ref, expression=rank)
        return _SQL_OPS[op](this=ref, expression=_literal(value, kind, self.codec))

    @staticmethod
    def _mismatch(comparison: Comparison) -> exp.Expression:
        """An integer against a string: never equal, always different, not ordered."""
        if comparison.op == "=":
            return exp.false()
        if comparison.op == "!=":
            return exp.true()
        raise RuleError(f"{QUERY_SOURCE}:1:1: cannot evaluate {comparison}: an integer and a "
                        f"string are not ordered")


def compile_query(plan: SqlPlan, body: Sequence[Literal]) -> tuple[list[str], exp.Select,
                                                                   list[str]]:
    """A checked conjunction as ``SELECT DISTINCT`` of its named variables: (names, query,
    kind of each column)."""
    names = conjunction_variables(body)
    compiler = _RuleCompiler(plan.relations, plan.codec)
    select, bound = compiler.body(body)
    if not any(isinstance(lit, Atom) for lit in body):
        # comparisons between constants only: one row if they hold
        select = exp.select(exp.Literal.number(1).as_(_ident("_one")))
        condition = _and([compiler._comparison(c, {})
                          for c in body if isinstance(c, Comparison)])
        if condition is not None:
            select = select.where(condition)
        return names, select, []
    columns = [bound[n][0].as_(_ident(f"v{i}")) for i, n in enumerate(names)]
    if not columns:
        columns = [exp.Literal.number(1).as_(_ident("_one"))]
        return names, select.select(*columns).limit(1), []
    return names, select.select(*columns).distinct(), [bound[n][1] for n in names]


def recursive_cte(plan: SqlPlan, comp: Component) -> exp.Query | None:
    """``WITH RECURSIVE p AS (base UNION step) SELECT * FROM p`` for a linear one-predicate
    component (for DuckDB, which deduplicates ``UNION`` in recursion), else None."""
    if not comp.recursive or comp.linear is None or len(comp.preds) != 1:
        return None
    pred = comp.preds[0]
    rel = plan.relations[pred]
    base = comp.base.get(pred)
    step = comp.linear.get(pred)
    if base is None or step is None:
        return None
    name = "rec_" + rel.table
    step = step.copy()
    for table in step.find_all(exp.Table):  # the step reads the CTE, not the total table
        if table.name == rel.table:
            table.set("this", _ident(name))
    body = exp.union(base, step, distinct=True)
    cte = exp.CTE(this=body, alias=exp.TableAlias(this=_ident(name),
                                                   columns=[_ident(c) for c in rel.columns]))
    select = exp.select(*[_col(c) for c in rel.columns]).from_(_table(name))
    select.set("with_", exp.With(expressions=[cte], recursive=True))
    return select


# --------------------------------------------------------------------------- evaluating


class SqlEngine(Protocol):
    """What :func:`evaluate` needs from a SQL engine: store, append, test, fetch."""

    dialect: str

    def store(self, rel: Relation, query: exp.Query) -> None:
        """Make ``rel.table`` hold exactly the rows of ``query`` (replacing it)."""

    def store_rows(self, rel: Relation, rows: Sequence[tuple[Value, ...]]) -> None:
        """Make ``rel.table`` hold these (encoded) rows; the bulk load of input facts."""

    def append(self, target: Relation, source: Relation) -> None:
        """Add the rows of ``source`` to ``target`` (callers guarantee they are new)."""

    def move(self, source: Relation, target: Relation) -> None:
        """Make ``target`` hold ``source``'s rows, and forget ``source`` (a rename)."""

    def is_empty(self, rel: Relation) -> bool: ...

    def drop(self, rel: Relation) -> None: ...

    def fetch(self, query: exp.Query) -> list[tuple[Any, ...]]: ...


@dataclass
class Evaluation:
    """What one evaluation did: rounds per recursive component, seconds per component."""

    rounds: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    strategy: str = "semi-naive"


def evaluate(plan: SqlPlan, engine: SqlEngine, inputs: Mapping[str, Sequence[tuple]],
             *, strategy: str = "semi-naive") -> Evaluation:
    """Fill every table of the plan: inputs (encoded rows), constants, then the components.

    ``strategy``: ``"semi-naive"`` (the Python loop, every engine) or ``"recursive-cte"``
    (``WITH RECURSIVE ... UNION`` for linear one-predicate components where the engine's
    dialect deduplicates recursion, DuckDB; the loop for the rest).
    """
    report = Evaluation(strategy=strategy)
    for rel in plan.inputs:
        engine.store_rows(rel, inputs.get(rel.pred, ()))
    for rel, query in plan.constants:
        engine.store(rel, query)
    for comp in plan.components:
        started = time.perf_counter()
        name = ",".join(comp.preds)
        if not comp.recursive:
            pred = comp.preds[0]
            engine.store(plan.relations[pred],
                         comp.base[pred] or plan.relations[pred].empty())
        elif strategy == "recursive-cte" and (cte := recursive_cte(plan, comp)) is not None:
            engine.store(plan.relations[comp.preds[0]], cte)
            report.rounds[name] = 0
        else:
            report.rounds[name] = _fixpoint(plan, engine, comp)
        report.seconds[name] = time.perf_counter() - started
    return report


def _fixpoint(plan: SqlPlan, engine: SqlEngine, comp: Component) -> int:
    """Semi-naive iteration of one recursive component; returns the number of rounds."""
    for pred in comp.preds:
        rel = plan.relations[pred]
        base = comp.base.get(pred) or rel.empty()
        engine.store(rel, base)
        engine.store(plan.delta(pred), rel.select_all())
    rounds = 0
    while True:
        rounds += 1
        fresh: list[str] = []
        for pred in comp.preds:  # every member from the same snapshot (Jacobi order)
            step = comp.step.get(pred)
            if step is None:
                continue
            rel = plan.relations[pred]
            query = exp.except_(exp.select("*").from_(step.subquery("step")),
                                rel.select_all(), distinct=True)
            engine.store(plan.fresh(pred), query)
            fresh.append(pred)
        grew = False
        for pred in comp.preds:
            if pred in fresh and not engine.is_empty(plan.fresh(pred)):
                engine.append(plan.relations[pred], plan.fresh(pred))
                engine.move(plan.fresh(pred), plan.delta(pred))
                grew = True
            else:
                engine.store(plan.delta(pred), plan.relations[pred].empty())
        if not grew:
            break
    for pred in comp.preds:
        engine.drop(plan.delta(pred))
        engine.drop(plan.fresh(pred))
    return rounds


# --------------------------------------------------------------------------- backends


class SqlBackend(BaseBackend):
    """A :class:`~reasoner.backends.base.Backend` over a SQL engine, for bulk work.

    Facts are kept on the Python side (sets per predicate) and the whole program is
    materialised by :meth:`materialise` on the first question after a change: bulk engines
    recompute rather than maintain, so this backend suits "load everything, then ask a
    lot" (access matrices, audits), not statement-by-statement replay. Column types come
    from the stored facts, so the plan is compiled at each materialisation.

    ``intern`` (default): strings are stored as ranks in a sorted dictionary
    (:class:`Codec`); False keeps them as text (slower, but the tables read as they are).
    ``targets``: materialise only what these predicates depend on.
    """

    name = "sql"
    dialect = "duckdb"

    def __init__(self, *, strategy: str = "semi-naive",
                 targets: Iterable[str] | None = None, intern: bool = True) -> None:
        super().__init__()
        self.intern = intern
        if strategy not in ("semi-naive", "recursive-cte"):
            raise ValueError(f"unknown strategy {strategy!r} (known: semi-naive, "
                             f"recursive-cte)")
        self.strategy = strategy
        self.targets = tuple(targets) if targets is not None else None
        self._edb: dict[str, set[tuple[Value, ...]]] = {}
        self._plan: SqlPlan | None = None
        self._dirty = True
        self.last_evaluation: Evaluation | None = None

    # ------------------------------------------------------------------ engine hooks

    def _engine(self) -> SqlEngine:
        """The engine the plan runs on (created or reset by subclasses)."""
        raise NotImplementedError

    def _reset(self) -> None:
        """Forget every table (called before a new materialisation)."""

    # ------------------------------------------------------------------ loading

    def load_program(self, program: Program) -> None:
        """Check and install a program; with ``targets``, only the part they depend on."""
        check_program(program)
        if self.targets is not None:
            program = restrict(program, self.targets)
        self._set_program(program)
        self._edb = {p: set() for p in program.extensional()}
        self._dirty = True
        self._plan = None

    def add_facts(self, facts: Iterable[tuple[str, tuple[Value, ...]]]) -> int:
        """Bulk load: store many facts at once (checked as :meth:`add_fact` does, but
        without per-fact locking); returns how many were new."""
        added = 0
        with self._guard():
            arities = self._arities
            for pred, args in facts:
                store = self._edb.get(pred)
                if store is None or arities.get(pred) != len(args):
                    self._check_extensional(pred, args)  # raises the usual message
                    store = self._edb[pred]
                for value in args:
                    if isinstance(value, bool) or not isinstance(value, str | int):
                        self._check_args(pred, args)
                if args not in store:
                    store.add(args)
                    added += 1
            if added:
                self._dirty = True
        return added

    def _add_fact(self, pred: str, args: tuple[Value, ...]) -> None:
        store = self._edb[pred]
        if args not in store:
            store.add(args)
            self._dirty = True

    def _remove_fact(self, pred: str, args: tuple[Value, ...]) -> None:
        store = self._edb[pred]
        if args in store:
            store.discard(args)
            self._dirty = True

    # ------------------------------------------------------------------ materialising

    def observed(self) -> tuple[dict[str, list[set[str]]], set[str]]:
        """Per input predicate and column, the value types of the stored facts; and every
        string they hold (the dictionary)."""
        out: dict[str, list[set[str]]] = {}
        strings: set[str] = set()
        for pred, rows in self._edb.items():
            arity = self._arities[pred]
            columns: list[set[str]] = [set() for _ in range(arity)]
            for i in range(arity):
                values = {row[i] for row in rows}
                ints = {v for v in values if isinstance(v, int)}
                if ints:
                    columns[i].add(INT)
                if len(ints) < len(values):
                    columns[i].add(STR)
                    strings.update(values - ints)  # type: ignore[arg-type]
            out[pred] = columns
        return out, strings

    def materialise(self) -> Evaluation:
        """Compile for the current facts' types and evaluate the whole program."""
        with self._guard():
            return self._materialise()

    def _materialise(self) -> Evaluation:
        types, strings = self.observed()
        plan = compile_program(self._program, types, strings if self.intern else None)
        self._reset()
        engine = self._engine()
        codec = plan.codec
        inputs: dict[str, list[tuple[Value, ...]]] = {}
        for rel in plan.inputs:
            rows = self._edb.get(rel.pred, set())
            if rel.arity == 0:
                inputs[rel.pred] = [(1,)] if rows else []
            elif any(k in (MIXED, SYM) for k in rel.kinds):
                inputs[rel.pred] = [
                    tuple(codec.encode(v, k) for v, k in zip(r, rel.kinds, strict=True))
                    for r in rows]  # type: ignore[misc]
            else:
                inputs[rel.pred] = list(rows)
        self.last_evaluation = evaluate(plan, engine, inputs, strategy=self.strategy)
        self._plan = plan
        self._dirty = False
        return self.last_evaluation

    @property
    def plan(self) -> SqlPlan:
        """The plan of the current materialisation (materialising first if needed)."""
        with self._guard():
            return self._ready()

    def _ready(self) -> SqlPlan:
        if self._dirty or self._plan is None:
            self._materialise()
        assert self._plan is not None
        return self._plan

    def relation(self, pred: str) -> Relation:
        """The SQL table of a predicate in the current materialisation."""
        return self.plan.relations[pred]

    # ------------------------------------------------------------------ answers

    def _rows(self, query: exp.Query, kinds: Sequence[str]) -> list[tuple[Value, ...]]:
        engine = self._engine()
        rows = engine.fetch(query)
        if any(k in (MIXED, SYM) for k in kinds):
            codec = self._ready().codec
            return [tuple(codec.decode(v, k) for v, k in zip(row, kinds, strict=True))
                    for row in rows]
        return [tuple(row) for row in rows]

    def decoder(self) -> Codec:
        """The dictionary of the current materialisation."""
        with self._guard():
            return self._ready().codec

    def _holds(self, pred: str, args: tuple[Value, ...]) -> bool:
        atom = Atom(pred, tuple(Const(v) for v in args))
        return bool(self._query(atom))

    def _query(self, atom: Atom) -> list[tuple[Value, ...]]:
        plan = self._ready()
        rel = plan.relations[atom.pred]
        if atom.arity == 0:
            query = exp.select(exp.Literal.number(1)).from_(_table(rel.table)).limit(1)
            return [()] if self._engine().fetch(query) else []
        select, _ = _RuleCompiler(plan.relations, plan.codec).body((atom,))
        alias = "t0"
        columns = [_col(c, alias).as_(_ident(c)) for c in rel.columns]
        return self._rows(select.select(*columns).distinct(), rel.kinds)

    def _solve(self, body: tuple[Literal, ...]) -> tuple[list[str], list[tuple[Value, ...]]]:
        plan = self._ready()
        names, query, kinds = compile_query(plan, body)
        if not names:
            return names, [()] if self._engine().fetch(query) else []
        return names, self._rows(query, kinds)

    def _facts(self, pred: str) -> list[tuple[Value, ...]]:
        if pred in self._edb:
            return sorted_rows(self._edb[pred])
        return []

    def relation_rows(self, pred: str) -> list[tuple[Value, ...]]:
        """Every row of a predicate's table, decoded and sorted (derived or stored)."""
        with self._guard():
            rel = self._ready().relations[pred]
            if rel.arity == 0:
                return [()] if not self._engine().is_empty(rel) else []
            return sorted_rows(self._rows(rel.select_all(), rel.kinds))
