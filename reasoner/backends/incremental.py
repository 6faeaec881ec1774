"""The fast path: a bottom-up, incrementally maintained evaluator of the same rule programs.

Why a second engine: pyDatalog answers every check top-down from scratch (tabled per
question, nothing kept), which costs 0.3-35 ms per check on the MatrixOne rule base. This
backend keeps the derived relations that are cheap to keep, maintains them on every fact
change, and answers the rest on demand, so a check is a few hash lookups.

How it evaluates the program it is given (never a hand-written copy of the semantics):

* **Materialised predicates** are computed bottom-up, one strongly connected component
  ("unit") at a time in dependency order, by semi-naive evaluation with hash indexes on the
  argument positions the rule bodies look up. Rule-file facts are part of it.
* **Incremental maintenance.** ``add_fact`` propagates the insertion through delta rules;
  ``remove_fact`` uses DRed (over-delete, re-derive, insert). Stratified negation is handled
  by the same machinery: a fact inserted below a negation is an over-deletion trigger above
  it, a deleted one an insertion trigger. Units are processed in topological order, so each
  unit sees the exact net changes of the units below it, and re-derivation settles a unit
  before its consumers see anything (no cascade of spurious over-deletions).
* **On-demand predicates** are too large to keep (``user_may`` of the MatrixOne reverse
  rules is 16.9M rows at the large benchmark size) or depend on the open sessions. They are
  evaluated inside ``solve``/``query``/``holds`` top-down over the materialised relations:
  each call (predicate, bound positions, values) is evaluated once by unfolding its rules,
  recursive ones by a small semi-naive fixpoint seeded by the bound arguments, and the answer
  is memoised until the next fact change (so the three alternatives of one check, and the
  checks of one session between two changes, share the work; a change is visible to the very
  next question because it empties the memo).

Which predicates are on demand (:func:`on_demand_predicates`, overridable per instance):
every derived predicate that depends, directly or through others, on

1. a *session* input: an ``.input`` predicate with a column named ``session`` (anything over
   all sessions x objects is unbounded, and sessions come and go all the time);
2. a *product* rule: one whose positive body atoms over non-constant predicates fall into
   two or more groups sharing no variable (a cross product, e.g. MaxCompute's
   ``flow_ok :- flow_open(O,D), principal(U,_,_), ...``); predicates computed only from
   rule-file facts are constant-size vocabulary and do not count;
3. a name in :data:`DEFAULT_ON_DEMAND` (the reverse-question relations ``user_may``,
   ``effective``, ``user_reach``, and ``reached_by``, whose rows grow as the square of a
   chain of roles: 50M for a 10,000-role chain), when the program has it.

At run time a materialised predicate is moved to on demand (with everything above it) when
it grows past ``max_rows`` or when one of its comparisons meets a string and an integer (the
reference raises "cannot evaluate" at question time; a kept relation could not, so the
question is answered on demand, where it raises the same way).

Rule bodies and queries are compiled to Python functions (nested loops over hash indexes),
join order chosen greedily: literals whose variables are all bound first (negations and
comparisons as soon as they can run), then the positive atom with the most bound arguments,
stored and materialised relations before on-demand calls.
"""

from __future__ import annotations

import heapq
import itertools
import operator
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reasoner.backends.base import (
    BaseBackend,
    Binding,
    Value,
    describe_fact,
    row_key,
    sorted_rows,
)
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
    literal_terms,
)
from reasoner.datalog.check import QUERY_SOURCE, check_program, strongly_connected_components
from reasoner.errors import RuleError

Row = tuple[Value, ...]

# Relations that answer reverse questions for every user at once: kept only on demand.
DEFAULT_ON_DEMAND = frozenset({"user_may", "effective", "user_reach", "reached_by"})
DEFAULT_MAX_ROWS = 5_000_000
# cleared when it grows past this many entries (a memory bound, not a correctness one)
MEMO_LIMIT = 200_000
QUERY_PLAN_LIMIT = 4_096
# a query pattern with no index of its own reuses a narrower one above this many rows
NARROW_INDEX_ROWS = 50_000
# Python refuses more than 20 statically nested blocks; each joined atom is one loop
MAX_LOOPS = 17

_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_PY_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ONE = (None,)


# ------------------------------------------------------------------------------ storage


class _Relation:
    """A set of rows plus hash indexes on chosen argument positions.

    An index maps a key (the value, or a tuple of values for several positions) to one row
    or, when several rows share the key, a set of rows: most keys are unique, and a set per
    key would cost ~200 bytes where a row reference costs nothing.
    """

    __slots__ = ("rows", "indexes", "_by_positions")

    def __init__(self) -> None:
        self.rows: set[Row] = set()
        self.indexes: list[tuple[Callable[[Row], Any], dict[Any, Any]]] = []
        self._by_positions: dict[tuple[int, ...], dict[Any, Any]] = {}

    def index(self, positions: tuple[int, ...]) -> dict[Any, Any]:
        """The index on ``positions`` (built from the current rows the first time)."""
        found = self._by_positions.get(positions)
        if found is not None:
            return found
        getter = operator.itemgetter(*positions)
        idx: dict[Any, Any] = {}
        for row in self.rows:
            _index_add(idx, getter(row), row)
        self._by_positions[positions] = idx
        self.indexes.append((getter, idx))
        return idx

    def has_index(self, positions: tuple[int, ...]) -> bool:
        return positions in self._by_positions

    def index_positions(self) -> list[tuple[int, ...]]:
        return list(self._by_positions)

    def add(self, row: Row) -> None:
        self.rows.add(row)
        for getter, idx in self.indexes:
            _index_add(idx, getter(row), row)

    def remove(self, row: Row) -> None:
        self.rows.remove(row)
        for getter, idx in self.indexes:
            key = getter(row)
            bucket = idx[key]
            if bucket.__class__ is tuple:
                del idx[key]
            else:
                bucket.discard(row)
                if len(bucket) == 1:
                    idx[key] = next(iter(bucket))

    def clear(self) -> None:
        self.rows.clear()
        for _getter, idx in self.indexes:
            idx.clear()


def _index_add(idx: dict[Any, Any], key: Any, row: Row) -> None:
    bucket = idx.get(key)
    if bucket is None:
        idx[key] = row
    elif bucket.__class__ is tuple:
        idx[key] = {bucket, row}
    else:
        bucket.add(row)


