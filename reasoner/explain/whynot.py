"""Why a decision is a deny: for each need, what every alternative lacks.

Each alternative's body is evaluated left to right: the prefix that holds (with how many
bindings) and the first literal that fails. A failing derived atom is explained through
its rules the same way, to a depth cap and a fan-out cap; a failing stored fact is a
*missing fact* — the raw material of repairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reasoner.backends.base import Backend, Value
from reasoner.datalog.ast import Atom, Comparison, Const, Literal, Negation, Rule, Var
from reasoner.decision import Alternative, Decision, Need
from reasoner.explain.proof import substitute


@dataclass
class Failure:
    """A literal that does not hold, and why: ``missing fact``, ``no rule applies``,
    ``negated atom holds``, ``comparison is false``."""

    literal: Literal
    reason: str
    rules: list[RuleFailure] = field(default_factory=list)


@dataclass
class RuleFailure:
    rule: Rule
    holds: int  # body literals that hold before the failing one
    bindings: int  # bindings of that prefix (capped)
    failure: Failure | None


@dataclass
class AlternativeFailure:
    alternative: Alternative
    holds: int
    bindings: int
    failure: Failure | None
    examples: list[dict[str, Value]] = field(default_factory=list)


@dataclass
class NeedFailure:
    need: Need
    alternatives: list[AlternativeFailure]


@dataclass
class Repair:
    """Statements that turn the deny into an allow, verified by applying them to the
    state and checking again (then undoing them)."""

    statements: tuple[str, ...]
    run_as: str  # who runs them, e.g. "acc1:admin" or "the session itself"
    blast_radius: int  # other (user, privilege, object) allows the change also creates
    note: str = ""

    @property
    def size(self) -> int:
        return len(self.statements)


@dataclass
class WhyNot:
    decision: Decision
    needs: list[NeedFailure]
    context: dict[str, Any] = field(default_factory=dict)
    repairs: list[Repair] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def missing_facts(self) -> list[Atom]:
        out: list[Atom] = []

        def walk(f: Failure | None) -> None:
            if f is None:
                return
            if f.reason == "missing fact" and isinstance(f.literal, Atom):
                out.append(f.literal)
            for rf in f.rules:
                walk(rf.failure)

        for need in self.needs:
            for alt in need.alternatives:
                walk(alt.failure)
        return out

    def _repr_html_(self) -> str:
        """Notebooks show failing conditions, session and repairs (reasoner.render.html)."""
        from reasoner.render.html import why_not_html

        return why_not_html(self)


class WhyNotBuilder:
    def __init__(self, backend: Backend, *, depth: int = 3, fan_out: int = 3) -> None:
        self.backend = backend
        self.program = backend.program
        self.depth = depth
        self.fan_out = fan_out

    def build(self, decision: Decision) -> WhyNot:
        needs = [NeedFailure(need, [self.alternative(a) for a in need.alternatives])
                 for need in decision.failed]
        return WhyNot(decision, needs, errors=list(decision.errors))

    def _prefix(self, body: tuple[Literal, ...]) -> tuple[int, list[dict[str, Value]]]:
        """Length of the longest prefix that holds, and (some of) its bindings."""
        bindings: list[dict[str, Value]] = [{}]
        for i in range(len(body)):
            found = self.backend.solve(body[: i + 1], limit=self.fan_out)
            if not found:
                return i, bindings
            bindings = found
        return len(body), bindings

    def alternative(self, alternative: Alternative) -> AlternativeFailure:
        holds, bindings = self._prefix(alternative.body)
        if holds == len(alternative.body):
            return AlternativeFailure(alternative, holds, len(bindings), None, bindings)
        failing = alternative.body[holds]
        failure = self._explain(substitute(failing, bindings[0]) if bindings else failing,
                                self.depth)
        return AlternativeFailure(alternative, holds, len(bindings), failure, bindings)

    def _explain(self, literal: Literal, depth: int) -> Failure:
        if isinstance(literal, Comparison):
            return Failure(literal, "comparison is false")
        if isinstance(literal, Negation):
            return Failure(literal, "negated atom holds")
        assert isinstance(literal, Atom)
        if literal.pred in self.program.inputs:
            return Failure(literal, "missing fact")
        failure = Failure(literal, "no rule applies")
        if depth <= 0:
            return failure
        for rule in self.program.rules_for(literal.pred)[: self.fan_out * 4]:
            env = _unify(rule.head, literal)
            if env is None:
                continue
            body = tuple(substitute(b, env) for b in rule.body)
            holds, bindings = self._prefix(body)
            if holds == len(body):  # cannot happen for a failing goal, unless capped
                continue
            nested = substitute(body[holds], bindings[0]) if bindings else body[holds]
            failure.rules.append(RuleFailure(rule, holds, len(bindings),
                                             self._explain(nested, depth - 1)))
        return failure


def _unify(head: Atom, goal: Atom) -> dict[str, Value] | None:
    """Bind the head's variables to the goal's constants (goal variables stay free)."""
    env: dict[str, Value] = {}
    for pattern, value in zip(head.args, goal.args, strict=True):
        if isinstance(value, Var):
            continue
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
