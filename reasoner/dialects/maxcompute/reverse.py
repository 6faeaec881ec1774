"""Reverse questions for MaxCompute: who can use an action on an object, what can a user do.

Exact by construction: every answer is the engine's own point check. ``who_can`` opens
a session in the job's project for each candidate and runs ``check``; ``what_can`` runs
``check`` for each known object and each action its kind has. The only pre-filter is
one the rules themselves impose: every check needs ``instance_ok(U, P, ...)`` for the
session's project P, and both of its rules need ``in_project(U, P)`` (coupling.dl), so a
principal that is not a member of P can never pass and is not asked.

MaxCompute has no current role (a member acts as itself and all of its roles at once),
so every answer is ``as_logged_in``. ``roles`` names the held roles whose grants (ACL,
role policy, the Admin / Super_Administrator role, a package read or refobject grant)
give the allow; it is ``()`` when the access comes only from the user's own rights
(owner, creator, a grant or project-policy statement naming the user). Roles that only
raise a LabelSecurity level are not listed.
"""

from __future__ import annotations

from reasoner.datalog.ast import Atom, Const, Var
from reasoner.errors import StatementError
from reasoner.reverse import Access
from reasoner.source import Span

from .catalogue import ObjectRec, SessionState
from .executor import ACTION_ALIASES, MaxComputeExecutor, _split_columns

KINDS = ("project", "table", "function", "resource", "package")
READ_ACTIONS = ("select", "download")
R, G, E, ST, PKG, OBJ = (Var(n) for n in ("R", "G", "E", "St", "Pkg", "Obj"))


def _atom(pred: str, *args: object) -> Atom:
    return Atom(pred, tuple(a if isinstance(a, Var) else Const(a) for a in args))  # type: ignore[arg-type]


def _span(text: str) -> Span:
    return Span("<reverse>", 0, 0, text)


def session_project(engine: MaxComputeExecutor, account: str, name: str) -> str:
    """The job's project: ``account`` when it names a project, else the qualified name's."""
    projects = engine.catalogue.projects
    if account and account.lower() in projects:
        return account.lower()
    first = name.strip().split(".", 1)[0].strip().strip("`").lower()
    if "." in name and first in projects:
        return first
    raise StatementError(f"ODPS-0420111: Project not found - '{account}'; pass the project "
                         "as account= or qualify the name")


def members(engine: MaxComputeExecutor, project: str) -> dict[str, str]:
    """Principal key -> as written, for every member of ``project`` (owner included)."""
    prj = engine.catalogue.project(project)
    found = {str(b["U"]) for b in engine.backend.solve((_atom("in_project", Var("U"),
                                                              project),))}
    written = dict(prj.members)
    written[prj.owner] = prj.owner_written
    for other in engine.catalogue.projects.values():  # spellings known elsewhere
        for key, text in other.members.items():
            written.setdefault(key, text)
        written.setdefault(other.owner, other.owner_written)
    return {key: written.get(key, key) for key in sorted(found)}


def who_can(engine: MaxComputeExecutor, account: str, privilege: str, kind: str,
            name: str) -> list[Access]:
    project = session_project(engine, account, name)
    out = []
    for written in members(engine, project).values():
        session = engine.connect(f"{project} {written}", None, False,
                                 _span(f"connect {project}"))
        decision = engine.check(session, privilege, kind, name)
        if decision.allowed:
            base, columns = _split_columns(name)
            with engine._scratch():
                kind = "table" if kind.strip().lower() == "view" else kind.strip().lower()
                obj = engine._check_object(session, kind, base)
                roles = roles_through(engine, session, _action(privilege), obj, columns)
            out.append(Access(written, roles, True))
    return out


