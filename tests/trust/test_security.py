"""The tool's own security: user text is never evaluated, a script executes nothing,
every rendering keeps names as text, and output files are never replaced silently."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import reasoner as package
from reasoner import Reasoner
from reasoner.cli import main
from reasoner.render import html as H
from reasoner.render.dot import has_dot, why_not_to_dot, why_to_dot
from tests.strategies.matrixone import facts

SOURCE = Path(package.__file__).resolve().parent
DANGEROUS_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint"}
DANGEROUS_ATTRIBUTES = {("pickle", "load"), ("pickle", "loads"), ("marshal", "loads"),
                        ("yaml", "load"), ("yaml", "unsafe_load"), ("os", "system"),
                        ("os", "popen"), ("os", "execv"), ("os", "execvp"),
                        ("shelve", "open")}


def _findings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        where = f"{path.relative_to(SOURCE.parent)}:{node.lineno}"
        if isinstance(func, ast.Name) and func.id in DANGEROUS_CALLS:
            found.append(f"{where}: {func.id}(...)")
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and (
                func.value.id, func.attr) in DANGEROUS_ATTRIBUTES:
            found.append(f"{where}: {func.value.id}.{func.attr}(...)")
        if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and
                                         k.value.value is False) for k in node.keywords):
            found.append(f"{where}: a call with shell=...")
    return found


# Reviewed uses, each with why it evaluates no user text. Anything new fails the test.
REVIEWED = {
    # the incremental backend compiles each rule's join plan to Python once; the source is
    # made from the rule files (their constants as repr() literals), and query constants --
    # the only values that come from users' statements -- are passed in as ARG[i] data,
    # never written into the source (reviewed for issue 8; see docs/reliability.md)
    "reasoner/backends/incremental.py": 2,
    # the MatrixOne parser's fast path makes one small reducer per grammar rule; the source
    # is made from the grammar alone (rule and terminal names as repr() literals, argument
    # counts); statements' text only ever reaches the reducers as arguments at parse time
    "reasoner/dialects/matrixone/parser.py": 1,
}


def test_nothing_in_the_package_evaluates_text_or_runs_a_shell() -> None:
    """No eval/exec/compile/__import__, no pickle/marshal/yaml loading, no os.system or
    popen, no subprocess with a shell, anywhere in reasoner/ (read as syntax trees, so a
    comment or a string mentioning them does not count), except the reviewed uses above."""
    files = sorted(SOURCE.rglob("*.py"))
    assert len(files) > 20
    findings = [f for path in files for f in _findings(path)]
    by_file: dict[str, int] = {}
    for finding in findings:
        by_file[finding.split(":")[0]] = by_file.get(finding.split(":")[0], 0) + 1
    unreviewed = [f for f in findings if by_file[f.split(":")[0]] !=
                  REVIEWED.get(f.split(":")[0])]
    assert unreviewed == []


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scanner itself, on a file that does everything it forbids."""
    bad = SOURCE / "_scan_probe.py"
    try:
        bad.write_text("import os, pickle, subprocess\neval('1')\nexec('x=1')\n"
                       "pickle.loads(b'')\nos.system('true')\n"
                       "subprocess.run('true', shell=True)\n", encoding="utf-8")
        assert len(_findings(bad)) == 5
    finally:
        bad.unlink()


HOSTILE_SCRIPT = r"""
create database db1;
create table db1.t1 (a int) comment '$(touch {marker})';
select system('touch {marker}') from db1.t1;
create role `__import__('os').system('touch {marker}')`;
create role `$(touch {marker})`, `; rm -rf /`;
select `touch {marker}` from db1.t1;
insert into db1.t1 select load_file('{marker}');
create user `exec(open('{marker}','w'))` identified by '1';
set @x = '`touch {marker}`';
!touch {marker};
\! touch {marker};
"""


def test_loading_a_script_executes_nothing(tmp_path: Path, monkeypatch) -> None:
    """Statements that look like shell or Python change the catalogue (roles and users
    with odd names) and nothing else: no file appears, no process starts."""
    marker = tmp_path / "pwned"
    started: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        started.append(args)
        raise AssertionError("a process was started")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)
    before = set(tmp_path.iterdir())
    reasoner = Reasoner("matrixone")
    outcomes = reasoner.load(HOSTILE_SCRIPT.format(marker=marker))
    assert not marker.exists() and set(tmp_path.iterdir()) == before and started == []
    acc = reasoner.engine.catalogue.account("sys")
    assert "__import__('os').system('touch " + str(marker) + "')" in acc.roles
    assert all(o.ok or o.error for o in outcomes)


NAMES = ["<script>alert(1)</script>", '"];', "ends\\", "a&amp;b", "<img src=x onerror=alert(1)>",
         "x\"] ; evil [label=\"", "{braces}|<port>"]


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Reasoner, Path]:
    """Roles named to break out of HTML, SVG and DOT, chained so every one shows up in a
    proof and a why-not."""
    lines = ["create account acc1 admin_name 'admin' identified by '1';",
             "-- connect acc1:admin", "create database db1;", "create table db1.t1 (a int);",
             f"create role {', '.join(_quoted(n) for n in NAMES)};"]
    for inner, outer in zip(NAMES, NAMES[1:], strict=False):
        lines.append(f"grant {_quoted(inner)} to {_quoted(outer)};")
    lines += [f"grant select on table db1.t1 to {_quoted(NAMES[0])};",
              f"create user {_quoted('<u>joe</u>')} identified by '1' default role "
              f"{_quoted(NAMES[-1])};"]
    script = tmp_path_factory.mktemp("hostile") / "hostile.sql"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reasoner = Reasoner("matrixone")
    outcomes = reasoner.load(script)
    assert all(o.ok for o in outcomes), [o.describe() for o in outcomes if not o.ok]
    return reasoner, script


