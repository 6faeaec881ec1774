"""Decisions, proofs and why-nots as JSON-ready dictionaries (schema: docs/json.md)."""

from __future__ import annotations

from typing import Any

from reasoner.decision import Alternative, Decision
from reasoner.explain.proof import ProofNode
from reasoner.explain.why import Why
from reasoner.explain.whynot import Failure, WhyNot

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


def node_to_dict(node: ProofNode) -> dict[str, Any]:
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
    if node.children:
        out["children"] = [node_to_dict(c) for c in node.children]
    return out


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
