"""HTML and role-graph rendering: names users wrote stay text (HTML, SVG and DOT), tables
hold what the API returned, and the role graph keeps what a question needs."""

from __future__ import annotations

import html
import random
import re
import time

import graphviz
import pytest

from reasoner import Reasoner
from reasoner.decision import Outcome
from reasoner.render import html as H
from reasoner.render.dot import has_dot
from reasoner.render.graph import role_graph

HOSTILE = ["<script>alert(1)</script>", '"];', "x\\", "<b>bold</b>", "a&amp;b",
           "<img src=x onerror=alert(1)>"]
needs_dot = pytest.mark.skipif(not has_dot(), reason="graphviz's dot is not installed")


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@pytest.fixture(scope="module")
def hostile() -> Reasoner:
    """An account whose roles and user carry names meant to break out of markup."""
    r = Reasoner("matrixone")
    lines = ["create account acc1 admin_name 'admin' identified by '111';",
             "-- connect acc1:admin", "create database db1;",
             "create table db1.t1 (a int);", "create table db1.t2 (a int);"]
    for name in HOSTILE:
        lines.append(f"create role {_quoted(name)};")
    lines.append(f"create user {_quoted('<u>joe</u>')} identified by '1' default role "
                 f"{_quoted(HOSTILE[0])};")
    lines.append(f"grant select on table db1.t1 to {_quoted(HOSTILE[1])};")
    lines.append(f"grant {_quoted(HOSTILE[1])} to {_quoted(HOSTILE[0])};")
    lines.append(f"grant {_quoted(HOSTILE[2])} to {_quoted(HOSTILE[0])} with grant option;")
    lines.append(f"grant {_quoted(HOSTILE[5])} to {_quoted('<u>joe</u>')};")
    outcomes = r.load("\n".join(lines))
    assert all(o.ok for o in outcomes), [o.describe() for o in outcomes if not o.ok]
    return r


def _no_markup_from_names(text: str) -> None:
    for bad in ("<script", "<img", "<b>bold", "<u>joe"):
        assert bad not in text, f"{bad!r} got out into the markup"


def _joe(r: Reasoner):  # type: ignore[no-untyped-def]
    return r.session("acc1:<u>joe</u>")


# HTML ---------------------------------------------------------------------------------


def test_decision_html_escapes(hostile: Reasoner) -> None:
    joe = _joe(hostile)
    allowed = joe.check("select", "table db1.t1")
    assert allowed
    text = allowed._repr_html_()
    _no_markup_from_names(text)
    assert "ALLOW" in text and "acc1:role:&quot;];" in text
    denied = joe.check("insert", "table db1.t2")
    text = denied._repr_html_()
    assert "DENY" in text and 'class="rz-error"' in text
    _no_markup_from_names(text)


def test_why_html_has_escaped_proof_and_picture(hostile: Reasoner) -> None:
    why = _joe(hostile).why("select", "table db1.t1")
    text = why._repr_html_()
    _no_markup_from_names(text)
    assert text.count("<li>") >= why.nodes()  # every proof step is a list item
    assert "&quot;];" in text
    if has_dot():
        assert re.search(r"<svg\b", text)
        assert "&lt;script&gt;" in re.search(r"<svg\b.*</svg>", text, re.DOTALL)[0]
    else:
        assert "no picture" in text


def test_why_not_html_lists_context_and_repairs(hostile: Reasoner) -> None:
    why_not = _joe(hostile).why_not("insert", "table db1.t2")
    text = why_not._repr_html_()
    _no_markup_from_names(text)
    assert "granted but not active" in text and "&lt;script&gt;" in text
    if why_not.repairs:
        assert "<th>statements</th>" in text
    for repair in why_not.repairs:
        for statement in repair.statements:
            assert H.e(statement) in text
    plain = Reasoner("matrixone")
    plain.load("create account a admin_name 'admin' identified by '1';\n-- connect a:admin\n"
               "create database db1;\ncreate table db1.t (x int);\ncreate role dev;\n"
               "create user joe identified by '1' default role dev;")
    repaired = plain.session("a:joe").why_not("select", "table db1.t")
    text = repaired._repr_html_()
    assert repaired.repairs and "<th>statements</th>" in text
    assert "grant select on table db1.t to dev;" in text


