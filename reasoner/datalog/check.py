"""Static checks of a rule base, run at load time.

pyDatalog checks nothing: an unstratified program hangs forever inside compiled code, an
unsafe negation silently answers "no", and a comparison whose variables are not bound yet
raises mid-query. So every program is checked here before any backend sees it, and query
conjunctions are checked with the same rules (:func:`check_query`).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from reasoner.datalog.ast import (
    Atom,
    Comparison,
    Literal,
    Negation,
    Program,
    Rule,
    literal_atom,
)
from reasoner.errors import RuleError

N = TypeVar("N", bound=Hashable)

QUERY_SOURCE = "<query>"


_WHERE = re.compile(r"^(.*?):(\d+):(\d+): ")


def _position(message: str) -> tuple[str, int, int]:
    match = _WHERE.match(message)
    if match is None:
        return ("", 0, 0)
    return (match.group(1), int(match.group(2)), int(match.group(3)))


def _fail(problems: list[str]) -> None:
    """Raise one RuleError listing every problem, in file order (the first one leads)."""
    if problems:
        raise RuleError("\n".join(sorted(problems, key=_position)))


# --------------------------------------------------------------------------- bodies


def body_problems(
    body: Sequence[Literal],
    where: Sequence[str],
    context: str,
    head: Atom | None = None,
    head_where: str = "",
) -> list[str]:
    """Safety and left-to-right evaluability of one body (a rule's, or a query conjunction).

    ``where[i]`` is the ``file:line:col`` of ``body[i]``. pyDatalog resolves a body strictly
    left to right, so a comparison or negation must come after positive atoms binding all its
    variables; elsewhere it would raise (comparison) or silently fail (negation).
    """
    problems: list[str] = []
    positive: set[str] = set()
    for literal in body:
        if isinstance(literal, Atom):
            positive |= literal.named_variables()
    bound: set[str] = set()
    for i, literal in enumerate(body):
        at = where[i]
        if isinstance(literal, Atom):
            bound |= literal.named_variables()
            continue
        if isinstance(literal, Comparison) and any(v.anonymous for v in literal.variables()):
            problems.append(f"{at}: anonymous variable _ in comparison {literal} {context}")
        names = literal.named_variables()
        kind = "negation" if isinstance(literal, Negation) else "comparison"
        for name in sorted(names - positive):
            problems.append(
                f"{at}: unsafe {kind} {literal} {context}: variable {name} does not occur "
                f"in a positive body atom"
            )
        for name in sorted((names & positive) - bound):
            problems.append(
                f"{at}: {kind} {literal} {context} uses {name} before a positive atom binds "
                f"it; bodies are evaluated left to right, so move it after that atom"
            )
    if head is not None:
        if any(v.anonymous for v in head.variables()):
            problems.append(f"{head_where}: anonymous variable _ in the head {head} {context}")
        for name in sorted(head.named_variables() - positive):
            problems.append(
                f"{head_where}: unsafe head {head} {context}: variable {name} does not occur "
                f"in a positive body atom"
            )
    return problems


def _rule_context(rule: Rule) -> str:
    return f"of rule {rule.name}"


def _rule_body_where(rule: Rule) -> list[str]:
    return [rule.where(i + 1) for i in range(len(rule.body))]


# --------------------------------------------------------------------------- program


@dataclass(frozen=True)
class _Use:
    """One occurrence of a predicate, for arity messages."""

    arity: int
    where: str
    what: str


def _uses(program: Program) -> dict[str, list[_Use]]:
    uses: dict[str, list[_Use]] = {}
    for decl in program.inputs.values():
        uses.setdefault(decl.pred, []).append(_Use(decl.arity, decl.where(), "declared"))
    for rule in program.rules:
        uses.setdefault(rule.head.pred, []).append(
            _Use(rule.head.arity, rule.where(0), f"head of rule {rule.name}")
        )
    for fact in program.facts:
        uses.setdefault(fact.atom.pred, []).append(_Use(fact.atom.arity, fact.where(), "fact"))
    for rule in program.rules:
        for i, literal in enumerate(rule.body):
            atom = literal_atom(literal)
            if atom is not None:
                uses.setdefault(atom.pred, []).append(
                    _Use(atom.arity, rule.where(i + 1), f"body of rule {rule.name}")
                )
    return uses


def program_problems(program: Program) -> list[str]:
    """Every local problem of a program (all but stratification), as messages."""
    problems: list[str] = []

    # names are unique across the whole program, facts' optional names included
    named: dict[str, str] = {}
    items: list[tuple[str | None, str]] = [(r.name, r.where()) for r in program.rules]
    items += [(f.name, f.where()) for f in program.facts]
    for name, where in items:
        if name is None:
            continue
        if name in named:
            problems.append(f"{where}: duplicate rule name {name}: also used at {named[name]}")
        else:
            named[name] = where

    # arity: every occurrence agrees with the first (the declaration, if any)
    for pred, uses in _uses(program).items():
        first = uses[0]
        for use in uses[1:]:
            if use.arity != first.arity:
                problems.append(
                    f"{use.where}: {pred} has {use.arity} argument(s) here ({use.what}), but "
                    f"{first.arity} at {first.where} ({first.what})"
                )

    defined = set(program.inputs) | {r.head.pred for r in program.rules}
    defined |= {f.atom.pred for f in program.facts}

    for fact in program.facts:
        for var in sorted({v.name for v in fact.atom.variables()}):
            problems.append(f"{fact.where()}: fact {fact} is not ground: variable {var}")

    for rule in program.rules:
        decl = program.inputs.get(rule.head.pred)
        if decl is not None:
            problems.append(
                f"{rule.where(0)}: rule {rule.name} defines {rule.head.pred}, which is declared "
                f".input at {decl.where()}; an input predicate may only have facts"
            )
        for i, literal in enumerate(rule.body):
            atom = literal_atom(literal)
            if atom is not None and atom.pred not in defined:
                problems.append(
                    f"{rule.where(i + 1)}: unknown predicate {atom.pred}/{atom.arity} in rule "
                    f"{rule.name}: it is neither declared .input nor defined by a rule or fact"
                )
        problems += body_problems(
            rule.body, _rule_body_where(rule), _rule_context(rule), rule.head, rule.where(0)
        )
    return problems


def check_program(program: Program) -> Program:
    """Raise RuleError listing every problem (local checks, then stratification)."""
    _fail(program_problems(program))
    stratify(program)
    return program


# --------------------------------------------------------------------------- queries


def check_query(program: Program, body: Sequence[Literal], source: str = QUERY_SOURCE) -> None:
    """Check a conjunction given to a backend: known predicates, arity, safety, order.

    Positions are columns in the conjunction's rendered text, which the message quotes.
    """
    text = ", ".join(str(b) for b in body)
    where: list[str] = []
    column = 1
    for literal in body:
        where.append(f"{source}:1:{column}")
        column += len(str(literal)) + 2
    context = f"in query {text}"
    problems: list[str] = []
    arities = program.predicates()
    for i, literal in enumerate(body):
        if not isinstance(literal, Atom | Negation | Comparison):
            problems.append(f"{where[i]}: not a literal: {literal!r}")
            continue
        atom = literal_atom(literal)
        if atom is None:
            continue
        if atom.pred not in arities:
            problems.append(f"{where[i]}: unknown predicate {atom.pred}/{atom.arity} {context}")
        elif arities[atom.pred] != atom.arity:
            problems.append(
                f"{where[i]}: {atom.pred} has {arities[atom.pred]} argument(s), "
                f"not {atom.arity} {context}"
            )
    _fail(problems)
    _fail(body_problems(body, where, context))


# --------------------------------------------------------------------------- stratification


def strongly_connected_components(graph: Mapping[N, Iterable[N]]) -> list[list[N]]:
    """Tarjan's algorithm without recursion (rule bases can be deep); dependencies first.

    Nodes that only appear as successors are included. Each component is emitted after every
    component reachable from it, so with edges head -> body the lowest strata come first.
    """
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    stack: list[N] = []
    on_stack: set[N] = set()
    result: list[list[N]] = []
    counter = 0

    def successors(node: N) -> Iterable[N]:
        return graph.get(node, ())

    for root in list(graph):
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(successors(root)))]
        while work:
            node, children = work[-1]
            descended = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors(child))))
                    descended = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if descended:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[N] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                result.append(component)
    return result


@dataclass(frozen=True)
class _Edge:
    """head depends on body predicate, through rule.body[index]."""

    rule: Rule
    index: int
    negative: bool


def dependency_graph(program: Program) -> dict[str, dict[str, list[_Edge]]]:
    """pred -> {predicate it reads -> the body literals that read it}; every pred is a key."""
    graph: dict[str, dict[str, list[_Edge]]] = {p: {} for p in sorted(program.predicates())}
    for rule in program.rules:
        for i, literal in enumerate(rule.body):
            atom = literal_atom(literal)
            if atom is None:
                continue
            graph.setdefault(atom.pred, {})
            edges = graph.setdefault(rule.head.pred, {}).setdefault(atom.pred, [])
            edges.append(_Edge(rule, i, isinstance(literal, Negation)))
    return graph


def _path(
    graph: dict[str, dict[str, list[_Edge]]], start: str, goal: str, within: set[str]
) -> list[str]:
    """Shortest dependency path start -> ... -> goal inside one component (BFS)."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for succ in graph[node]:
            if succ in within and succ not in previous:
                previous[succ] = node
                queue.append(succ)
    path = [goal]
    step = previous[goal]
    while step is not None:
        path.append(step)
        step = previous[step]
    return list(reversed(path))


def stratify(program: Program) -> list[set[str]]:
    """Predicates per stratum, lowest first; RuleError naming each negation inside a cycle."""
    graph = dependency_graph(program)
    components = strongly_connected_components({p: sorted(succ) for p, succ in graph.items()})
    component_of = {p: i for i, comp in enumerate(components) for p in comp}
    problems: list[str] = []
    level: dict[int, int] = {}
    for i, comp in enumerate(components):  # dependencies come first
        members = set(comp)
        best = 0
        for pred in comp:
            for succ, edges in graph[pred].items():
                negative = [e for e in edges if e.negative]
                if succ in members:
                    for edge in negative:
                        cycle = [pred, *_path(graph, succ, pred, members)]
                        rule = edge.rule
                        problems.append(
                            f"{rule.where(edge.index + 1)}: negation {rule.body[edge.index]} in "
                            f"rule {rule.name} ({rule.source}:{rule.line}) is inside the "
                            f"recursive cycle {' -> '.join(cycle)}; the program is not "
                            f"stratified"
                        )
                else:
                    best = max(best, level[component_of[succ]] + (1 if negative else 0))
        level[i] = best
    _fail(problems)
    strata: list[set[str]] = [set() for _ in range(max(level.values(), default=-1) + 1)]
    for i, comp in enumerate(components):
        strata[level[i]].update(comp)
    return strata