def _no_markup(text: str) -> None:
    for bad in ("<script", "<img", "<u>joe", "<port>"):
        assert bad not in text, f"{bad!r} got out into the markup"


def test_html_keeps_every_name_as_text(hostile: tuple[Reasoner, Path]) -> None:
    reasoner, _ = hostile
    joe = reasoner.session("acc1:<u>joe</u>")
    for text in (H.decision_html(joe.check("select", "table db1.t1")),
                 H.why_html(joe.why("select", "table db1.t1"), picture=has_dot()),
                 H.why_not_html(joe.why_not("insert", "table db1.t1"), picture=has_dot())):
        _no_markup(text)
        assert "&lt;script&gt;" in text or "&lt;u&gt;joe" in text


def test_dot_keeps_every_name_inside_its_label(hostile: tuple[Reasoner, Path]) -> None:
    """The DOT of a proof through every hostile role has one node per drawn item and no
    statement a name smuggled in (``"];``, a trailing backslash, ``{|<>}`` records)."""
    reasoner, _ = hostile
    joe = reasoner.session("acc1:<u>joe</u>")
    for graph in (why_to_dot(joe.why("select", "table db1.t1")),
                  why_not_to_dot(joe.why_not("insert", "table db1.t1"))):
        source = graph.source
        assert "evil" not in source.replace('evil [label=\\"', "") or 'evil [label=\\"' in source
        statements = [line for line in source.splitlines() if line.strip().startswith(
            ("n", "}", "digraph", "\t", "graph", "node", "edge", "label", "rankdir"))]
        assert len(statements) == len(source.splitlines()), source
        if has_dot():
            svg = graph.pipe(format="svg").decode()
            _no_markup(svg)


@pytest.mark.skipif(not has_dot(), reason="graphviz's dot is not installed")
def test_cli_svg_keeps_names_as_text(hostile: tuple[Reasoner, Path], tmp_path: Path) -> None:
    _, script = hostile
    for command, question in (("why", ["select"]), ("why-not", ["insert"])):
        out = tmp_path / f"{command}.svg"
        code = main([command, str(script), "--format", "svg", "-o", str(out), "--as",
                     "acc1:<u>joe</u>", *question, "on", "table", "db1.t1"])
        assert code in (0, 1)
        svg = out.read_text(encoding="utf-8")
        assert svg.lstrip().startswith(("<?xml", "<!DOCTYPE", "<svg"))
        _no_markup(svg)
        assert command == "why-not" or "&lt;script&gt;" in svg


@pytest.mark.parametrize("fmt", ["text", "json", "dot", "svg"])
def test_output_files_are_never_overwritten_without_force(hostile: tuple[Reasoner, Path],
                                                          tmp_path: Path, fmt: str,
                                                          capsys) -> None:
    _, script = hostile
    out = tmp_path / f"why.{fmt}"
    out.write_text("precious", encoding="utf-8")
    argv = ["why", str(script), "--format", fmt, "-o", str(out), "--as", "acc1:<u>joe</u>",
            "select", "on", "table", "db1.t1"]
    assert main(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "precious"
    if fmt == "svg" and not has_dot():
        return
    assert main([*argv, "--force"]) == 0
    assert out.read_text(encoding="utf-8") != "precious"


def test_the_dot_fallback_is_not_overwritten_without_force(hostile: tuple[Reasoner, Path],
                                                           tmp_path: Path, monkeypatch,
                                                           capsys) -> None:
    """With graphviz missing, SVG output falls back to a .dot file beside it: that file
    is not replaced silently either (it was, before)."""
    _, script = hostile
    monkeypatch.setattr(shutil, "which", lambda name: None)
    fallback = tmp_path / "why.dot"
    fallback.write_text("precious", encoding="utf-8")
    argv = ["why", str(script), "--format", "svg", "-o", str(tmp_path / "why.svg"), "--as",
            "acc1:<u>joe</u>", "select", "on", "table", "db1.t1"]
    assert main(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert fallback.read_text(encoding="utf-8") == "precious"
    assert main([*argv, "--force"]) == 2  # still no SVG, but the DOT is written
    assert fallback.read_text(encoding="utf-8").startswith("digraph")


def test_a_hostile_script_changes_only_the_catalogue(tmp_path: Path) -> None:
    """What a hostile script leaves behind is catalogue facts, all from its own lines."""
    reasoner = Reasoner("matrixone")
    assert reasoner.initial_session  # the login the script runs in is not the script's doing
    baseline = facts(reasoner)
    reasoner.load(HOSTILE_SCRIPT.format(marker=tmp_path / "m"))
    added = {pred for pred, _ in facts(reasoner) - baseline}
    assert added <= {"database", "created_by", "object", "role", "role_created_by", "user",
                     "user_role", "user_role_wgo", "privilege", "ownership_grant",
                     "grant_option"}
