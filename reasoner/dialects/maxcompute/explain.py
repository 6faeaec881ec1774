"""MaxCompute's side of why-not: which layer refuses, what the session has, and repairs
written as MaxCompute statements.

An access is one conjunction of gates (requirements.py): membership, the policy Deny,
the allow (ACL, role, policy), LabelSecurity and ProjectProtection -- or the package
path. Every gate of a failed alternative that does not hold is read off the alternative
and turned into the statements that would open it; a candidate opens every failing gate
of one path, for every failed need at once. The core verifies each candidate by applying
it and checking again, and ranks the ones that work.

A repair is a small script run by project owners: its statements run in the session's
project unless a ``use <project>`` line says otherwise, and each project's part is run
by that project's owner. The one repair of the session alone, ``use <project>`` (run
the job where the data lives, so that nothing flows out), is run by the user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from reasoner.datalog.ast import Atom, Const, Literal, Negation, Var
from reasoner.explain.repairs import Candidate
from reasoner.explain.whynot import WhyNot

from .catalogue import ARN_PATH, ObjectRec, PackageRec, ProjectRec, RoleRec, SessionState
from .executor import MaxComputeExecutor
from .requirements import _camel, atom

# the order the gates of the direct path are checked in (and MaxCompute reports them)
LAYERS = ("membership", "management", "policy deny", "acl", "label", "protection", "package")
LABEL_GRANT_DAYS = 30  # a label grant proposed as a repair is bounded
MANAGEMENT = ("may_manage", "may_add_user", "may_grant_role", "may_revoke_role", "may_grant",
              "may_revoke", "may_set_role_policy")
_PER_NEED = 8  # options kept per failed need before combining needs
_CANDIDATES = 16  # candidates handed to the verifier
_KIND_OF_PATH = {path: kind for kind, path in ARN_PATH.items()}


def _value(term: object) -> Any:
    return term.value if isinstance(term, Const) else None


@dataclass(frozen=True)
class Step:
    """One statement of a repair and the project whose owner runs it there."""

    project: str
    statement: str
    affected: tuple[str, ...] = ()  # users whose access the statement may widen
    note: str = ""


Option = tuple[Step, ...]


@dataclass
class Gate:
    """A failing gate of a failed need: its layer and what is missing, in words."""

    need: str
    layer: str
    detail: str


@dataclass
class _Group:
    """The failing gates of one kind in one alternative, and the ways to open them.

    ``optional``: the gate may only fail because another gate (membership) does, so
    candidates without it are tried too."""

    options: list[Option]
    optional: bool = False
    reason: str | None = None  # why nothing can open this gate, when that is so


@dataclass
class _Need:
    options: list[Option] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


class MaxComputeExplainer:
    """Reads one deny: gates, context, repair candidates (statements, not yet verified)."""

    def __init__(self, engine: MaxComputeExecutor, session: SessionState,
                 why_not: WhyNot) -> None:
        self.engine = engine
        self.backend = engine.backend
        self.catalogue = engine.catalogue
        self.session = session
        self.u = session.user
        self.who = session.written
        self.p = session.project
        self.why_not = why_not
        self.gates: list[Gate] = []
        self.needs: list[_Need] = []
        self._objects = {obj.id: obj for prj in self.catalogue.projects.values()
                         for obj in [prj.object, *prj.objects.values()]}
        self._asked_units = self._asked()
        self._baseline: dict[str, set[tuple[str, ...]]] = {}
        self._applied = False
        for failure in why_not.needs:
            need = _Need()
            for number, alternative in enumerate(failure.alternatives):
                body = alternative.alternative.body
                if body and isinstance(body[0], Atom) and body[0].pred == "package_route":
                    need.options.extend(self._package_options(body))
                    continue
                groups = self._groups(failure.need.what, body, record=number == 0)
                need.reasons.extend(g.reason for g in groups if g.reason)
                if groups and all(g.options or g.optional for g in groups):
                    need.options.extend(_combine(
                        [g.options + ([()] if g.optional else []) for g in groups]))
            need.options = _smallest(need.options, _PER_NEED)
            self.needs.append(need)

    # questions to the rules ---------------------------------------------------------------

    def _holds(self, literal: Literal) -> bool:
        return bool(self.backend.solve((literal,), limit=1))

    def _fact(self, pred: str, *args: object) -> bool:
        return self._holds(atom(pred, *args))

    def _member(self, project: str, user: str | None = None) -> bool:
        return self._fact("in_project", user or self.u, project)

    def _members(self, project: str) -> tuple[str, ...]:
        rows = self.backend.query(Atom("in_project", (Var("U"), Const(project))))
        return tuple(sorted(str(r[0]) for r in rows))

    def _effective_level(self, obj: str, column: str) -> int:
        rows = self.backend.query(atom("effective_level", self.u, obj, column, Var("L")))
        return max((int(r[3]) for r in rows), default=0)

    def _label(self, obj: str, column: str) -> int:
        rows = self.backend.query(atom("label", obj, column, Var("L")))
        return max((int(r[2]) for r in rows), default=0)

    def _rights_of(self, right: str) -> set[str]:
        rows = self.backend.query(Atom("management_right", (Var("K"), Const(right))))
        return {str(r[0]) for r in rows}

    # the session --------------------------------------------------------------------------

    def context(self) -> dict[str, Any]:
        """What the session has where the deny happens, and which layer refuses."""
        projects = sorted({self.p} | set(self._projects()))
        member_of: dict[str, dict[str, Any]] = {}
        for name in projects:
            prj = self.catalogue.projects.get(name)
            if prj is None or not self._member(name):
                continue
            standing = sorted(str(r[2]) for r in self.backend.query(
                atom("standing", self.u, name, Var("K"))))
            roles = sorted(r.name for r in prj.roles.values()
                           if (self.u, r.id) in self.catalogue.user_roles)
            levels = self.backend.query(atom("clearance", self.u, name, Var("L")))
            member_of[name] = {"standing": standing, "roles": roles,
                               "label_level": max((int(r[2]) for r in levels), default=0)}
        layers = list(dict.fromkeys(g.layer for g in sorted(
            self.gates, key=lambda g: LAYERS.index(g.layer))))
        context: dict[str, Any] = {
            "user": self.who,
            "project": self.p,
            "member_of": member_of,
            "not_member_of": [p for p in projects if p not in member_of],
            "failing_layer": layers[0] if layers else None,
            "failing_layers": layers,
            "gates": [{"need": g.need, "layer": g.layer, "detail": g.detail}
                      for g in self.gates],
            "protection": {name: {"on": prj.flags["projectprotection"],
                                  "trusted": sorted(prj.trusted)}
                           for name in projects
                           if (prj := self.catalogue.projects.get(name)) is not None},
        }
        context["summary"] = self._summary(context)
        return context

    def _summary(self, context: dict[str, Any]) -> str:
        held = []
        for name, info in context["member_of"].items():
            roles = ", ".join(dict.fromkeys(info["standing"] + info["roles"])) or "no roles"
            held.append(f"{name} ({roles}; label level {info['label_level']})")
        lines = [f"session: {self.who} in project {self.p}; member of "
                 f"{', '.join(held) or 'no project involved'}"
                 + (f"; not a member of {', '.join(context['not_member_of'])}"
                    if context["not_member_of"] else "")]
        gates = sorted(self.gates, key=lambda g: LAYERS.index(g.layer))
        if gates:
            lines.append(f"failing layer: {gates[0].layer} -- {gates[0].detail}")
            lines.extend(f"  also {g.layer} -- {g.detail}" for g in gates[1:])
        return "\n".join(lines)

    def _projects(self) -> list[str]:
        """The projects the failed needs are about: of their objects, and named ones."""
        out = []
        for failure in self.why_not.needs:
            for alt in failure.alternatives:
                for lit in alt.alternative.body:
                    a = lit.atom if isinstance(lit, Negation) else lit
                    if not isinstance(a, Atom):
                        continue
                    for term in a.args:
                        value = _value(term)
                        if value in self._objects:
                            out.append(self._objects[value].project)
                        elif value in self.catalogue.projects:
                            out.append(str(value))
        return list(dict.fromkeys(out))

    # gates of one alternative -------------------------------------------------------------

    def _groups(self, what: str, body: Sequence[Literal], *, record: bool) -> list[_Group]:
        """The failing gates of a direct path (or a management need), grouped by kind."""
        failing = [lit for lit in body if not self._holds(lit)]
        groups: list[_Group] = []
        allowed: dict[tuple[str, str], list[str]] = {}
        labels: dict[str, list[str]] = {}
        flows: dict[str, list[str]] = {}
        denies: dict[tuple[str, str, str], list[str]] = {}  # (action, object, task) -> cols
        for lit in failing:
            if isinstance(lit, Negation):
                args = [_value(a) for a in lit.atom.args]
                columns = denies.setdefault((args[1], args[2], args[-1]), [])
                if lit.atom.pred == "denied_column":
                    columns.append(args[3])
                continue
            if not isinstance(lit, Atom):
                continue
            args = [_value(a) for a in lit.args]
            if lit.pred == "in_project":
                groups.append(self._membership(what, args[1], record))
            elif lit.pred == "instance_ok":
                groups.append(self._instance(what, args[2], args[3], record))
            elif lit.pred in ("allowed", "allowed_column"):
                columns = allowed.setdefault((args[1], args[2]), [])
                if lit.pred == "allowed_column":
                    columns.append(args[3])
            elif lit.pred == "label_ok":
                labels.setdefault(args[1], []).append(args[2])
            elif lit.pred == "flow_ok":
                flows.setdefault(args[2], []).append(args[3])
            elif lit.pred in MANAGEMENT:
                groups.append(self._management(what, lit.pred, args, record))
        for (action, obj, task), columns in denies.items():
            groups.append(self._deny(what, action, obj, task, columns, record))
        for (action, obj), columns in allowed.items():
            groups.append(self._allow(what, action, obj, columns, record))
        for obj, columns in labels.items():
            groups.append(self._labels(what, obj, columns, record))
        for obj, destinations in flows.items():
            groups.append(self._flows(what, obj, destinations, record))
        return groups

    def _gate(self, record: bool, what: str, layer: str, detail: str) -> None:
        if record and not any(g.layer == layer and g.detail.startswith(detail)
                              for g in self.gates):
            self.gates.append(Gate(what, layer, detail))

    def _add_user(self, project: str) -> Step:
        return Step(project, f"add user {self.who}", (self.u,),
                    f"{self.who} becomes a member of {project}")

    def _membership(self, what: str, project: str, record: bool) -> _Group:
        self._gate(record, what, "membership", f"{self.who} is not a member of {project}")
        return _Group([(self._add_user(project),)])

    def _instance(self, what: str, kind: str, action: str, record: bool) -> _Group:
        """The job's own project: membership, and CreateInstance for coupled actions."""
        p = self.p
        coupled = self._fact("coupled_action", kind, action)
        grant = Step(p, f"grant CreateInstance on project {p} to user {self.who}", (self.u,),
                     f"jobs of {self.who} may run in {p}")
        if not self._member(p):
            self._gate(record, what, "membership",
                       f"{self.who} is not a member of {p} (where the job runs)")
            add = self._add_user(p)
            return _Group([(add,), (add, grant)] if coupled else [(add,)])
        obj = self.catalogue.projects[p].object.id
        if self._fact("denied", self.u, "createinstance", obj, "sql"):
            return self._deny(what, "createinstance", obj, "sql", [], record)
        self._gate(record, what, "acl", f"no CreateInstance on project {p} reaches {self.who} "
                                        "(the action is coupled with it)")
        options: list[Option] = [(grant,)]
        options.extend((s,) for s in self._role_steps(p, "createinstance", obj, ()))
        return _Group(options)

    # the allow phase ----------------------------------------------------------------------

    def _object_phrase(self, obj: ObjectRec) -> str:
        return f"project {obj.project}" if obj.kind == "project" else f"{obj.kind} {obj.name}"

    def _allow(self, what: str, action: str, oid: str, columns: list[str],
               record: bool) -> _Group:
        obj = self._objects.get(oid)
        if obj is None:
            return _Group([])
        q = obj.project
        if not self._member(q) and self._granted(action, oid, columns):
            return _Group([], optional=True)  # kept grants count again once a member
        on = self._object_phrase(obj)
        shown = f"{on}({', '.join(columns)})" if columns and len(columns) < len(obj.columns) \
            else on
        self._gate(record, what, "acl", f"no grant of {_camel(action)} on {shown} in {q} "
                                        f"reaches {self.who}, directly or through a role")
        options: list[Option] = []
        grant = Step(q, f"grant {_camel(action)} on {on} to user {self.who}", (self.u,),
                     f"{self.who} gets {_camel(action)} on the {obj.kind}")
        partial = [c for c in columns if c in obj.columns]
        if obj.kind == "table" and partial and set(partial) != set(obj.columns):
            options.append((Step(q, f"grant {_camel(action)} on {on} ({', '.join(partial)}) "
                                    f"to user {self.who}", (self.u,),
                                 f"{self.who} gets {_camel(action)} on these columns only"),))
        options.append((grant,))
        options.extend((s,) for s in self._role_steps(q, action, oid, partial))
        if not self.catalogue.projects[q].flags["checkpermissionusingacl"]:
            switch = Step(q, "set CheckPermissionUsingACL=true", self._members(q),
                          f"ACL grants count again in {q}")
            options = [(switch, *o) for o in options]
        return _Group(options, optional=not self._member(q))

    def _granted(self, action: str, oid: str, columns: list[str]) -> bool:
        """Whether a live ACL row of the user itself covers the access."""
        rows, now = self.catalogue.acl_rows, self.catalogue.now
        if any(rows.get(("user", self.u, a, oid), 0) > now for a in (action, "all")):
            return True
        return bool(columns) and all(
            any(rows.get(("user", self.u, a, oid, c), 0) > now for a in (action, "all"))
            for c in columns)

    def _role_steps(self, project: str, action: str, oid: str,
                    columns: Iterable[str]) -> list[Step]:
        """``grant <role> to <user>`` for each role of the project that holds the action."""
        prj = self.catalogue.projects[project]
        now = self.catalogue.now
        steps = []
        for role in sorted(prj.roles.values(), key=lambda r: r.name):
            if role.builtin or (self.u, role.id) in self.catalogue.user_roles:
                continue
            rows = self.catalogue.acl_rows
            whole = any(rows.get(("role", role.id, a, oid), 0) > now for a in (action, "all"))
            cols = list(columns)
            by_column = bool(cols) and all(
                any(rows.get(("role", role.id, a, oid, c), 0) > now for a in (action, "all"))
                for c in cols)
            by_policy = any(key[0] == role.id and key[1] == "allow"
                            for key in self.catalogue.policy_entries) or \
                ("role", role.id) in self.catalogue.policy_docs
            if whole or by_column or by_policy:
                steps.append(Step(project, f"grant {role.name} to {self.who}", (self.u,),
                                  f"role {role.name} holds {_camel(action)}"))
        return steps[:3]

    # policy Deny --------------------------------------------------------------------------

    def _deny(self, what: str, action: str, oid: str, task: str, columns: list[str],
              record: bool) -> _Group:
        """The Deny statements that cover the access, and how each can be taken away."""
        obj = self._objects.get(oid)
        q = obj.project if obj else self.p
        st, scope = Var("St"), Var("Scope")
        found: dict[str, str] = {}  # statement -> its scope
        for column in columns or [None]:
            body = (atom("applies_to", st, self.u, q),
                    Atom("policy", (st, Const(q), scope, Const("deny"))),
                    atom("policy_live", st), atom("deny_task", st, task),
                    atom("on_column", st, action, oid, column) if column else
                    atom("on_object", st, action, oid))
            for binding in self.backend.solve(body, limit=8):
                found.setdefault(str(binding["St"]), str(binding["Scope"]))
        entries = {v: k for k, v in self.catalogue.policy_entries.items()}
        options: list[Option] = []
        sources = []
        for st_id, where in found.items():
            key = entries.get(st_id)
            if key is not None:
                role = self._role(q, key[0])
                revoke = self._revoke_entry(q, key)
                if revoke and role is not None:
                    options.append((Step(q, revoke, self._holders(q, role.id),
                                         f"takes the Deny entry off role {role.name}"),))
                sources.append(f"a Deny entry of role {role.name if role else key[0]}")
            elif where == "role":
                sources.append("a Deny statement of a role policy")
            else:
                sources.append(f"a Deny statement of the project policy of {q}")
                options.append((Step(q, "set CheckPermissionUsingPolicy=false",
                                     self._members(q),
                                     f"policies stop counting in {q} (or put a policy without "
                                     "the Deny)"),))
            for row in self.backend.query(atom("policy_role", st_id, Var("R"))):
                role = self._role(q, str(row[1]))
                if role is not None and not role.builtin and \
                        (self.u, role.id) in self.catalogue.user_roles:
                    options.append((Step(q, f"revoke {role.name} from {self.who}", (self.u,),
                                         f"{self.who} leaves role {role.name}, whose policy "
                                         "denies it"),))
        target = f"{_camel(action)} on " + (
            (obj.qualified if obj.kind != "project" else f"project {q}") if obj else oid)
        if columns:
            target += f"({', '.join(columns)})"
        self._gate(record, what, "policy deny",
                   f"{' and '.join(dict.fromkeys(sources)) or 'a Deny policy'} "
                   f"covers {target} for {self.who}")
        return _Group(list(dict.fromkeys(options)))

    def _role(self, project: str, rid: str) -> RoleRec | None:
        prj = self.catalogue.projects.get(project)
        return next((r for r in prj.roles.values() if r.id == rid), None) if prj else None

    def _holders(self, project: str, rid: str) -> tuple[str, ...]:
        rows = self.backend.query(Atom("holds_role", (Var("U"), Const(rid), Const(project))))
        return tuple(sorted(str(r[0]) for r in rows))

    def _revoke_entry(self, project: str,
                      key: tuple[str, str, str, str, tuple[str, ...]]) -> str | None:
        """The REVOKE that removes one GRANT-syntax policy entry (A-POLICY example 4)."""
        rid, effect, action, resource, columns = key
        role = self._role(project, rid)
        on = _object_of_arn(resource)
        if role is None or on is None:
            return None
        cols = f" ({', '.join(columns)})" if columns else ""
        allow = "true" if effect == "allow" else "false"
        return (f"revoke {_camel(action)} on {on}{cols} from role {role.name} "
                f'privilegeproperties("policy"="true", "allow"="{allow}")')

    # LabelSecurity and ProjectProtection --------------------------------------------------

    def _labels(self, what: str, oid: str, columns: list[str], record: bool) -> _Group:
        obj = self._objects.get(oid)
        if obj is None:
            return _Group([])
        q = obj.project
        member = self._member(q)
        levels = {c: self._label(oid, c) for c in columns}
        mine = {c: self._effective_level(oid, c) for c in columns}
        above = [c for c in columns if levels[c] > mine[c]]
        if not self.catalogue.projects[q].flags["labelsecurity"] or not above:
            # labels are off, or the user's level would do: only membership is missing
            return _Group([], optional=not member)
        need = max(levels[c] for c in above)
        shown = ", ".join(f"{c} is labelled {levels[c]}" for c in above)
        self._gate(record, what, "label", f"in {obj.qualified} {shown}; the effective label of "
                                          f"{self.who} is {max(mine[c] for c in above)}")
        cols = ", ".join(above)
        options: list[Option] = [
            (Step(q, f"grant label {need} on table {obj.name}({cols}) to user {self.who} "
                     f"with exp {LABEL_GRANT_DAYS}", (self.u,),
                  f"level {need} on {cols} for {LABEL_GRANT_DAYS} days"),),
            (Step(q, f"set label {need} to user {self.who}", (self.u,),
                  f"the access level of {self.who} in {q} becomes {need}"),),
        ]
        return _Group(options, optional=not member)

    def _flows(self, what: str, oid: str, destinations: list[str], record: bool) -> _Group:
        obj = self._objects.get(oid)
        if obj is None:
            return _Group([])
        q = obj.project
        blocked = [d for d in destinations if d != "client"]
        where = ", ".join(destinations)
        detail = f"{q} is protected and does not let data of {obj.qualified} flow to {where}"
        if len(blocked) < len(destinations):
            # no project trusts a client: only an exception policy (a file) lets it out,
            # which is more than statements can say
            detail += (f" (a Tunnel download needs an exception policy: set "
                       f"ProjectProtection=true with exception <file>, run in {q})")
        self._gate(record, what, "protection", detail)
        if len(blocked) < len(destinations):
            return _Group([])
        steps = tuple(Step(q, f"add trustedproject {d}", self._members(d),
                           f"data of {q} may flow to {d}, for every job there")
                      for d in blocked)
        return _Group([steps])

    # management ---------------------------------------------------------------------------

    def _management(self, what: str, pred: str, args: list[Any], record: bool) -> _Group:
        """Rights come from standing (owner, Super_Administrator, the Admin role)."""
        q, right, standings = self._standings(pred, args)
        prefix: Option = () if self._member(q) else (self._add_user(q),)
        if pred == "may_add_user" and self._fact("may_manage", self.u, q, "adduser"):
            reason = ("a RAM user is added only by a principal of its own Alibaba Cloud "
                      "account, and no member of that account may add users here")
            self._gate(record, what, "management", reason)
            return _Group([], reason=reason)
        names = " or ".join(sorted(standings)) or "nobody"
        self._gate(record, what, "management",
                   f"{right} in {q} is for the {names}; {self.who} has no such standing")
        options: list[Option] = []
        for role in ("admin", "super_administrator"):
            if role in standings:
                options.append((*prefix, Step(q, f"grant {role} to {self.who}", (self.u,),
                                              f"{self.who} gets the {role} role of {q}")))
        if options:
            return _Group(options)
        return _Group([], reason=f"only the owner of {q} may {right}, and no statement "
                                 "makes another account the owner")

    def _standings(self, pred: str, args: list[Any]) -> tuple[str, str, set[str]]:
        """The project, the right (in words) and the standings that hold it."""
        if pred in ("may_grant", "may_revoke"):
            # (U, A, O, K, S): Download and built-in roles are the owner's and
            # Super_Administrator's; everything else also the Admin role's (acl.dl)
            obj = self._objects.get(str(args[2]))
            q = obj.project if obj else self.p
            builtin = args[3] == "role" and bool(
                self.backend.query(Atom("builtin_role", (Const(args[4]), Var("N")))))
            verb = "Grant" if pred == "may_grant" else "Revoke"
            standings = {"owner", "super_administrator"}
            if args[1] != "download" and not builtin:
                standings.add("admin")
            return q, f"{verb} {_camel(str(args[1]))}", standings
        q = str(args[1])
        if pred == "may_set_role_policy":
            role = self._role(q, str(args[2]))
            builtin = role is not None and role.builtin
            standings = {"owner", "super_administrator"} | (set() if builtin else {"admin"})
            return q, "changing role policies", standings
        if pred == "may_manage":
            right = str(args[2])
        elif pred == "may_add_user":
            right = "adduser"
        else:  # may_grant_role / may_revoke_role (U, Q, R)
            role = self._role(q, str(args[2]))
            name = role.name if role is not None and role.builtin else ""
            right = {"admin": "grantadminrole",
                     "super_administrator": "grantsuperadministratorrole"}.get(
                name, "grantrole" if pred == "may_grant_role" else "revokerole")
        return q, _camel(right), self._rights_of(right)

    # the package path ---------------------------------------------------------------------

    def _package_options(self, body: Sequence[Literal]) -> list[Option]:
        """Through a package of the object's project that holds it: allow, install, Read."""
        route = body[0]
        assert isinstance(route, Atom)
        _, p, action, oid, _, _ = (_value(a) for a in route.args)
        obj = self._objects.get(oid)
        if obj is None:
            return []
        flows = [_value(lit.args[1]) for lit in body if isinstance(lit, Atom)
                 and lit.pred == "package_flow"]
        if any(d != p for d in flows):
            return []  # package access stays inside the installing project
        columns = [_value(lit.args[3]) for lit in body if isinstance(lit, Atom)
                   and lit.pred == "package_label_ok"]
        provider = self.catalogue.projects[obj.project]
        out: list[Option] = []
        for pkg in sorted(provider.packages.values(), key=lambda k: k.name):
            if oid in pkg.items and any(self._fact("covers", priv, obj.kind, action)
                                        for priv in pkg.items[oid]):
                option = self._package_steps(pkg, provider, obj, p, columns)
                if option is not None:
                    out.append(option)
        return out

    def _package_steps(self, pkg: PackageRec, provider: ProjectRec, obj: ObjectRec, p: str,
                       columns: list[str]) -> Option | None:
        consumer = self.catalogue.projects.get(p)
        if consumer is None:
            return None
        steps: list[Step] = []
        level = max((self._label(obj.id, c) for c in columns), default=0) \
            if provider.flags["labelsecurity"] else 0
        members = self._members(p)
        if p not in pkg.allowed or pkg.allowed[p] < level:
            using = f" using label {level}" if level else ""
            steps.append(Step(provider.name, f"allow project {p} to install package "
                                             f"{pkg.name}{using}", members,
                              f"{p} may install {pkg.id}"))
        installed = consumer.objects.get(("package", pkg.id))
        if installed is None:
            steps.append(Step(p, f"install package {pkg.id}", members,
                              f"{pkg.id} becomes an object of {p}"))
        if not self._member(p):
            steps.append(self._add_user(p))
        if installed is None or not self._fact("allowed", self.u, "read", installed.id, "sql"):
            steps.append(Step(p, f"grant Read on package {pkg.id} to user {self.who}",
                              (self.u,), f"{self.who} reads through package {pkg.id}"))
        return tuple(steps)

    # blast radius -------------------------------------------------------------------------

    def _asked(self) -> set[tuple[str, ...]]:
        """The units of reach the denied request itself is made of (see ``reach``)."""
        out: set[tuple[str, ...]] = set()
        for need in self.why_not.decision.requirement.needs:
            read: dict[str, set[str]] = {}
            for lit in need.alternatives[0].body:
                if not isinstance(lit, Atom) or _value(lit.args[0]) != self.u:
                    continue
                args = [str(_value(a)) for a in lit.args]
                if lit.pred == "allowed":
                    out.add((self.u, "do", args[1], args[2]))
                elif lit.pred == "allowed_column" and args[1] == "select":
                    out.add((self.u, "read", args[2], args[3]))
                    read.setdefault(args[2], set()).add(args[3])
                elif lit.pred == "allowed_column":
                    out.add((self.u, "do", args[1], args[2]))
                elif lit.pred == "label_ok":
                    out.add((self.u, "read", args[1], args[2]))
                elif lit.pred == "flow_ok":
                    out.add((self.u, "flow", args[2], args[3]))
            for oid, columns in read.items():  # every column read: the table is asked for
                obj = self._objects.get(oid)
                if obj is not None and columns >= set(obj.columns):
                    out.add((self.u, "do", "select", oid))
        return out

    def reach(self, user: str, flows: set[tuple[str, str]]) -> set[tuple[str, ...]]:
        """What one user may reach: ("do", action, object) allows, ("read", object,
        column) readable columns, ("flow", object, project) reads a job there may make."""
        o, a, c, d = Var("O"), Var("A"), Var("C"), Var("D")
        query = self.backend.query
        denies = any(row[3] == "deny" for row in self.backend.facts("policy"))
        allowed = {(str(r[1]), str(r[2])) for r in query(atom("allowed", user, a, o, "sql"))}
        if denies:
            allowed -= {(str(r[1]), str(r[2]))
                        for r in query(atom("denied", user, a, o, "sql"))}
        out = {(user, "do", act, obj) for act, obj in allowed}
        columns = {(str(r[2]), str(r[3])) for r in query(
            atom("allowed_column", user, "select", o, c, "sql"))}
        if denies:
            columns -= {(str(r[2]), str(r[3])) for r in query(
                atom("denied_column", user, "select", o, c, "sql"))}
        if columns:
            columns &= {(str(r[1]), str(r[2])) for r in query(atom("label_ok", user, o, c))}
        out |= {(user, "read", obj, col) for obj, col in columns}
        selectable = {obj for act, obj in allowed if act == "select"}
        if selectable:
            jobs = {str(r[1]) for r in query(atom("may_create_instance", user, d))}
            out |= {(user, "flow", obj, dest) for obj, dest in flows
                    if obj in selectable and dest in jobs}
        return out

    def access_count(self, users: Sequence[str], objects: Sequence[str] | None = None) -> int:
        """The reach of these users, the denied request counted as one unit: the core
        takes that unit off, so the blast radius is what else a repair opens. (MaxCompute
        candidates name no ``objects``: the reach is always counted whole.)"""
        if not users:
            return 0
        baseline = not self._applied  # no repair applied since the last count
        self._applied = False
        flows: set[tuple[str, str]] | None = None
        reach: set[tuple[str, ...]] = set()
        for user in dict.fromkeys(users):
            if baseline and user in self._baseline:
                reach |= self._baseline[user]
                continue
            if flows is None:
                flows = {(str(r[0]), str(r[1])) for r in self.backend.query(
                    Atom("flow_open", (Var("O"), Var("D"))))}
            mine = self.reach(user, flows)
            if baseline:
                self._baseline[user] = mine
            reach |= mine
        return len(reach - self._asked_units) + (1 if self._asked_units <= reach else 0)

    def applying(self, apply: Callable[[], str]) -> str:
        """Run a repair's ``apply``; the next count sees a changed state (until then the
        state is the one the deny was found in, whose reach is computed once)."""
        self._applied = True
        return apply()

    # candidates ---------------------------------------------------------------------------

    @property
    def unrepairable(self) -> str | None:
        """Why no statement can turn this deny into an allow, when that is so."""
        for need in self.needs:
            if not need.options and need.reasons:
                return need.reasons[0]
        return None

    def candidates(self) -> list[Candidate]:
        """Every failed need opened at once, smallest first; then the session's own move."""
        out: list[Candidate] = []
        if self.needs and all(n.options for n in self.needs):
            combos = _smallest(_combine([n.options for n in self.needs]), _CANDIDATES)
            out.extend(self._candidate(c) for c in combos)
        out.extend(self._session_candidates())
        return out

    def _candidate(self, steps: Option) -> Candidate:
        # projects in the order their first step needs them (a package is allowed by its
        # provider before it is installed); the session's project needs no USE line
        order = list(dict.fromkeys(s.project for s in steps))
        statements: list[str] = []
        current = self.p
        for project in order:
            if project != current:
                statements.append(f"use {project}")
                current = project
            statements.extend(s.statement for s in steps if s.project == project)
        users = tuple(sorted({u for s in steps for u in s.affected}))
        note = "; ".join(dict.fromkeys(s.note for s in steps if s.note))
        return Candidate(tuple(statements), "owner", users, note)

    def _session_candidates(self) -> list[Candidate]:
        """``use <project>``: a read-only request for data of one protected project runs
        its job there, so the data does not leave it."""
        if not any(g.layer == "protection" for g in self.gates):
            return []
        objects: set[str] = set()
        for need in self.why_not.decision.requirement.needs:
            for lit in need.alternatives[0].body:
                a = lit.atom if isinstance(lit, Negation) else lit
                if not isinstance(a, Atom):
                    continue
                if a.pred in ("allowed", "allowed_column", "denied", "denied_column"):
                    if _value(a.args[1]) != "select":
                        return []
                    objects.add(str(_value(a.args[2])))
        projects = {self._objects[o].project for o in objects if o in self._objects}
        if len(projects) != 1 or len(objects) != len(
                [o for o in objects if o in self._objects]):
            return []
        (q,) = projects
        if q == self.p or not self._member(q):
            return []
        return [Candidate((f"use {q}",), "session", (),
                          f"the job runs in {q}, so the data stays inside it")]


def _object_of_arn(resource: str) -> str | None:
    """``acs:odps:*:projects/p/tables/t`` -> ``table t``; ``.../projects/p`` -> ``project p``."""
    _, _, path = resource.partition(":projects/")
    project, _, rest = path.partition("/")
    if not project:
        return None
    if not rest:
        return f"project {project}"
    for prefix, kind in sorted(_KIND_OF_PATH.items(), key=lambda kv: -len(kv[0])):
        if rest.startswith(prefix + "/"):
            return f"{kind} {rest[len(prefix) + 1:]}"
    return None


def _combine(groups: Sequence[Sequence[Option]]) -> list[Option]:
    """One option of every group, steps deduplicated in order (a repair fixes them all)."""
    out: list[Option] = []
    for choice in product(*groups):
        steps: dict[tuple[str, str], Step] = {}
        for option in choice:
            for step in option:
                steps.setdefault((step.project, step.statement), step)
        if steps:
            out.append(tuple(steps.values()))
    return out


def _smallest(options: Iterable[Option], limit: int) -> list[Option]:
    unique = list(dict.fromkeys(options))
    return sorted(unique, key=len)[:limit]
