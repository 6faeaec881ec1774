"""MaxCompute scripts outside .test files: projects, policy files and the clock are
declared by comment directives, so ``reasoner run`` / ``check`` can replay a tenant."""

from __future__ import annotations

from reasoner import Reasoner
from reasoner.dialects.base import Directive
from reasoner.dialects.maxcompute import MaxCompute

BOB = "ALIYUN$bob@aliyun.com"
AMY = "ALIYUN$amy@aliyun.com"
ALICE = "ALIYUN$alice@aliyun.com"

POLICY = [
    "-- policyfile exc_a.json",
    '-- {"Version": "1", "Statement": [{"Effect": "Allow",',
    f'--   "Principal": "{ALICE}", "Action": "odps:Select",',
    '--   "Resource": "acs:odps:*:projects/prj_a/tables/t1"}]}',
    "-- end",
]

SCRIPT = "\n".join([
    f"-- project prj_a owner {BOB}",
    f"-- project prj_b owner {AMY}",
    *POLICY,
    f"-- connect prj_a {BOB}",
    "create table t1 (id bigint, v string);",
    f"add user {ALICE};",
    f"grant CreateInstance on project prj_a to user {ALICE};",
    f"grant Select on table t1 to user {ALICE};",
    "set ProjectProtection=true with exception exc_a.json;",
    f"-- connect prj_b {AMY}",
    f"add user {ALICE};",
    f"grant CreateInstance on project prj_b to user {ALICE};",
])


def test_directives_are_parsed_with_their_lines_and_policy_text() -> None:
    items = [i for i in MaxCompute().parse_script(SCRIPT, "s.sql") if isinstance(i, Directive)]
    assert [(d.kind, d.words, d.span.line) for d in items] == [
        ("project", ("prj_a", "owner", BOB), 1), ("project", ("prj_b", "owner", AMY), 2),
        ("policyfile", ("exc_a.json",), 3)]
    assert items[2].body.splitlines()[0] == '{"Version": "1", "Statement": [{"Effect": "Allow",'
    assert items[2].span.source == "s.sql"


def test_a_script_declares_its_projects_and_policy_files() -> None:
    r = Reasoner("maxcompute")
    outcomes = r.load(SCRIPT)
    assert all(o.ok for o in outcomes), [o.describe() for o in outcomes if not o.ok]
    assert outcomes[0].statement == f"-- project prj_a owner {BOB}"
    # the exception policy lets alice's reads out of the protected project
    assert r.session(f"prj_b {ALICE}").check("select", "table prj_a.t1")


def test_advance_moves_the_clock() -> None:
    r = Reasoner("maxcompute")
    outcomes = r.load("\n".join([
        f"-- project prj_a owner {BOB}", f"-- connect prj_a {BOB}",
        "create table up (id bigint, mobile string);", f"add user {ALICE};",
        f"grant CreateInstance on project prj_a to user {ALICE};",
        f"grant Select on table up to user {ALICE};", "set LabelSecurity=true;",
        "set label 2 to table up(mobile);",
        f"grant label 2 on table up(mobile) to user {ALICE} with exp 1;", "-- advance 2 days"]))
    assert all(o.ok for o in outcomes)
    assert not r.session(f"prj_a {ALICE}").check("select", "table prj_a.up(mobile)")


def test_bad_directives_are_errors_not_exceptions() -> None:
    r = Reasoner("maxcompute")
    outcomes = r.load("\n".join([
        f"-- project prj_a owner {BOB}", f"-- project prj_a owner {AMY}",
        "-- project prj_x owner nobody", "-- policyfile open.json", '-- {"Statement": []}',
        f"-- connect prj_a {BOB}", "create table t (id bigint);"]))
    errors = [(o.line, o.error) for o in outcomes if not o.ok]
    assert errors[0] == (2, "project prj_a is already declared")
    assert errors[1][0] == 3 and "Invalid account Name" in (errors[1][1] or "")
    # a policy file without '-- end' is reported, and what follows still runs
    assert errors[2][0] == 4 and "expected '-- end'" in (errors[2][1] or "")
    assert outcomes[-1].ok


def test_ordinary_comments_stay_comments() -> None:
    items = list(MaxCompute().parse_script("-- project notes: nothing here\n-- end\nshow grants;"))
    assert len(items) == 1 and not isinstance(items[0], Directive)