def what_can(engine: MaxComputeExecutor, principal: str
             ) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(privilege, kind, object, roles) for every action a check allows this session.

    Objects: every project, table, function and resource of the tenant, and the
    packages installed in the session's project. A read of a table that is denied as a
    whole (LabelSecurity, a column grant) is asked column by column, as
    ``table <project>.<table>(<column>)``.
    """
    words = principal.split()
    if len(words) != 2:
        raise StatementError(f"expected '<project> <user>', got {principal!r}")
    session = engine.connect(principal, None, False, _span(f"connect {principal}"))
    engine.catalogue.project(session.project)  # an unknown project is an error
    out: list[tuple[str, str, str, tuple[str, ...]]] = []
    for obj, shown in objects(engine, session):
        for action in sorted(engine.kind_actions.get(obj.kind, ())):
            if engine.check(session, action, obj.kind, shown):
                out.append((action, obj.kind, shown,
                            roles_through(engine, session, action, obj, ())))
            elif obj.kind == "table" and action in READ_ACTIONS:
                for column in obj.columns:
                    part = f"{shown}({column})"
                    if engine.check(session, action, "table", part):
                        out.append((action, "table", part, roles_through(
                            engine, session, action, obj, (column,))))
    return out


def objects(engine: MaxComputeExecutor, session: SessionState
            ) -> list[tuple[ObjectRec, str]]:
    """Each object a check can name, with the name to check it by."""
    found: list[tuple[ObjectRec, str]] = []
    for prj in sorted(engine.catalogue.projects.values(), key=lambda p: p.name):
        found.append((prj.object, prj.name))
        for (kind, name), obj in sorted(prj.objects.items()):
            if kind in ("table", "function", "resource"):
                found.append((obj, f"{prj.name}.{name}"))
            elif kind == "package" and prj.name == session.project:
                found.append((obj, name))
    return found


def roles_through(engine: MaxComputeExecutor, session: SessionState, action: str,
                  obj: ObjectRec, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The held roles whose grants allow ``action`` on ``obj`` (see the module text)."""
    if not columns and obj.kind == "table" and action in READ_ACTIONS:
        columns = tuple(obj.columns)  # a whole-table read reads every column
    u, a, o, q, p = session.user, action, obj.id, obj.project, session.project
    task = "dt" if action == "download" else "sql"
    held = (_atom("holds_role", u, R, q),)
    bodies = [
        held + (_atom("builtin_role", R, Var("_B")),),
        held + (_atom("acl", "role", R, G, o, E), _atom("covers", G, obj.kind, a)),
        held + (_atom("policy_role", ST, R), _atom("policy", ST, q, "role", "allow"),
                _atom("policy_live", ST), _atom("allow_task", ST, task),
                _atom("on_object", ST, a, o)),
        # package routes: read on the installed package, or a refobject grant
        (_atom("holds_role", u, R, p), _atom("package_installed", PKG, p, OBJ),
         _atom("package_covers", PKG, a, o), _atom("acl", "role", R, G, OBJ, E),
         _atom("covers", G, "package", "read")),
        (_atom("holds_role", u, R, p), _atom("package_ref_acl", p, "role", R, a, o, PKG)),
    ]
    for column in columns:
        bodies.append(held + (_atom("acl_column", "role", R, G, o, column, E),
                              _atom("covers", G, obj.kind, a)))
        bodies.append(held + (_atom("policy_role", ST, R),
                              _atom("policy", ST, q, "role", "allow"),
                              _atom("policy_live", ST), _atom("allow_task", ST, task),
                              _atom("on_column", ST, a, o, column)))
    now = engine.catalogue.now
    ids: set[str] = set()
    for body in bodies:
        for binding in engine.backend.solve(body):
            expires = binding.get("E")
            if expires is not None and int(expires) <= now:
                continue  # an expired grant gives nothing
            ids.add(str(binding["R"]))
    names = {r.id: r.name for prj in engine.catalogue.projects.values()
             for r in prj.roles.values()}
    return tuple(sorted(names.get(i, i) for i in ids))


def _action(privilege: str) -> str:
    action = privilege.strip().lower().removeprefix("odps:")
    return ACTION_ALIASES.get(action, action)

