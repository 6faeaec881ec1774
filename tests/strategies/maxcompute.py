"""Random MaxCompute histories, built from the statement shapes of
tests/conformance/maxcompute/*.test, driven only through the public API
(``Reasoner("maxcompute")``, ``engine.directive("project", ...)``, ``session.execute``,
``session.check``), and rendered as runnable ``.test`` files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from reasoner import Reasoner
from reasoner.decision import Outcome
from tests.strategies import testfile

BOB = "ALIYUN$bob@aliyun.com"  # owner of prj_a
AMY = "ALIYUN$amy@aliyun.com"  # owner of prj_b
ALICE = "ALIYUN$alice@aliyun.com"
DAVE = "ALIYUN$dave@aliyun.com"
USERS = (ALICE, DAVE)
PROJECTS = (("prj_a", BOB), ("prj_b", AMY))
TABLES = ("t1", "t2", "up")
COLUMNS = ("id", "mobile", "id_card")
ACTIONS = ("Select", "Describe", "Drop", "Alter", "Update", "All", "Download")
ROLES = ("dev", "worker")

BASE: tuple[tuple[str, str], ...] = (
    ("prj_a", "create table t1 (id bigint, v string);"),
    ("prj_a", "create table t2 (id bigint, v string);"),
    ("prj_a", "create table up (id bigint, mobile string, id_card string);"),
    ("prj_a", "create role dev;"),
    *(("prj_a", s) for u in USERS for s in (
        f"add user {u};", f"grant CreateInstance on project prj_a to user {u};")),
    ("prj_a", f"grant dev to {ALICE};"),
    *(("prj_b", s) for u in USERS for s in (
        f"add user {u};", f"grant CreateInstance on project prj_b to user {u};")),
)
OWNER = {"prj_a": BOB, "prj_b": AMY}

_subject = st.one_of(st.sampled_from(USERS).map(lambda u: f"user {u}"),
                     st.sampled_from(ROLES).map(lambda r: f"role {r}"))
_table = st.sampled_from(TABLES + ("nosuch",))
acl = st.builds(lambda verb, a, t, s: (f"grant {a} on table {t} to {s};" if verb else
                                       f"revoke {a} on table {t} from {s};"),
                st.booleans(), st.sampled_from(ACTIONS), _table, _subject)
deny = st.builds(lambda verb, a, t: (
    f'{"grant" if verb else "revoke"} {a} on table {t} {"to" if verb else "from"} role dev '
    'privilegeproperties("policy"="true", "allow"="false");'),
    st.booleans(), st.sampled_from(ACTIONS[:5]), st.sampled_from(TABLES + ("*",)))
labels = st.one_of(
    st.sampled_from(("set LabelSecurity=true;", "set LabelSecurity=false;")),
    st.builds(lambda n, c: f"set label {n} to table up({c});", st.integers(0, 4),
              st.sampled_from(COLUMNS)),
    st.builds(lambda n, u: f"set label {n} to user {u};", st.integers(0, 4),
              st.sampled_from(USERS)),
    st.builds(lambda n, c, u, d: f"grant label {n} on table up({c}) to user {u}"
                                 + (f" with exp {d}" if d else "") + ";",
              st.integers(0, 4), st.sampled_from(COLUMNS), st.sampled_from(USERS),
              st.none() | st.integers(1, 5)),
    st.builds(lambda c, u: f"revoke label on table up({c}) from user {u};",
              st.sampled_from(COLUMNS), st.sampled_from(USERS)),
)
members = st.one_of(
    st.builds(lambda u: f"add user {u};", st.sampled_from(USERS)),
    st.builds(lambda u: f"remove user {u};", st.sampled_from(USERS)),
    st.builds(lambda r: f"create role {r};", st.sampled_from(ROLES)),
    st.builds(lambda r: f"drop role {r};", st.sampled_from(ROLES)),
    st.builds(lambda r, u: f"grant {r} to {u};", st.sampled_from(ROLES), st.sampled_from(USERS)),
    st.builds(lambda r, u: f"revoke {r} from {u};", st.sampled_from(ROLES),
              st.sampled_from(USERS)),
    st.builds(lambda p, u: f"grant {p} on project prj_a to user {u};",
              st.sampled_from(("CreateInstance", "CreateTable", "List")), st.sampled_from(USERS)),
)
protection = st.sampled_from((
    "set ProjectProtection=true;", "set ProjectProtection=false;", "add trustedproject prj_b;",
    "remove trustedproject prj_b;", "set ObjectCreatorHasAccessPermission=false;",
))
ddl_dml = st.one_of(
    st.builds(lambda t: f"create table {t} (id bigint, v string);", st.sampled_from(("t1", "t9"))),
    st.builds(lambda t: f"drop table {t};", _table),
    st.builds(lambda t: f"select * from {t};", _table),
    st.sampled_from(("select id from up;", "insert into table t2 values (1, 'a');",
                     "create table t_copy as select * from t1;")),
)
invalid = st.sampled_from((
    "grant Select on table t1 to user ALIYUN$zed@aliyun.com;", "grant Selekt on table t1 to "
    f"user {ALICE};", "frobnicate;", "grant on table;", "select * from;",
    f'grant Drop on table t1 to user {ALICE} privilegeproperties("policy"="true", '
    '"allow"="false");', "set label x to table up(id);",
))
owner_statement = st.one_of(acl, members, deny, labels, protection, ddl_dml, invalid)


@dataclass(frozen=True)
class Step:
    """A statement and who runs it: ``project user`` (a new session), the project owner
    when ``user`` is None."""

    statement: str
    project: str = "prj_a"
    user: str | None = None

    @property
    def principal(self) -> str:
        return f"{self.project} {self.user or OWNER[self.project]}"


step = st.one_of(
    owner_statement.map(Step),
    st.builds(Step, st.one_of(ddl_dml, acl, invalid), st.sampled_from(("prj_a", "prj_b")),
              st.sampled_from(USERS)),
)
histories = st.lists(step, max_size=12).map(tuple)


@dataclass
class Replay:
    reasoner: Reasoner
    played: list[tuple[Step, Outcome]] = field(default_factory=list)

    def records(self) -> list[testfile.Record]:
        records = [testfile.Record(f"project {name} owner {owner}") for name, owner in PROJECTS]
        current = None
        for item, outcome in [(Step(s, p), None) for p, s in BASE] + self.played:
            if item.principal != current:
                records.append(testfile.connect(item.principal))
                current = item.principal
            ok = outcome.ok if outcome is not None else True
            records.append(testfile.statement(item.statement, ok,
                                              outcome.error if outcome is not None else None))
        return records

    def render(self, *extra: testfile.Record, title: str = "") -> str:
        return testfile.render(self.records() + list(extra), dialect="maxcompute",
                               title=title or "minimal failing MaxCompute history")


def replay(steps: tuple[Step, ...]) -> Replay:
    reasoner = Reasoner("maxcompute")
    for name, owner in PROJECTS:
        reasoner.engine.directive("project", [name, "owner", owner], "")
    for project, text in BASE:
        outcome = reasoner.session(f"{project} {OWNER[project]}").execute(text)
        assert outcome.ok, (text, outcome.error)
    result = Replay(reasoner)
    for item in steps:
        result.played.append((item, reasoner.session(item.principal).execute(item.statement)))
    return result


QUESTIONS = (
    *((a, f"table prj_a.{t}") for t in ("t1", "t2") for a in ("select", "describe", "drop",
                                                               "update", "download")),
    *(("select", f"table prj_a.up({c})") for c in COLUMNS),
)


def decisions(reasoner: Reasoner) -> dict[tuple[str, str, str, str], bool]:
    """Every user's answer to every question, from inside prj_a and from prj_b."""
    return {(project, user, a, on): bool(reasoner.session(f"{project} {user}").check(a, on))
            for project in ("prj_a", "prj_b") for user in USERS for a, on in QUESTIONS}


def decision_records(matrix: dict[tuple[str, str, str, str], bool],
                     keys: list[tuple[str, str, str, str]]) -> list[testfile.Record]:
    out = []
    for project, user, action, on in sorted(keys):
        out.append(testfile.connect(f"{project} {user}"))
        out.append(testfile.check(action, on, matrix[(project, user, action, on)]))
    return out
