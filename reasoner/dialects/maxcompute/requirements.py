"""What each MaxCompute statement needs, as needs and alternatives over the rule base's
predicates, and the MaxCompute error text for a need that fails.

Python decides here what a statement does (which action on which object, which columns
it reads, where the data goes); the rules decide who may. Every access is one need with
two alternatives: the direct path (member of the object's project, not denied by policy,
allowed, every column readable under LabelSecurity, every data flow open under
ProjectProtection) and the package path (through a package installed in the session's
project). Each is a single conjunction, so the two paths never mix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reasoner.backends.base import Backend
from reasoner.datalog.ast import Atom, Const, Negation, Var
from reasoner.decision import Alternative, BodyLiteral, Need, Requirement

from .catalogue import ObjectRec, SessionState

PKG = Var("Pkg")
LEVEL = Var("L")

DENIED_TEXT = "Explicitly denied by policy."


def atom(pred: str, *args: object) -> Atom:
    return Atom(pred, tuple(a if isinstance(a, Var) else Const(a) for a in args))  # type: ignore[arg-type]


def no_privilege(action: str, resource: str, code: int = 4019) -> str:
    return (f"ODPS-0130013:Authorization Failed [{code}], You have NO privilege "
            f"'odps:{_camel(action)}' on {{{resource}}}.")


def not_member(project: str) -> str:
    return f"ODPS-0420095: Access Denied - You don't exist in project {project}."


_CAMEL = {name.lower(): name for name in (
    "CreateTable", "CreateInstance", "CreateFunction", "CreateResource", "CreateJob",
    "CreateVolume", "ShowHistory", "SetSecurityConfiguration", "SetLabelSecurity",
    "SetProjectProtection", "AddTrustedProject", "RemoveTrustedProject", "AddUser",
    "RemoveUser", "CreateRole", "DropRole", "GrantRole", "RevokeRole", "GrantAdminRole",
    "GrantSuperAdministratorRole", "CreatePackage", "DropPackage", "AddPackageResource",
    "RemovePackageResource", "AllowInstallPackage", "DisallowInstallPackage", "InstallPackage",
    "UninstallPackage", "GrantLabel", "RevokeLabel", "SetDataLabel", "ClearExpiredGrants",
    "PutProjectPolicy", "PutPolicy",
)}


def _camel(action: str) -> str:
    """MaxCompute's spelling of an action or management right: createtable -> CreateTable."""
    return _CAMEL.get(action, action[:1].upper() + action[1:])


@dataclass(frozen=True)
class Access:
    """One action of a statement on one object.

    ``columns``: the columns it reads (or a column list that restricts it); ``flows``:
    where the data it reads goes (projects, or "client" for a Tunnel download).
    """

    action: str
    obj: ObjectRec
    columns: tuple[str, ...] = ()
    flows: tuple[str, ...] = ()
    task: str = "sql"
    read: bool = False


Diagnosis = Callable[[], str]


@dataclass
class Needs:
    """Needs being collected for one statement, each with the text that explains it."""

    statement: str
    needs: list[Need] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)

    def add(self, need: Need, diagnosis: Diagnosis) -> None:
        if need not in self.needs:
            self.needs.append(need)
            self.diagnoses.append(diagnosis)

    def requirement(self) -> Requirement:
        return Requirement(self.statement, tuple(self.needs))


