"""Random MatrixOne worlds and histories, how to replay them, and how to compare states.

Two generators:

- ``worlds``: grants only (roles in a DAG, role grants to users, privilege grants at every
  level, with and without grant option) over a fixed base: small, fast, every statement ok.
- ``histories``: what a cluster's log looks like -- accounts, users, roles, role grants to
  users and roles (cycles attempted), grants and revokes at every level, drops, SET ROLE /
  SET SECONDARY ROLE, USE, CREATE/DROP of databases, tables and views, DML by different
  users (each step says who runs it, as a ``-- connect`` line would), and invalid
  statements mixed in (unknown names, refused built-ins, syntax errors).

``replay`` runs a history through the public API, one statement at a time, with hooks
around each; ``render_history`` writes what happened as a runnable ``.test`` file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from reasoner import Reasoner
from reasoner.api import Session
from reasoner.decision import Outcome
from tests.strategies import testfile

ROLES = ("r1", "r2", "r3", "r4")
USERS = ("u1", "u2", "u3")
TABLES = ("db1.t1", "db1.t2", "db2.t3")
TABLE_PRIVILEGES = ("select", "insert", "update", "delete", "all", "ownership")
LEVELS = ("db1.t1", "db1.t2", "db2.t3", "db1.*", "db2.*", "*.*")
ACCOUNT_PRIVILEGES = ("create user", "drop user", "create role", "drop role", "create database",
                      "drop database", "show databases", "manage grants", "all")
DATABASE_PRIVILEGES = ("create table", "drop table", "create view", "drop view", "show tables",
                       "alter table", "all", "ownership")

BASE = [
    "create account acc admin_name 'admin' identified by '1'",
    "-- connect acc:admin",
    "create database db1",
    "create database db2",
    *[f"create table {t} (a int)" for t in TABLES],
    f"create role {', '.join(ROLES)}",
    *[f"create user {u} identified by '1'" for u in USERS],
]


@dataclass(frozen=True)
class World:
    statements: tuple[str, ...]

    def script(self, extra: tuple[str, ...] = ()) -> str:
        lines = BASE + list(self.statements) + list(extra)
        return "\n".join(line if line.startswith("--") else line + ";" for line in lines)


def _wgo(statement: str, wgo: bool) -> str:
    return statement + (" with grant option" if wgo else "")


role_edge = st.tuples(st.integers(0, len(ROLES) - 1), st.integers(0, len(ROLES) - 1)).filter(
    lambda p: p[0] < p[1]).map(lambda p: f"grant {ROLES[p[0]]} to {ROLES[p[1]]}")
user_grant = st.tuples(st.sampled_from(ROLES), st.sampled_from(USERS)).map(
    lambda p: f"grant {p[0]} to {p[1]}")
privilege_grant = st.tuples(st.sampled_from(TABLE_PRIVILEGES), st.sampled_from(LEVELS),
                            st.sampled_from(ROLES)).map(
    lambda p: f"grant {p[0]} on table {p[1]} to {p[2]}")
# grants at the other levels, and grant options (worlds stay valid: every statement is ok)
account_grant = st.builds(
    lambda p, r, w: _wgo(f"grant {p} on account * to {r}", w),
    st.sampled_from(ACCOUNT_PRIVILEGES), st.sampled_from(ROLES), st.booleans())
database_grant = st.builds(
    lambda p, d, r, w: _wgo(f"grant {p} on database {d} to {r}", w),
    st.sampled_from(DATABASE_PRIVILEGES), st.sampled_from(("db1", "db2", "*")),
    st.sampled_from(ROLES), st.booleans())
option_grant = st.builds(lambda s: s + " with grant option",
                         st.one_of(privilege_grant, user_grant))

grant_statement = st.one_of(role_edge, user_grant, privilege_grant, account_grant,
                            database_grant, option_grant)
worlds = st.lists(grant_statement, max_size=10).map(lambda xs: World(tuple(xs)))


def build(world: World, extra: tuple[str, ...] = (), target: str | None = None) -> Reasoner:
    reasoner = Reasoner("matrixone", target)
    for outcome in reasoner.load(world.script(extra)):
        assert outcome.ok or "cannot grant role" in (outcome.error or ""), outcome.error
    return reasoner


def access_matrix(reasoner: Reasoner) -> frozenset[tuple[str, str, str]]:
    """Every (user, privilege, table) allowed with SECONDARY ROLE ALL: all granted roles."""
    allowed = set()
    for user in USERS:
        session = reasoner.session(f"acc:{user}", "public", "all")
        for table in TABLES:
            for privilege in ("select", "insert", "update", "delete"):
                if session.check(privilege, f"table {table}"):
                    allowed.add((user, privilege, table))
        session.close()
    return frozenset(allowed)


# --- histories -------------------------------------------------------------------------------

H_ROLES = ROLES + ("r5",)  # r5 does not exist until a step creates it
H_USERS = USERS + ("u4",)
H_DATABASES = ("db1", "db2", "db3")
H_TABLES = TABLES + ("db1.t4", "db3.t5")
H_VIEWS = ("db1.v1", "db2.v2")
H_OBJECTS = H_TABLES + H_VIEWS
ADMIN = "acc:admin"


@dataclass(frozen=True)
class Step:
    """A statement and who runs it: ``principal`` (``acc:u1``, with an optional role and
    secondary mode) opens a new session, as a ``-- connect`` line does; None runs it in
    the session of the step before."""

    statement: str
    principal: str | None = None
    role: str | None = None
    secondary: str | None = None

    def connect_line(self) -> str:
        words = [self.principal or ""] + (["role", self.role] if self.role else []) + (
            ["secondary", self.secondary] if self.secondary else [])
        return "-- connect " + " ".join(words)


@dataclass(frozen=True)
class History:
    steps: tuple[Step, ...]
    target: str = "matrixone-v4.2.0"

    def script(self) -> str:
        """As one script for ``Reasoner.load`` (``-- connect`` lines switch sessions)."""
        lines = [line if line.startswith("--") else line + ";" for line in BASE]
        for step in self.steps:
            if step.principal is not None:
                lines.append(step.connect_line())
            lines.append(step.statement + ";")
        return "\n".join(lines)


def names(pool: tuple[str, ...]) -> st.SearchStrategy[str]:
    """A name of ``pool``, the ones the base creates twice as likely (more statements that
    do something); shrinks toward the first."""
    made = {*ROLES, *USERS, *TABLES, "db1", "db2"}
    return st.sampled_from(pool + tuple(n for n in pool if n in made))


wgo = st.booleans()
_table_level = names(H_TABLES + ("db1.*", "db2.*", "db3.*", "*.*"))


def _grant_priv(grant: bool) -> st.SearchStrategy[str]:
    verb, prep = ("grant", "to") if grant else ("revoke", "from")
    account = st.builds(lambda p, r: f"{verb} {p} on account * {prep} {r}",
                        names(ACCOUNT_PRIVILEGES), names(H_ROLES))
    database = st.builds(lambda p, d, r: f"{verb} {p} on database {d} {prep} {r}",
                         names(DATABASE_PRIVILEGES), names(H_DATABASES + ("*",)),
                         names(H_ROLES))
    table = st.builds(lambda p, t, r: f"{verb} {p} on table {t} {prep} {r}",
                      names(TABLE_PRIVILEGES + ("truncate",)), _table_level, names(H_ROLES))
    view = st.builds(lambda v, r: f"{verb} select on view {v} {prep} {r}", names(H_VIEWS),
                     names(H_ROLES))
    out = st.one_of(table, database, account, view)
    if grant:
        return st.builds(_wgo, out, wgo)
    return st.builds(lambda s, e: s.replace("revoke ", "revoke if exists ", 1) if e else s,
                     out, st.booleans())


grant_privilege = _grant_priv(True)
revoke_privilege = _grant_priv(False)
grant_role = st.one_of(
    st.builds(lambda r, u, w: _wgo(f"grant {r} to {u}", w), names(H_ROLES), names(H_USERS), wgo),
    st.builds(lambda r, g, w: _wgo(f"grant {r} to {g}", w), names(H_ROLES), names(H_ROLES), wgo),
)
revoke_role = st.builds(lambda r, g: f"revoke {r} from {g}", names(H_ROLES),
                        names(H_ROLES + H_USERS))
create_drop = st.one_of(
    st.builds(lambda r: f"create role {r}", names(H_ROLES)),
    st.builds(lambda r, e: f"drop role {'if exists ' if e else ''}{r}", names(H_ROLES),
              st.booleans()),
    st.builds(lambda u, r: f"create user {u} identified by '1'" + (
        f" default role {r}" if r else ""), names(H_USERS), st.none() | names(H_ROLES)),
    st.builds(lambda u: f"drop user {u}", names(H_USERS)),
    st.builds(lambda d, e: f"create database {'if not exists ' if e else ''}{d}",
              names(H_DATABASES), st.booleans()),
    st.builds(lambda d: f"drop database {d}", names(H_DATABASES)),
    st.builds(lambda t: f"create table {t} (a int)", names(H_TABLES)),
    st.builds(lambda t, e: f"drop table {'if exists ' if e else ''}{t}", names(H_TABLES),
              st.booleans()),
    st.builds(lambda v, t: f"create view {v} as select * from {t}", names(H_VIEWS),
              names(H_TABLES)),
    st.builds(lambda v, t: f"create view {v} as select * from {t}", names(H_VIEWS),
              names(H_TABLES)),
    st.builds(lambda v: f"drop view {v}", names(H_VIEWS)),
)
dml = st.one_of(
    st.builds(lambda t: f"select * from {t}", names(H_OBJECTS)),
    st.builds(lambda t: f"insert into {t} values (1)", names(H_TABLES)),
    st.builds(lambda t: f"update {t} set a = 2", names(H_TABLES)),
    st.builds(lambda t: f"delete from {t}", names(H_TABLES)),
    st.builds(lambda t, s: f"insert into {t} select * from {s}", names(H_TABLES),
              names(H_OBJECTS)),
    st.builds(lambda t: f"truncate table {t}", names(H_TABLES)),
)
session_statement = st.one_of(
    st.builds(lambda r: f"set role {r}", names(H_ROLES + ("public",))),
    st.sampled_from(("set secondary role all", "set secondary role none")),
    st.builds(lambda d: f"use {d}", names(H_DATABASES)),
)
invalid = st.sampled_from((
    "grant r9 to u1", "grant select on table nodb.t to r1", "drop role moadmin",
    "drop role accountadmin", "grant accountadmin to r1", "revoke public from u1",
    "create role public", "create user u1 identified by ''", "select * from nodb.x",
    "grant select on d.* to r1", "frobnicate the database", "create table (",
    "select 1,", "grant all on table db1.t1 to", "grant super on account * to r1",
    "grant select on table db1.t1 to moadmin", "grant ownership on account * to r1",
    "grant r1 to r1", "create database mo_catalog", "drop database mo_catalog",
    "insert into mo_catalog.mo_user values (1)", "grant create table on table db1.t1 to r1",
))
sys_statement = st.sampled_from((
    "create account acc2 admin_name 'a2' identified by '1'", "drop account acc2",
    "drop account if exists acc2", "create role r1", "grant select on table db1.t1 to r1",
))

admin_statement = st.one_of(grant_privilege, grant_role, revoke_privilege, revoke_role,
                            create_drop, dml, session_statement, invalid)
user_statement = st.one_of(dml, session_statement, grant_privilege, grant_role, create_drop,
                           revoke_privilege, invalid)


@st.composite
def _user_step(draw: Any) -> Step:
    user = draw(names(H_USERS))
    role = draw(st.none() | names(H_ROLES + ("public",)))
    secondary = draw(st.none() | st.just("all"))
    return Step(draw(user_statement), f"acc:{user}", role, secondary)


step = st.one_of(
    admin_statement.map(Step),  # in the session of the step before
    admin_statement.map(lambda s: Step(s, ADMIN)),
    _user_step(),
    sys_statement.map(lambda s: Step(s, "sys:root", "moadmin")),
)


def histories(max_steps: int = 14, target: str = "matrixone-v4.2.0"
              ) -> st.SearchStrategy[History]:
    return st.lists(step, max_size=max_steps).map(lambda xs: History(tuple(xs), target))


# --- replay ----------------------------------------------------------------------------------


@dataclass
class Played:
    """What one step did: the outcome, or why its connect failed (then it did not run)."""

    step: Step
    outcome: Outcome | None = None
    connect_error: str | None = None


@dataclass
class Replay:
    reasoner: Reasoner
    session: Session
    played: list[Played] = field(default_factory=list)

    def records(self) -> list[testfile.Record]:
        return history_records(self.played)

    def render(self, *extra: testfile.Record, title: str = "") -> str:
        return testfile.render(self.records() + list(extra),
                               target=self.reasoner.target,
                               title=title or "minimal failing history (tests/properties)")


Hook = Callable[[Replay, Step], None]


def replay(history: History, *, before: Hook | None = None, after: Hook | None = None,
           reasoner: Reasoner | None = None) -> Replay:
    """Run the base, then each step through ``Session.execute``, calling the hooks around
    every step (``after`` sees ``replay.played[-1]``; ``before`` runs before a step's login
    and again between the login and the statement). A step whose connect fails is
    recorded and skipped: in a ``.test`` file a connect must succeed."""
    reasoner = reasoner or Reasoner("matrixone", history.target)
    for outcome in reasoner.load(World(()).script()):
        assert outcome.ok, outcome.describe()
    session = reasoner.last_session
    assert session is not None
    result = Replay(reasoner, session)
    for item in history.steps:
        if before is not None:
            before(result, item)
        if item.principal is not None:
            try:
                result.session = reasoner.session(item.principal, item.role, item.secondary)
            except Exception as exc:  # a failed login runs nothing
                result.played.append(Played(item, connect_error=str(exc)))
                if after is not None:
                    after(result, item)
                continue
            if before is not None:  # again: the login itself changed the state
                before(result, item)
        result.played.append(Played(item, result.session.execute(item.statement)))
        if after is not None:
            after(result, item)
    return result


def history_records(played: Iterable[Played]) -> list[testfile.Record]:
    """The base and the played steps as .test records (failed connects left out, with
    their statements: they never ran)."""
    records = []
    for line in BASE:
        if line.startswith("-- connect "):
            records.append(testfile.connect(line.removeprefix("-- connect ")))
        else:
            records.append(testfile.statement(line, True))
    for item in played:
        if item.outcome is None:
            continue
        if item.step.principal is not None:
            records.append(testfile.connect(item.step.principal, item.step.role,
                                            item.step.secondary))
        records.append(testfile.statement(item.step.statement, item.outcome.ok,
                                          item.outcome.error))
    return records


# --- states to compare -----------------------------------------------------------------------

FactSet = frozenset[tuple[str, tuple[Any, ...]]]


def facts(reasoner: Reasoner, *, with_origin: bool = False,
          ignore: tuple[str, ...] = ()) -> frozenset[Any]:
    """The fact store (optionally with each fact's origin span)."""
    return frozenset((p, a, s) if with_origin else (p, a)
                     for p, a, s in reasoner.engine.facts.all_facts() if p not in ignore)


def catalogue_state(reasoner: Reasoner) -> Any:
    """Everything the catalogue holds, as plain comparable values (indexes included, so
    that an index left out of step with its rows shows)."""
    cat = reasoner.engine.catalogue

    def obj(o: Any) -> tuple:
        return (o.id, o.name, o.kind, o.database, o.db_name, o.owner, o.security, o.refs)

    accounts = {
        name: (acc.id,
               sorted((r.name, r.id, r.number, r.creator) for r in acc.roles.values()),
               sorted((u.name, u.id, u.default_role) for u in acc.users.values()),
               sorted((d.name, d.id, d.owner, d.system, sorted(obj(o) for o in
                                                                d.objects.values()))
                      for d in acc.databases.values()))
        for name, acc in cat.accounts.items()}

    def index(mapping: dict) -> dict:
        return {k: frozenset(v) for k, v in mapping.items() if v}

    return (accounts, dict(cat.user_grants), dict(cat.role_grants),
            {k: (v.level, v.wgo) for k, v in cat.priv_rows.items()},
            sorted(cat.by_id), index(cat.roles_of_user), index(cat.users_of_role),
            index(cat.granted_to), index(cat.grantees_of), index(cat.privs_of_role),
            dict(cat._incarnations), cat._role_numbers, cat._transfers)  # noqa: SLF001


def session_state(session: Session) -> tuple:
    s = session.state
    return (s.id, s.account, s.user, s.role, s.secondary_all, s.database, dict(s.variables))


def what_can_matrix(reasoner: Reasoner, account: str = "acc") -> frozenset[tuple]:
    """Every (user, privilege, kind, object, roots) of every user of the account."""
    acc = reasoner.engine.catalogue.account(account)
    if acc is None:
        return frozenset()
    return frozenset((user, *row) for user in sorted(acc.users)
                     for row in reasoner.what_can(f"{account}:{user}"))


CHECKS = tuple((p, f"table {t}") for t in H_TABLES for p in ("select", "insert", "delete")) + (
    ("select", "view db1.v1"), ("create table", "database db1"),
    ("create database", "account *"), ("create role", "account *"))


def check_matrix(reasoner: Reasoner, users: Iterable[str] = H_USERS,
                 checks: Iterable[tuple[str, str]] = CHECKS) -> dict[tuple[str, str, str], bool]:
    """Point checks of every user with every granted role active (role public, secondary
    all), for the questions of ``CHECKS``; users that cannot log in are left out."""
    out = {}
    checks = tuple(checks)
    for user in users:
        try:
            session = reasoner.session(f"acc:{user}", "public", "all")
        except Exception:
            continue
        for privilege, on in checks:
            out[(user, privilege, on)] = bool(session.check(privilege, on))
        session.close()
    return out


def matrix_records(matrix: dict[tuple[str, str, str], bool],
                   only: Iterable[tuple[str, str, str]] | None = None) -> list[testfile.Record]:
    """Check records stating ``matrix`` (the expected decisions), per user session."""
    keys = sorted(only if only is not None else matrix)
    records = []
    current = None
    for user, privilege, on in keys:
        if user != current:
            records.append(testfile.connect(f"acc:{user}", "public", "all"))
            current = user
        records.append(testfile.check(privilege, on, matrix[(user, privilege, on)]))
    return records
