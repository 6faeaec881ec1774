"""The reasoner command, as a user runs it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reasoner.cli import main

SCRIPT = """create account acc1 admin_name 'admin' identified by '111';
-- connect acc1:admin
create database db1;
create table db1.t1 (a int);
create role dev;
create user joe identified by '111' default role dev;
grant select on table db1.t1 to dev;
-- connect acc1:joe
insert into db1.t1 values (1);
grant select on db1.t1 to dev;
"""


@pytest.fixture()
def script(tmp_path: Path) -> Path:
    path = tmp_path / "policy.sql"
    path.write_text(SCRIPT)
    return path


def test_run_reports_each_statement_with_its_line(script: Path, capsys) -> None:
    assert main(["run", str(script)]) == 1
    out = capsys.readouterr().out
    assert f"{script}:3: ok" in out
    assert f"{script}:9: error: do not have privilege to execute the statement" in out
    assert f"{script}:10:" in out and "syntax error" in out


def test_run_explain_explains_rejected_statements(script: Path, capsys) -> None:
    main(["run", "--explain", str(script)])
    out = capsys.readouterr().out
    assert "grant insert on table db1.t1 to dev" in out


def test_check_exit_codes(script: Path, capsys) -> None:
    assert main(["check", str(script), "--as", "acc1:joe", "select", "on", "table",
                 "db1.t1"]) == 0
    assert main(["check", str(script), "--as", "acc1:joe", "delete", "on", "table",
                 "db1.t1"]) == 1
    assert main(["check", str(script), "--as", "acc1:nobody", "select", "on", "table",
                 "db1.t1"]) == 2
    capsys.readouterr()
    assert main(["check", str(script), "--as", "acc1:joe", "--json", "select", "on", "table",
                 "db1.t1"]) == 0
    assert json.loads(capsys.readouterr().out)["allowed"] is True


def test_why_and_why_not_formats(script: Path, tmp_path: Path, capsys) -> None:
    question = ["--as", "acc1:joe", "select", "on", "table", "db1.t1"]
    assert main(["why", str(script), *question]) == 0
    assert "privilege_row" in capsys.readouterr().out
    assert main(["why", str(script), "--format", "json", *question]) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "why"
    assert main(["why", str(script), "--format", "dot", *question]) == 0
    assert capsys.readouterr().out.startswith("digraph")
    deny = ["--as", "acc1:joe", "insert", "on", "table", "db1.t1"]
    assert main(["why-not", str(script), *deny]) == 1
    assert "repairs" in capsys.readouterr().out
    out = tmp_path / "why.dot"
    assert main(["why-not", str(script), "--format", "dot", "-o", str(out), *deny]) == 1
    assert out.read_text().startswith("digraph")
    assert main(["why-not", str(script), "--format", "dot", "-o", str(out), *deny]) == 2
    assert "--force" in capsys.readouterr().err


def test_svg_is_written(script: Path, tmp_path: Path) -> None:
    """scripts/setup.sh installs graphviz, so dot is there."""
    svg = tmp_path / "why.svg"
    assert main(["why", str(script), "--format", "svg", "-o", str(svg), "--as", "acc1:joe",
                 "select", "on", "table", "db1.t1"]) == 0
    text = svg.read_text()
    assert "<svg" in text and "privilege_row" in text


def test_svg_without_dot_writes_dot_and_says_so(script: Path, tmp_path: Path, monkeypatch,
                                                capsys) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    svg = tmp_path / "why.svg"
    code = main(["why", str(script), "--format", "svg", "-o", str(svg), "--as", "acc1:joe",
                 "select", "on", "table", "db1.t1"])
    assert code == 2
    assert "not installed" in capsys.readouterr().err
    assert (tmp_path / "why.dot").read_text().startswith("digraph")


def test_test_command_counts_records(tmp_path: Path, capsys) -> None:
    case = tmp_path / "a.test"
    case.write_text("statement ok\ncreate role r1\n\nstatement error there is no role r2\n"
                    "drop role r2\n\nstatement ok\ndrop role r2\n")
    assert main(["test", str(case)]) == 1
    out = capsys.readouterr().out
    assert f"{case}:7: expected ok, got error: there is no role r2" in out
    assert out.strip().endswith("2 passed, 1 failed")
