"""Decisions as text for a terminal."""

from __future__ import annotations

from reasoner.decision import Decision


def render_decision(decision: Decision) -> str:
    word = "ALLOW" if decision.allowed else "DENY"
    lines = [f"{word}  {decision.requirement.statement}"]
    for item in decision.satisfied:
        lines.append(f"  needs {item.need.what}: satisfied because {item.alternative.label}")
        if item.bindings and item.bindings[0]:
            shown = ", ".join(f"{k}={v}" for k, v in sorted(item.bindings[0].items()))
            lines.append(f"    with {shown}")
    for need in decision.failed:
        lines.append(f"  needs {need.what}: no alternative holds")
        for alternative in need.alternatives:
            lines.append(f"    - not: {alternative.label}")
    for error in decision.errors:
        lines.append(f"  error: {error}")
    return "\n".join(lines)
