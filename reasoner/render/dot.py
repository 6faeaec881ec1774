"""Proofs and why-nots as graphviz pictures (DOT, and SVG/PNG through ``dot``).

Rule instances and facts are styled apart, leaves show the source line and statement that
made them, and long chains of the same rule (role inheritance) collapse into one node.
Every label goes through ``nohtml`` and graphviz's own quoting, so a role called
``<script>`` or ``"];`` is drawn as text.
"""

from __future__ import annotations

import shutil
from itertools import count
from pathlib import Path

import graphviz

from reasoner.explain.proof import ProofNode
from reasoner.explain.why import Why
from reasoner.explain.whynot import Failure, WhyNot
from reasoner.render.text import CHAIN, chain_of

RULE = {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbe9f6", "fontname": "Helvetica"}
FACT = {"shape": "note", "style": "filled", "fillcolor": "#fff4c2", "fontname": "Helvetica"}
VOCAB = {"shape": "note", "style": "filled", "fillcolor": "#eeeeee", "fontname": "Helvetica"}
TEST = {"shape": "ellipse", "style": "filled", "fillcolor": "#f3f3f3", "fontname": "Helvetica"}
TOP_OK = {"shape": "box", "style": "bold,filled", "fillcolor": "#c8ebc8", "fontname": "Helvetica"}
TOP_NO = {"shape": "box", "style": "bold,filled", "fillcolor": "#f6caca", "fontname": "Helvetica"}
FAIL = {"shape": "box", "style": "rounded,dashed", "color": "#b03030", "fontname": "Helvetica"}
REPAIR = {"shape": "box", "style": "filled", "fillcolor": "#d9f2d9", "fontname": "Courier"}


def _wrap(text: str, width: int = 60) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def _label(*parts: str) -> str:
    """A plain-text label: never HTML (nohtml), backslashes doubled (escape), ``&`` as an
    entity, so any name a user wrote is drawn as written and cannot inject DOT."""
    lines = [graphviz.escape(line.replace("&", "&amp;"))
             for p in parts if p for line in _wrap(p).split("\n")]
    return graphviz.nohtml("\\n".join(lines))


class _Drawer:
    def __init__(self, title: str) -> None:
        self.graph = graphviz.Digraph("proof", graph_attr={"rankdir": "TB", "label": title,
                                                           "labelloc": "t",
                                                           "fontname": "Helvetica"})
        self._ids = count()

    def node(self, label: str, style: dict[str, str]) -> str:
        name = f"n{next(self._ids)}"
        self.graph.node(name, label, **style)
        return name

    def proof(self, node: ProofNode) -> str:
        chain = chain_of(node)
        if len(chain) > CHAIN:
            last = chain[-1]
            rule = node.rule
            assert rule is not None
            me = self.node(_label(f"{rule.name} x {len(chain) - 1}",
                                  f"{node.literal}", f"... {last.literal}", node.where or ""),
                           RULE)
            on_chain = {id(n) for n in chain}  # by identity: == compares whole subtrees
            for step in chain[:-1]:
                for child in step.children:
                    if id(child) not in on_chain:
                        self.graph.edge(me, self.proof(child))
            self.graph.edge(me, self.proof(last))
            return me
        if node.kind == "rule":
            me = self.node(_label(f"rule {node.rule.name if node.rule else ''}",
                                  str(node.literal), node.where or ""), RULE)
        elif node.kind == "fact":
            where = (f"{node.origin.source}:{node.origin.line}" if node.origin else "")
            text = node.origin.short_text(90) if node.origin else ""
            me = self.node(_label(str(node.literal), where, text), FACT)
        elif node.kind == "vocabulary":
            me = self.node(_label(str(node.literal), node.where or ""), VOCAB)
        else:
            me = self.node(_label(str(node.literal)), TEST)
        for child in node.children:
            self.graph.edge(me, self.proof(child))
        return me

    def failure(self, failure: Failure) -> str:
        """The failing literal, and the stored facts whose absence makes it fail (the
        nested rule steps are in the text and JSON forms)."""
        me = self.node(_label(str(failure.literal), failure.reason), FAIL)
        missing = _missing(failure)
        if missing:
            shown = [str(m) for m in missing[:4]]
            if len(missing) > 4:
                shown.append(f"... {len(missing) - 4} more")
            self.graph.edge(me, self.node(_label("missing facts, any of:", *shown), FACT),
                            style="dashed")
        return me


def _missing(failure: Failure) -> list[object]:
    if failure.reason == "missing fact":
        return [failure.literal]
    found: list[object] = []
    for rf in failure.rules:
        if rf.failure is not None:
            found.extend(_missing(rf.failure))
    return list(dict.fromkeys(found))


def why_to_dot(explanation: Why) -> graphviz.Digraph:
    question = explanation.decision.requirement.statement
    drawer = _Drawer(f"why: {question}")
    top = drawer.node(_label(f"ALLOW {question}"), TOP_OK)
    for need in explanation.needs + explanation.others:
        alt = drawer.node(_label(need.need.what, need.alternative.label), RULE)
        drawer.graph.edge(top, alt)
        for step in need.steps:
            drawer.graph.edge(alt, drawer.proof(step))
    return drawer.graph


def why_not_to_dot(explanation: WhyNot) -> graphviz.Digraph:
    question = explanation.decision.requirement.statement
    drawer = _Drawer(f"why not: {question}")
    drawer.graph.graph_attr["rankdir"] = "LR"
    top = drawer.node(_label(f"DENY {question}"), TOP_NO)
    for need in explanation.needs:
        need_node = drawer.node(_label(need.need.what, "no alternative holds"), FAIL)
        drawer.graph.edge(top, need_node)
        for alt in need.alternatives:
            alt_node = drawer.node(_label(alt.alternative.label,
                                          f"{alt.holds} literal(s) hold"), FAIL)
            drawer.graph.edge(need_node, alt_node)
            if alt.failure is not None:
                drawer.graph.edge(alt_node, drawer.failure(alt.failure))
    for number, repair in enumerate(explanation.repairs, 1):
        fix = drawer.node(_label(f"repair {number} (blast radius {repair.blast_radius})",
                                 *[s + ";" for s in repair.statements],
                                 f"run by {repair.run_as}"), REPAIR)
        drawer.graph.edge(fix, top, style="dotted", label="allows")
    return drawer.graph


def has_dot() -> bool:
    return shutil.which("dot") is not None


def write_picture(graph: graphviz.Digraph, path: Path, fmt: str, *, force: bool = False
                  ) -> tuple[Path, str | None]:
    """Write DOT, or SVG/PNG through graphviz's ``dot``. When ``dot`` is missing the DOT
    text is written beside the asked path and the message says so. An existing file --
    the asked one or that fallback -- is only replaced with ``force``."""
    if fmt == "dot":
        _refuse_overwrite(path, force)
        path.write_text(graph.source, encoding="utf-8")
        return path, None
    if not has_dot():
        fallback = path.with_suffix(".dot")
        _refuse_overwrite(fallback, force)
        fallback.write_text(graph.source, encoding="utf-8")
        return fallback, (f"graphviz's 'dot' program is not installed, so no {fmt.upper()} "
                          f"was made; the DOT source is in {fallback} (install graphviz, "
                          f"e.g. apt-get install graphviz, and run: dot -T{fmt} {fallback})")
    data = graph.pipe(format=fmt)
    _refuse_overwrite(path, force)
    path.write_bytes(data)
    return path, None


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; add --force to overwrite it")
