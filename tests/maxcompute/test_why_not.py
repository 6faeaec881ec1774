"""MaxCompute why-not: the failing layer, what the session has, and repairs written as
MaxCompute statements that the reasoner verified -- applied here for real, after which
the same question is allowed."""

from __future__ import annotations

from reasoner import Reasoner
from reasoner.api import Session
from reasoner.explain.whynot import Repair, WhyNot

BOB = "ALIYUN$bob@aliyun.com"  # owner of prj_a
AMY = "ALIYUN$amy@aliyun.com"  # owner of prj_b
ALICE = "ALIYUN$alice@aliyun.com"
OWNERS = {"prj_a": BOB, "prj_b": AMY}


def world(*statements: str) -> Reasoner:
    """prj_a (bob) and prj_b (amy), declared by script directives, then ``statements``
    run by prj_a's owner (``-- connect`` lines switch)."""
    r = Reasoner("maxcompute")
    header = [f"-- project {name} owner {owner}" for name, owner in OWNERS.items()]
    outcomes = r.load("\n".join([*header, f"-- connect prj_a {BOB}", *statements]))
    assert all(o.ok for o in outcomes), [o.describe() for o in outcomes if not o.ok]
    return r


def as_(r: Reasoner, user: str, project: str = "prj_a") -> Session:
    return r.session(f"{project} {user}")


def apply(r: Reasoner, session: Session, repair: Repair) -> None:
    """Run a repair as it says: by the user in its session, or as a script of project
    owners that starts in the session's project (``use p`` moves to p's owner)."""
    if repair.run_as.startswith("the user"):
        for text in repair.statements:
            assert session.execute(text).ok, text
        return
    runner = as_(r, OWNERS[session.state.project], session.state.project)
    for text in repair.statements:
        if text.startswith("use "):
            project = text.split()[1]
            runner = as_(r, OWNERS[project], project)
            continue
        outcome = runner.execute(text)
        assert outcome.ok, outcome.describe()


def repaired(r: Reasoner, session: Session, why_not: WhyNot, privilege: str, on: str,
             *, repair: Repair | None = None) -> bool:
    apply(r, session, repair or why_not.repairs[0])
    return bool(session.check(privilege, on))


LABELLED = [
    "create table up (id bigint, name string, mobile string, id_card string);",
    f"add user {ALICE};",
    f"grant CreateInstance on project prj_a to user {ALICE};",
    f"grant Select on table up to user {ALICE};",
    "set LabelSecurity=true;",
    "set label 2 to table up(mobile);",
    "set label 3 to table up(id_card);",
]


def test_label_deny_names_the_layer_and_is_repaired_by_a_column_label_grant() -> None:
    r = world(*LABELLED)
    alice = as_(r, ALICE)
    before = r.engine.facts.count()
    why_not = alice.why_not("select", "table prj_a.up(id, mobile)")
    assert r.engine.facts.count() == before  # verifying repairs leaves nothing behind
    ctx = why_not.context
    assert ctx["failing_layer"] == "label"
    assert ctx["member_of"]["prj_a"]["label_level"] == 0
    assert "failing layer: label" in ctx["summary"] and "mobile is labelled 2" in ctx["summary"]
    best = why_not.repairs[0]
    assert best.statements == (
        f"grant label 2 on table up(mobile) to user {ALICE} with exp 30",)
    assert best.run_as == f"the owner of prj_a ({BOB})"
    assert best.blast_radius == 0
    # raising the user's level works too, but opens more when more columns are labelled
    assert (f"set label 2 to user {ALICE}",) in [x.statements for x in why_not.repairs]
    assert repaired(r, alice, why_not, "select", "table prj_a.up(id, mobile)")
    assert not alice.check("select", "table prj_a.up(id_card)")  # nothing more


def test_label_and_acl_fail_together_and_one_repair_opens_both() -> None:
    r = world(*LABELLED[:2], *LABELLED[2:3], *LABELLED[4:])
    alice = as_(r, ALICE)
    why_not = alice.why_not("select", "table prj_a.up(name, id_card)")
    assert why_not.context["failing_layers"] == ["acl", "label"]
    best = why_not.repairs[0]
    assert len(best.statements) == 2
    assert repaired(r, alice, why_not, "select", "table prj_a.up(name, id_card)")


CROSS = [
    "create table t1 (id bigint, v string);",
    f"add user {ALICE};",
    f"grant Select on table t1 to user {ALICE};",
    "set ProjectProtection=true;",
    f"-- connect prj_b {AMY}",
    f"add user {ALICE};",
    f"grant CreateInstance, CreateTable on project prj_b to user {ALICE};",
]


def test_protected_cross_project_read_is_repaired_by_a_trusted_project() -> None:
    r = world(*CROSS)
    from_b = as_(r, ALICE, "prj_b")
    why_not = from_b.why_not("select", "table prj_a.t1")
    ctx = why_not.context
    assert ctx["failing_layer"] == "protection"
    assert ctx["protection"]["prj_a"] == {"on": True, "trusted": []}
    assert "prj_a is protected" in ctx["summary"]
    best = why_not.repairs[0]
    # run in the protected project, by its owner
    assert best.statements == ("use prj_a", "add trustedproject prj_b")
    assert best.run_as == f"the owner of prj_a ({BOB})"
    assert repaired(r, from_b, why_not, "select", "table prj_a.t1")
    assert from_b.execute("create table c as select * from prj_a.t1").ok


