"""Why, why-not, repairs and their renderings through the library."""

from __future__ import annotations

import json

import pytest

from reasoner import Reasoner
from reasoner.explain.checker import ProofChecker
from reasoner.render.dot import why_not_to_dot, why_to_dot
from reasoner.render.json import why_not_to_dict, why_to_dict
from reasoner.render.text import render_why, render_why_not

SCRIPT = """
create account acc1 admin_name 'admin' identified by '111';
-- connect acc1:admin
create database db1;
create table db1.t1 (a int);
create role dev, lead, reader, r3, r4, r5, r6;
grant r6 to r5;
grant r5 to r4;
grant r4 to r3;
grant r3 to lead;
grant lead to dev;
grant select on table db1.* to r6;
grant insert on table db1.t1 to reader;
create user joe identified by '111' default role dev;
grant reader to joe;
"""


@pytest.fixture()
def joe():
    r = Reasoner("matrixone")
    assert all(o.ok for o in r.load(SCRIPT))
    return r.session("acc1:joe")


def test_why_ends_at_the_script_lines_and_is_checked(joe) -> None:
    explanation = joe.why("select", "table db1.t1")
    leaves = [leaf for need in explanation.needs for step in need.steps
              for leaf in step.leaves()]
    lines = {leaf.origin.line for leaf in leaves if leaf.origin and leaf.origin.source == "<text>"}
    assert {5, 7, 8, 9, 10, 11, 12} <= lines  # the table, every role edge, the grant
    engine = joe.reasoner.engine
    assert ProofChecker(engine.backend.program, engine.facts, engine.backend).check_why(
        explanation) == []


def test_checker_rejects_a_tampered_proof(joe) -> None:
    explanation = joe.why("select", "table db1.t1")
    engine = joe.reasoner.engine
    checker = ProofChecker(engine.backend.program, engine.facts, engine.backend)
    fact = next(leaf for step in explanation.needs[0].steps for leaf in step.leaves()
                if leaf.kind == "fact" and leaf.literal.pred == "privilege")
    engine.facts.remove("privilege", tuple(a.value for a in fact.literal.args))
    assert checker.check_why(explanation)


def test_why_is_deterministic_and_minimal(joe) -> None:
    first = render_why(joe.why("select", "table db1.t1"))
    assert first == render_why(joe.why("select", "table db1.t1"))


def test_a_long_inheritance_chain_is_shown_compactly() -> None:
    chain = [f"c{i}" for i in range(9)]
    script = ("create account acc1 admin_name 'admin' identified by '111';\n"
              "-- connect acc1:admin\ncreate database db1;\ncreate table db1.t1 (a int);\n"
              f"create role {', '.join(chain)};\n"
              + "".join(f"grant {low} to {high};\n"
                        for high, low in zip(chain, chain[1:], strict=False))
              + "grant select on table db1.t1 to c8;\n"
              "create user joe identified by '111' default role c0;\n")
    r = Reasoner("matrixone")
    assert all(o.ok for o in r.load(script))
    why = r.session("acc1:joe").why("select", "table db1.t1")
    for shown in (render_why(why), why._repr_html_()):
        assert "more inherited_role steps" in shown
        assert "grant c8 to c7" in shown and "grant c1 to c0" in shown  # both ends shown


def test_why_not_names_inactive_roles_and_verified_repairs(joe) -> None:
    explanation = joe.why_not("insert", "table db1.t1")
    assert explanation.context["inactive_granted_roles"] == ["public", "reader"]
    best = explanation.repairs[0]
    assert best.statements == ("set role reader",)
    assert best.blast_radius == 0
    assert any(r.statements == ("grant insert on table db1.t1 to dev",)
               for r in explanation.repairs)
    # verifying changed nothing
    assert not joe.check("insert", "table db1.t1")
    assert joe.execute("set role reader").ok
    assert joe.check("insert", "table db1.t1")


def test_repairs_are_ranked_by_size_then_blast_radius(joe) -> None:
    repairs = joe.why_not("delete", "table db1.t1").repairs
    keys = [(r.size, r.blast_radius) for r in repairs]
    assert keys == sorted(keys)
    assert repairs and repairs[0].statements == ("grant delete on table db1.t1 to dev",)


def test_renderings(joe) -> None:
    why = joe.why("select", "table db1.t1")
    why_not = joe.why_not("insert", "table db1.t1")
    assert json.loads(json.dumps(why_to_dict(why)))["type"] == "why"
    data = why_not_to_dict(why_not)
    assert data["repairs"][0]["statements"] == ["set role reader"]
    assert "DENY" in render_why_not(why_not)
    assert "digraph" in why_to_dot(why).source
    assert "repair 1" in why_not_to_dot(why_not).source


def test_dot_escapes_hostile_names() -> None:
    r = Reasoner("matrixone")
    r.load('create database db1;\ncreate table db1.t1 (a int);\n'
           'create role `<script>"];`;\ngrant select on table db1.t1 to `<script>"];`;\n'
           "create user u identified by '1' default role `<script>\"];`;")
    session = r.session("sys:u")
    source = why_to_dot(session.why("select", "table db1.t1")).source
    assert '\\"];' in source  # the quote is escaped, the label is not HTML
    assert "label=<" not in source


def test_access_index_follows_every_change_of_what_it_caches(joe) -> None:
    """The whole-count cache equals counting ``user_may`` itself after privilege grants,
    role grants, revokes and drops made between two counts (generation-keyed, never stale)."""
    from reasoner.datalog.ast import Atom, Const, Var
    from reasoner.dialects.matrixone.explain import access_count

    engine = joe.reasoner.engine
    admin = joe.reasoner.session("acc1:admin")

    def users() -> list[str]:
        rows = engine.backend.query(Atom("user", (Var("U"), Var("A"))))
        return [str(u) for u, _a in rows]

    def whole() -> int:
        return sum(len(engine.backend.query(Atom("user_may", (Const(u), Var("P"), Var("K"),
                                                              Var("O"))))) for u in users())

    counts = [access_count(engine, users())]
    assert counts[0] == whole()
    for statement in ("grant update on table db1.t1 to reader", "grant r3 to reader",
                      "create table db1.t2 (a int)", "revoke r5 from r4",
                      "grant all on database db1 to lead", "drop role r6",
                      "revoke reader from joe"):
        assert admin.execute(statement).ok, statement
        counts.append(access_count(engine, users()))
        assert counts[-1] == whole(), statement
    assert len(set(counts)) > 3  # the changes did move the count
