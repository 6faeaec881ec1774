"""who_can and what_can agree with point checks, on generated worlds."""

from __future__ import annotations

from hypothesis import given

from tests.strategies import budget
from tests.strategies.matrixone import TABLES, USERS, build, worlds

SETTINGS = budget(12)
PRIVILEGES = ("select", "insert", "update", "delete")


def point_checks(reasoner):
    """(user, privilege, table) -> roles that allow it as the current role."""
    engine = reasoner.engine
    acc = engine.catalogue.account("acc")
    found: dict[tuple[str, str, str], set[str]] = {}
    for user in USERS:
        for role_id, _ in engine.catalogue.user_roles(acc.users[user].id):
            role = engine.catalogue.role_by_id(role_id).name
            session = reasoner.session(f"acc:{user}", role)
            for table in TABLES:
                for privilege in PRIVILEGES:
                    if session.check(privilege, f"table {table}"):
                        found.setdefault((user, privilege, table), set()).add(role)
            session.close()
    return found


@SETTINGS
@given(worlds)
def test_who_can_equals_point_checks(world) -> None:
    """For every (privilege, table): who_can lists exactly the users some granted role
    of which allows it as current role, with exactly those roles."""
    reasoner = build(world)
    expected = point_checks(reasoner)
    for table in TABLES:
        for privilege in PRIVILEGES:
            got = {(a.user, tuple(a.roles)) for a in reasoner.who_can(
                privilege, f"table {table}", account="acc") if a.user in USERS}
            want = {(u, tuple(sorted(roles))) for (u, p, t), roles in expected.items()
                    if p == privilege and t == table}
            assert got == want, (privilege, table)


@SETTINGS
@given(worlds)
def test_what_can_equals_point_checks(world) -> None:
    """what_can(user) restricted to table DML lists exactly what point checks allow."""
    reasoner = build(world)
    expected = point_checks(reasoner)
    for user in USERS:
        got = {(p, name) for p, kind, name, _ in reasoner.what_can(f"acc:{user}")
               if kind == "table" and p in PRIVILEGES and name in TABLES}
        want = {(p, t) for (u, p, t) in expected if u == user}
        assert got == want, user
