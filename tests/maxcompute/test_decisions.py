"""MaxCompute decisions through the public library API, one behaviour per test, and the
laws every decision must keep (hypothesis)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from reasoner import Reasoner
from reasoner.api import Session

BOB = "ALIYUN$bob@aliyun.com"  # owner of prj_a
AMY = "ALIYUN$amy@aliyun.com"  # owner of prj_b
ALICE = "ALIYUN$alice@aliyun.com"
DAVE = "ALIYUN$dave@aliyun.com"


def world(*statements: str, projects: Iterable[tuple[str, str]] = (("prj_a", BOB),
                                                                   ("prj_b", AMY))) -> Reasoner:
    """A tenant whose projects are declared, then ``statements`` run by prj_a's owner
    (``-- connect`` lines switch)."""
    r = Reasoner("maxcompute")
    for name, owner in projects:
        r.engine.directive("project", [name, "owner", owner], "")
    script = "\n".join([f"-- connect prj_a {BOB}", *statements])
    outcomes = r.load(script)
    assert all(o.ok for o in outcomes), [o.describe() for o in outcomes if not o.ok]
    return r


def as_(r: Reasoner, user: str, project: str = "prj_a") -> Session:
    return r.session(f"{project} {user}")


MEMBERS = [
    "create table t1 (id bigint, v string);",
    f"add user {ALICE};",
    f"add user {DAVE};",
    f"grant CreateInstance on project prj_a to user {ALICE};",
    f"grant CreateInstance on project prj_a to user {DAVE};",
]


# --- membership, ACL, roles -----------------------------------------------------------------


def test_owner_holds_everything_and_a_fresh_member_nothing() -> None:
    r = world(*MEMBERS)
    assert as_(r, BOB).check("drop", "table prj_a.t1")
    assert as_(r, BOB).check("download", "table prj_a.t1")
    assert not as_(r, ALICE).check("select", "table prj_a.t1")


def test_non_member_gets_the_membership_error() -> None:
    r = world(*MEMBERS)
    outcome = as_(r, "ALIYUN$zed@aliyun.com").execute("select * from t1")
    assert not outcome.ok and "You don't exist in project prj_a" in (outcome.error or "")
    assert outcome.decision is not None and not outcome.decision.allowed


def test_all_covers_table_actions_but_not_download() -> None:
    r = world(*MEMBERS, f"grant All on table t1 to user {ALICE};")
    alice = as_(r, ALICE)
    for action in ("describe", "select", "alter", "update", "drop", "showhistory"):
        assert alice.check(action, "table prj_a.t1"), action
    assert not alice.check("download", "table prj_a.t1")


def test_column_grant_reads_only_its_columns() -> None:
    r = world(*MEMBERS, f"grant Select on table t1 (id) to user {ALICE};")
    alice = as_(r, ALICE)
    assert alice.check("select", "table prj_a.t1(id)")
    assert not alice.check("select", "table prj_a.t1(id, v)")
    assert alice.execute("select id from t1 where id > 1").ok
    assert not alice.execute("select id from t1 where v = 'x'").ok
    assert not alice.execute("select * from t1").ok


def test_removed_user_keeps_grants_that_count_again_after_re_adding() -> None:
    r = world(*MEMBERS, f"grant Select on table t1 to user {ALICE};",
              f"remove user {ALICE};")
    assert not as_(r, ALICE).check("select", "table prj_a.t1")
    assert as_(r, BOB).execute(f"add user {ALICE}").ok
    assert as_(r, ALICE).check("select", "table prj_a.t1")


def test_remove_user_and_drop_role_need_the_role_revoked_first() -> None:
    r = world(*MEMBERS, "create role worker;", f"grant worker to {ALICE};")
    bob = as_(r, BOB)
    assert not bob.execute(f"remove user {ALICE}").ok
    assert not bob.execute("drop role worker").ok
    assert bob.execute(f"revoke worker from {ALICE}").ok
    assert bob.execute("drop role worker").ok
    assert bob.execute(f"remove user {ALICE}").ok


def test_admin_role_manages_but_cannot_pass_admin_on_or_change_switches() -> None:
    r = world(*MEMBERS, f"grant admin to {ALICE};")
    alice = as_(r, ALICE)
    assert alice.check("select", "table prj_a.t1")
    assert alice.execute(f"grant Select on table t1 to user {DAVE}").ok
    assert not alice.execute(f"grant admin to {DAVE}").ok
    assert not alice.execute("set CheckPermissionUsingACL=false").ok
    assert not alice.execute(f"grant Download on table t1 to user {DAVE}").ok


def test_ram_users_of_another_account_cannot_be_added() -> None:
    r = world()
    bob = as_(r, BOB)
    assert bob.execute("add user RAM$bob@aliyun.com:allen").ok
    assert not bob.execute("add user RAM$carl@aliyun.com:joe").ok


def test_a_failed_statement_leaves_no_trace() -> None:
    r = world(*MEMBERS)
    before = r.engine.facts.count()
    outcome = as_(r, ALICE).execute(f"grant Select on table t1 to user {DAVE}")
    assert not outcome.ok
    assert r.engine.facts.count() == before


# --- CreateInstance coupling and object creators --------------------------------------------


def test_create_table_needs_create_instance_too() -> None:
    r = world(f"add user {ALICE};", f"grant CreateTable on project prj_a to user {ALICE};")
    alice = as_(r, ALICE)
    outcome = alice.execute("create table a1 (x bigint)")
    assert not outcome.ok and "CreateInstance" in (outcome.error or "")
    assert as_(r, BOB).execute(f"grant CreateInstance on project prj_a to user {ALICE}").ok
    assert alice.execute("create table a1 (x bigint)").ok


def test_creator_rights_are_fixed_when_the_object_is_made() -> None:
    r = world(f"add user {ALICE};", f"add user {DAVE};",
              f"grant CreateTable, CreateInstance on project prj_a to user {ALICE};")
    alice = as_(r, ALICE)
    assert alice.execute("create table ta1 (x bigint)").ok
    assert alice.check("drop", "table prj_a.ta1")
    assert as_(r, BOB).execute("set ObjectCreatorHasAccessPermission=false").ok
    assert alice.execute("create table ta2 (x bigint)").ok
    assert alice.check("select", "table prj_a.ta1")  # the record written before stays
    assert not alice.check("select", "table prj_a.ta2")
    assert alice.execute(f"grant Select on table ta2 to user {DAVE}").ok  # still a grantor


# --- policies --------------------------------------------------------------------------------


def test_deny_beats_every_allow_but_not_the_owner() -> None:
    r = world(*MEMBERS, "create role dev;", "grant All on table t1 to role dev;",
              f"grant dev to {ALICE};", f"grant Drop on table t1 to user {ALICE};",
              'grant Drop on table * to role dev privilegeproperties("policy"="true", '
              '"allow"="false");')
    alice = as_(r, ALICE)
    assert not alice.check("drop", "table prj_a.t1")
    outcome = alice.execute("drop table t1")
    assert not outcome.ok and "Explicitly denied by policy" in (outcome.error or "")
    assert alice.check("select", "table prj_a.t1")
    assert as_(r, BOB).check("drop", "table prj_a.t1")


def test_policy_entries_go_to_roles_only() -> None:
    r = world(*MEMBERS)
    assert not as_(r, BOB).execute(
        f'grant Select on table t1 to user {ALICE} privilegeproperties("policy"="true")').ok


def test_project_policy_principal_and_wildcards() -> None:
    r = world(*MEMBERS, "create table t_app_1 (id bigint);")
    r.engine.directive("policyfile", ["p.json"], (
        '{"Version":"1","Statement":[{"Effect":"Allow","Principal":["ALIYUN$Alice@aliyun.com"],'
        '"Action":["odps:Sel*"],"Resource":["acs:odps:*:projects/prj_a/tables/t_app_*"]}]}'))
    assert as_(r, BOB).execute("put policy p.json").ok
    assert as_(r, ALICE).check("select", "table prj_a.t_app_1")
    assert not as_(r, ALICE).check("select", "table prj_a.t1")
    assert not as_(r, DAVE).check("select", "table prj_a.t_app_1")
    assert as_(r, BOB).execute("create table t_app_2 (id bigint)").ok  # made after the policy
    assert as_(r, ALICE).check("select", "table prj_a.t_app_2")


def test_invalid_policy_action_is_refused_with_maxcompute_text() -> None:
    r = world(*MEMBERS)
    r.engine.directive("policyfile", ["bad.json"], (
        '{"Version":"1","Statement":[{"Effect":"Allow","Principal":"*",'
        '"Action":["odps:Selekt"],"Resource":"*"}]}'))
    outcome = as_(r, BOB).execute("put policy bad.json")
    assert not outcome.ok
    assert "invalid Action value - odps:Selekt" in (outcome.error or "")


# --- LabelSecurity ----------------------------------------------------------------------------

LABELLED = [
    "create table up (id bigint, mobile string, id_card string);",
    f"add user {ALICE};",
    f"grant CreateInstance on project prj_a to user {ALICE};",
    f"grant Select on table up to user {ALICE};",
    "set LabelSecurity=true;",
    "set label 2 to table up(mobile);",
    "set label 3 to table up(id_card);",
]


def test_label_dominance_and_its_error_text() -> None:
    r = world(*LABELLED)
    alice = as_(r, ALICE)
    assert alice.check("select", "table prj_a.up(id)")
    assert not alice.check("select", "table prj_a.up(mobile)")
    outcome = alice.execute("select * from up")
    assert "The sensitive label of column 'mobile' is 2, but your effective label is 0" in (
        outcome.error or "")
    assert as_(r, BOB).execute(f"set label 2 to user {ALICE}").ok
    assert alice.check("select", "table prj_a.up(id, mobile)")
    assert not alice.check("select", "table prj_a.up(id_card)")


def test_label_grant_expires_with_the_clock() -> None:
    r = world(*LABELLED, f"grant label 3 on table up(id_card) to user {ALICE} with exp 5;")
    alice = as_(r, ALICE)
    assert alice.check("select", "table prj_a.up(id_card)")
    r.engine.directive("advance", ["4", "days"], "")
    assert alice.check("select", "table prj_a.up(id_card)")
    r.engine.directive("advance", ["1", "days"], "")
    assert not alice.check("select", "table prj_a.up(id_card)")


def test_column_label_grant_replaces_the_table_grant() -> None:
    r = world(*LABELLED, f"grant label 3 on table up to user {ALICE};",
              f"grant label 1 on table up(mobile) to user {ALICE};")
    alice = as_(r, ALICE)
    assert alice.check("select", "table prj_a.up(id_card)")
    assert not alice.check("select", "table prj_a.up(mobile)")
    assert as_(r, BOB).execute(f"revoke label on table up from user {ALICE}").ok
    assert not alice.check("select", "table prj_a.up(id_card)")


# --- ProjectProtection and packages -----------------------------------------------------------

CROSS = [
    "create table t1 (id bigint, v string);",
    f"add user {ALICE};",
    f"grant CreateInstance on project prj_a to user {ALICE};",
    f"grant Select on table t1 to user {ALICE};",
    f"-- connect prj_b {AMY}",
    f"add user {ALICE};",
    f"grant CreateInstance, CreateTable on project prj_b to user {ALICE};",
    f"-- connect prj_a {BOB}",
]


def test_protection_blocks_outflow_unless_trusted_one_direction() -> None:
    r = world(*CROSS, "set ProjectProtection=true;")
    from_b = as_(r, ALICE, "prj_b")
    assert not from_b.check("select", "table prj_a.t1")
    outcome = from_b.execute("create table c as select * from prj_a.t1")
    assert not outcome.ok and "is protected" in (outcome.error or "")
    assert as_(r, ALICE).check("select", "table prj_a.t1")  # inside: fine
    assert as_(r, BOB).execute("add trustedproject prj_b").ok
    assert from_b.check("select", "table prj_a.t1")
    # prj_b trusting prj_a says nothing about prj_a's own outflow
    r2 = world(*CROSS, "set ProjectProtection=true;", f"-- connect prj_b {AMY}",
               "add trustedproject prj_a;")
    assert not as_(r2, ALICE, "prj_b").check("select", "table prj_a.t1")


def test_package_installs_read_only_access_for_the_installing_project() -> None:
    r = world("create table sales (id bigint, amount double);", "create package pkg;",
              "add table sales to package pkg;", "allow project prj_b to install package pkg;",
              "set ProjectProtection=true;",
              f"-- connect prj_b {AMY}", f"add user {ALICE};",
              f"grant CreateInstance on project prj_b to user {ALICE};",
              "install package prj_a.pkg;")
    alice = as_(r, ALICE, "prj_b")
    assert not alice.check("select", "table prj_a.sales")
    assert as_(r, AMY, "prj_b").execute(f"grant Read on package prj_a.pkg to user {ALICE}").ok
    assert alice.check("select", "table prj_a.sales")  # protection does not apply
    assert alice.execute("select * from prj_a.sales").ok
    assert not alice.check("update", "table prj_a.sales")
    assert not as_(r, ALICE, "prj_a").check("select", "table prj_a.sales")


def test_package_reads_at_its_label_level() -> None:
    r = world("create table up (id bigint, mobile string);", "set LabelSecurity=true;",
              "set label 2 to table up(mobile);", "create package pkg;",
              "add table up to package pkg;", "allow project prj_b to install package pkg;",
              f"-- connect prj_b {AMY}", f"add user {ALICE};",
              f"grant CreateInstance on project prj_b to user {ALICE};",
              "install package prj_a.pkg;", f"grant Read on package prj_a.pkg to user {ALICE};")
    alice = as_(r, ALICE, "prj_b")
    assert alice.check("select", "table prj_a.up(id)")
    assert not alice.check("select", "table prj_a.up(mobile)")
    assert as_(r, BOB).execute("allow project prj_b to install package pkg using label 2").ok
    assert alice.check("select", "table prj_a.up(id, mobile)")


# --- laws --------------------------------------------------------------------------------------

TABLES = ("t1", "t2")
ACTIONS = ("select", "describe", "drop", "alter", "update")
SUBJECTS = (f"user {ALICE}", "role dev")
LAW = settings(max_examples=20, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _base() -> list[str]:
    return ["create table t1 (id bigint, v string);", "create table t2 (id bigint, v string);",
            f"add user {ALICE};", f"grant CreateInstance on project prj_a to user {ALICE};",
            "create role dev;", f"grant dev to {ALICE};"]


grants = hs.lists(hs.tuples(hs.sampled_from(ACTIONS + ("all",)), hs.sampled_from(TABLES),
                            hs.sampled_from(SUBJECTS)), max_size=5)


def _answers(r: Reasoner) -> dict[tuple[str, str], bool]:
    alice = as_(r, ALICE)
    return {(a, t): bool(alice.check(a, f"table prj_a.{t}")) for a in ACTIONS for t in TABLES}


@LAW
@given(grants=grants, deny=hs.tuples(hs.sampled_from(ACTIONS), hs.sampled_from(TABLES + ("*",))))
def test_adding_a_deny_policy_never_adds_access(grants: list[tuple[str, str, str]],
                                                deny: tuple[str, str]) -> None:
    r = world(*_base(), *(f"grant {a} on table {t} to {s};" for a, t, s in grants))
    before = _answers(r)
    action, table = deny
    assert as_(r, BOB).execute(f'grant {action} on table {table} to role dev '
                               'privilegeproperties("policy"="true", "allow"="false")').ok
    after = _answers(r)
    assert all(before[k] or not after[k] for k in after)
    assert not any(after[(action, t)] for t in TABLES if table in ("*", t))


@LAW
@given(level=hs.integers(0, 9), raise_to=hs.integers(0, 9),
       labels=hs.tuples(hs.integers(0, 9), hs.integers(0, 9)))
def test_raising_a_users_label_never_removes_access(level: int, raise_to: int,
                                                    labels: tuple[int, int]) -> None:
    r = world("create table up (a string, b string);", f"add user {ALICE};",
              f"grant CreateInstance on project prj_a to user {ALICE};",
              f"grant Select on table up to user {ALICE};", "set LabelSecurity=true;",
              f"set label {labels[0]} to table up(a);", f"set label {labels[1]} to table up(b);",
              f"set label {level} to user {ALICE};")
    alice = as_(r, ALICE)
    cols = ("a", "b", "a, b")
    before = {c: bool(alice.check("select", f"table prj_a.up({c})")) for c in cols}
    assert as_(r, BOB).execute(f"set label {max(level, raise_to)} to user {ALICE}").ok
    after = {c: bool(alice.check("select", f"table prj_a.up({c})")) for c in cols}
    assert all(after[c] or not before[c] for c in cols)


@LAW
@given(days=hs.integers(0, 30), later=hs.integers(0, 30), granted=hs.integers(0, 9),
       label=hs.integers(1, 9))
def test_an_expired_label_grant_never_allows(days: int, later: int, granted: int,
                                             label: int) -> None:
    r = world("create table up (a string);", f"add user {ALICE};",
              f"grant CreateInstance on project prj_a to user {ALICE};",
              f"grant Select on table up to user {ALICE};", "set LabelSecurity=true;",
              f"set label {label} to table up(a);",
              f"grant label {granted} on table up(a) to user {ALICE} with exp {days};")
    r.engine.directive("advance", [str(days + later), "days"], "")
    assert not as_(r, ALICE).check("select", "table prj_a.up(a)")


@pytest.mark.parametrize("statement", [
    "select * from nosuch", "grant Select on table nosuch to user ALIYUN$alice@aliyun.com",
    "drop table nosuch", "select nosuch from t1",
])
def test_invalid_statements_fail_closed(statement: str) -> None:
    r = world(*MEMBERS)
    outcome = as_(r, BOB).execute(statement)
    assert not outcome.ok
    assert "internal error" not in (outcome.error or "")
