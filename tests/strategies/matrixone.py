"""Random but valid MatrixOne worlds: roles in a DAG, users, grants at every level."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from reasoner import Reasoner

ROLES = ("r1", "r2", "r3", "r4")
USERS = ("u1", "u2", "u3")
TABLES = ("db1.t1", "db1.t2", "db2.t3")
TABLE_PRIVILEGES = ("select", "insert", "update", "delete", "all", "ownership")
LEVELS = ("db1.t1", "db1.t2", "db2.t3", "db1.*", "db2.*", "*.*")

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


role_edge = st.tuples(st.integers(0, len(ROLES) - 1), st.integers(0, len(ROLES) - 1)).filter(
    lambda p: p[0] < p[1]).map(lambda p: f"grant {ROLES[p[0]]} to {ROLES[p[1]]}")
user_grant = st.tuples(st.sampled_from(ROLES), st.sampled_from(USERS)).map(
    lambda p: f"grant {p[0]} to {p[1]}")
privilege_grant = st.tuples(st.sampled_from(TABLE_PRIVILEGES), st.sampled_from(LEVELS),
                            st.sampled_from(ROLES)).map(
    lambda p: f"grant {p[0]} on table {p[1]} to {p[2]}")

grant_statement = st.one_of(role_edge, user_grant, privilege_grant)
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
