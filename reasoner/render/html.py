"""Decisions, proofs, why-nots and reverse answers as HTML, for notebooks.

Everything a user wrote (role names, statements, literals) goes through ``html.escape``;
pictures come from graphviz's SVG output, which escapes its text, and are dropped when
they contain active content (scripts, links, event handlers), so a role called
``<script>`` stays text. Without graphviz's ``dot`` the pictures are left out and the
HTML says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

import graphviz

from reasoner.decision import Decision, Outcome
from reasoner.explain.proof import ProofNode
from reasoner.explain.why import Why
from reasoner.explain.whynot import Failure, WhyNot
from reasoner.render.text import CHAIN, chain_of, missing_facts

STYLE = """<style>
.rz{font-family:-apple-system,Helvetica,Arial,sans-serif;font-size:13px;line-height:1.4}
.rz table{border-collapse:collapse;margin:4px 0}
.rz th,.rz td{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}
.rz th{background:#f3f3f3}
.rz code{font-family:Menlo,Consolas,monospace;font-size:12px}
.rz .rz-allow{background:#c8ebc8;color:#145214;font-weight:bold;padding:1px 6px}
.rz .rz-deny{background:#f6caca;color:#7a1010;font-weight:bold;padding:1px 6px}
.rz .rz-muted{color:#777}
.rz tr.rz-error td{background:#fdeeee}
.rz ul.rz-proof{margin:2px 0;padding-left:18px}
.rz .rz-picture{overflow:auto;border:1px solid #eee;margin-top:6px}
</style>"""

# graphviz output never has these unless a DOT attribute asked for them (URL, href, ...)
_ACTIVE = re.compile(r"<\s*(script|a|foreignObject|iframe|image)\b|\s(xlink:)?href\s*=|"
                     r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_WIDTH = re.compile(r'<svg\b[^>]*?\swidth="([0-9.]+)pt"')


def e(value: object) -> str:
    """Escaped text of anything (quotes too: values also land in attributes)."""
    return escape(str(value), quote=True)


def _box(body: str, kind: str) -> str:
    return f'{STYLE}<div class="rz rz-{kind}">{body}</div>'


def _verdict(allowed: bool) -> str:
    return ('<span class="rz-allow">ALLOW</span>' if allowed
            else '<span class="rz-deny">DENY</span>')


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], *,
          row_class: Sequence[str] | None = None, raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then the caller escaped them)."""
    head = "".join(f"<th>{e(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{e(row_class[i])}"' if row_class and row_class[i] else ""
        cells = "".join(f"<td>{c if raw else e(c)}</td>" for c in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    thead = f"<thead><tr>{head}</tr></thead>" if any(columns) else ""
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def _bindings(binding: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(binding.items()))


# pictures -----------------------------------------------------------------------------


def svg(graph: graphviz.Digraph) -> str | None:
    """The graph as inline SVG, or None when ``dot`` is missing or fails, or when the SVG
    carries active content (it never should: that would mean a label got out)."""
    from reasoner.render.dot import has_dot

    if not has_dot():
        return None
    try:
        text = graph.pipe(format="svg").decode("utf-8", errors="replace")
    except Exception:
        return None
    text = _PROLOG.sub("", text, count=1)
    if not text.startswith("<svg") or _ACTIVE.search(text):
        return None
    # fit the notebook's width, never grow, shrink to 60% at most (then scroll): the
    # viewBox keeps the proportions
    width = _WIDTH.search(text)
    style = "max-width:100%;height:auto"
    if width:
        natural = float(width[1])
        style = f"width:max(100%,{natural * 0.6:.0f}pt);max-width:{natural:.0f}pt;height:auto"
    return text.replace("<svg ", f'<svg style="{style}" ', 1)


def _picture(graph: graphviz.Digraph) -> str:
    drawn = svg(graph)
    if drawn is None:
        return ('<p class="rz-muted">(no picture: graphviz\'s <code>dot</code> is not '
                "installed, or it could not draw this one)</p>")
    return f'<div class="rz-picture">{drawn}</div>'


# decisions ----------------------------------------------------------------------------


def decision_html(decision: Decision) -> str:
    """Verdict, then each need with the alternative that held or the ones that failed."""
    parts = [f"<p>{_verdict(decision.allowed)} <code>{e(decision.requirement.statement)}"
             "</code></p>"]
    rows: list[tuple[str, str, str]] = []
    for item in decision.satisfied:
        shown = _bindings(item.bindings[0]) if item.bindings else ""
        rows.append((e(item.need.what), "holds",
                     e(item.alternative.label)
                     + (f' <span class="rz-muted">[{e(shown)}]</span>' if shown else "")))
    for need in decision.failed:
        labels = "<br>".join(f"not: {e(a.label)}" for a in need.alternatives)
        rows.append((e(need.what), "fails", labels or "no alternative"))
    if rows:
        parts.append(table(("needs", "", "alternative"), rows, raw=True,
                           row_class=["" if r[1] == "holds" else "rz-error" for r in rows]))
    elif not decision.errors:
        parts.append('<p class="rz-muted">nothing is required</p>')
    for error in decision.errors:
        parts.append(f'<p class="rz-deny">error: {e(error)}</p>')
    return _box("".join(parts), "decision")


# proofs -------------------------------------------------------------------------------


def _node_text(node: ProofNode) -> str:
    literal = f"<code>{e(node.literal)}</code>"
    if node.kind == "rule" and node.rule is not None:
        return f'{literal} <span class="rz-muted">&larr; rule {e(node.rule.name)} ' \
               f"({e(node.where or '')})</span>"
    if node.kind == "fact":
        if node.origin is None:
            return f'{literal} <span class="rz-muted">&larr; fact</span>'
        where = ("built-in" if node.origin.source == "<builtin>"
                 else f"{node.origin.source}:{node.origin.line}")
        return (f'{literal} <span class="rz-muted">&larr; {e(where)}:</span> '
                f"<code>{e(node.origin.short_text(120))}</code>")
    if node.kind == "vocabulary":
        return f'{literal} <span class="rz-muted">&larr; rule-file fact ' \
               f"({e(node.where or '')})</span>"
    if node.kind == "negation":
        return f'{literal} <span class="rz-muted">&larr; holds: no such fact</span>'
    return f'{literal} <span class="rz-muted">&larr; comparison holds</span>'


def _proof_items(node: ProofNode) -> str:
    """One ``<li>`` per step; long chains of one rule (role inheritance) are shortened
    as in the text form."""
    chain = chain_of(node)
    children: list[ProofNode] = list(node.children)
    note = ""
    if len(chain) > CHAIN:
        middle = chain[1:-1]
        note = (f'<li class="rz-muted">... {len(middle)} more '
                f"{e(node.rule.name if node.rule else '')} steps ...</li>")
        # as the text form: the top step in full, the middle ones counted, the bottom in full
        top = "".join(_proof_items(c) for c in node.children if c is not chain[1])
        nested = f'<ul class="rz-proof">{top}{note}{_proof_items(chain[-1])}</ul>'
        return f"<li>{_node_text(node)}{nested}</li>"
    inner = "".join(_proof_items(c) for c in children)
    nested = f'<ul class="rz-proof">{inner}</ul>' if inner else ""
    return f"<li>{_node_text(node)}{nested}</li>"


def why_html(explanation: Why, *, picture: bool = True) -> str:
    """The proof of an allow as nested lists (down to your script's lines), and the
    same proof drawn."""
    question = explanation.decision.requirement.statement
    parts = [f"<p>{_verdict(True)} <code>{e(question)}</code> &mdash; why</p>"]
    for need in explanation.needs + explanation.others:
        other = " (another proof)" if need in explanation.others else ""
        shown = _bindings(need.binding)
        parts.append(f"<p><b>needs {e(need.need.what)}</b>: {e(need.alternative.label)}"
                     f"{e(other)}"
                     + (f' <span class="rz-muted">[{e(shown)}]</span>' if shown else "")
                     + "</p>")
        steps = "".join(_proof_items(s) for s in need.steps)
        parts.append(f'<ul class="rz-proof">{steps}</ul>')
    if picture:
        from reasoner.render.dot import why_to_dot

        parts.append(_picture(why_to_dot(explanation)))
    return _box("".join(parts), "why")


# why-nots -----------------------------------------------------------------------------


def _context_rows(ctx: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if not ctx:
        return rows
    if "user" in ctx:
        rows.append(("user", str(ctx.get("user"))))
    if "current_role" in ctx:
        rows.append(("current role", str(ctx.get("current_role"))))
    if "secondary_all" in ctx:
        rows.append(("secondary roles", "all" if ctx.get("secondary_all") else "none"))
    active = ctx.get("active_roles") or {}
    if active:
        rows.append(("acts with roles", ", ".join(
            r if r == root else f"{r} (through {root})" for r, root in active.items())))
    inactive = ctx.get("inactive_granted_roles") or []
    if inactive:
        rows.append(("granted but not active",
                     ", ".join(inactive) + " (SET ROLE r, or SET SECONDARY ROLE ALL, "
                                           "makes them count)"))
    known = {"user", "current_role", "secondary_all", "active_roles",
             "inactive_granted_roles", "unrepairable"}
    for key, value in ctx.items():
        if key not in known:
            rows.append((key.replace("_", " "), _plain(value)))
    return rows


def _plain(value: object) -> str:
    """Lists and maps as a reader writes them, not as Python reprs."""
    if isinstance(value, dict):
        return ", ".join(f"{k} ({v})" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _failure_cell(failure: Failure | None) -> tuple[str, str]:
    if failure is None:
        return "", ""
    missing = missing_facts(failure)
    shown = missing[:4] + ([f"... {len(missing) - 4} more"] if len(missing) > 4 else [])
    return (f"<code>{e(failure.literal)}</code>: {e(failure.reason)}",
            "<br>".join(f"<code>{e(m)}</code>" for m in shown))


def why_not_html(explanation: WhyNot, *, picture: bool = True) -> str:
    """Failing conditions (where each alternative stops, what is missing), the session
    it was asked in, and the verified repairs."""
    question = explanation.decision.requirement.statement
    parts = [f"<p>{_verdict(False)} <code>{e(question)}</code> &mdash; why not</p>"]
    ctx = explanation.context
    context = _context_rows(ctx)
    if context:
        parts.append("<p><b>session</b></p>" + table(("", ""), context))
    for error in explanation.errors:
        parts.append(f'<p class="rz-deny">error: {e(error)}</p>')
    for need in explanation.needs:
        parts.append(f"<p><b>needs {e(need.need.what)}</b>: none of "
                     f"{len(need.alternatives)} alternative(s) holds</p>")
        rows = []
        for alt in need.alternatives:
            fails, missing = _failure_cell(alt.failure)
            rows.append((e(alt.alternative.label),
                         f"{alt.holds} of {len(alt.alternative.body)}", fails, missing))
        parts.append(table(("alternative", "conditions that hold", "fails at",
                            "missing, any of"), rows, raw=True))
    if explanation.repairs:
        parts.append("<p><b>repairs</b> (each verified by applying it and checking "
                     "again)</p>")
        rows = [(str(n), "<br>".join(f"<code>{e(s)};</code>" for s in r.statements),
                 e(r.run_as), e(r.blast_radius), e(r.note))
                for n, r in enumerate(explanation.repairs, 1)]
        parts.append(table(("#", "statements", "run by", "blast radius", "note"), rows,
                           raw=True))
    elif ctx.get("unrepairable"):
        parts.append(f"<p>no repair is possible: {e(ctx['unrepairable'])}</p>")
    else:
        parts.append('<p class="rz-muted">no repair found that the reasoner could '
                     "verify</p>")
    if picture and explanation.needs:
        from reasoner.render.dot import why_not_to_dot

        parts.append(_picture(why_not_to_dot(explanation)))
    return _box("".join(parts), "why-not")


# tables of answers --------------------------------------------------------------------


@dataclass
class AccessTable:
    """A who-can / what-can answer for display: iterates as the plain list the API
    returned, shows as an HTML table in a notebook and as text in a terminal."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    data: list[Any] = field(default_factory=list)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> Any:
        return self.data[index]

    def _repr_html_(self) -> str:
        if not self.rows:
            body = '<p class="rz-muted">nobody / nothing</p>'
        else:
            body = table(self.columns, self.rows)
        return _box(f"<p><b>{e(self.title)}</b></p>{body}", "access")

    def __repr__(self) -> str:
        widths = [max([len(c)] + [len(r[i]) for r in self.rows])
                  for i, c in enumerate(self.columns)]
        lines = [self.title, "  ".join(c.ljust(w) for c, w in zip(self.columns, widths,
                                                                   strict=True))]
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True))
                  for r in self.rows]
        return "\n".join(line.rstrip() for line in lines)


def who_can_table(result: Sequence[Any], privilege: str, on: str,
                  account: str) -> AccessTable:
    """``Reasoner.who_can`` rows: user, the roles it works through, whether it works as
    logged in."""
    rows = [(a.user, ", ".join(a.roles),
             "yes" if a.as_logged_in else "after SET ROLE (or SECONDARY ROLE ALL)")
            for a in result]
    return AccessTable(f"who can {privilege} on {on} (account {account}): {len(rows)}",
                       ("user", "through roles", "as logged in"), rows, list(result))


def what_can_table(result: Sequence[tuple[str, str, str, tuple[str, ...]]],
                   principal: str) -> AccessTable:
    """``Reasoner.what_can`` rows grouped per object and roles, so an ALL grant is one
    line listing its privileges rather than a dozen lines."""
    grouped: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for privilege, kind, obj, roles in result:
        grouped.setdefault((kind, obj, tuple(roles)), []).append(privilege)
    order = {"account": 0, "database": 1, "table": 2, "view": 3}
    rows = [(kind, obj, ", ".join(sorted(privs)), ", ".join(roles))
            for (kind, obj, roles), privs in sorted(
                grouped.items(), key=lambda kv: (order.get(kv[0][0], 9), kv[0]))]
    return AccessTable(f"what {principal} can do: {len(result)} privilege(s) on "
                       f"{len({(k, o) for k, o, _ in grouped})} object(s)",
                       ("kind", "object", "privileges", "through roles"), rows, list(result))


# script runs --------------------------------------------------------------------------


@dataclass
class RunRow:
    """One line of a ``%%policy`` run: a statement's outcome, a session switch or a
    directive."""

    line: int
    statement: str
    ok: bool
    message: str
    principal: str = ""


@dataclass
class OutcomeTable:
    """What a cell of statements did, one row a statement; ``outcomes`` are the API's
    :class:`~reasoner.decision.Outcome` values."""

    title: str
    rows: list[RunRow]
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def errors(self) -> list[RunRow]:
        return [r for r in self.rows if not r.ok]

    def __iter__(self) -> Iterator[Outcome]:
        return iter(self.outcomes)

    def __len__(self) -> int:
        return len(self.outcomes)

    def _repr_html_(self) -> str:
        rows = [(str(r.line), f"<code>{e(r.statement)}</code>", e(r.principal),
                 ('<span class="rz-allow">ok</span>' if r.ok
                  else '<span class="rz-deny">error</span>')
                 + (f" {e(r.message)}" if r.message else ""))
                for r in self.rows]
        classes = ["" if r.ok else "rz-error" for r in self.rows]
        body = table(("line", "statement", "as", "outcome"), rows, raw=True,
                     row_class=classes)
        return _box(f"<p><b>{e(self.title)}</b></p>{body}", "run")

    def __repr__(self) -> str:
        lines = [self.title]
        for r in self.rows:
            word = "ok" if r.ok else "error"
            lines.append(f"{r.line:>4}  {word:<5}  {' '.join(r.statement.split())[:70]}"
                         + (f"  -- {r.message}" if r.message else ""))
        return "\n".join(lines)
