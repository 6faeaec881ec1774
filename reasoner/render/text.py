"""Decisions, proofs and why-nots as text for a terminal."""

from __future__ import annotations

from reasoner.decision import Decision
from reasoner.explain.proof import ProofNode
from reasoner.explain.why import Why
from reasoner.explain.whynot import Failure, WhyNot

CHAIN = 4  # a chain of the same rule longer than this is shown compactly


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


def describe_node(node: ProofNode) -> str:
    if node.kind == "rule" and node.rule is not None:
        return f"{node.literal}   <- rule {node.rule.name} ({node.where})"
    if node.kind == "fact":
        if node.origin is None:
            return f"{node.literal}   <- fact"
        if node.origin.source == "<builtin>":
            return f"{node.literal}   <- built-in: {node.origin.short_text(80)}"
        return f"{node.literal}   <- {node.origin.source}:{node.origin.line}: " \
               f"{node.origin.short_text(80)}"
    if node.kind == "vocabulary":
        return f"{node.literal}   <- rule-file fact ({node.where})"
    if node.kind == "negation":
        return f"{node.literal}   <- holds: no such fact"
    return f"{node.literal}   <- comparison holds"


def chain_of(node: ProofNode) -> list[ProofNode]:
    """The run of nested nodes made by the same rule, starting at ``node``."""
    chain = [node]
    while node.kind == "rule" and node.rule is not None:
        same = [c for c in node.children if c.kind == "rule" and c.rule is not None
                and c.rule.name == node.rule.name]
        if len(same) != 1:
            break
        node = same[0]
        chain.append(node)
    return chain


def render_proof(node: ProofNode, indent: str = "") -> list[str]:
    lines = [indent + describe_node(node)]
    chain = chain_of(node)
    if len(chain) > CHAIN:
        # the top step in full, the middle ones as the lines they rest on, the bottom in full
        for child in node.children:
            if child is not chain[1]:
                lines.extend(render_proof(child, indent + "  "))
        middle = chain[1:-1]
        on_chain = {id(n) for n in chain}  # by identity: == compares whole subtrees
        sides = [c for n in middle for c in n.children if id(c) not in on_chain]
        where = ", ".join(f"{s.origin.source}:{s.origin.line}" for s in sides if s.origin)
        lines.append(f"{indent}  ... {len(middle)} more {node.rule.name} steps "  # type: ignore
                     f"({where}) ...")
        lines.extend(render_proof(chain[-1], indent + "  "))
        return lines
    for child in node.children:
        lines.extend(render_proof(child, indent + "  "))
    return lines


def render_why(explanation: Why) -> str:
    decision = explanation.decision
    lines = [f"ALLOW  {decision.requirement.statement}"]
    for need in explanation.needs + explanation.others:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(need.binding.items()))
        other = " (another proof)" if need in explanation.others else ""
        lines.append(f"needs {need.need.what}: {need.alternative.label}{other}"
                     + (f"  [{shown}]" if shown else ""))
        for step in need.steps:
            lines.extend(render_proof(step, "  "))
    return "\n".join(lines)


def _failure_lines(failure: Failure, indent: str) -> list[str]:
    lines = [f"{indent}{failure.literal} fails: {failure.reason}"]
    for rule_failure in failure.rules:
        rule = rule_failure.rule
        prefix = (f"first {rule_failure.holds} literal(s) hold for {rule_failure.bindings} "
                  "binding(s)" if rule_failure.holds else "its first literal fails")
        lines.append(f"{indent}  rule {rule.name} ({rule.where()}): {prefix}")
        if rule_failure.failure is not None:
            lines.extend(_failure_lines(rule_failure.failure, indent + "    "))
    return lines


def missing_facts(failure: Failure) -> list[str]:
    """Stored facts whose absence makes a failure, deduplicated, in order."""
    if failure.reason == "missing fact":
        return [str(failure.literal)]
    found: list[str] = []
    for rule_failure in failure.rules:
        if rule_failure.failure is not None:
            found.extend(missing_facts(rule_failure.failure))
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda text: ", O)" in text or ", A)" in text or ", D)" in text)


def render_why_not(explanation: WhyNot, *, verbose: bool = False) -> str:
    decision = explanation.decision
    lines = [f"DENY  {decision.requirement.statement}"]
    ctx = explanation.context
    if ctx.get("summary"):
        lines.extend(str(ctx["summary"]).splitlines())
    elif ctx:
        mode = "on" if ctx.get("secondary_all") else "off"
        lines.append(f"session: {ctx.get('user')}, current role {ctx.get('current_role')}, "
                     f"secondary roles {mode}")
        active = ctx.get("active_roles", {})
        if active:
            shown = ", ".join(r if r == root else f"{r} (through {root})"
                              for r, root in active.items())
            lines.append(f"acts with roles: {shown}")
        inactive = ctx.get("inactive_granted_roles", [])
        if inactive:
            lines.append(f"granted but not active: {', '.join(inactive)} "
                         "(SET ROLE r, or SET SECONDARY ROLE ALL, makes them count)")
    for error in explanation.errors:
        lines.append(f"error: {error}")
    for need in explanation.needs:
        lines.append(f"needs {need.need.what}: none of {len(need.alternatives)} "
                     "alternative(s) holds")
        for alt in need.alternatives:
            lines.append(f"  x {alt.alternative.label}")
            if alt.failure is None:
                continue
            held = (f"{alt.holds} of {len(alt.alternative.body)} condition(s) hold "
                    f"({alt.bindings} binding(s)); " if alt.holds else "")
            lines.append(f"    {held}fails at {alt.failure.literal}: {alt.failure.reason}")
            if verbose:
                lines.extend(_failure_lines(alt.failure, "      "))
                continue
            missing = missing_facts(alt.failure)
            if missing:
                shown = missing[:3] + ([f"... {len(missing) - 3} more"] if len(missing) > 3
                                       else [])
                lines.append(f"    missing, any of: {'; '.join(shown)}")
    if explanation.repairs:
        lines.append("repairs (each verified by applying it and checking again):")
        for number, repair in enumerate(explanation.repairs, 1):
            text = "; ".join(repair.statements)
            lines.append(f"  {number}. {text};   run by {repair.run_as}; "
                         f"blast radius {repair.blast_radius}"
                         + (f" ({repair.note})" if repair.note else ""))
    elif ctx.get("unrepairable"):
        lines.append(f"no repair is possible: {ctx['unrepairable']}")
    else:
        lines.append("no repair found that the reasoner could verify")
    return "\n".join(lines)
