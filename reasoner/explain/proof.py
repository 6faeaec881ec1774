"""Proof trees rebuilt from the rules, Soufflé-style: nothing is recorded while deciding.

For a true ground atom, each rule whose head unifies is instantiated by solving its body
with the engine; the explored AND-OR graph gets minimal heights by fixpoint, and the
extracted tree strictly decreases in height, so it is shortest and acyclic even on cyclic
data. Leaves are stored facts (with the statement and line that made them), facts written
in rule files (vocabulary, with their file:line), negations and comparisons.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import count

from reasoner.backends.base import Backend, Value
from reasoner.datalog.ast import Atom, Comparison, Const, Literal, Negation, Program, Rule, Var
from reasoner.facts import FactStore
from reasoner.source import Span

INFINITY = 1 << 30


@dataclass
class ProofNode:
    """One step: ``kind`` is rule, fact (stored), vocabulary (rule-file fact), negation or
    comparison. Rule nodes name the rule and its file:line; fact nodes their origin."""

    literal: Literal
    kind: str
    rule: Rule | None = None
    children: list[ProofNode] = field(default_factory=list)
    origin: Span | None = None
    where: str | None = None  # file:line of a rule or a rule-file fact
    height: int = 0

    def walk(self) -> Iterator[ProofNode]:
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def size(self) -> int:
        return sum(1 for _ in self.walk())

    def leaves(self) -> list[ProofNode]:
        return [n for n in self.walk() if not n.children]


def substitute(literal: Literal, env: dict[str, Value]) -> Literal:
    def term(t: Var | Const) -> Var | Const:
        if isinstance(t, Var) and t.name in env:
            return Const(env[t.name])
        return t

    if isinstance(literal, Atom):
        return Atom(literal.pred, tuple(term(a) for a in literal.args))
    if isinstance(literal, Negation):
        return Negation(substitute(literal.atom, env))  # type: ignore[arg-type]
    return Comparison(literal.op, term(literal.left), term(literal.right))


def bound_first(body: Sequence[Literal], bound: set[str] | None = None,
                stored: frozenset[str] | set[str] = frozenset()) -> list[Literal]:
    """Reorder a conjunction for a top-down engine: at each step a stored (input) atom
    with a bound argument, else the atom with the most bound arguments; every negation or
    comparison as soon as its variables are bound. Same answers, goal-directed search."""
    bound = set(bound or ())
    todo = list(body)
    out: list[Literal] = []

    def ready(lit: Literal) -> bool:
        terms = (lit.atom.args if isinstance(lit, Negation) else (lit.left, lit.right))
        return all(not isinstance(t, Var) or t.anonymous or t.name in bound for t in terms)

    while todo:
        tests = [lit for lit in todo if not isinstance(lit, Atom) and ready(lit)]
        if tests:
            for lit in tests:
                todo.remove(lit)
                out.append(lit)
            continue
        atoms = [lit for lit in todo if isinstance(lit, Atom)]
        if not atoms:
            out.extend(todo)  # unsafe leftovers: let the engine report them
            break

        def score(atom: Atom) -> int:
            return sum(1 for a in atom.args if isinstance(a, Const) or
                       (isinstance(a, Var) and not a.anonymous and a.name in bound))

        best = max(atoms, key=lambda a: (a.pred in stored and score(a) > 0,
                                         score(a) / max(1, len(a.args)), -todo.index(a)))
        todo.remove(best)
        out.append(best)
        bound.update(a.name for a in best.args if isinstance(a, Var) and not a.anonymous)
    return out


def _extend(pattern: Atom, row: tuple[Value, ...], binding: dict[str, Value]
            ) -> dict[str, Value] | None:
    """``binding`` extended so that ``pattern`` matches the answer ``row``, or None."""
    new = dict(binding)
    for term, value in zip(pattern.args, row, strict=True):
        if isinstance(term, Const):
            if term.value != value:
                return None
        elif term.anonymous:
            continue
        elif term.name in new:
            if new[term.name] != value:
                return None
        else:
            new[term.name] = value
    return new


def _unify_head(head: Atom, goal: Atom) -> dict[str, Value] | None:
    env: dict[str, Value] = {}
    for pattern, value in zip(head.args, goal.args, strict=True):
        assert isinstance(value, Const)
        if isinstance(pattern, Const):
            if pattern.value != value.value:
                return None
        elif pattern.anonymous:
            continue
        elif pattern.name in env and env[pattern.name] != value.value:
            return None
        else:
            env[pattern.name] = value.value
    return env


def _name_anonymous(body: Sequence[Literal]) -> tuple[Literal, ...]:
    """Give each ``_`` in positive atoms a name so that instances come out ground."""
    fresh = count()
    out: list[Literal] = []
    for literal in body:
        if isinstance(literal, Atom):
            args = tuple(Var(f"Anon__{next(fresh)}") if isinstance(a, Var) and a.anonymous
                         else a for a in literal.args)
            out.append(Atom(literal.pred, args))
        else:
            out.append(literal)
    return tuple(out)


class Prover:
    """Builds minimal-height proofs over one backend, its program and its fact store."""

    def __init__(self, backend: Backend, facts: FactStore | None = None, *,
                 max_instances: int = 64) -> None:
        self.backend = backend
        self.program: Program = backend.program
        self.facts = facts
        self.max_instances = max_instances
        self._vocabulary = {(f.atom.pred, f.atom.args): f for f in self.program.facts}
        self._rules: dict[str, tuple[Rule, ...]] = {}
        self._stored = frozenset(self.program.inputs)
        self._cache: dict[Atom, list[tuple[Value, ...]]] = {}
        self._indexes: dict[tuple[Atom, tuple[int, ...]], dict[tuple[Value, ...],
                            list[tuple[Value, ...]]]] = {}

    def rules_for(self, pred: str) -> tuple[Rule, ...]:
        if pred not in self._rules:
            self._rules[pred] = self.program.rules_for(pred)
        return self._rules[pred]

    # exploring ------------------------------------------------------------------------

    def _instances(self, goal: Atom) -> list[tuple[Rule, tuple[Literal, ...]]]:
        found: list[tuple[Rule, tuple[Literal, ...]]] = []
        for rule in self.rules_for(goal.pred):
            env = _unify_head(rule.head, goal)
            if env is None:
                continue
            body = _name_anonymous([substitute(b, env) for b in rule.body])
            for binding in self._solve_body(body):
                found.append((rule, tuple(substitute(b, binding) for b in body)))
        return found

    def _answers(self, atom: Atom) -> list[tuple[Value, ...]]:
        """Answers of a derived atom as unified with the goal, asked once per prover:
        the join with stored facts is done here, so a chain of N roles costs N lookups
        instead of N closures."""
        if atom not in self._cache:
            self._cache[atom] = self.backend.query(atom)
        return self._cache[atom]

    def _answers_matching(self, atom: Atom, ground: Atom) -> Sequence[tuple[Value, ...]]:
        """The cached answers of ``atom`` that agree with ``ground`` where it is bound,
        through an index on those positions (a scan per binding was quadratic along a
        chain of roles)."""
        positions = tuple(i for i, a in enumerate(ground.args) if isinstance(a, Const))
        key = (atom, positions)
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes[key] = {}
            for row in self._answers(atom):
                index.setdefault(tuple(row[i] for i in positions), []).append(row)
        return index.get(tuple(ground.args[i].value for i in positions), ())  # type: ignore[union-attr]

    def _solve_body(self, body: Sequence[Literal]) -> list[dict[str, Value]]:
        bindings: list[dict[str, Value]] = [{}]
        for literal in bound_first(body, stored=self._stored):
            if not bindings:
                return []
            if not isinstance(literal, Atom):
                bindings = [b for b in bindings
                            if self.backend.solve([substitute(literal, b)], limit=1)]
                continue
            general = literal.pred not in self._stored and any(
                isinstance(a, Const) for a in literal.args)
            extended: list[dict[str, Value]] = []
            for binding in bindings:
                ground = substitute(literal, binding)
                assert isinstance(ground, Atom)
                rows = (self._answers_matching(literal, ground) if general
                        else self.backend.query(ground))
                for row in rows:
                    new = _extend(ground, row, binding)
                    if new is not None:
                        extended.append(new)
                        if len(extended) >= self.max_instances * 4:
                            break
            bindings = extended
        return bindings[: self.max_instances]

    def prove(self, goal: Atom) -> ProofNode | None:
        """A shortest proof of the ground atom, or None when it does not hold."""
        graph: dict[Atom, list[tuple[Rule, tuple[Literal, ...]]]] = {}
        leaves: dict[Atom, ProofNode] = {}
        todo = [goal]
        while todo:
            atom = todo.pop()
            if atom in graph or atom in leaves:
                continue
            leaf = self._leaf(atom)
            if leaf is not None:
                leaves[atom] = leaf
                continue
            graph[atom] = self._instances(atom)
            for _rule, body in graph[atom]:
                todo.extend(b for b in body if isinstance(b, Atom))
        height = self._heights(graph, leaves)
        if height.get(goal, INFINITY) >= INFINITY:
            return None
        return self._extract(goal, graph, leaves, height)

    def _leaf(self, atom: Atom) -> ProofNode | None:
        key = (atom.pred, atom.args)
        if key in self._vocabulary:
            fact = self._vocabulary[key]
            return ProofNode(atom, "vocabulary", where=f"{fact.source}:{fact.line}")
        if atom.pred in self.program.inputs:
            args = tuple(a.value for a in atom.args if isinstance(a, Const))
            origin = self.facts.origin(atom.pred, args) if self.facts else None
            if origin is None and not self.backend.holds(atom.pred, args):
                return ProofNode(atom, "missing", height=INFINITY)
            return ProofNode(atom, "fact", origin=origin)
        return None

    @staticmethod
    def _heights(graph: dict[Atom, list[tuple[Rule, tuple[Literal, ...]]]],
                 leaves: dict[Atom, ProofNode]) -> dict[Atom, int]:
        """Minimal heights over the AND-OR graph (Knuth's generalisation of Dijkstra):
        an atom's height is final when popped; an instance fires when all its atoms are."""
        height: dict[Atom, int] = {}
        waiting: dict[Atom, list[tuple[Atom, int]]] = {}  # body atom -> (head, instance)
        missing: dict[tuple[Atom, int], int] = {}
        heap: list[tuple[int, int, Atom]] = []
        order = count()
        for atom, node in leaves.items():
            if node.kind != "missing":
                heapq.heappush(heap, (0, next(order), atom))
        for head, instances in graph.items():
            for index, (_rule, body) in enumerate(instances):
                atoms = {b for b in body if isinstance(b, Atom)}
                missing[(head, index)] = len(atoms)
                if not atoms:
                    heapq.heappush(heap, (1, next(order), head))
                for atom in atoms:
                    waiting.setdefault(atom, []).append((head, index))
        best: dict[tuple[Atom, int], int] = {}
        while heap:
            h, _, atom = heapq.heappop(heap)
            if atom in height:
                continue
            height[atom] = h
            for head, index in waiting.get(atom, ()):
                key = (head, index)
                missing[key] -= 1
                best[key] = max(best.get(key, 0), h)
                if missing[key] == 0 and head not in height:
                    heapq.heappush(heap, (best[key] + 1, next(order), head))
        return height

    def _extract(self, goal: Atom, graph: dict[Atom, list[tuple[Rule, tuple[Literal, ...]]]],
                 leaves: dict[Atom, ProofNode], height: dict[Atom, int]) -> ProofNode:
        """The tree of strictly decreasing heights, built without recursion (proofs of
        100k-role chains are 100k deep)."""
        def instance_of(atom: Atom) -> tuple[Rule, tuple[Literal, ...]]:
            target = height[atom]
            for rule, body in graph[atom]:
                h = max((height.get(b, INFINITY) for b in body if isinstance(b, Atom)),
                        default=0)
                if h + 1 == target:
                    return rule, body
            raise AssertionError(f"no instance of height {target} for {atom}")

        def shell(atom: Atom) -> ProofNode:
            if atom in leaves:
                return leaves[atom]
            rule, _ = instance_of(atom)
            return ProofNode(atom, "rule", rule=rule, where=rule.where(), height=height[atom])

        root = shell(goal)
        stack = [root]
        while stack:
            node = stack.pop()
            if node.kind != "rule":
                continue
            _, body = instance_of(node.literal)  # type: ignore[arg-type]
            for literal in body:
                if isinstance(literal, Atom):
                    child = shell(literal)
                    stack.append(child)
                else:
                    child = ProofNode(literal, "negation" if isinstance(literal, Negation)
                                      else "comparison")
                node.children.append(child)
        return root

    def prove_body(self, body: Sequence[Literal], binding: dict[str, Value]
                   ) -> list[ProofNode]:
        """Proofs of a conjunction (an alternative of a need) under one binding."""
        ground = _name_anonymous(body)
        if any(isinstance(b, Var) and b.name.startswith("Anon__")
               for lit in ground if isinstance(lit, Atom) for b in lit.args):
            solved = self.backend.solve([substitute(b, binding) for b in ground], limit=1)
            binding = {**binding, **(solved[0] if solved else {})}
        nodes = []
        for literal in ground:
            lit = substitute(literal, binding)
            if isinstance(lit, Atom):
                node = self.prove(lit)
                if node is None:
                    raise ValueError(f"{lit} does not hold")
                nodes.append(node)
            else:
                nodes.append(ProofNode(lit, "negation" if isinstance(lit, Negation)
                                       else "comparison"))
        return nodes
