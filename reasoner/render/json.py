"""Decisions as JSON-ready dictionaries (schema: docs/json.md)."""

from __future__ import annotations

from typing import Any

from reasoner.decision import Alternative, Decision


def _alternative(alternative: Alternative) -> dict[str, Any]:
    return {"label": alternative.label, "body": [str(lit) for lit in alternative.body]}


def decision_to_dict(decision: Decision) -> dict[str, Any]:
    return {
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
