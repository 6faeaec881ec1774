"""What a statement needs, and what the rules answered.

A ``Requirement`` is what Python decides a statement needs: every ``Need`` must hold, and
a need holds when one of its ``Alternative``s does. An alternative is a conjunction over
the rule base's predicates; the rules decide whether it holds. A ``Decision`` carries the
requirement, the alternative that held for each need (with its bindings), and any error:
an error always means deny.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reasoner.datalog.ast import Atom, Comparison, Negation

BodyLiteral = Atom | Negation | Comparison


@dataclass(frozen=True)
class Alternative:
    """One way to satisfy a need, e.g. ``role holds drop table on database db1``."""

    label: str
    body: tuple[BodyLiteral, ...]


@dataclass(frozen=True)
class Need:
    """One thing the statement needs, e.g. ``DROP TABLE db1.t``; any alternative is enough."""

    what: str
    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class Requirement:
    """Everything a statement needs: all needs must hold. No needs: nothing is required."""

    statement: str
    needs: tuple[Need, ...] = ()


@dataclass(frozen=True)
class Satisfied:
    """The alternative that held for a need, with every binding found for its variables."""

    need: Need
    alternative: Alternative
    bindings: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Decision:
    """An authorization answer. Truthy when allowed; an error is always a deny."""

    allowed: bool
    requirement: Requirement
    satisfied: tuple[Satisfied, ...] = ()
    failed: tuple[Need, ...] = ()
    errors: tuple[str, ...] = ()
    context: dict[str, Any] = field(default_factory=dict, compare=False)

    def __bool__(self) -> bool:
        return self.allowed

    def binding_for(self, need_index: int) -> Satisfied | None:
        for item in self.satisfied:
            if item.need is self.requirement.needs[need_index]:
                return item
        return None

    def summary(self) -> str:
        word = "allow" if self.allowed else "deny"
        lines = [f"{word}: {self.requirement.statement}"]
        for item in self.satisfied:
            lines.append(f"  {item.need.what}: {item.alternative.label}")
        for need in self.failed:
            lines.append(f"  {need.what}: none of {len(need.alternatives)} alternative(s) holds")
        for error in self.errors:
            lines.append(f"  error: {error}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Notebooks show the decision as a table (reasoner.render.html)."""
        from reasoner.render.html import decision_html

        return decision_html(self)


@dataclass(frozen=True)
class Outcome:
    """What running one statement did: ok, or the error the real system would give."""

    ok: bool
    statement: str
    line: int
    source: str
    error: str | None = None
    decision: Decision | None = None

    def __bool__(self) -> bool:
        return self.ok

    def describe(self) -> str:
        where = f"{self.source}:{self.line}"
        if self.ok:
            return f"{where}: ok"
        return f"{where}: error: {self.error}"
