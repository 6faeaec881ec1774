"""MatrixOne decisions through the public library API, one behaviour per test."""

from __future__ import annotations

import pytest

from reasoner import Reasoner

SETUP = """
create account acc1 admin_name 'admin' identified by '111';
-- connect acc1:admin
create database db1;
create table db1.t1 (a int);
create table db1.t2 (a int);
create role dev, lead, intern;
grant lead to dev;
create user joe identified by '111' default role dev;
create user ann identified by '111' default role intern;
grant dev to ann;
"""


@pytest.fixture()
def r() -> Reasoner:
    reasoner = Reasoner("matrixone")
    outcomes = reasoner.load(SETUP)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    return reasoner


def admin(r: Reasoner):
    return r.session("acc1:admin")


def test_privilege_granted_to_inherited_role_is_seen_at_once(r: Reasoner) -> None:
    joe = r.session("acc1:joe")
    assert not joe.check("select", "table db1.t1")
    assert admin(r).execute("grant select on table db1.t1 to lead").ok
    decision = joe.check("select", "table db1.t1")
    assert decision.allowed
    assert decision.satisfied[0].bindings[0]["R"] == "acc1:role:lead"


def test_revoke_of_role_edge_removes_inherited_access(r: Reasoner) -> None:
    admin(r).execute("grant select on table db1.t1 to lead")
    joe = r.session("acc1:joe")
    assert joe.check("select", "table db1.t1")
    assert admin(r).execute("revoke lead from dev").ok
    assert not joe.check("select", "table db1.t1")


def test_database_grant_covers_its_tables_only(r: Reasoner) -> None:
    admin(r).execute("grant select on table db1.* to dev")
    admin(r).execute("create database db2")
    admin(r).execute("create table db2.t (a int)")
    joe = r.session("acc1:joe")
    assert joe.check("select", "table db1.t2")
    assert not joe.check("select", "table db2.t")


def test_secondary_roles_follow_the_target() -> None:
    for target, expected in (("matrixone-v4.2.0", True), ("matrixone-main", False)):
        reasoner = Reasoner("matrixone", target)
        reasoner.load(SETUP)
        admin(reasoner).execute("grant select on table db1.t1 to dev")
        ann = reasoner.session("acc1:ann")
        assert not ann.check("select", "table db1.t1")
        assert ann.execute("set secondary role all").ok
        assert bool(ann.check("select", "table db1.t1")) is expected


def test_rejected_statement_changes_nothing(r: Reasoner) -> None:
    session = admin(r)
    before = r.engine.facts.count()
    out = session.execute("create user u1 identified by '1', joe identified by '1'")
    assert not out.ok and out.error == "the user joe exists"
    assert r.engine.facts.count() == before
    assert admin(r).execute("drop user u1").error == "there is no user u1"


def test_denied_statement_reports_matrixone_text_and_decision(r: Reasoner) -> None:
    out = r.session("acc1:joe").execute("create database x")
    assert not out.ok
    assert out.error == "do not have privilege to execute the statement"
    assert out.decision is not None and not out.decision.allowed


def test_parse_error_names_line_and_column(r: Reasoner) -> None:
    out = admin(r).execute("grant select on d.* to dev")
    assert not out.ok and "syntax error" in out.error and ":1:" in out.error


def test_table_owner_is_creating_role_and_owner_may_drop(r: Reasoner) -> None:
    admin(r).execute("grant create table on database db1 to dev")
    joe = r.session("acc1:joe")
    assert joe.execute("create table db1.mine (a int)").ok
    assert joe.check("delete", "table db1.mine")
    assert joe.execute("drop table db1.mine").ok


def test_account_isolation(r: Reasoner) -> None:
    root = r.session("sys:root")
    assert root.execute("drop user joe").error == "there is no user joe"
    assert not root.check("select", "table db1.t1")


def test_cycle_is_refused(r: Reasoner) -> None:
    out = admin(r).execute("grant dev to lead")
    assert out.error == "cannot grant role dev to lead"


def test_provenance_of_facts_names_the_statement_line(r: Reasoner) -> None:
    span = next(span for pred, args, span in r.engine.facts.all_facts()
                if pred == "role_grant" and args == ("acc1:role:lead", "acc1:role:dev"))
    assert span.line == 8 and "grant lead to dev" in span.text


def test_internal_error_is_a_deny_that_carries_it(r: Reasoner, monkeypatch) -> None:
    joe = r.session("acc1:joe")
    admin(r).execute("grant select on table db1.t1 to dev")

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(r.engine.backend, "solve", broken)
    decision = joe.check("select", "table db1.t1")
    assert not decision.allowed
    assert any("engine exploded" in e for e in decision.errors)
    out = joe.execute("select * from db1.t1")
    assert not out.ok and "engine exploded" in out.error