class _Entry:
    """A memoised on-demand answer: the rows, plus indexes built when callers filter them."""

    __slots__ = ("rows", "_select")

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self._select: dict[tuple[int, ...], dict[Any, list[Row]]] = {}

    def select(self, positions: tuple[int, ...], values: tuple[Value, ...]) -> list[Row]:
        idx = self._select.get(positions)
        if idx is None:
            idx = {}
            for row in self.rows:
                idx.setdefault(tuple(row[p] for p in positions), []).append(row)
            self._select[positions] = idx
        return idx.get(values, [])


# ------------------------------------------------------------------------------ rules


@dataclass(frozen=True)
class _Lit:
    """A body literal with variables numbered: args are ('v', slot) | ('c', value) | ('_',)."""

    kind: str  # "pos" | "neg" | "cmp"
    pred: str  # the predicate, or the operator of a comparison
    args: tuple[tuple[Any, ...], ...]
    slots: frozenset[int]  # named variables (slots) the literal mentions


@dataclass
class _Rule:
    """One rule of the program, numbered, with its head and body in slot form."""

    id: int
    rule: Rule
    head: str
    head_args: tuple[tuple[Any, ...], ...]
    body: tuple[_Lit, ...]


@dataclass
class _Site:
    """A call of an on-demand predicate from compiled code: which positions it binds.

    ``key`` are the positions the call is evaluated (and memoised) with; ``extra`` the
    bound positions the answers are filtered on afterwards (see ``_key_positions``).
    """

    pred: str
    bound: tuple[int, ...]
    key: tuple[int, ...]
    key_idx: tuple[int, ...]  # indexes into the bound values
    extra: tuple[int, ...]
    extra_idx: tuple[int, ...]
    same: bool  # key == bound: no reduction, no filtering


@dataclass
class _Unit:
    """A strongly connected component of materialised predicates, maintained together."""

    index: int
    preds: frozenset[str]
    rules: list[_Rule]
    recursive: bool
    lower: frozenset[str]  # predicates below the unit its rules read
    # (rule, body position) of the literals reading a predicate of the unit itself
    inner: list[tuple[_Rule, int]] = field(default_factory=list)
    # (rule, plan entry, predicate, positive) of the literals reading one below the unit
    outer: list[tuple[_Rule, tuple[Any, ...], str, bool]] = field(default_factory=list)


def _slotted(rule: Rule) -> _Rule:
    slots: dict[str, int] = {}

    def term(t: Var | Const) -> tuple[Any, ...]:
        if isinstance(t, Const):
            return ("c", t.value)
        if t.anonymous:
            return ("_",)
        return ("v", slots.setdefault(t.name, len(slots)))

    body: list[_Lit] = []
    for literal in rule.body:
        args = tuple(term(t) for t in literal_terms(literal))
        named = frozenset(a[1] for a in args if a[0] == "v")
        if isinstance(literal, Atom):
            body.append(_Lit("pos", literal.pred, args, named))
        elif isinstance(literal, Negation):
            body.append(_Lit("neg", literal.atom.pred, args, named))
        else:
            body.append(_Lit("cmp", literal.op, args, named))
    head = tuple(term(t) for t in rule.head.args)
    return _Rule(0, rule, rule.head.pred, head, tuple(body))


# ------------------------------------------------------------------------------ analysis


def _dependencies(program: Program) -> dict[str, set[str]]:
    """head -> the predicates its rules read (positively or negatively), as mutable sets."""
    return {p: set(d) for p, d in program.dependencies().items()}


def _above(deps: dict[str, set[str]], seeds: set[str]) -> set[str]:
    """``seeds`` and every predicate that depends on one of them."""
    readers: dict[str, set[str]] = {}
    for head, body in deps.items():
        for pred in body:
            readers.setdefault(pred, set()).add(head)
    out = set(seeds)
    stack = list(seeds)
    while stack:
        for reader in readers.get(stack.pop(), ()):
            if reader not in out:
                out.add(reader)
                stack.append(reader)
    return out


def _constant_predicates(program: Program) -> set[str]:
    """Predicates computed only from rule-file facts: vocabulary of a fixed, small size."""
    deps = _dependencies(program)
    fact_only = program.extensional() - set(program.inputs)
    variable = _above(deps, (program.extensional() - fact_only) | set(program.inputs))
    return set(program.predicates()) - variable


def _is_product(rule: Rule, constant: set[str]) -> bool:
    """Whether the positive non-constant atoms of the body form a cross product."""
    groups: list[set[str]] = []
    for literal in rule.body:
        if not isinstance(literal, Atom) or literal.pred in constant:
            continue
        names = literal.named_variables()
        joined = [g for g in groups if g & names]
        merged = set(names).union(*joined) if joined else set(names)
        groups = [g for g in groups if not (g & names)] + [merged]
    return len(groups) > 1


def on_demand_predicates(program: Program, names: Iterable[str] | None = None) -> set[str]:
    """The derived predicates evaluated on demand (see the module docstring).

    ``names`` replaces the default seeds (session inputs, product rules and
    :data:`DEFAULT_ON_DEMAND`) when given; whatever depends on a seed is on demand too,
    since a kept relation cannot be maintained from one that is not kept.
    """
    derived = program.derived()
    deps = _dependencies(program)
    if names is not None:
        seeds = set(names) & derived
    else:
        sessions = {p for p, d in program.inputs.items() if "session" in d.columns}
        constant = _constant_predicates(program)
        products = {r.head.pred for r in program.rules if _is_product(r, constant)}
        seeds = sessions | products | (set(DEFAULT_ON_DEMAND) & derived)
    demand = _above(deps, seeds) & derived
    if names is None:
        demand |= _consumed_on_demand(program, deps, demand)
    return demand


def _consumed_on_demand(program: Program, deps: dict[str, set[str]], demand: set[str]
                        ) -> set[str]:
    """Kept predicates only on-demand rules read: keeping them buys nothing, and those
    readers look them up with their arguments bound (MatrixOne's ``grant_source``, 1.07M
    rows at the large size, is read only by ``may_grant``). Predicates no rule reads stay
    kept (questions ask them directly), and so does constant vocabulary."""
    readers: dict[str, set[str]] = {}
    for head, body in deps.items():
        for pred in body:
            if pred != head:
                readers.setdefault(pred, set()).add(head)
    constant = _constant_predicates(program)
    out: set[str] = set()
    grew = True
    while grew:
        grew = False
        for pred in sorted(program.derived() - demand - out - constant):
            found = readers.get(pred)
            if found and found <= demand | out:
                out.add(pred)
                grew = True
    return out


# ------------------------------------------------------------------------------ codegen


