"""Why a decision is an allow: for each need, the alternative that held and its proof."""

from __future__ import annotations

from dataclasses import dataclass, field

from reasoner.backends.base import Backend
from reasoner.decision import Alternative, Decision, Need
from reasoner.explain.proof import ProofNode, Prover
from reasoner.facts import FactStore


@dataclass
class NeedProof:
    need: Need
    alternative: Alternative
    binding: dict[str, object]
    steps: list[ProofNode]

    def height(self) -> int:
        return max((s.height for s in self.steps), default=0) + 1


@dataclass
class Why:
    decision: Decision
    needs: list[NeedProof] = field(default_factory=list)
    others: list[NeedProof] = field(default_factory=list)  # further proofs, when asked

    def nodes(self) -> int:
        return sum(step.size() for n in self.needs for step in n.steps)

    def _repr_html_(self) -> str:
        """Notebooks show the proof as nested lists and a picture (reasoner.render.html)."""
        from reasoner.render.html import why_html

        return why_html(self)


def why(decision: Decision, backend: Backend, facts: FactStore | None = None, *,
        more: int = 0) -> Why:
    """Proofs of an allowed decision. ``more``: also list up to this many other proofs
    (other alternatives that hold, or other bindings of the one that held)."""
    if not decision.allowed:
        raise ValueError("why() explains an allow; use why_not() for a deny")
    prover = Prover(backend, facts)
    result = Why(decision)
    for item in decision.satisfied:
        binding = dict(item.bindings[0]) if item.bindings else {}
        result.needs.append(NeedProof(item.need, item.alternative, binding,
                                      prover.prove_body(item.alternative.body, binding)))
        if more:
            result.others.extend(_other_proofs(prover, backend, item.need, item.alternative,
                                               binding, more))
    return result


def _other_proofs(prover: Prover, backend: Backend, need: Need, chosen: Alternative,
                  chosen_binding: dict[str, object], more: int) -> list[NeedProof]:
    found: list[NeedProof] = []
    for alternative in need.alternatives:
        for binding in backend.solve(alternative.body, limit=more + 1):
            if alternative is chosen and binding == chosen_binding:
                continue
            found.append(NeedProof(need, alternative, dict(binding),
                                   prover.prove_body(alternative.body, binding)))
            if len(found) >= more:
                return found
    return found
