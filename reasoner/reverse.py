"""Reverse questions: who can use a privilege on an object, what can a user do.

Exact by construction: the same requirement a point check is judged against is asked
with the session left open — the current role becomes a variable ranging over the roles
granted to each user — so every answer is a check that would pass after ``SET ROLE``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reasoner.backends.base import Backend
from reasoner.datalog.ast import Atom, Const, Var
from reasoner.decision import Requirement

_SESSION = ("active", "active_via")


@dataclass(frozen=True)
class Access:
    """A user who can, the roles (granted to the user) it works as current role, and
    whether the user's default role is one of them (no SET ROLE needed)."""

    user: str
    roles: tuple[str, ...]
    as_logged_in: bool


def open_session(requirement: Requirement) -> list[tuple[tuple, str]]:
    """Each alternative's body with the session's roles replaced by (user, root)."""
    bodies = []
    for need in requirement.needs:
        for alternative in need.alternatives:
            kept = [lit for lit in alternative.body
                    if not (isinstance(lit, Atom) and lit.pred in _SESSION)]
            uses_role = any(isinstance(lit, Atom) and Var("R") in lit.args for lit in kept)
            if not uses_role or len(kept) == len(alternative.body):
                continue  # admin, owner and grant-option alternatives need a real session
            body = tuple(kept) + (Atom("reached_by", (Var("R"), Var("Root"))),
                                  Atom("user_role", (Var("U"), Var("Root"))))
            bodies.append((body, alternative.label))
    return bodies


def who_can(backend: Backend, requirement: Requirement, default_roles: dict[str, str],
            names: dict[str, str]) -> list[Access]:
    """Users that could pass ``requirement`` (one need: a privilege on an object)."""
    roots: dict[str, set[str]] = {}
    for body, _label in open_session(requirement):
        for binding in backend.solve(body):
            roots.setdefault(str(binding["U"]), set()).add(str(binding["Root"]))
    out = []
    for user, roles in sorted(roots.items()):
        role_names = tuple(sorted(names.get(r, r) for r in roles))
        out.append(Access(names.get(user, user), role_names,
                          default_roles.get(user) in roles))
    return out


def what_can(backend: Backend, user_id: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(privilege, kind, object id, roots) for everything the user may reach: the user's
    rows of the access matrix (rules/matrixone/matrix.dl, ``user_may_via``)."""
    atom = Atom("user_may_via", (Var("A"), Const(user_id), Var("P"), Var("K"), Var("O"),
                                 Var("Root")))
    rows: dict[tuple[str, str, str], set[str]] = {}
    for _a, _u, privilege, kind, obj, root in backend.answers(atom):
        key = (str(privilege), str(kind), str(obj))
        roots = rows.get(key)
        if roots is None:
            rows[key] = {str(root)}
        else:
            roots.add(str(root))
    return sorted((p, k, o, tuple(sorted(r))) for (p, k, o), r in rows.items())
