"""MaxCompute who_can / what_can: targeted cases, and the property that both agree with
point checks on generated worlds (statement shapes of tests/conformance/maxcompute)."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as hs

from reasoner import Reasoner
from tests.maxcompute.test_decisions import ALICE, AMY, BOB, DAVE, MEMBERS, world

ERIN = "ALIYUN$erin@aliyun.com"


def users(r: Reasoner, privilege: str, on: str, project: str | None = None) -> set[str]:
    found = r.who_can(privilege, on, account=project) if project else r.who_can(privilege, on)
    assert all(a.as_logged_in for a in found)
    return {a.user for a in found}


# --- targeted cases ---------------------------------------------------------------------


def test_acl_grant_to_a_user() -> None:
    r = world(*MEMBERS, f"grant Select on table t1 to user {ALICE};")
    found = r.who_can("select", "table prj_a.t1", account="prj_a")
    assert {(a.user, a.roles) for a in found} == {(ALICE, ()), (BOB, ())}
    assert users(r, "select", "table prj_a.t1") == {ALICE, BOB}  # project from the name
    assert ("select", "table", "prj_a.t1", ()) in r.what_can(f"prj_a {ALICE}")
    assert not any(row[2] == "prj_a.t1" for row in r.what_can(f"prj_a {DAVE}"))


def test_a_role_is_named() -> None:
    r = world(*MEMBERS, "create role dev;", "grant Select on table t1 to role dev;",
              f"grant dev to {DAVE};")
    found = {a.user: a.roles for a in r.who_can("select", "table prj_a.t1", account="prj_a")}
    assert found == {BOB: (), DAVE: ("dev",)}
    assert ("select", "table", "prj_a.t1", ("dev",)) in r.what_can(f"prj_a {DAVE}")


def test_a_deny_policy_removes_a_user() -> None:
    r = world(*MEMBERS, "create role dev;", "grant All on table t1 to role dev;",
              f"grant dev to {ALICE};", f"grant dev to {DAVE};", "create role nodrop;",
              'grant Drop on table t1 to role nodrop '
              'privilegeproperties("policy"="true", "allow"="false");',
              f"grant nodrop to {ALICE};")
    assert users(r, "drop", "table prj_a.t1", "prj_a") == {BOB, DAVE}
    assert users(r, "select", "table prj_a.t1", "prj_a") == {ALICE, BOB, DAVE}
    assert not any(p == "drop" and o == "prj_a.t1" for p, _, o, _ in r.what_can(f"prj_a {ALICE}"))


LABELLED = [*MEMBERS, f"grant Select on table t1 to user {ALICE};",
            f"grant Select on table t1 to user {DAVE};", "set LabelSecurity=true;",
            "set label 2 to table t1(v);", f"set label 2 to user {DAVE};"]


def test_a_label_denied_column() -> None:
    r = world(*LABELLED)
    assert users(r, "select", "table prj_a.t1", "prj_a") == {BOB, DAVE}
    assert users(r, "select", "table prj_a.t1(id)", "prj_a") == {ALICE, BOB, DAVE}
    alice = {(p, o) for p, k, o, _ in r.what_can(f"prj_a {ALICE}") if k == "table"}
    assert ("select", "prj_a.t1(id)") in alice
    assert ("select", "prj_a.t1(v)") not in alice and ("select", "prj_a.t1") not in alice
    assert ("select", "prj_a.t1") in {(p, o) for p, _, o, _ in r.what_can(f"prj_a {DAVE}")}


def test_protected_project_cross_project_read() -> None:
    r = world(*MEMBERS, f"grant Select on table t1 to user {ALICE};",
              f"-- connect prj_b {AMY}", f"add user {ALICE};",
              f"grant CreateInstance on project prj_b to user {ALICE};")
    assert users(r, "select", "table prj_a.t1", "prj_b") == {ALICE}
    r.load(f"-- connect prj_a {BOB}\nset ProjectProtection=true;")
    assert users(r, "select", "table prj_a.t1", "prj_b") == set()
    assert users(r, "select", "table prj_a.t1", "prj_a") == {ALICE, BOB}
    assert ("select", "table", "prj_a.t1", ()) not in r.what_can(f"prj_b {ALICE}")
    r.load(f"-- connect prj_a {BOB}\nadd trustedproject prj_b;")
    assert users(r, "select", "table prj_a.t1", "prj_b") == {ALICE}


def test_what_can_rows_are_point_checks() -> None:
    r = world(*LABELLED, "create role dev;", "grant Describe on table t1 to role dev;",
              f"grant dev to {ALICE};")
    rows = r.what_can(f"prj_a {ALICE}")
    assert ("describe", "table", "prj_a.t1", ("dev",)) in rows
    session = r.session(f"prj_a {ALICE}")
    for privilege, kind, obj, _ in rows:
        assert session.check(privilege, f"{kind} {obj}"), (privilege, kind, obj)


# --- the property ------------------------------------------------------------------------

PEOPLE = (ALICE, DAVE, ERIN)
ACTIONS = ("select", "describe", "drop", "download")
TARGETS = ("table prj_a.t1", "table prj_a.t1(id)", "table prj_a.t1(v)", "table prj_b.s1")

BASE = [
    f"-- connect prj_a {BOB}", "create table t1 (id bigint, v string);",
    *(f"add user {u};" for u in PEOPLE), "create role dev;", "create role nodrop;",
    f"-- connect prj_b {AMY}", "create table s1 (id bigint, v string);",
    f"add user {ALICE};", f"add user {DAVE};",
]
person = hs.sampled_from(PEOPLE)
table_action = hs.sampled_from(("Select", "Describe", "Drop", "All", "Download"))
# (project whose owner runs it, statement)
step = hs.one_of(
    hs.builds(lambda u: ("prj_a", f"grant CreateInstance on project prj_a to user {u};"),
              person),
    hs.builds(lambda u: ("prj_b", f"grant CreateInstance on project prj_b to user {u};"),
              person),
    hs.builds(lambda a, u: ("prj_a", f"grant {a} on table t1 to user {u};"), table_action,
              person),
    hs.builds(lambda a: ("prj_a", f"grant {a} on table t1 to role dev;"), table_action),
    hs.builds(lambda u: ("prj_a", f"grant Select on table t1 (id) to user {u};"), person),
    hs.builds(lambda u: ("prj_a", f"grant dev to {u};"), person),
    hs.builds(lambda a, u: ("prj_b", f"grant {a} on table s1 to user {u};"), table_action,
              person),
    hs.builds(lambda a: ("prj_a", f"grant {a} on table t1 to role nodrop "
                         'privilegeproperties("policy"="true", "allow"="false");'),
              table_action),
    hs.builds(lambda u: ("prj_a", f"grant nodrop to {u};"), person),
    hs.just(("prj_a", "set LabelSecurity=true;")),
    hs.just(("prj_a", "set label 2 to table t1(v);")),
    hs.builds(lambda u: ("prj_a", f"set label 2 to user {u};"), person),
    hs.just(("prj_a", "set ProjectProtection=true;")),
    hs.just(("prj_a", "add trustedproject prj_b;")),
)
OWNERS = {"prj_a": BOB, "prj_b": AMY}
SETTINGS = settings(max_examples=5, deadline=None, derandomize=True,
                    phases=(Phase.explicit, Phase.generate),  # no slow shrinking
                    suppress_health_check=[HealthCheck.too_slow])


def build(steps: list[tuple[str, str]]) -> Reasoner:
    r = Reasoner("maxcompute")
    for name, owner in OWNERS.items():
        r.engine.directive("project", [name, "owner", owner], "")
    lines = list(BASE)
    for project, text in steps:
        lines += [f"-- connect {project} {OWNERS[project]}", text]
    r.load("\n".join(lines))  # a statement the world rejects is simply not in it
    return r


def point_checks(r: Reasoner, project: str) -> set[tuple[str, str, str]]:
    allowed = set()
    for user in (*PEOPLE, BOB, AMY):
        session = r.session(f"{project} {user}")
        for target in TARGETS:
            for action in ACTIONS:
                if session.check(action, target):
                    allowed.add((user, action, target))
    return allowed


@SETTINGS
@given(hs.lists(step, max_size=6))
def test_who_can_and_what_can_equal_point_checks(steps) -> None:
    r = build(steps)
    for project in OWNERS:
        expected = point_checks(r, project)
        for target in TARGETS:
            for action in ACTIONS:
                got = users(r, action, target, project)
                assert got == {u for u, a, t in expected if (a, t) == (action, target)}, (
                    project, action, target)
        for user in (*PEOPLE, BOB, AMY):
            rows = {(p, f"{k} {o}") for p, k, o, _ in r.what_can(f"{project} {user}")}
            mine = {(a, t) for u, a, t in expected if u == user}
            # whole-table rows are exact; a column row appears when the whole read fails
            assert {x for x in rows if x[1] in TARGETS and x[0] in ACTIONS} == {
                (a, t) for a, t in mine
                if "(" not in t or (a in ("select", "download")
                                    and (a, t.split("(")[0]) not in mine)}, (project, user)
            session = r.session(f"{project} {user}")
            assert all(session.check(p, on) for p, on in rows), (project, user)