class _Gen:
    """Builds the source of one compiled plan: nested loops with ``continue`` filters."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1
        self.loops = 0
        self.counter = itertools.count()
        self.sites: list[int] = []  # the on-demand call sites of the plan

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def loop(self, header: str) -> None:
        self.line(header)
        self.depth += 1
        self.loops += 1
        if self.loops > MAX_LOOPS:
            raise RuleError(f"{QUERY_SOURCE}:1:1: a rule or query joins more than {MAX_LOOPS} "
                            "atoms; the incremental backend cannot compile it")

    def fresh(self, stem: str) -> str:
        return f"{stem}{next(self.counter)}"


class IncrementalBackend(BaseBackend):
    """Materialised, incrementally maintained evaluation plus on-demand predicates.

    ``on_demand``: the predicates to evaluate on demand instead of the computed default
    (those depending on them follow); ``()`` keeps everything that can be kept.
    ``max_rows``: a kept relation growing past this many rows moves to on demand (None:
    never). Thread-safe: every call holds one re-entrant lock.
    """

    name = "incremental"

    def __init__(self, on_demand: Iterable[str] | None = None, *,
                 max_rows: int | None = DEFAULT_MAX_ROWS) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self._on_demand_names = None if on_demand is None else frozenset(on_demand)
        self._max_rows = max_rows
        self._reset()

    def __repr__(self) -> str:
        return (f"IncrementalBackend({len(self._program.rules)} rules, "
                f"{len(self._demand)} on demand)")

    def _guard(self) -> Any:
        return self._lock

    # ------------------------------------------------------------------ state

    def _reset(self) -> None:
        self._rels: dict[str, _Relation] = {}
        self._base: dict[str, set[Row]] = {}  # rule-file facts of derived predicates
        self._rules: list[_Rule] = []
        self._rules_of: dict[str, list[_Rule]] = {}
        self._demand: set[str] = set()
        self._demand_scc: dict[str, frozenset[str]] = {}  # recursive on-demand predicates
        self._stable: dict[str, frozenset[int]] = {}
        self._units: list[_Unit] = []
        self._unit_of: dict[str, _Unit] = {}
        # pred -> (unit, rule, body position) of materialised literals reading it
        self._readers: dict[str, list[tuple[_Unit, _Rule, int]]] = {}
        self._deps: dict[str, set[str]] = {}
        # the globals of the compiled plans: relations, indexes and two helpers
        self._ns: dict[str, Any] = {"ONE": _ONE, "ORD": self._note_ill_typed}
        self._plans: dict[tuple[Any, ...], Callable[..., Any]] = {}
        self._query_plans: dict[tuple[Any, ...], tuple[list[str], Callable[..., Any]]] = {}
        self._sites: list[_Site] = []
        # memoised on-demand answers per predicate: (key positions, values) -> entry
        self._memo: dict[str, dict[tuple[Any, ...], _Entry]] = {}
        self._invalidates: dict[str, list[str]] = {}  # pred -> on-demand preds above it
        # stored-fact changes not propagated yet (net: never both for one row)
        self._pending_ins: dict[str, set[Row]] = {}
        self._pending_dels: dict[str, set[Row]] = {}
        self._ill_typed: set[str] = set()
        self._rel_names: dict[str, int] = {}

    def is_materialised(self, pred: str) -> bool:
        """Whether ``pred`` is kept (stored facts count as kept)."""
        with self._lock:
            self._flush()
            return pred in self._rels

    def on_demand(self) -> set[str]:
        """The derived predicates currently evaluated on demand."""
        with self._lock:
            self._flush()
            return set(self._demand)

    def sizes(self) -> dict[str, int]:
        """Rows per kept relation (for benchmarks and tests)."""
        with self._lock:
            self._flush()
            return {p: len(r.rows) for p, r in self._rels.items()}

    def index_count(self) -> int:
        with self._lock:
            self._flush()
            return sum(len(r.indexes) for r in self._rels.values())

    # ------------------------------------------------------------------ loading

    def load_program(self, program: Program) -> None:
        """Check, analyse and materialise the program; facts added earlier are dropped."""
        check_program(program)
        for rule in program.rules:
            for literal in (rule.head, *rule.body):
                _check_constants(literal, rule.where())
        for fact in program.facts:
            _check_constants(fact.atom, fact.where())
        with self._lock:
            self._reset()
            self._set_program(program)
            self._deps = _dependencies(program)
            for number, rule in enumerate(program.rules):
                slotted = _slotted(rule)
                slotted.id = number
                self._rules.append(slotted)
                self._rules_of.setdefault(slotted.head, []).append(slotted)
            derived = program.derived()
            demand = on_demand_predicates(program, self._on_demand_names)
            for pred in program.predicates():
                if pred not in demand:
                    self._relation(pred)
            for fact in program.facts:
                row = tuple(a.value for a in fact.atom.args if isinstance(a, Const))
                if fact.atom.pred in derived:
                    self._base.setdefault(fact.atom.pred, set()).add(row)
                else:
                    self._rels[fact.atom.pred].rows.add(row)
            self._install(demand)
            for unit in self._units:
                self._materialise(unit)
            if self._ill_typed:
                self._demote()

    def _relation(self, pred: str) -> _Relation:
        rel = self._rels.get(pred)
        if rel is None:
            rel = self._rels[pred] = _Relation()
            number = self._rel_names.setdefault(pred, len(self._rel_names))
            self._ns[f"R{number}"] = rel.rows
        return rel

    def _install(self, demand: set[str]) -> None:
        """Split the predicates into kept units and on-demand ones; (re)build the maps."""
        self._demand = set(demand)
        self._plans.clear()
        self._query_plans.clear()
        self._sites.clear()
        self._memo = {p: {} for p in self._demand}
        self._invalidates = {}
        derived = self._program.derived()
        graph = {p: sorted(self._deps.get(p, ())) for p in sorted(self._program.predicates())}
        components = strongly_connected_components(graph)  # dependencies first
        self._units = []
        self._unit_of = {}
        self._readers = {}
        self._demand_scc = {}
        self._stable = {}
        for comp in components:
            preds = frozenset(comp)
            if not preds & derived:
                continue
            recursive = len(preds) > 1 or any(
                p in self._deps.get(p, ()) for p in preds)
            if preds & self._demand:
                if recursive:
                    for pred in preds:
                        self._demand_scc[pred] = preds
                        self._stable[pred] = self._stable_positions(pred, preds)
                continue
            rules = [r for p in sorted(preds) for r in self._rules_of.get(p, [])]
            lower = frozenset(lit.pred for r in rules for lit in r.body
                              if lit.kind != "cmp" and lit.pred not in preds)
            unit = _Unit(len(self._units), preds, rules, recursive, lower)
            for rule in rules:
                for i, lit in enumerate(rule.body):
                    if lit.kind == "cmp":
                        continue
                    if lit.pred in preds:
                        unit.inner.append((rule, i))
                    else:
                        self._readers.setdefault(lit.pred, []).append((unit, rule, i))
                        positive = lit.kind == "pos"
                        entry = ("delta", i) if positive else ("negdelta", i)
                        unit.outer.append((rule, entry, lit.pred, positive))
            self._units.append(unit)
            for pred in preds:
                self._unit_of[pred] = unit

    def _stable_positions(self, pred: str, scc: frozenset[str]) -> frozenset[int]:
        """Head positions every recursive call passes on unchanged (self-recursion only).

        Evaluating a call with only these positions bound makes the whole recursion one
        subgoal (``inherits(Root, _)`` is computed once per root role, then filtered on
        the inherited role), instead of one subgoal per intermediate value.
        """
        if len(scc) > 1:
            return frozenset()
        positions: set[int] | None = None
        for rule in self._rules_of.get(pred, []):
            for lit in rule.body:
                if lit.kind == "pos" and lit.pred == pred:
                    same = {i for i, (h, b) in enumerate(zip(rule.head_args, lit.args,
                                                             strict=True))
                            if h[0] == "v" and b == h}
                    positions = same if positions is None else positions & same
        return frozenset(positions or ())

    def _prepare(self, unit: _Unit) -> None:
        """Compile the unit's maintenance plans now, so that the indexes they look up are
        built while the relations are still small and then kept up to date row by row:
        otherwise the first revoke after a large load would build them (seconds)."""
        for rule, entry, _pred, _positive in unit.outer:
            self._plan(rule, entry)
        for rule, i in unit.inner:
            self._plan(rule, ("delta", i) if rule.body[i].kind == "pos" else ("negdelta", i))
        for rule in unit.rules:
            self._plan(rule, ("exists",))

    def _materialise(self, unit: _Unit) -> None:
        """Compute a unit from scratch (load time): every rule once, then semi-naive."""
        self._prepare(unit)
        cand: dict[str, list[Row]] = {p: [] for p in unit.preds}
        for rule in unit.rules:
            self._plan(rule, ("full",))(None, cand[rule.head].append, None)
        for pred in unit.preds:
            cand[pred].extend(self._base.get(pred, ()))
        frontier = self._apply(cand, None)
        while frontier and unit.recursive:
            frontier = self._apply(self._fire_inner(unit, frontier), None)

    # ------------------------------------------------------------------ compiling

    def _is_rel(self, pred: str) -> bool:
        return pred in self._rels

    def _order(self, body: Sequence[_Lit], bound: set[int], skip: int | None) -> list[int]:
        """Greedy join order: ready filters first, then the best-bound positive atom."""
        remaining = [i for i in range(len(body)) if i != skip]
        order: list[int] = []
        bound = set(bound)
        while remaining:
            ready = [i for i in remaining if body[i].kind != "pos" and body[i].slots <= bound]
            if ready:
                order.extend(ready)
                remaining = [i for i in remaining if i not in ready]
                continue
            best: tuple[Any, ...] | None = None
            choice = -1
            for i in remaining:
                lit = body[i]
                if lit.kind != "pos":
                    continue
                n = sum(1 for a in lit.args if a[0] == "c" or (a[0] == "v" and a[1] in bound))
                rel = self._is_rel(lit.pred)
                score = (n == len(lit.args) and rel, n > 0, rel, n, -i)
                if best is None or score > best:
                    best, choice = score, i
            if choice < 0:  # only unsafe filters left: the checker rejects these
                raise RuleError(f"{QUERY_SOURCE}:1:1: cannot order the body")
            order.append(choice)
            remaining.remove(choice)
            bound |= body[choice].slots
        return order

    def _plan(self, rule: _Rule, entry: tuple[Any, ...]) -> Callable[..., Any]:
        """The compiled function of ``rule`` for one entry (cached per program).

        Entries: ``("full",)`` every instance; ``("delta", i)`` instances with body literal
        ``i`` taken from the given rows; ``("negdelta", i)`` instances whose negated literal
        ``i`` matches one of the given rows (and holds); ``("head", positions)`` instances
        whose head agrees with the given values there (on-demand calls);
        ``("exists",)`` whether the given head row has an instance (re-derivation).
        Maintenance entries never raise on an ill-typed comparison: they note it instead.
        """
        key = (rule.id, *entry)
        fn = self._plans.get(key)
        if fn is not None:
            return fn
        gen = _Gen()
        kind = entry[0]
        bound: set[int] = set()
        skip: int | None = None
        maintenance = kind in ("full", "delta", "negdelta", "exists")
        gen.lines.append("def plan(ARG, EMIT, CALL):")
        if kind in ("delta", "negdelta"):
            i = entry[1]
            lit = rule.body[i]
            gen.loop("for r in ARG:")
            self._bind_row(gen, "r", lit.args, bound)
            if kind == "delta":
                skip = i
        else:
            gen.loop("for _ in ONE:")
            if kind in ("head", "exists"):
                positions = entry[1] if kind == "head" else tuple(range(len(rule.head_args)))
                for k, p in enumerate(positions):
                    arg = rule.head_args[p]
                    if arg[0] == "c":
                        gen.line(f"if ARG[{k}] != {arg[1]!r}: continue")
                    elif arg[1] in bound:
                        gen.line(f"if ARG[{k}] != v{arg[1]}: continue")
                    else:
                        gen.line(f"v{arg[1]} = ARG[{k}]")
                        bound.add(arg[1])
        order = self._order(rule.body, bound, skip)
        for i in order:
            self._step(gen, rule.body[i], bound, lambda a: repr(a[1]), maintenance,
                       rule.head)
        head = _tuple_expr([f"v{a[1]}" if a[0] == "v" else repr(a[1]) for a in rule.head_args])
        if kind == "exists":
            gen.line("return True")
            gen.lines.append("    return False")
        else:
            gen.line(f"EMIT({head})")
        fn = self._compile(gen, f"rule {rule.rule.name} {entry}")
        self._plans[key] = fn
        return fn

    def _compile(self, gen: _Gen, what: str) -> Callable[..., Any]:
        source = "\n".join(gen.lines) + "\n"
        scope: dict[str, Any] = {}
        exec(compile(source, f"<incremental {what}>", "exec"), self._ns, scope)  # noqa: S102
        fn = scope["plan"]
        fn.source = source  # type: ignore[attr-defined]
        fn.sites = tuple(gen.sites)  # type: ignore[attr-defined]
        return fn

    def _bind_row(self, gen: _Gen, row: str, args: tuple[tuple[Any, ...], ...],
                  bound: set[int], const: Callable[[tuple[Any, ...]], str] | None = None,
                  skip_positions: Iterable[int] = ()) -> None:
        """Check constants and already-bound variables of ``row``; bind the new ones."""
        skipped = set(skip_positions)
        for p, arg in enumerate(args):
            if p in skipped:
                continue
            if arg[0] == "c":
                value = const(arg) if const is not None else repr(arg[1])
                gen.line(f"if {row}[{p}] != {value}: continue")
            elif arg[0] == "v":
                if arg[1] in bound:
                    gen.line(f"if {row}[{p}] != v{arg[1]}: continue")
                else:
                    gen.line(f"v{arg[1]} = {row}[{p}]")
                    bound.add(arg[1])

    def _step(self, gen: _Gen, lit: _Lit, bound: set[int],
              const: Callable[[tuple[Any, ...]], str], maintenance: bool, head: str | None,
              query: bool = False) -> None:
        """Emit one literal: a lookup loop, a membership filter or a comparison filter."""

        def expr(arg: tuple[Any, ...]) -> str:
            return const(arg) if arg[0] == "c" else f"v{arg[1]}"

        if lit.kind == "cmp":
            left, right = (expr(a) for a in lit.args)
            if maintenance and lit.pred in _ORDER_OPS:
                gen.line(f"if not ORD({left}, {right}, {lit.pred!r}, {head!r}): continue")
            else:
                gen.line(f"if not ({left} {_PY_OPS[lit.pred]} {right}): continue")
            return
        positions = tuple(p for p, a in enumerate(lit.args)
                          if a[0] == "c" or (a[0] == "v" and a[1] in bound))
        values = [expr(lit.args[p]) for p in positions]
        arity = len(lit.args)
        if not self._is_rel(lit.pred):
            site = self._site(lit.pred, positions)
            gen.sites.append(site)
            call = f"CALL({site}, {_tuple_expr(values)})"
            if lit.kind == "neg":
                gen.line(f"if {call}: continue")
                return
            row = gen.fresh("r")
            gen.loop(f"for {row} in {call}:")
            self._bind_row(gen, row, lit.args, bound, const, positions)
            return
        rel = self._rels[lit.pred]
        rows = f"R{self._rel_names[lit.pred]}"
        if len(positions) == arity:
            test = "in" if lit.kind == "neg" else "not in"
            gen.line(f"if {_tuple_expr(values)} {test} {rows}: continue")
            return
        if not positions:
            if lit.kind == "neg":
                gen.line(f"if {rows}: continue")
                return
            row = gen.fresh("r")
            gen.loop(f"for {row} in {rows}:")
            self._bind_row(gen, row, lit.args, bound, const)
            return
        used = positions
        if query and not rel.has_index(positions) and len(rel.rows) > NARROW_INDEX_ROWS:
            # a one-off query pattern on a big relation: reuse a narrower index if there is
            # one rather than building (and keeping) another index over every row
            narrower = [q for q in rel.index_positions() if set(q) < set(positions)]
            if narrower:
                used = max(narrower, key=len)
        index = self._index_name(lit.pred, used)
        key = values[0] if len(used) == 1 else _tuple_expr(
            [values[positions.index(p)] for p in used])
        if lit.kind == "neg" and used == positions:
            gen.line(f"if {index}.get({key}) is not None: continue")
            return
        bucket = gen.fresh("b")
        gen.line(f"{bucket} = {index}.get({key})")
        if lit.kind == "neg":  # a narrower index: look for a row agreeing everywhere
            rest = [p for p in positions if p not in used]
            cond = " and ".join(f"x[{p}] == {values[positions.index(p)]}" for p in rest)
            rows_expr = f"(({bucket},) if {bucket}.__class__ is tuple else {bucket})"
            gen.line(f"if {bucket} is not None and any({cond} for x in {rows_expr}): continue")
            return
        gen.line(f"if {bucket} is None: continue")
        gen.line(f"if {bucket}.__class__ is tuple: {bucket} = ({bucket},)")
        row = gen.fresh("r")
        gen.loop(f"for {row} in {bucket}:")
        self._bind_row(gen, row, lit.args, bound, const, used)

    def _index_name(self, pred: str, positions: tuple[int, ...]) -> str:
        name = f"I{self._rel_names[pred]}_{'_'.join(map(str, positions))}"
        if name not in self._ns:
            self._ns[name] = self._rels[pred].index(positions)
        return name

    def _site(self, pred: str, bound: tuple[int, ...]) -> int:
        key = self._key_positions(pred, bound)
        extra = tuple(p for p in bound if p not in key)
        self._sites.append(_Site(
            pred, bound, key, tuple(bound.index(p) for p in key), extra,
            tuple(bound.index(p) for p in extra), key == bound))
        return len(self._sites) - 1

    def _key_positions(self, pred: str, bound: tuple[int, ...]) -> tuple[int, ...]:
        """The positions a call is evaluated with: for a self-recursive predicate, the
        bound ones it passes on unchanged (one subgoal for the whole recursion)."""
        stable = self._stable.get(pred)
        if stable:
            key = tuple(p for p in bound if p in stable)
            if key:
                return key
        return bound

    # ------------------------------------------------------------------ updates

    def _add_fact(self, pred: str, args: tuple[Value, ...]) -> None:
        rel = self._rels[pred]
        if args in rel.rows:
            return
        rel.add(args)
        if args in self._pending_dels.get(pred, ()):
            self._pending_dels[pred].discard(args)  # back as it was: no net change
        else:
            self._pending_ins.setdefault(pred, set()).add(args)

    def _remove_fact(self, pred: str, args: tuple[Value, ...]) -> None:
        rel = self._rels[pred]
        if args not in rel.rows:
            return
        rel.remove(args)
        if args in self._pending_ins.get(pred, ()):
            self._pending_ins[pred].discard(args)
        else:
            self._pending_dels.setdefault(pred, set()).add(args)

    def _flush(self) -> None:
        """Propagate the stored-fact changes made since the last question.

        Why deferred: a statement changes several facts at once (DROP ROLE removes its
        grants, edges and rows), and one DRed pass over the whole batch is much cheaper than
        one per fact. Every question flushes first, so a change is still visible to the very
        next check.
        """
        ins = {p: list(rows) for p, rows in self._pending_ins.items() if rows}
        dels = {p: list(rows) for p, rows in self._pending_dels.items() if rows}
        self._pending_ins.clear()
        self._pending_dels.clear()
        if ins or dels:
            self._propagate(ins, dels)

    def _propagate(self, ins: dict[str, list[Row]], dels: dict[str, list[Row]]) -> None:
        """Bring every kept unit above the changed predicates up to date, lowest first;
        then forget the memoised answers of on-demand predicates that read a changed one
        (a GRANT on a table leaves every session's role closure memoised)."""
        heap: list[int] = []
        queued: set[int] = set()

        def push(pred: str) -> None:
            for unit, _rule, _i in self._readers.get(pred, ()):
                if unit.index not in queued:
                    queued.add(unit.index)
                    heapq.heappush(heap, unit.index)

        for pred in (*ins, *dels):
            push(pred)
        grown: set[str] = set()
        while heap:
            unit = self._units[heapq.heappop(heap)]
            for pred in self._update_unit(unit, ins, dels):
                push(pred)
                if ins.get(pred):
                    grown.add(pred)
        for pred in {*ins, *dels}:
            above = self._invalidates.get(pred)
            if above is None:
                above = self._invalidates[pred] = sorted(
                    _above(self._deps, {pred}) & self._demand)
            for demanded in above:
                self._memo[demanded].clear()
        if self._ill_typed or (self._max_rows is not None and any(
                len(self._rels[p].rows) > self._max_rows for p in grown)):
            self._demote()

    def _update_unit(self, unit: _Unit, ins: dict[str, list[Row]],
                     dels: dict[str, list[Row]]) -> list[str]:
        """DRed for one unit given the net changes below it; returns its changed preds."""
        deleting: list[tuple[_Rule, tuple[Any, ...], list[Row]]] = []
        inserting: list[tuple[_Rule, tuple[Any, ...], list[Row]]] = []
        for rule, entry, pred, positive in unit.outer:
            gone, new = dels.get(pred), ins.get(pred)
            if gone:
                (inserting if not positive else deleting).append((rule, entry, gone))
            if new:
                (deleting if not positive else inserting).append((rule, entry, new))
        over: dict[str, list[Row]] = {}
        back: dict[str, list[Row]] = {p: [] for p in unit.preds}
        if deleting:
            over = self._over_delete(unit, deleting, ins, dels)
            for pred, rows in over.items():
                rel = self._rels[pred]
                for row in rows:
                    rel.remove(row)
            for pred, rows in over.items():  # re-derive from what is left
                rel = self._rels[pred]
                tests = [self._plan(rule, ("exists",)) for rule in self._rules_of.get(pred, [])]
                for row in rows:
                    for test in tests:
                        if test(row, None, None):
                            rel.add(row)
                            back[pred].append(row)
                            break
        cand: dict[str, list[Row]] = {p: [] for p in unit.preds}
        for rule, entry, rows in inserting:
            self._plan(rule, entry)(rows, cand[rule.head].append, None)
        added: dict[str, list[Row]] = {p: [] for p in unit.preds}
        frontier = self._apply(cand, added)
        if unit.recursive:
            for pred, rows in back.items():
                if rows:
                    frontier.setdefault(pred, []).extend(rows)
            while frontier:
                frontier = self._apply(self._fire_inner(unit, frontier), added)
        changed: list[str] = []
        for pred in unit.preds:
            rel = self._rels[pred]
            gone_rows = [row for row in over.get(pred, ()) if row not in rel.rows]
            if over.get(pred):
                was = set(over[pred])
                new_rows = [row for row in added[pred] if row not in was]
            else:
                new_rows = added[pred]
            if gone_rows:
                dels[pred] = gone_rows
            if new_rows:
                ins[pred] = new_rows
            if gone_rows or new_rows:
                changed.append(pred)
        return changed

    def _over_delete(self, unit: _Unit, deleting: list[tuple[_Rule, tuple[Any, ...], list[Row]]],
                     ins: dict[str, list[Row]], dels: dict[str, list[Row]]
                     ) -> dict[str, list[Row]]:
        """Every kept fact of the unit with a derivation that used a vanished fact.

        Evaluated in the state before the change: the relations below the unit are turned
        back to it for the duration (their net changes are small), and the unit itself is
        untouched until the caller removes what this returns. Only the relations some
        evaluated literal reads besides the trigger itself are turned back: a revoke that
        changes one relation below a unit needs no turning back at all.
        """
        changed = {p for p in unit.lower if ins.get(p) or dels.get(p)}
        needed: set[str] = set()
        if changed:
            evaluated = [(rule, entry[1] if entry[0] == "delta" else -1)
                         for rule, entry, _rows in deleting]
            if unit.recursive:
                evaluated += [(rule, i) for rule, i in unit.inner]
            for rule, trigger in evaluated:
                for j, lit in enumerate(rule.body):
                    if j != trigger and lit.kind != "cmp" and lit.pred in changed:
                        needed.add(lit.pred)
        toggled = sorted(needed)
        for pred in toggled:
            rel = self._rels[pred]
            for row in ins.get(pred, ()):
                rel.remove(row)
            for row in dels.get(pred, ()):
                rel.add(row)
        try:
            cand: dict[str, list[Row]] = {p: [] for p in unit.preds}
            for rule, entry, rows in deleting:
                self._plan(rule, entry)(rows, cand[rule.head].append, None)
            over: dict[str, list[Row]] = {p: [] for p in unit.preds}
            seen: dict[str, set[Row]] = {p: set() for p in unit.preds}
            while True:
                frontier: dict[str, list[Row]] = {}
                for pred, rows in cand.items():
                    rel_rows = self._rels[pred].rows
                    base = self._base.get(pred, ())
                    mark = seen[pred]
                    for row in rows:
                        if row in rel_rows and row not in mark and row not in base:
                            mark.add(row)
                            over[pred].append(row)
                            frontier.setdefault(pred, []).append(row)
                if not frontier or not unit.recursive:
                    break
                cand = self._fire_inner(unit, frontier)
        finally:
            for pred in toggled:
                rel = self._rels[pred]
                for row in dels.get(pred, ()):
                    rel.remove(row)
                for row in ins.get(pred, ()):
                    rel.add(row)
        return {p: rows for p, rows in over.items() if rows}

    def _fire_inner(self, unit: _Unit, frontier: dict[str, list[Row]]) -> dict[str, list[Row]]:
        """Semi-naive step inside a recursive unit: rules fired on the last new facts."""
        cand: dict[str, list[Row]] = {p: [] for p in unit.preds}
        for rule, i in unit.inner:
            lit = rule.body[i]
            rows = frontier.get(lit.pred)
            if not rows:
                continue
            entry = ("delta", i) if lit.kind == "pos" else ("negdelta", i)
            self._plan(rule, entry)(rows, cand[rule.head].append, None)
        return cand

    def _apply(self, cand: dict[str, list[Row]], added: dict[str, list[Row]] | None
               ) -> dict[str, list[Row]]:
        """Insert the candidates that are new; return them (the next frontier)."""
        frontier: dict[str, list[Row]] = {}
        for pred, rows in cand.items():
            if not rows:
                continue
            rel = self._rels[pred]
            present = rel.rows
            new: list[Row] = []
            for row in rows:
                if row not in present:
                    rel.add(row)
                    new.append(row)
            if new:
                frontier[pred] = new
                if added is not None:
                    added[pred].extend(new)
        return frontier

    def _note_ill_typed(self, left: Any, right: Any, op: str, head: str) -> bool:
        """A comparison of a string with an integer while maintaining ``head``."""
        try:
            return _ORDER_OPS[op](left, right)
        except TypeError:
            self._ill_typed.add(head)
            return False

    def _demote(self) -> None:
        """Move ill-typed or oversized kept predicates (and what reads them) to on demand."""
        seeds = set(self._ill_typed)
        if self._max_rows is not None:
            seeds |= {p for p in self._program.derived() if p in self._rels
                      and len(self._rels[p].rows) > self._max_rows}
        self._ill_typed.clear()
        demand = _above(self._deps, seeds | self._demand) & self._program.derived()
        for pred in demand - self._demand:
            rel = self._rels.pop(pred, None)
            if rel is not None:
                rel.clear()
        self._install(demand)

    # ------------------------------------------------------------------ on demand

    def _call(self, site_id: int, values: tuple[Value, ...]) -> list[Row]:
        """Answers of one on-demand call (memoised until the next change)."""
        site = self._sites[site_id]
        key_values = values if site.same else tuple(values[k] for k in site.key_idx)
        entry = self._memo[site.pred].get((site.key, key_values))
        if entry is None:
            entry = self._compute(site.pred, site.key, key_values)
        if site.same:
            return entry.rows
        return entry.select(site.extra, tuple(values[k] for k in site.extra_idx))

    def _compute(self, pred: str, key: tuple[int, ...], values: tuple[Value, ...]) -> _Entry:
        if pred in self._demand_scc:
            return self._fixpoint(pred, key, values)
        out: set[Row] = set(_matching(self._base.get(pred, ()), key, values))
        for rule in self._rules_of.get(pred, []):
            self._plan(rule, ("head", key))(values, out.add, self._call)
        return self._remember(pred, key, values, out)

    def _remember(self, pred: str, key: tuple[int, ...], values: tuple[Value, ...],
                  rows: Iterable[Row]) -> _Entry:
        memo = self._memo[pred]
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        entry = _Entry(list(rows))
        memo[(key, values)] = entry
        return entry

    def _fixpoint(self, pred: str, key: tuple[int, ...], values: tuple[Value, ...]) -> _Entry:
        """Semi-naive evaluation of a recursive on-demand component for one call.

        Subgoals (predicate, key positions, values) of the component get a table each; a
        new table is evaluated with every rule once, after that only with one recursive
        literal reading the previous round's new answers (and the others everything).
        """
        scc = self._demand_scc[pred]
        tables: dict[tuple[Any, ...], list[Any]] = {}  # key -> [all set, delta list, fresh]
        reading_delta: list[int | None] = [None]

        def table(goal: tuple[Any, ...]) -> list[Any]:
            found = tables.get(goal)
            if found is None:
                found = tables[goal] = [set(), [], True]
            return found

        def call(site_id: int, vals: tuple[Value, ...]) -> Iterable[Row]:
            site = self._sites[site_id]
            if site.pred not in scc:
                return self._call(site_id, vals)
            kv = vals if site.same else tuple(vals[k] for k in site.key_idx)
            t = table((site.pred, site.key, kv))
            rows = t[1] if site_id == reading_delta[0] else t[0]
            if site.same:
                return rows
            ev = tuple(vals[k] for k in site.extra_idx)
            return [r for r in rows if tuple(r[p] for p in site.extra) == ev]

        first = (pred, key, values)
        table(first)
        while True:
            pending: dict[tuple[Any, ...], set[Row]] = {}
            moved = any(t[1] for t in tables.values())
            for goal in list(tables):
                t = tables[goal]
                gpred, gkey, gvals = goal
                out = pending.setdefault(goal, set())
                if t[2]:
                    t[2] = False
                    out.update(_matching(self._base.get(gpred, ()), gkey, gvals))
                    reading_delta[0] = None
                    for rule in self._rules_of.get(gpred, []):
                        self._plan(rule, ("head", gkey))(gvals, out.add, call)
                    continue
                if not moved:
                    continue
                for rule in self._rules_of.get(gpred, []):
                    fn = self._plan(rule, ("head", gkey))
                    for site_id in fn.sites:  # type: ignore[attr-defined]
                        if self._sites[site_id].pred in scc:
                            reading_delta[0] = site_id
                            fn(gvals, out.add, call)
            reading_delta[0] = None
            grew = False
            for goal, rows in pending.items():
                t = tables[goal]
                new = [r for r in rows if r not in t[0]]
                t[1] = new
                t[0].update(new)
                grew = grew or bool(new)
            if not grew and not any(t[2] for t in tables.values()):
                break
        result = None
        for goal, t in tables.items():
            entry = self._remember(*goal, t[0])
            if goal == first:
                result = entry
        assert result is not None
        return result

    # ------------------------------------------------------------------ questions

    def _holds(self, pred: str, args: tuple[Value, ...]) -> bool:
        self._flush()
        rel = self._rels.get(pred)
        if rel is not None:
            return args in rel.rows
        site = self._site_for(pred, tuple(range(len(args))))
        return bool(self._evaluate(lambda: self._call(site, args),
                                   lambda: describe_fact(pred, args)))

    def _site_for(self, pred: str, bound: tuple[int, ...]) -> int:
        cache_key = ("site", pred, bound)
        found = self._plans.get(cache_key)
        if found is None:
            found = self._plans[cache_key] = self._site(pred, bound)  # type: ignore[assignment]
        return found  # type: ignore[return-value]

    def _query(self, atom: Atom) -> list[Row]:
        # anonymous positions are answer columns too: give them names no user can write
        counter = itertools.count()
        args = tuple(Var(f"?{next(counter)}") if isinstance(a, Var) and a.anonymous else a
                     for a in atom.args)
        names, rows = self._solve((Atom(atom.pred, args),))
        where = {n: i for i, n in enumerate(names)}
        # each answer row, extended by the constants, picked in the atom's order at C speed
        consts = tuple(a.value for a in args if isinstance(a, Const))
        picks, k = [], len(names)
        for a in args:
            if isinstance(a, Const):
                picks.append(k)
                k += 1
            else:
                picks.append(where[a.name])
        if picks == list(range(len(names))) and not consts:
            return rows
        if len(picks) == 1:
            return [(row + consts)[picks[0]:picks[0] + 1] for row in rows]
        pick = operator.itemgetter(*picks)
        return [pick(row + consts) for row in rows]

    def _solve(self, body: tuple[Literal, ...]) -> tuple[list[str], list[Row]]:
        self._flush()
        shape, params = _shape(body)
        if shape is None:
            raise RuleError(f"{QUERY_SOURCE}:1:1: bad conjunction")
        names, fn = self._query_plan(shape, body)
        out: set[Row] = set()
        self._evaluate(lambda: fn(params, out.add, self._call), lambda: _describe(body))
        return names, list(out)

    def _evaluate(self, thunk: Callable[[], Any], describe: Callable[[], str]) -> Any:
        try:
            return thunk()
        except TypeError as err:  # "a" < 1: the reference raises the same way
            raise RuleError(f"{QUERY_SOURCE}:1:1: cannot evaluate {describe()}: {err}"
                            ) from None

    def _query_plan(self, shape: tuple[Any, ...], body: tuple[Literal, ...]
                    ) -> tuple[list[str], Callable[..., Any]]:
        found = self._query_plans.get(shape)
        if found is not None:
            return found
        names = conjunction_variables(body)
        slots: dict[str, int] = {}
        lits: list[_Lit] = []
        k = itertools.count()

        def term(t: Var | Const) -> tuple[Any, ...]:
            if isinstance(t, Const):
                return ("c", next(k))  # the k-th constant: a parameter
            if t.anonymous:
                return ("_",)
            return ("v", slots.setdefault(t.name, len(slots)))

        for literal in body:
            args = tuple(term(t) for t in literal_terms(literal))
            named = frozenset(a[1] for a in args if a[0] == "v")
            if isinstance(literal, Atom):
                lits.append(_Lit("pos", literal.pred, args, named))
            elif isinstance(literal, Negation):
                lits.append(_Lit("neg", literal.atom.pred, args, named))
            else:
                lits.append(_Lit("cmp", literal.op, args, named))
        gen = _Gen()
        gen.lines.append("def plan(ARG, EMIT, CALL):")
        gen.loop("for _ in ONE:")
        bound: set[int] = set()
        for i in self._order(lits, bound, None):
            self._step(gen, lits[i], bound, lambda a: f"ARG[{a[1]}]", False, None, query=True)
        gen.line(f"EMIT({_tuple_expr([f'v{slots[n]}' for n in names])})")
        fn = self._compile(gen, "query")
        if len(self._query_plans) >= QUERY_PLAN_LIMIT:
            self._query_plans.clear()
        self._query_plans[shape] = (names, fn)
        return names, fn

    def _facts(self, pred: str) -> Iterable[Row]:
        return self._rels[pred].rows

    # ------------------------------------------------------------------ fast validation

    def solve(self, body: Sequence[Literal], limit: int | None = None) -> list[Binding]:
        """As :meth:`BaseBackend.solve`; a conjunction shape that passed the checks once
        is not checked again (its verdict depends only on the shape: predicates, variable
        names, literal kinds and the types of the constants)."""
        body = tuple(body)
        if limit is not None and (isinstance(limit, bool) or limit < 0):
            raise RuleError(self._where(f"limit must be a non-negative integer, got {limit!r}"))
        with self._lock:
            if self._pending_ins or self._pending_dels:
                self._flush()
            shape, params = _shape(body)
            found = self._query_plans.get(shape) if shape is not None else None
            if found is None:
                self._check_body(body)
                if limit == 0:
                    return []
                names, rows = self._solve(body)
            else:
                if limit == 0:
                    return []
                names, fn = found
                out: set[Row] = set()
                try:
                    fn(params, out.add, self._call)
                except TypeError as err:  # "a" < 1: the reference raises the same way
                    raise RuleError(f"{QUERY_SOURCE}:1:1: cannot evaluate {_describe(body)}: "
                                    f"{err}") from None
                rows = list(out)
        if len(rows) > 1:
            if limit == 1:  # the first of the sorted answers, without sorting them all
                rows = [min(rows, key=row_key)]
            else:
                rows = sorted_rows(rows)
                if limit is not None:
                    rows = rows[:limit]
        return [dict(zip(names, row, strict=True)) for row in rows]


def _describe(body: Sequence[Literal]) -> str:
    return ", ".join(str(b) for b in body)


def _tuple_expr(items: Sequence[str]) -> str:
    if len(items) == 1:
        return f"({items[0]},)"
    return f"({', '.join(items)})"


def _matching(rows: Iterable[Row], key: tuple[int, ...], values: tuple[Value, ...]
              ) -> Iterable[Row]:
    return (r for r in rows if all(r[p] == v for p, v in zip(key, values, strict=True)))


def _shape(body: tuple[Literal, ...]) -> tuple[tuple[Any, ...] | None, tuple[Value, ...]]:
    """A conjunction with its constants taken out (their types kept), and the constants.

    None when a term is not a variable or a well-typed constant (the full checks report it).
    Written for speed: it runs on every ``solve``.
    """
    parts: list[Any] = []
    params: list[Value] = []
    add = params.append
    for literal in body:
        cls = literal.__class__
        if cls is Atom:
            head: Any = literal.pred  # type: ignore[union-attr]
            terms = literal.args  # type: ignore[union-attr]
        elif cls is Negation:
            atom = literal.atom  # type: ignore[union-attr]
            if atom.__class__ is not Atom:
                return None, ()
            head, terms = ("!", atom.pred), atom.args
        elif cls is Comparison:
            head = ("=", literal.op)  # type: ignore[union-attr]
            terms = (literal.left, literal.right)  # type: ignore[union-attr]
        else:
            return None, ()
        spec: list[Any] = [head]
        for t in terms:
            tc = t.__class__
            if tc is Var:
                spec.append(t.name)
            elif tc is Const:
                value = t.value
                vc = value.__class__
                if vc is str:
                    spec.append(0)
                elif vc is int:
                    spec.append(1)
                else:
                    return None, ()
                add(value)
            else:
                return None, ()
        parts.append(tuple(spec))
    return tuple(parts), tuple(params)


def _check_constants(literal: Literal, where: str) -> None:
    for term in literal_terms(literal):
        if isinstance(term, Const) and (
            isinstance(term.value, bool) or not isinstance(term.value, str | int)
        ):
            raise RuleError(f"{where}: constant {term.value!r} is not a string or an integer")
