"""Fail closed: an internal error, a broken rule set or a slow engine never yields an
allow, never a hang, and never a half-applied statement.

Faults are injected at the seams a real failure would come through: the engine's
``solve`` / ``holds`` / ``query``, the catalogue in the middle of a statement, the rule
files (through ``reasoner.rulebase.rules_from``), and the clock (``decision_timeout``).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reasoner import Reasoner
from reasoner.authorizer import decide
from reasoner.errors import RuleError
from reasoner.resources import data_dir
from reasoner.rulebase import program_for, rules_from
from tests.strategies.matrixone import facts

SETUP = """
create account acc admin_name 'admin' identified by '1';
-- connect acc:admin
create database db1;
create table db1.t1 (a int);
create role dev;
create user joe identified by '1' default role dev;
grant select, insert on table db1.t1 to dev;
grant create table on database db1 to dev;
"""
CHECKS = (("select", "table db1.t1"), ("insert", "table db1.t1"),
          ("create table", "database db1"), ("create user", "account *"))
STATEMENTS = ("select * from db1.t1", "insert into db1.t1 values (1)",
              "create table db1.t2 (a int)", "grant select on table db1.t1 to dev",
              "drop table db1.t1", "create role r9", "set role dev", "use db1")


@pytest.fixture()
def world() -> Reasoner:
    reasoner = Reasoner("matrixone")
    assert all(o.ok for o in reasoner.load(SETUP))
    return reasoner


class Boom(RuntimeError):
    """The injected fault."""


def faulty(method: str, calls: list[int]) -> Callable[..., Any]:
    def raise_(*_args: Any, **_kwargs: Any) -> Any:
        calls.append(1)
        raise Boom(f"injected fault in {method}")
    return raise_


@pytest.mark.parametrize("method", ["solve", "holds", "query"])
def test_an_engine_fault_is_a_deny_that_carries_the_error(world: Reasoner, method: str,
                                                          monkeypatch) -> None:
    """Whatever engine call fails, a check or statement that used it is a deny (or a
    rejected statement) naming the fault; one that did not use it is unchanged; the
    state after a rejected statement is the state before."""
    users = {"admin": world.session("acc:admin"), "joe": world.session("acc:joe")}
    truth = {(u, p, o): bool(s.check(p, o)) for u, s in users.items() for p, o in CHECKS}
    calls: list[int] = []
    monkeypatch.setattr(world.engine.backend, method, faulty(method, calls))
    for (user, privilege, on), allowed in truth.items():
        before = len(calls)
        decision = users[user].check(privilege, on)
        if len(calls) > before:
            assert not decision.allowed
            assert any("injected fault" in e for e in decision.errors), decision.errors
        else:
            assert decision.allowed == allowed
    for user, session in users.items():
        for text in STATEMENTS:
            state, before = facts(world, with_origin=True), len(calls)
            outcome = session.execute(text)
            if len(calls) > before:
                assert not outcome.ok, (user, text)
                assert "injected fault" in (outcome.error or ""), outcome.error
                assert facts(world, with_origin=True) == state, (user, text)


def test_a_fault_inside_a_statements_effect_undoes_all_of_it(world: Reasoner,
                                                              monkeypatch) -> None:
    """A crash half-way through applying a statement (here: after the first of the
    statement's facts) is an error outcome, and the journal undoes every change made."""
    store = world.engine.facts
    real_add, added = store.add, []

    def add_then_fail(pred: str, args: tuple, origin: Any) -> None:
        real_add(pred, args, origin)
        added.append(pred)
        if len(added) == 2:
            raise Boom("injected fault after two facts")

    admin = world.session("acc:admin")
    before = (facts(world, with_origin=True), dict(world.engine.catalogue.priv_rows))
    monkeypatch.setattr(store, "add", add_then_fail)
    outcome = admin.execute("create user ann identified by '1' default role dev")
    assert not outcome.ok and "injected fault" in (outcome.error or "")
    monkeypatch.setattr(store, "add", real_add)
    assert (facts(world, with_origin=True), dict(world.engine.catalogue.priv_rows)) == before
    assert "ann" not in world.engine.catalogue.account("acc").users
    assert admin.execute("create user ann identified by '1' default role dev").ok


def test_maxcompute_engine_fault_is_a_deny() -> None:
    """The same for the other dialect, through its public API."""
    reasoner = Reasoner("maxcompute")
    reasoner.engine.directive("project", ["prj_a", "owner", "ALIYUN$bob@aliyun.com"], "")
    bob = reasoner.session("prj_a ALIYUN$bob@aliyun.com")
    assert bob.execute("create table t1 (id bigint)").ok
    assert bob.check("select", "table prj_a.t1")
    reasoner.engine.backend.solve = faulty("solve", [])  # type: ignore[method-assign]
    decision = bob.check("select", "table prj_a.t1")
    assert not decision.allowed and any("injected fault" in e for e in decision.errors)
    outcome = bob.execute("select * from t1")
    assert not outcome.ok


# --- the rule set ----------------------------------------------------------------------------


@pytest.fixture()
def rules(tmp_path: Path) -> Iterator[Path]:
    """A private copy of the installed rules folder, for breaking."""
    folder = tmp_path / "rules"
    shutil.copytree(data_dir("rules"), folder)
    yield folder


def _broken(rules: Path, edit: Callable[[Path], None]) -> RuleError:
    edit(rules / "matrixone" / "tables.dl")
    with rules_from(rules), pytest.raises(RuleError) as caught:
        Reasoner("matrixone")
    return caught.value


def test_a_missing_rule_file_fails_construction_clearly(rules: Path) -> None:
    error = _broken(rules, Path.unlink)
    assert "matrixone/tables.dl:1:1: cannot read rule file" in str(error)


def test_a_corrupt_rule_file_fails_construction_clearly(rules: Path) -> None:
    """Invalid UTF-8 in a rule file is a RuleError naming the file, line and byte."""
    def corrupt(path: Path) -> None:
        path.write_bytes(path.read_bytes()[:200] + b"\xff\xfe garbage")

    error = _broken(rules, corrupt)
    assert "matrixone/tables.dl:" in str(error) and "not UTF-8" in str(error)


def test_a_rule_file_with_a_syntax_error_names_the_place(rules: Path) -> None:
    error = _broken(rules, lambda p: p.write_text(p.read_text() + "\nbroken :: p(X :- q(X).\n"))
    assert "matrixone/tables.dl:" in str(error) and "expected" in str(error)


def test_an_unsafe_rule_set_is_rejected_at_load(rules: Path) -> None:
    """A head variable bound by no positive body literal would make answers infinite."""
    error = _broken(rules, lambda p: p.write_text(
        p.read_text() + "\nloose :: table_ok(R, P, T) :- role(R, _).\n"))
    assert "loose" in str(error) and "unsafe" in str(error).lower()


def test_an_unstratified_rule_set_is_rejected_at_load(rules: Path) -> None:
    """Negation through recursion would hang pyDatalog inside compiled code; it is
    refused before any engine sees it, naming the rule."""
    error = _broken(rules, lambda p: p.write_text(
        p.read_text() + "\nloop :: table_ok(R, P, T) :- role_has(R, P, table, T), "
                        "!view_ok(R, P, T).\n"
                        "back :: view_ok(R, P, V) :- role_has(R, P, view, V), "
                        "!table_ok(R, P, V).\n"))
    assert "stratif" in str(error).lower() or "negation" in str(error).lower(), str(error)
    assert "loop" in str(error) or "back" in str(error)


def test_program_for_takes_a_rules_folder(rules: Path) -> None:
    """The seam itself: program_for reads the folder it is given, not the installed one."""
    (rules / "matrixone" / "tables.dl").write_text("% emptied\n")
    with pytest.raises(RuleError):
        program_for(("matrixone/schema.dl", "matrixone/tables.dl", "matrixone/reverse.dl"),
                    root=rules)
    assert program_for(("matrixone/schema.dl",), root=rules).inputs


# --- deadlines -------------------------------------------------------------------------------


def slow(reasoner: Reasoner, seconds: float, monkeypatch) -> list[float]:
    real, started = reasoner.engine.backend.solve, []

    def solve(*args: Any, **kwargs: Any) -> Any:
        started.append(time.monotonic())
        time.sleep(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(reasoner.engine.backend, "solve", solve)
    return started


def test_a_decision_past_its_deadline_is_a_deny_that_says_so(monkeypatch) -> None:
    reasoner = Reasoner("matrixone", decision_timeout=0.05)
    assert all(o.ok for o in reasoner.load(SETUP))
    joe = reasoner.session("acc:joe")
    assert joe.check("select", "table db1.t1")  # fast: within the deadline
    calls = slow(reasoner, 0.2, monkeypatch)
    began = time.monotonic()
    decision = joe.check("select", "table db1.t1")
    took = time.monotonic() - began
    assert not decision.allowed
    assert any(e.startswith("timed out after") for e in decision.errors), decision.errors
    assert len(calls) == 1 and took < 1.0  # stops at the first answer past the deadline
    state = facts(reasoner, with_origin=True)
    outcome = joe.execute("insert into db1.t1 values (1)")
    assert not outcome.ok and "timed out after" in (outcome.error or "")
    assert facts(reasoner, with_origin=True) == state


def test_no_deadline_by_default_and_an_explicit_one_wins(world: Reasoner, monkeypatch) -> None:
    slow(world, 0.05, monkeypatch)
    joe = world.session("acc:joe")
    assert joe.check("select", "table db1.t1")  # default: no deadline
    requirement = world.engine.check_requirement(joe.state, "select", "table", "db1.t1")
    late = decide(world.engine.backend, requirement, deadline_s=0.01)
    assert not late.allowed and late.errors[0].startswith("timed out after")
    assert decide(world.engine.backend, requirement, deadline_s=5).allowed


def test_a_negative_timeout_is_refused() -> None:
    with pytest.raises(ValueError):
        Reasoner("matrixone", decision_timeout=-1)