def test_svg_with_active_content_is_dropped() -> None:
    graph = graphviz.Digraph()
    graph.node("a", "click me", URL="javascript:alert(1)")
    graph.node("b", graphviz.escape("<script>alert(1)</script>"))
    if not has_dot():
        assert H.svg(graph) is None
        return
    assert H.svg(graph) is None  # the URL made an <a> element
    safe = graphviz.Digraph()
    safe.node("b", graphviz.escape("<script>alert(1)</script> \" onload='x'"))
    drawn = H.svg(safe)
    assert drawn is not None and drawn.startswith("<svg")
    assert "&lt;script&gt;" in drawn and "<script" not in drawn


def test_access_tables(hostile: Reasoner) -> None:
    who = hostile.who_can("select", "table db1.t1", account="acc1")
    table = H.who_can_table(who, "select", "table db1.t1", "acc1")
    assert list(table) == who and len(table) == len(who)
    assert {row[0] for row in table.rows} == {"<u>joe</u>", "admin"}
    text = table._repr_html_()
    _no_markup_from_names(text)
    assert "&lt;u&gt;joe&lt;/u&gt;" in text and "<th>through roles</th>" in text
    assert "<u>joe</u>" in repr(table)  # the text form is for a terminal: raw names
    what = hostile.what_can("acc1:<u>joe</u>")
    table = H.what_can_table(what, "acc1:<u>joe</u>")
    assert list(table) == what
    objects = {(row[0], row[1]): row for row in table.rows}
    assert "select" in objects[("table", "db1.t1")][2]
    assert len(table.rows) == len({(k, o, tuple(r)) for _, k, o, r in what})
    _no_markup_from_names(table._repr_html_())
    assert "nobody" in H.AccessTable("none", ("user",), [])._repr_html_()


def test_outcome_table() -> None:
    rows = [H.RunRow(1, "create role `<script>`", True, "", "sys:root"),
            H.RunRow(2, "drop role x", False, "there is no role <x>", "sys:root")]
    outcomes = [Outcome(True, rows[0].statement, 1, "<cell>"),
                Outcome(False, rows[1].statement, 2, "<cell>", error=rows[1].message)]
    table = H.OutcomeTable("2 statement(s)", rows, outcomes)
    text = table._repr_html_()
    _no_markup_from_names(text)
    assert "&lt;script&gt;" in text and "there is no role &lt;x&gt;" in text
    assert text.count('class="rz-error"') == 1 and not table.ok
    assert list(table) == outcomes and table.errors == [rows[1]]
    assert "error" in repr(table)


# role graph ---------------------------------------------------------------------------


def test_role_graph_dot_keeps_names_as_text(hostile: Reasoner) -> None:
    graph = role_graph(hostile, "acc1")
    source = graph.source
    assert "<script>" in source  # as a quoted string, never an HTML-like <...> label
    assert not re.search(r"label=<", source)
    assert 'label="x\\\\"' in source  # the backslash is doubled, the quote closes
    # every node statement is one of ours: names became labels, not node ids or syntax
    ids = set(re.findall(r"^\s*(\w+) \[", source, re.MULTILINE))
    assert ids and all(re.fullmatch(r"[nc]\d+|graph|node|edge", i) for i in ids)


@needs_dot
def test_role_graph_svg_is_text(hostile: Reasoner) -> None:
    svg = role_graph(hostile, "acc1").pipe(format="svg").decode()
    _no_markup_from_names(svg)
    texts = {html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)}
    for name in HOSTILE:
        assert name in texts, name  # drawn exactly as written
    assert H.svg(role_graph(hostile, "acc1")) is not None  # nothing active in it


def test_role_graph_draws_grants_owners_and_options(hostile: Reasoner) -> None:
    source = role_graph(hostile, "acc1").source
    assert "WITH GRANT OPTION" in source  # the legend
    assert source.count("arrowhead=diamond") >= 2  # admin's and the role-to-role one
    assert "owns" in source and "table db1.t1" in source
    assert "users (2)" in source and "every user also holds public" in source