class Requirements:
    """Builds the needs of one session's statements; diagnoses failures for messages."""

    def __init__(self, backend: Backend, session: SessionState) -> None:
        self.backend = backend
        self.session = session
        self.u = session.user
        self.p = session.project

    def _holds(self, *body: BodyLiteral) -> bool:
        return bool(self.backend.solve(body, limit=1))

    # the job's own project -----------------------------------------------------------------

    def instance_need(self, kind: str, action: str) -> tuple[Need, Diagnosis]:
        """The CreateInstance coupling: the rules say which actions need it."""
        need = Need(f"run {action} as a job in project {self.p}", (Alternative(
            f"the job may run in {self.p}", (atom("instance_ok", self.u, self.p, kind, action),)),))

        def diagnose() -> str:
            if not self._holds(atom("in_project", self.u, self.p)):
                return not_member(self.p)
            return (f"ODPS-0420095: Access Denied - You have no privilege "
                    f"'odps:CreateInstance' on {{acs:odps:*:projects/{self.p}}}")

        return need, diagnose

    # object access ------------------------------------------------------------------------

    def direct_body(self, access: Access) -> tuple[BodyLiteral, ...]:
        u, a, o, t = self.u, access.action, access.obj.id, access.task
        body: list[BodyLiteral] = [atom("in_project", u, access.obj.project)]
        if access.columns:
            for c in access.columns:
                body.append(Negation(atom("denied_column", u, a, o, c, t)))
                body.append(atom("allowed_column", u, a, o, c, t))
        else:
            body.append(Negation(atom("denied", u, a, o, t)))
            body.append(atom("allowed", u, a, o, t))
        if access.read:
            body.extend(atom("label_ok", u, o, c) for c in access.columns)
            body.extend(atom("flow_ok", u, a, o, d, t) for d in access.flows)
        return tuple(body)

    def package_body(self, access: Access) -> tuple[BodyLiteral, ...]:
        u, a, o, t = self.u, access.action, access.obj.id, access.task
        body: list[BodyLiteral] = [atom("package_route", u, self.p, a, o, PKG, t)]
        if access.read:
            body.extend(atom("package_label_ok", PKG, self.p, o, c) for c in access.columns)
            body.extend(atom("package_flow", self.p, d) for d in access.flows)
        return tuple(body)

    def access_need(self, access: Access) -> tuple[Need, Diagnosis]:
        obj = access.obj
        where = obj.project if obj.kind == "project" else obj.qualified
        what = f"{access.action} on {obj.kind} {where}"
        if access.columns:
            what += f"({', '.join(access.columns)})"
        alternatives = [Alternative(f"{self.session.written} may {access.action} it in "
                                    f"project {obj.project}", self.direct_body(access))]
        if obj.kind in ("table", "function", "resource", "instance") and obj.project != self.p:
            alternatives.append(Alternative(
                f"through a package installed in {self.p}", self.package_body(access)))
        need = Need(what, tuple(alternatives))
        return need, lambda: self.explain(access)

    def explain(self, access: Access) -> str:
        """The error MaxCompute gives for the first gate of the direct path that fails."""
        obj = access.obj
        resource = obj.arns[0] if obj.arns else obj.id
        for literal in self.direct_body(access):
            if self._holds(literal):
                continue
            pred = literal.atom.pred if isinstance(literal, Negation) else literal.pred
            if pred == "in_project":
                return not_member(obj.project)
            if pred in ("denied", "denied_column"):
                return f"{no_privilege(access.action, resource, 4011)} {DENIED_TEXT}"
            if pred == "label_ok" and isinstance(literal, Atom):
                column = str(literal.args[2].value)  # type: ignore[union-attr]
                return self._label_text(obj, column)
            if pred == "flow_ok":
                return (f"{no_privilege(access.action, resource, 4021)} project "
                        f"'{obj.project}' is protected.")
            return no_privilege(access.action, resource)
        return no_privilege(access.action, resource)

    def _label_text(self, obj: ObjectRec, column: str) -> str:
        labels = self.backend.solve((atom("label", obj.id, column, LEVEL),))
        levels = self.backend.solve((atom("effective_level", self.u, obj.id, column, LEVEL),))
        label = max((int(b["L"]) for b in labels), default=0)
        mine = max((int(b["L"]) for b in levels), default=0)
        return (f"ODPS-0130013:Authorization Failed [4010], The sensitive label of column "
                f"'{column}' is {label}, but your effective label is {mine}.")

    # management ----------------------------------------------------------------------------

    def manage_need(self, project: str, what: str, label: str, body: tuple[BodyLiteral, ...],
                    action: str, resource: str | None = None) -> tuple[Need, Diagnosis]:
        """A management statement: one conjunction, explained as a missing privilege."""
        need = Need(what, (Alternative(label, body),))

        def diagnose() -> str:
            if not self._holds(atom("in_project", self.u, project)):
                return not_member(project)
            return no_privilege(action, resource or f"acs:odps:*:projects/{project}")

        return need, diagnose

    def may_manage(self, project: str, right: str, what: str) -> tuple[Need, Diagnosis]:
        return self.manage_need(project, what, f"{self.session.written} may {right} in {project}",
                                (atom("may_manage", self.u, project, right),), right)
