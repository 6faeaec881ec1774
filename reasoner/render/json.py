"""Decisions, proofs and why-nots as JSON-ready dictionaries (schema: docs/json.md)."""

from __future__ import annotations

from typing import Any

from reasoner.decision import Alternative, Decision
from reasoner.explain.proof import ProofNode
from reasoner.explain.why import Why
from reasoner.explain.whynot import Failure, WhyNot
from reasoner.render.text import chain_of

SCHEMA_VERSION = 1


def _alternative(alternative: Alternative) -> dict[str, Any]:
    return {"label": alternative.label, "body": [str(lit) for lit in alternative.body]}


def decision_to_dict(decision: Decision) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "type": "decision",
        "allowed": decision.allowed,
        "question": decision.requirement.statement,
        "satisfied": [
            {"need": s.need.what, "alternative": _alternative(s.alternative),
             "bindings": [dict(b) for b in s.bindings[:1]]}
            for s in decision.satisfied
        ],
        "failed": [
            {"need": n.what, "alternatives": [_alternative(a) for a in n.alternatives]}
            for n in decision.failed
        ],
        "errors": list(decision.errors),
    }


CHAIN_LIST = 32  # a run of the same rule longer than this is listed, not nested


def _node_fields(node: ProofNode) -> dict[str, Any]:
    out: dict[str, Any] = {"literal": str(node.literal), "kind": node.kind,
                           "height": node.height}
    if node.rule is not None:
        out["rule"] = {"name": node.rule.name, "where": node.where,
                       "text": str(node.rule)}
    if node.kind == "vocabulary":
        out["where"] = node.where
    if node.origin is not None:
        out["origin"] = {"source": node.origin.source, "line": node.origin.line,
                         "statement": node.origin.text}
    return out


def node_to_dict(node: ProofNode) -> dict[str, Any]:
    """A proof node and everything below it (docs/json.md). Built with an explicit stack,
    and a long chain of the same rule (role inheritance through 2,000 roles) is listed
    under ``chain`` instead of nested: JSON 4,000 levels deep breaks Python's own
    ``json`` (and most readers) on the recursion limit."""
    root: dict[str, Any] = {}
    stack: list[tuple[ProofNode, dict[str, Any]]] = [(node, root)]

    def children(of: ProofNode, skip: ProofNode | None, into: dict[str, Any]) -> None:
        kids = [c for c in of.children if c is not skip]
        if kids:
            into["children"] = [{} for _ in kids]
            stack.extend(zip(kids, into["children"], strict=True))

    while stack:
        current, out = stack.pop()
        out.update(_node_fields(current))
        chain = chain_of(current)
        if len(chain) <= CHAIN_LIST:
            children(current, None, out)
            continue
        children(current, chain[1], out)
        out["chain"] = []
        for link, after in zip(chain[1:], chain[2:] + [None], strict=True):
            entry = _node_fields(link)
            children(link, after, entry)
            out["chain"].append(entry)
    return root


def why_to_dict(explanation: Why) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "type": "why",
        "allowed": True,
        "question": explanation.decision.requirement.statement,
        "proofs": [
            {"need": n.need.what, "alternative": _alternative(n.alternative),
             "binding": dict(n.binding), "other": n in explanation.others,
             "steps": [node_to_dict(s) for s in n.steps]}
            for n in explanation.needs + explanation.others
        ],
    }


def _failure(failure: Failure | None) -> dict[str, Any] | None:
    if failure is None:
        return None
    return {
        "literal": str(failure.literal),
        "reason": failure.reason,
        "rules": [{"rule": rf.rule.name, "where": rf.rule.where(), "holds": rf.holds,
                   "bindings": rf.bindings, "failure": _failure(rf.failure)}
                  for rf in failure.rules],
    }


def why_not_to_dict(explanation: WhyNot) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "type": "why-not",
        "allowed": False,
        "question": explanation.decision.requirement.statement,
        "session": explanation.context,
        "errors": explanation.errors,
        "needs": [
            {"need": n.need.what,
             "alternatives": [{"alternative": _alternative(a.alternative), "holds": a.holds,
                               "bindings": a.bindings, "failure": _failure(a.failure)}
                              for a in n.alternatives]}
            for n in explanation.needs
        ],
        "repairs": [{"statements": list(r.statements), "run_as": r.run_as,
                     "blast_radius": r.blast_radius, "note": r.note}
                    for r in explanation.repairs],
    }