def test_a_member_of_the_protected_project_may_just_run_the_job_there() -> None:
    r = world(*CROSS, f"-- connect prj_a {BOB}",
              f"grant CreateInstance on project prj_a to user {ALICE};")
    from_b = as_(r, ALICE, "prj_b")
    why_not = from_b.why_not("select", "table prj_a.t1")
    best = why_not.repairs[0]
    assert best.statements == ("use prj_a",) and best.run_as.startswith("the user")
    statements = [x.statements for x in why_not.repairs]
    assert ("use prj_a", "add trustedproject prj_b") in statements
    assert repaired(r, from_b, why_not, "select", "table prj_a.t1")


def test_a_statement_denied_by_protection_is_explained_with_its_repair() -> None:
    r = world(*CROSS)
    from_b = as_(r, ALICE, "prj_b")
    outcome = from_b.execute("create table c as select * from prj_a.t1")
    assert not outcome.ok and "is protected" in (outcome.error or "")
    why_not = from_b.why_not_statement(outcome)
    assert why_not.context["failing_layer"] == "protection"
    # the job writes into prj_b: moving it to prj_a would change the statement
    assert all(not x.run_as.startswith("the user") for x in why_not.repairs)
    apply(r, from_b, why_not.repairs[0])
    assert from_b.execute("create table c as select * from prj_a.t1").ok


def test_non_member_gets_membership_first_then_the_grants() -> None:
    r = world("create table t1 (id bigint, v string);")
    alice = as_(r, ALICE)
    why_not = alice.why_not("select", "table prj_a.t1")
    assert why_not.context["failing_layer"] == "membership"
    assert why_not.context["not_member_of"] == ["prj_a"]
    assert why_not.repairs[0].statements == (
        f"add user {ALICE}", f"grant CreateInstance on project prj_a to user {ALICE}",
        f"grant Select on table t1 to user {ALICE}")
    assert repaired(r, alice, why_not, "select", "table prj_a.t1")


def test_policy_deny_is_repaired_by_revoking_the_deny_entry() -> None:
    r = world("create table t1 (id bigint);", f"add user {ALICE};", "create role dev;",
              f"grant CreateInstance on project prj_a to user {ALICE};",
              "grant All on table t1 to role dev;", f"grant dev to {ALICE};",
              'grant Drop on table t1 to role dev privilegeproperties("policy"="true", '
              '"allow"="false");')
    alice = as_(r, ALICE)
    why_not = alice.why_not("drop", "table prj_a.t1")
    assert why_not.context["failing_layer"] == "policy deny"
    assert why_not.repairs[0].statements == (
        'revoke Drop on table t1 from role dev privilegeproperties("policy"="true", '
        '"allow"="false")',)
    assert repaired(r, alice, why_not, "drop", "table prj_a.t1")


def test_package_read_at_a_higher_label_is_repaired_by_the_provider() -> None:
    r = world("create table up (id bigint, mobile string);", "set LabelSecurity=true;",
              "set label 2 to table up(mobile);", "create package pkg;",
              "add table up to package pkg;", "allow project prj_b to install package pkg;",
              f"-- connect prj_b {AMY}", f"add user {ALICE};",
              f"grant CreateInstance on project prj_b to user {ALICE};",
              "install package prj_a.pkg;", f"grant Read on package prj_a.pkg to user {ALICE};")
    alice = as_(r, ALICE, "prj_b")
    why_not = alice.why_not("select", "table prj_a.up(id, mobile)")
    through = [x for x in why_not.repairs if "using label 2" in " ".join(x.statements)]
    assert through and through[0].statements == (
        "use prj_a", "allow project prj_b to install package pkg using label 2")
    assert repaired(r, alice, why_not, "select", "table prj_a.up(id, mobile)",
                    repair=through[0])


def test_management_right_of_the_owner_alone_is_unrepairable() -> None:
    r = world(f"add user {ALICE};", f"grant super_administrator to {ALICE};")
    alice = as_(r, ALICE)
    outcome = alice.execute("set LabelSecurity=true")
    assert not outcome.ok
    why_not = alice.why_not_statement(outcome)
    assert why_not.context["failing_layer"] == "management"
    assert why_not.repairs == []
    assert "only the owner of prj_a" in why_not.context["unrepairable"]


def test_management_right_of_the_admin_role_is_repaired_by_granting_it() -> None:
    r = world("create table up (id bigint, mobile string);", f"add user {ALICE};")
    alice = as_(r, ALICE)
    outcome = alice.execute(f"grant label 2 on table up(mobile) to user {ALICE}")
    why_not = alice.why_not_statement(outcome)
    assert why_not.context["failing_layer"] == "management"
    assert why_not.repairs[0].statements == (f"grant admin to {ALICE}",)
    apply(r, alice, why_not.repairs[0])
    assert alice.execute(f"grant label 2 on table up(mobile) to user {ALICE}").ok


def test_package_path_repair_is_run_by_both_owners_in_order() -> None:
    r = world("create table sales (id bigint);", "create package pkg;",
              "add table sales to package pkg;", f"-- connect prj_b {AMY}",
              f"add user {ALICE};", f"grant CreateInstance on project prj_b to user {ALICE};")
    alice = as_(r, ALICE, "prj_b")
    why_not = alice.why_not("select", "table prj_a.sales")
    through = [x for x in why_not.repairs if "install package prj_a.pkg" in x.statements]
    assert through[0].statements == (
        "use prj_a", "allow project prj_b to install package pkg", "use prj_b",
        "install package prj_a.pkg", f"grant Read on package prj_a.pkg to user {ALICE}")
    assert through[0].run_as == f"the owners of prj_a ({BOB}), prj_b ({AMY})"
    assert repaired(r, alice, why_not, "select", "table prj_a.sales", repair=through[0])
    assert not as_(r, ALICE, "prj_a").check("select", "table prj_a.sales")  # not a member