def test_role_graph_focus_and_user(hostile: Reasoner) -> None:
    focus = role_graph(hostile, "acc1", focus="table db1.t1", privilege="select").source
    # reaches select on db1.t1: '"];' (granted), '<script>...' (inherits it), the admin
    for name in ('"];', "<script>alert(1)</script>", "accountadmin", "<u>joe</u>", "admin"):
        assert graphviz.escape(name).replace('"', '\\"') in focus, name
    assert "<b>bold</b>" not in focus and "<img" not in focus
    assert "select" in focus
    user = role_graph(hostile, "acc1", user="<u>joe</u>").source
    assert "users (1)" in user and "<img src=x onerror=alert(1)>" in user
    assert "accountadmin" not in user and "<b>bold</b>" not in user
    with pytest.raises(ValueError, match="no user"):
        role_graph(hostile, "acc1", user="nobody")
    with pytest.raises(ValueError, match="focus on one of"):
        role_graph(hostile, "acc1", focus="function f")
    with pytest.raises(ValueError, match="no account"):
        role_graph(hostile, "nowhere")


def test_role_graph_refuses_maxcompute() -> None:
    with pytest.raises(ValueError, match="MatrixOne"):
        role_graph(Reasoner("maxcompute"), "sys")


@pytest.fixture(scope="module")
def medium() -> Reasoner:
    """120 roles in random inheritance chains, 40 users, 30 tables."""
    rng = random.Random(7)
    lines = ["create account big admin_name 'admin' identified by '111';",
             "-- connect big:admin"]
    for d in range(3):
        lines.append(f"create database db{d};")
        lines += [f"create table db{d}.t{t} (a int);" for t in range(10)]
    lines += [f"create role r{i};" for i in range(120)]
    for i in range(1, 120):
        for j in rng.sample(range(i), min(i, rng.choice([0, 1, 1, 2]))):
            lines.append(f"grant r{j} to r{i};")
    for i in range(0, 120, 3):
        lines.append(f"grant select on table db{(i // 3) % 3}.t{i % 10} to r{i};")
    for u in range(40):
        lines.append(f"create user u{u} identified by 'x' default role r{rng.randrange(120)};")
        lines.append(f"grant r{rng.randrange(120)} to u{u};")
    r = Reasoner("matrixone")
    assert all(o.ok for o in r.load("\n".join(lines)))
    return r


def test_role_graph_medium_account_filters(medium: Reasoner) -> None:
    started = time.perf_counter()
    full = role_graph(medium, "big")
    focus = role_graph(medium, "big", focus="table db1.t1")
    user = role_graph(medium, "big", user="u3")
    assert time.perf_counter() - started < 5
    assert "roles (121)" in full.source and "narrow the picture" in full.source
    wanted = {b["Root"] for b in medium.who_can("select", "table db1.t1", account="big")
              for b in [{"Root": r} for r in b.roles]}
    roles_in_focus = int(re.search(r"roles \((\d+)\)", focus.source)[1])
    assert 1 < roles_in_focus < 121 and len(wanted) <= roles_in_focus
    users = {a.user for a in medium.who_can("select", "table db1.t1", account="big")}
    for name in users:
        assert f"label=\"{name}\n" in focus.source
    assert "users (1)" in user.source
    assert int(re.search(r"roles \((\d+)\)", user.source)[1]) < 121


@needs_dot
def test_role_graph_medium_account_renders(medium: Reasoner) -> None:
    svg = role_graph(medium, "big", focus="table db1.t1").pipe(format="svg").decode()
    assert svg.count('class="node"') >= 5


def test_why_not_html_survives_a_name_that_breaks_dot() -> None:
    """An admin called ``ad\\`` ends a DOT label with a backslash; the HTML must still
    render (with or without the picture) and never carry active content."""
    r = Reasoner("matrixone")
    r.load("create account acc1 admin_name 'ad\\\\' identified by '111';\n"
           "-- connect acc1:ad\\\n"
           "create database db1;\ncreate table db1.t (x int);\ncreate role dev;\n"
           "create user joe identified by '1' default role dev;")
    why_not = r.session("acc1:joe").why_not("select", "table db1.t")
    assert why_not.repairs and why_not.repairs[0].run_as == "acc1:ad\\"
    text = why_not._repr_html_()
    assert "acc1:ad\\" in text
    assert not re.search(r"<a\b|\shref=|<script", text)
