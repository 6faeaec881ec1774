"""Runs MaxCompute statements: plan (what is needed, what would change), authorize (the
rules), apply (the catalogue). A statement that fails changes nothing.

Validity comes first, with MaxCompute's texts (an unknown table, a grantee that is not a
member, a role still held); then the requirement is decided by the rules; then the
effect is applied. A denial raises :class:`DeniedError` carrying the decision and the
MaxCompute error text of the first gate that failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from reasoner.authorizer import decide
from reasoner.backends.base import Backend
from reasoner.datalog.ast import Atom, Var
from reasoner.decision import Decision, Requirement
from reasoner.errors import StatementError
from reasoner.facts import FactStore, Journal
from reasoner.source import Span

from . import sqlscan
from . import statements as st
from .catalogue import (
    FLAGS,
    Catalogue,
    ObjectRec,
    PackageRec,
    ProjectRec,
    RoleRec,
    SessionState,
    arn,
)
from .policy import ALL_TASKS, PolicyStatement, glob, parse_document
from .requirements import Access, Needs, Requirements, atom

BOOT = Span("<builtin>", 0, 0, "the reasoner's clock starts at day 0")
DEFAULT_LABEL_DAYS = 180  # GRANT LABEL without WITH EXP (W-GRANTLABEL)
MAX_DAYS = 2**63 - 1
DEFAULT_PACKAGE_PRIVILEGES = ("read", "describe", "select")
ACTION_ALIASES = {"run": "execute"}  # older docs name the function action Run
READ_ACTIONS = ("select", "download")
FLAG_RIGHT = {"labelsecurity": "setlabelsecurity", "projectprotection": "setprojectprotection"}

Effect = Callable[[], None]


@dataclass
class Plan:
    needs: Needs
    effect: Effect | None = None

    @property
    def requirement(self) -> Requirement:
        return self.needs.requirement()


class DeniedError(StatementError):
    """The authorization step said no; carries the decision for why-not."""

    def __init__(self, message: str, decision: Decision) -> None:
        super().__init__(message)
        self.decision = decision


class _Rollback(Exception):
    """Undoes a check's scratch changes (a check changes nothing)."""


class MaxComputeExecutor:
    """One tenant's projects, facts and sessions, and how statements change them."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.journal = Journal()
        self.facts = FactStore(backend, self.journal)
        self.catalogue = Catalogue(self.facts, self.journal)
        self._sessions = 0
        self.kind_actions: dict[str, set[str]] = {}
        for kind, action in backend.query(Atom("known_action", (Var("K"), Var("A")))):
            self.kind_actions.setdefault(str(kind), set()).add(str(action))
        with self.journal.transaction():
            self.catalogue.set_clock(0, BOOT)
            for action in sorted({a for acts in self.kind_actions.values() for a in acts}):
                self.catalogue.add_value(action, BOOT)

    # sessions and directives --------------------------------------------------------------

    def connect(self, principal: str, role: str | None, secondary: bool,
                span: Span) -> SessionState:
        """``<project> <user>``: the user's session with its current project."""
        words = principal.split()
        if not words:  # Reasoner.run opens the dialect's initial session: nobody yet
            self._sessions += 1
            return SessionState(f"s{self._sessions}", "", "", "")
        if len(words) != 2:
            raise StatementError(f"expected '<project> <user>' to connect, got {principal!r}")
        project, user = words[0].lower(), words[1]
        self._sessions += 1
        session = SessionState(f"s{self._sessions}", user.lower(), user, project)
        with self.journal.transaction():
            self.catalogue.register_principal(session.user, span)
        return session

    def disconnect(self, session: SessionState) -> None:
        """Sessions leave no facts behind; nothing to undo."""

    def directive(self, kind: str, words: Sequence[str], body: str) -> None:
        """The conformance records ``project``, ``policyfile`` and ``advance`` (and the
        script directives ``-- project``, ``-- policyfile`` ... ``-- end``, ``-- advance``)."""
        text = " ".join([kind, *words])
        span = Span("<directive>", 0, 0, text)
        with self.journal.transaction():
            if kind == "project":
                if len(words) != 3 or words[1].lower() != "owner":
                    raise StatementError(f"expected 'project <name> owner <principal>', got "
                                         f"{text!r}")
                self.catalogue.declare_project(words[0].lower(), words[2], span)
            elif kind == "policyfile":
                if len(words) != 1:
                    raise StatementError(f"expected 'policyfile <name>', got {text!r}")
                self.journal.set_item(self.catalogue.policy_files, words[0], body)
            elif kind == "advance":
                if len(words) not in (1, 2) or not words[0].isdigit() or (
                        len(words) == 2 and words[1].lower() not in ("day", "days")):
                    raise StatementError(f"expected 'advance <n> days', got {text!r}")
                self.catalogue.set_clock(self.catalogue.now + int(words[0]), span)
            else:
                raise StatementError(f"unknown record {kind!r}")

    # statements -----------------------------------------------------------------------------

    def execute(self, session: SessionState, statement: st.Statement) -> Decision:
        """Authorize and apply; raises StatementError with MaxCompute's text on failure."""
        with self.journal.transaction():
            plan = self.plan(session, statement)
            return self._run(plan)

    def _run(self, plan: Plan) -> Decision:
        requirement = plan.requirement
        decision = decide(self.backend, requirement)
        if not decision.allowed:
            raise DeniedError(self._message(plan.needs, decision), decision)
        if plan.effect is not None:
            plan.effect()
        return decision

    def _message(self, needs: Needs, decision: Decision) -> str:
        texts: list[str] = []
        for need, diagnose in zip(needs.needs, needs.diagnoses, strict=True):
            if need in decision.failed:
                try:
                    texts.append(diagnose())
                except Exception as exc:  # a message must never hide the deny
                    texts.append(f"access denied: {need.what} ({type(exc).__name__})")
        texts.extend(decision.errors)
        if not texts:
            texts.append("ODPS-0130013:Authorization Failed [4019], access denied")
        return "; ".join(dict.fromkeys(texts))

    def plan(self, session: SessionState, stmt: st.Statement) -> Plan:
        if not session.user:
            raise StatementError("no session: connect <project> <user> first")
        handler = getattr(self, f"_plan_{type(stmt).__name__}", None)
        if handler is None:
            raise StatementError(f"statement not supported by the reasoner: "
                                 f"{type(stmt).__name__}")
        return handler(session, stmt)

    # checks ---------------------------------------------------------------------------------

    def check(self, session: SessionState, privilege: str, kind: str, name: str) -> Decision:
        """Would a statement needing exactly this action on this object pass?"""
        with self._scratch():
            decision = decide(self.backend,
                              self.check_requirement(session, privilege, kind, name))
        return decision

    def check_requirement(self, session: SessionState, privilege: str, kind: str,
                          name: str) -> Requirement:
        action = privilege.strip().lower().removeprefix("odps:")
        action = ACTION_ALIASES.get(action, action)
        kind = kind.strip().lower()
        kind = "table" if kind == "view" else kind
        text = f"{privilege} on {kind} {name}"
        base, columns = _split_columns(name)
        obj = self._check_object(session, kind, base)
        read = obj.kind == "table" and action in READ_ACTIONS
        if read and not columns:
            columns = tuple(obj.columns)
        req = Requirements(self.backend, session)
        needs = Needs(text)
        needs.add(*req.instance_need(obj.kind, action))
        flows = ("client",) if action == "download" else (session.project,)
        needs.add(*req.access_need(Access(action, obj, columns, flows if read else (),
                                          "dt" if action == "download" else "sql", read)))
        return needs.requirement()

    @contextmanager
    def _scratch(self) -> Iterator[None]:
        """Changes made while answering a check (a lazily known instance) are undone."""
        try:
            with self.journal.transaction():
                yield
                raise _Rollback
        except _Rollback:
            pass

    def _check_object(self, session: SessionState, kind: str, name: str) -> ObjectRec:
        parts = [p.strip().strip("`").lower() for p in name.split(".")]
        if kind == "project":
            return self.catalogue.project(parts[-1]).object
        if kind == "package":
            prj = self._session_project(session)
            if len(parts) < 2:
                raise StatementError(f"expected <project>.<package>, got {name}")
            obj = prj.objects.get(("package", ".".join(parts)))
            if obj is None:
                raise StatementError(f"FAILED: package {name} is not installed in project "
                                     f"{prj.name}")
            return obj
        ref = st.Name(parts[0], ".".join(parts[1:])) if len(parts) > 1 else st.Name(None,
                                                                                     parts[0])
        return self._object(session, kind, ref)[1]

    # helpers ----------------------------------------------------------------------------------

    def _session_project(self, session: SessionState) -> ProjectRec:
        return self.catalogue.project(session.project)

    def _req(self, session: SessionState, text: str) -> tuple[Requirements, Needs]:
        return Requirements(self.backend, session), Needs(text)

    def _object(self, session: SessionState, kind: str, name: st.Name, *,
                must_exist: bool = True) -> tuple[ProjectRec, ObjectRec]:
        """Resolve ``[project.]name`` of one kind; instances are learnt on first mention."""
        project, base = name.project, name.name
        if kind == "resource" and project is not None and project not in self.catalogue.projects:
            project, base = None, f"{project}.{base}"  # a resource name with a dot: my.jar
        prj = self.catalogue.project(project or session.project)
        if kind == "project":
            return prj, prj.object
        obj = self.catalogue.find(prj, kind, base)
        if obj is None and kind == "instance":
            obj = self.catalogue.create_object(prj, "instance", base, None,
                                               Span("<instance>", 0, 0, base))
        if obj is None:
            if kind == "table":
                raise sqlscan.not_found(st.Name(prj.name, base))
            raise StatementError(f"FAILED: {kind} {prj.name}.{base} doesn't exist")
        return prj, obj

    def _grant_target(self, session: SessionState, on: st.ObjectRef
                      ) -> tuple[ProjectRec, ObjectRec]:
        if on.kind == "project":
            prj = self.catalogue.project(on.name.name if on.name.project is None
                                         else on.name.project)
            return prj, prj.object
        if on.kind == "package":
            prj = self._session_project(session)
            if on.name.project is None:
                raise StatementError("FAILED: a package is granted as <project>.<package>")
            obj = prj.objects.get(("package", str(on.name)))
            if obj is None:
                raise StatementError(f"FAILED: package {on.name} is not installed in project "
                                     f"{prj.name}")
            return prj, obj
        return self._object(session, on.kind, on.name)

    def _actions(self, kind: str, actions: tuple[str, ...], *, allow_all: bool = True
                 ) -> tuple[str, ...]:
        out = []
        known = self.kind_actions.get(kind, set())
        for action in actions:
            name = ACTION_ALIASES.get(action.lower(), action.lower())
            if not (name in known or (allow_all and name == "all")):
                raise StatementError(f"FAILED: invalid privilege '{action}' for object type "
                                     f"{kind}")
            out.append(name)
        return tuple(dict.fromkeys(out))

    def _columns(self, obj: ObjectRec, columns: tuple[str, ...]) -> tuple[str, ...]:
        if columns and obj.kind != "table":
            raise StatementError(f"FAILED: a column list needs a table, not a {obj.kind}")
        for col in columns:
            if col not in obj.columns:
                raise StatementError(f"ODPS-0130071: Semantic analysis exception - column "
                                     f"{col} cannot be resolved in table {obj.qualified}")
        return columns

    def _subject(self, prj: ProjectRec, subject: st.Subject, span: Span) -> tuple[str, str]:
        if subject.kind == "role":
            return "role", self.catalogue.role(prj, subject.name).id
        self.catalogue.register_principal(subject.name, span)
        self.catalogue.require_member(prj, subject.name, subject.written)
        return "user", subject.name

    def _subject_for(self, prj: ProjectRec, subject: st.Subject, span: Span, *,
                     grant: bool) -> tuple[str, str]:
        """A grantee must exist to receive a grant; a revoke may name a removed user."""
        if grant:
            return self._subject(prj, subject, span)
        if subject.kind == "role":
            return "role", self.catalogue.role(prj, subject.name).id
        self.catalogue.register_principal(subject.name, span)
        return "user", subject.name

    @staticmethod
    def _level(level: int) -> int:
        if not 0 <= level <= 9:
            raise StatementError(f"FAILED: invalid label {level}; labels are 0 to 9")
        return level

    def _columns_of(self, session: SessionState) -> sqlscan.Columns:
        def columns(name: st.Name) -> list[str] | None:
            prj = self.catalogue.projects.get(name.project or session.project)
            obj = prj.objects.get(("table", name.name)) if prj else None
            return list(obj.columns) if obj else None

        return columns

    def _table(self, session: SessionState, name: st.Name) -> tuple[ProjectRec, ObjectRec]:
        return self._object(session, "table", name)

    # users and roles --------------------------------------------------------------------------

    def _plan_AddUser(self, session: SessionState, s: st.AddUser) -> Plan:
        prj = self._session_project(session)
        req, needs = self._req(session, s.span.text)
        self.catalogue.register_principal(s.user.key, s.span)
        needs.add(*req.manage_need(prj.name, "ADD USER", f"may add {s.user}",
                                   (atom("may_add_user", session.user, prj.name, s.user.key),),
                                   "adduser"))
        return Plan(needs, lambda: self.catalogue.add_user(prj, s.user.key, s.user.written,
                                                           s.span))

    def _plan_RemoveUser(self, session: SessionState, s: st.RemoveUser) -> Plan:
        prj = self._session_project(session)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "removeuser", "REMOVE USER"))
        return Plan(needs, lambda: self.catalogue.remove_user(prj, s.user.key, s.user.written))

    def _plan_CreateRole(self, session: SessionState, s: st.CreateRole) -> Plan:
        prj = self._session_project(session)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "createrole", "CREATE ROLE"))
        return Plan(needs, lambda: self.catalogue.create_role(
            prj, s.name, s.type, s.span, if_not_exists=s.if_not_exists))

    def _plan_DropRole(self, session: SessionState, s: st.DropRole) -> Plan:
        prj = self._session_project(session)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "droprole", "DROP ROLE"))
        return Plan(needs, lambda: self.catalogue.drop_role(prj, s.name, if_exists=s.if_exists))

    def _roles(self, prj: ProjectRec, names: tuple[str, ...]) -> list[RoleRec]:
        return [self.catalogue.role(prj, n) for n in dict.fromkeys(names)]

    def _plan_GrantRoles(self, session: SessionState, s: st.GrantRoles) -> Plan:
        prj = self._session_project(session)
        req, needs = self._req(session, s.span.text)
        roles = self._roles(prj, s.roles)
        self.catalogue.register_principal(s.user.key, s.span)
        self.catalogue.require_member(prj, s.user.key, s.user.written)
        for role in roles:
            needs.add(*req.manage_need(prj.name, f"GRANT {role.name}", f"may grant {role.name}",
                                       (atom("may_grant_role", session.user, prj.name, role.id),),
                                       "grantrole"))
        return Plan(needs, lambda: self.catalogue.grant_roles(prj, roles, s.user.key,
                                                              s.user.written, s.span))

    def _plan_RevokeRoles(self, session: SessionState, s: st.RevokeRoles) -> Plan:
        prj = self._session_project(session)
        req, needs = self._req(session, s.span.text)
        roles = self._roles(prj, s.roles)
        for role in roles:
            needs.add(*req.manage_need(prj.name, f"REVOKE {role.name}",
                                       f"may revoke {role.name}",
                                       (atom("may_revoke_role", session.user, prj.name,
                                             role.id),), "revokerole"))
        return Plan(needs, lambda: self.catalogue.revoke_roles(roles, s.user.key))

    # ACL and policy entries ---------------------------------------------------------------------

    def _plan_GrantAcl(self, session: SessionState, s: st.GrantAcl) -> Plan:
        return self._acl_plan(session, s, grant=True)

    def _plan_RevokeAcl(self, session: SessionState, s: st.RevokeAcl) -> Plan:
        return self._acl_plan(session, s, grant=False)

    def _acl_plan(self, session: SessionState, s: st.GrantAcl | st.RevokeAcl, *,
                  grant: bool) -> Plan:
        if (s.prop("policy") or "").lower() == "true":
            return self._policy_entry_plan(session, s, grant=grant)
        if (s.prop("refobject") or "").lower() == "true":
            return self._refobject_plan(session, s, grant=grant)
        prj, obj = self._grant_target(session, s.on)
        actions = self._actions(obj.kind, s.actions)
        columns = self._columns(obj, s.on.columns)
        kind, subject = self._subject_for(prj, s.subject, s.span, grant=grant)
        if "download" in actions and obj.kind not in ("table", "function", "resource",
                                                      "instance"):
            raise StatementError(f"FAILED: Download cannot be granted on a {obj.kind}")
        req, needs = self._req(session, s.span.text)
        if kind == "user":
            self.catalogue.register_principal(subject, s.span)
        for action in actions:
            needs.add(*req.manage_need(
                prj.name, f"{'GRANT' if grant else 'REVOKE'} {action} ON {obj.kind} "
                f"{obj.name}", f"{session.written} may grant {action} on it",
                (atom("may_grant" if grant else "may_revoke", session.user, action, obj.id,
                      kind, subject),), action, obj.arns[0]))
        expires = self._expires(s.prop("expires"))
        conditional = bool(s.prop("conditions"))

        def effect() -> None:
            for action in actions:
                if not grant:
                    self.catalogue.revoke_acl(kind, subject, action, obj, columns)
                elif not conditional:  # a condition the reasoner cannot evaluate: no allow
                    self.catalogue.grant_acl(kind, subject, action, obj, columns, expires,
                                             s.span)

        return Plan(needs, effect)

    def _expires(self, days: str | None) -> int:
        if days is None:
            return self.catalogue.expiry(None)
        if not days.strip().isdigit():
            raise StatementError(f"FAILED: invalid expires value '{days}'")
        return self.catalogue.expiry(int(days))

    def _policy_entry_plan(self, session: SessionState, s: st.GrantAcl | st.RevokeAcl, *,
                           grant: bool) -> Plan:
        """GRANT ... privilegeproperties("policy"="true", "allow"=...): roles only (A-POLICY)."""
        if s.subject.kind != "role":
            raise StatementError("FAILED: policy-based authorization grants permissions to "
                                 "roles only, not to users")
        on = s.on
        if on.kind == "project":
            project = on.name.name if on.name.project is None else on.name.project
            resource = arn(project, "project")
        elif on.kind == "package":  # an installed package: an object of this project
            project = session.project
            resource = arn(project, "package", str(on.name))
        else:
            project = on.name.project or session.project
            resource = arn(project, on.kind, on.name.name)
        prj = self.catalogue.project(project)
        role = self.catalogue.role(prj, s.subject.name)
        actions = self._actions(on.kind, s.actions)
        allow = (s.prop("allow") or "true").strip().lower()
        if allow not in ("true", "false"):
            raise StatementError(f"FAILED: invalid allow value '{s.prop('allow')}'")
        effect_name = "allow" if allow == "true" else "deny"
        columns = on.columns
        req, needs = self._req(session, s.span.text)
        needs.add(*req.manage_need(prj.name, f"policy entry for role {role.name}",
                                   f"may change the policies of role {role.name}",
                                   (atom("may_set_role_policy", session.user, prj.name,
                                         role.id),), "grant"))
        expires = None if s.prop("expires") is None else self._expires(s.prop("expires"))
        opaque = bool(s.prop("conditions"))

        def effect() -> None:
            for action in actions:
                if grant:
                    stmt = PolicyStatement(effect_name, (), (action,), (resource,), ALL_TASKS,
                                           opaque)
                    self.catalogue.add_policy_entry(prj, role, stmt, columns, expires, s.span)
                else:
                    self.catalogue.remove_policy_entry(role, effect_name, action, resource,
                                                       columns)

        return Plan(needs, effect)

    def _refobject_plan(self, session: SessionState, s: st.GrantAcl | st.RevokeAcl, *,
                        grant: bool) -> Plan:
        """Fine-grained package access (W-PKGACL): an action on one object of a package
        installed in the session's project."""
        prj = self._session_project(session)
        provider = (s.prop("refproject") or s.on.name.project or "").lower()
        package = (s.prop("package") or "").lower()
        if not provider or not package:
            raise StatementError('FAILED: refobject grants need "refproject" and "package"')
        installed = prj.objects.get(("package", f"{provider}.{package}"))
        if installed is None:
            raise StatementError(f"FAILED: package {provider}.{package} is not installed in "
                                 f"project {prj.name}")
        if s.on.columns:
            raise StatementError("FAILED: column lists of refobject grants are not supported "
                                 "by the reasoner")
        _, obj = self._object(session, s.on.kind, st.Name(provider, s.on.name.name))
        actions = self._actions(obj.kind, s.actions, allow_all=False)
        kind, subject = self._subject_for(prj, s.subject, s.span, grant=grant)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.manage_need(prj.name, "grant on an installed package",
                                   "may grant on the installed package",
                                   (atom("may_grant", session.user, "read", installed.id, kind,
                                         subject),), "read"))

        def effect() -> None:
            for action in actions:
                row = (prj.name, kind, subject, action, obj.id, installed.package or "")
                if grant:
                    self.catalogue.add_ref_acl(*row[:4], obj, row[5], s.span)
                else:
                    self.catalogue.remove_ref_acl(row)

        return Plan(needs, effect)

    # labels -----------------------------------------------------------------------------------

    def _plan_SetLabelTable(self, session: SessionState, s: st.SetLabelTable) -> Plan:
        prj, obj = self._table(session, s.table)
        level = self._level(s.level)
        columns = self._columns(obj, s.columns)
        for col in columns:
            if col in obj.partition_columns:
                raise StatementError(f"FAILED: partition column {col} cannot be labelled")
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "setdatalabel", "SET LABEL"))

        def effect() -> None:
            if columns:
                self.catalogue.set_column_labels(obj, columns, level, s.span)
            else:
                self.catalogue.set_table_label(obj, level, s.span)

        return Plan(needs, effect)

    def _plan_SetLabelSubject(self, session: SessionState, s: st.SetLabelSubject) -> Plan:
        prj = self._session_project(session)
        level = self._level(s.level)
        kind, subject = self._subject(prj, s.subject, s.span)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "setdatalabel", "SET LABEL"))

        def effect() -> None:
            if kind == "user":
                self.catalogue.set_user_level(prj, subject, level, s.span)
            else:
                self.catalogue.set_role_level(self.catalogue.role(prj, s.subject.name), level,
                                              s.span)

        return Plan(needs, effect)

    def _plan_GrantLabel(self, session: SessionState, s: st.GrantLabel) -> Plan:
        prj, obj = self._table(session, s.table)
        level = self._level(s.level)
        columns = self._columns(obj, s.columns)
        kind, subject = self._subject(prj, s.subject, s.span)
        days = DEFAULT_LABEL_DAYS if s.days is None else s.days
        if not 0 <= days <= MAX_DAYS:
            raise StatementError(f"FAILED: invalid expiration {days}; 0 to 2^63-1 days")
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "grantlabel", "GRANT LABEL"))
        return Plan(needs, lambda: self.catalogue.grant_label(
            kind, subject, obj, columns, level, self.catalogue.expiry(days), s.span))

    def _plan_RevokeLabel(self, session: SessionState, s: st.RevokeLabel) -> Plan:
        prj, obj = self._table(session, s.table)
        columns = self._columns(obj, s.columns)
        kind, subject = self._subject_for(prj, s.subject, s.span, grant=False)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "revokelabel", "REVOKE LABEL"))
        return Plan(needs, lambda: self.catalogue.revoke_label(kind, subject, obj, columns))

    def _plan_ClearExpiredGrants(self, session: SessionState, s: st.ClearExpiredGrants) -> Plan:
        prj = self._session_project(session)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "clearexpiredgrants", "CLEAR EXPIRED GRANTS"))
        return Plan(needs, self.catalogue.clear_expired)

    # policies and switches ----------------------------------------------------------------------

    def _policy_file(self, name: str, *, principals: bool) -> list[PolicyStatement]:
        text = self.catalogue.policy_files.get(name)
        if text is None:
            raise StatementError(f"FAILED: policy file '{name}' not found")
        actions = sorted({a for acts in self.kind_actions.values() for a in acts})
        return parse_document(text, actions, principals=principals)

    def _plan_PutPolicy(self, session: SessionState, s: st.PutPolicy) -> Plan:
        prj = self._session_project(session)
        statements = self._policy_file(s.file, principals=s.role is None)
        req, needs = self._req(session, s.span.text)
        role = None
        if s.role is not None:
            role = self.catalogue.role(prj, s.role)
            needs.add(*req.manage_need(prj.name, f"PUT POLICY ON ROLE {role.name}",
                                       f"may change the policy of role {role.name}",
                                       (atom("may_set_role_policy", session.user, prj.name,
                                             role.id),), "putpolicy"))
        else:
            needs.add(*req.may_manage(prj.name, "putprojectpolicy", "PUT POLICY"))
        return Plan(needs, lambda: self.catalogue.put_policy(prj, role, statements, s.span))

    def _plan_SetFlag(self, session: SessionState, s: st.SetFlag) -> Plan:
        flag = s.name.lower()
        req, needs = self._req(session, s.span.text)
        if flag not in FLAGS:
            if s.exception_file is not None:
                raise StatementError("FAILED: WITH EXCEPTION belongs to ProjectProtection")
            return Plan(needs)  # a session setting (odps.sql....): nothing is guarded
        prj = self._session_project(session)
        value = s.value.strip().lower()
        if value not in ("true", "false"):
            raise StatementError(f"FAILED: invalid value '{s.value}' for {s.name} (true or "
                                 "false)")
        on = value == "true"
        if s.exception_file is not None and not (flag == "projectprotection" and on):
            raise StatementError("FAILED: WITH EXCEPTION needs SET ProjectProtection=true")
        exception = [] if s.exception_file is None else self._policy_file(
            s.exception_file, principals=True)
        needs.add(*req.may_manage(prj.name, FLAG_RIGHT.get(flag, "setsecurityconfiguration"),
                                  f"SET {s.name}"))

        def effect() -> None:
            self.catalogue.set_flag(prj, flag, on, s.span)
            if flag == "projectprotection":  # each SET replaces the exception policy
                self.catalogue.set_exception(prj, s.exception_file, exception, s.span)

        return Plan(needs, effect)

    def _plan_AddTrustedProject(self, session: SessionState, s: st.AddTrustedProject) -> Plan:
        prj = self._session_project(session)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "addtrustedproject", "ADD TRUSTEDPROJECT"))
        return Plan(needs, lambda: self.catalogue.add_trusted(prj, s.project, s.span))

    def _plan_RemoveTrustedProject(self, session: SessionState, s: st.RemoveTrustedProject
                                   ) -> Plan:
        prj = self._session_project(session)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "removetrustedproject", "REMOVE TRUSTEDPROJECT"))

        def effect() -> None:
            if s.project not in prj.trusted:
                raise StatementError(f"FAILED: {s.project} is not a trusted project of "
                                     f"{prj.name}")
            self.catalogue.remove_trusted(prj, s.project)

        return Plan(needs, effect)

    # packages -----------------------------------------------------------------------------------

    def _plan_CreatePackage(self, session: SessionState, s: st.CreatePackage) -> Plan:
        prj = self._session_project(session)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "createpackage", "CREATE PACKAGE"))
        return Plan(needs, lambda: self.catalogue.create_package(prj, s.name, s.span))

    def _plan_DropPackage(self, session: SessionState, s: st.DropPackage) -> Plan:
        prj = self._session_project(session)
        pkg = self.catalogue.package(prj, s.name)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "droppackage", "DELETE PACKAGE"))
        return Plan(needs, lambda: self.catalogue.drop_package(prj, pkg))

    def _package_objects(self, session: SessionState, prj: ProjectRec, kind: str,
                         name: st.Name) -> list[ObjectRec]:
        """The objects ADD / REMOVE ... PACKAGE names: one, or every match of a ``*``
        pattern (A-PKG: '*' allowed); names carry no project prefix."""
        if name.project is not None and name.project != prj.name and kind != "resource":
            raise StatementError("FAILED: package objects are named without a project prefix")
        base = name.name if name.project == prj.name else str(name)
        if "*" not in base:
            return [self._object(session, kind, st.Name(None, base))[1]]
        matcher = glob(base)
        return [o for (k, n), o in sorted(prj.objects.items()) if k == kind and matcher.match(n)]

    def _plan_AddToPackage(self, session: SessionState, s: st.AddToPackage) -> Plan:
        prj = self._session_project(session)
        pkg = self.catalogue.package(prj, s.package)
        objects = self._package_objects(session, prj, s.kind, s.name)
        privileges = DEFAULT_PACKAGE_PRIVILEGES if not s.privileges else self._actions(
            s.kind, s.privileges)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "addpackageresource", "ADD TO PACKAGE"))
        wildcard = "*" in s.name.name

        def effect() -> None:
            for obj in objects:
                if wildcard and obj.id in pkg.items:
                    continue  # a pattern adds what is not in the package yet
                self.catalogue.add_package_item(pkg, obj, privileges, s.span)

        return Plan(needs, effect)

    def _plan_RemoveFromPackage(self, session: SessionState, s: st.RemoveFromPackage) -> Plan:
        prj = self._session_project(session)
        pkg = self.catalogue.package(prj, s.package)
        objects = self._package_objects(session, prj, s.kind, s.name)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "removepackageresource", "REMOVE FROM PACKAGE"))
        wildcard = "*" in s.name.name

        def effect() -> None:
            for obj in objects:
                if obj.id not in pkg.items:
                    if wildcard:
                        continue
                    raise StatementError(f"FAILED: {obj.kind} {obj.name} is not in package "
                                         f"{pkg.name}")
                self.catalogue.remove_package_item(pkg, obj)

        return Plan(needs, effect)

    def _plan_AllowInstall(self, session: SessionState, s: st.AllowInstall) -> Plan:
        prj = self._session_project(session)
        pkg = self.catalogue.package(prj, s.package)
        level = self._level(0 if s.level is None else s.level)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "allowinstallpackage", "ALLOW PROJECT"))
        return Plan(needs, lambda: self.catalogue.allow_install(pkg, s.project, level, s.span))

    def _plan_DisallowInstall(self, session: SessionState, s: st.DisallowInstall) -> Plan:
        prj = self._session_project(session)
        pkg = self.catalogue.package(prj, s.package)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "disallowinstallpackage", "DISALLOW PROJECT"))
        return Plan(needs, lambda: self.catalogue.disallow_install(pkg, s.project))

    def _provider_package(self, provider: str, name: str) -> PackageRec:
        return self.catalogue.package(self.catalogue.project(provider), name)

    def _plan_InstallPackage(self, session: SessionState, s: st.InstallPackage) -> Plan:
        prj = self._session_project(session)
        pkg = self._provider_package(s.provider, s.package)
        if prj.name not in pkg.allowed:
            raise StatementError(f"FAILED: project {prj.name} is not allowed to install package "
                                 f"{pkg.id}")
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "installpackage", "INSTALL PACKAGE"))
        def effect() -> None:
            self.catalogue.install(prj, pkg, s.span)

        return Plan(needs, effect)

    def _plan_UninstallPackage(self, session: SessionState, s: st.UninstallPackage) -> Plan:
        prj = self._session_project(session)
        obj = prj.objects.get(("package", f"{s.provider}.{s.package}"))
        if obj is None:
            raise StatementError(f"FAILED: package {s.provider}.{s.package} is not installed "
                                 f"in project {prj.name}")
        req, needs = self._req(session, s.span.text)
        needs.add(*req.may_manage(prj.name, "uninstallpackage", "UNINSTALL PACKAGE"))
        return Plan(needs, lambda: self.catalogue.drop_object(prj, obj))

    # session and SHOW ---------------------------------------------------------------------------

    def _plan_Use(self, session: SessionState, s: st.Use) -> Plan:
        prj = self.catalogue.project(s.project)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.manage_need(prj.name, f"USE {prj.name}", "a member of the project",
                                   (atom("in_project", session.user, prj.name),), "use"))
        return Plan(needs, lambda: self.journal.set_attr(session, "project", prj.name))

    def _plan_Show(self, session: SessionState, s: st.Show) -> Plan:
        return Plan(Needs(s.span.text))

    def _plan_Other(self, session: SessionState, s: st.Other) -> Plan:
        return Plan(Needs(s.span.text))

    # ordinary SQL -------------------------------------------------------------------------------

    def _reads(self, session: SessionState, req: Requirements, needs: Needs,
               query: sqlscan.exp.Expression, flows: tuple[str, ...]) -> sqlscan.Reads:
        """Select needs for every table a query reads; the data goes to ``flows``."""
        found = sqlscan.reads(query, session.project, self._columns_of(session))
        if found.tables:
            needs.add(*req.instance_need("table", "select"))
        for name, columns in found.tables.items():
            _, obj = self._table(session, name)
            needs.add(*req.access_need(Access("select", obj, columns, flows, read=True)))
        return found

    def _plan_Query(self, session: SessionState, s: st.Query) -> Plan:
        self._session_project(session)
        req, needs = self._req(session, s.span.text)
        tree = s.tree
        p = session.project
        if s.kind == "select":
            found = self._reads(session, req, needs, tree, (p,))
            if not found.tables:
                needs.add(*req.instance_need("project", "createinstance"))
            return Plan(needs)
        if s.kind == "truncate":
            targets = [sqlscan.table_name(t, p) for t in tree.expressions
                       if isinstance(t, sqlscan.exp.Table)]
        else:
            target = sqlscan.target_table(tree, p)
            targets = [target] if target else []
        if not targets:
            raise StatementError("FAILED: cannot tell which table the statement writes")
        needs.add(*req.instance_need("table", "update"))
        flows = tuple(dict.fromkeys([p] + [t.project or p for t in targets]))
        for name in targets:
            _, obj = self._table(session, name)
            needs.add(*req.access_need(Access("update", obj)))
        if s.kind == "insert":
            source = tree.expression
            if isinstance(source, sqlscan.exp.Query):
                self._reads(session, req, needs, source, flows)
        elif s.kind in ("update", "delete", "merge"):
            for name in sqlscan.other_tables(tree, tree.this, p):
                if name in targets:
                    continue
                _, obj = self._table(session, name)
                needs.add(*req.instance_need("table", "select"))
                needs.add(*req.access_need(Access("select", obj, tuple(obj.columns), flows,
                                                  read=True)))
        return Plan(needs)

    def _plan_CreateTable(self, session: SessionState, s: st.CreateTable) -> Plan:
        self._session_project(session)
        prj = self.catalogue.project(s.table.project or session.project)
        req, needs = self._req(session, s.span.text)
        existing = self.catalogue.find(prj, "table", s.table.name)
        if existing is not None and not s.if_not_exists and not (
                s.or_replace and existing.view):
            raise StatementError(f"ODPS-0130071: Semantic analysis exception - Table or view "
                                 f"already exists - {prj.name}.{s.table.name}")
        needs.add(*req.instance_need("project", "createtable"))
        needs.add(*req.access_need(Access("createtable", prj.object)))
        columns = list(s.columns)
        flows = tuple(dict.fromkeys([session.project, prj.name]))
        if s.as_select is not None:
            found = self._reads(session, req, needs, s.as_select, flows)
            if not columns:
                columns = list(found.output)
        if s.like is not None:
            _, source = self._table(session, s.like)
            needs.add(*req.access_need(Access("describe", source)))
            columns = list(source.columns)

        def effect() -> None:
            current = self.catalogue.find(prj, "table", s.table.name)
            if current is not None:
                if s.if_not_exists and not s.or_replace:
                    return
                self.catalogue.drop_object(prj, current)
            self.catalogue.create_object(prj, "table", s.table.name, session.user, s.span,
                                         columns=columns, partition=s.partition_columns,
                                         view=s.view)

        return Plan(needs, effect)

    def _plan_DropTable(self, session: SessionState, s: st.DropTable) -> Plan:
        req, needs = self._req(session, s.span.text)
        prj = self.catalogue.project(s.table.project or session.project)
        obj = self.catalogue.find(prj, "table", s.table.name)
        needs.add(*req.instance_need("table", "drop"))
        if obj is None:
            if s.if_exists:
                return Plan(needs)
            raise sqlscan.not_found(st.Name(prj.name, s.table.name))
        needs.add(*req.access_need(Access("drop", obj)))
        return Plan(needs, lambda: self.catalogue.drop_object(prj, obj))

    def _plan_AlterTable(self, session: SessionState, s: st.AlterTable) -> Plan:
        prj, obj = self._table(session, s.table)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.instance_need("table", "alter"))
        needs.add(*req.access_need(Access("alter", obj)))
        if s.rename_to is not None and s.rename_to.project not in (None, prj.name):
            raise StatementError("FAILED: a table cannot be renamed into another project")

        def effect() -> None:
            self.catalogue.add_columns(obj, s.add_columns, s.span)
            if s.rename_to is not None:
                self.catalogue.rename_object(prj, obj, s.rename_to.name, s.span)

        return Plan(needs, effect)

    def _plan_Describe(self, session: SessionState, s: st.Describe) -> Plan:
        _, obj = self._table(session, s.table)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.access_need(Access("describe", obj)))
        return Plan(needs)

    def _plan_CreateFunction(self, session: SessionState, s: st.CreateFunction) -> Plan:
        prj = self.catalogue.project(s.name.project or session.project)
        if self.catalogue.find(prj, "function", s.name.name) is not None:
            raise StatementError(f"FAILED: function {prj.name}.{s.name.name} already exists")
        req, needs = self._req(session, s.span.text)
        needs.add(*req.access_need(Access("createfunction", prj.object)))

        def effect() -> None:
            self.catalogue.create_object(prj, "function", s.name.name, session.user, s.span)

        return Plan(needs, effect)

    def _plan_DropFunction(self, session: SessionState, s: st.DropFunction) -> Plan:
        prj, obj = self._object(session, "function", s.name)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.access_need(Access("delete", obj)))
        return Plan(needs, lambda: self.catalogue.drop_object(prj, obj))

    def _plan_AddResource(self, session: SessionState, s: st.AddResource) -> Plan:
        prj = self._session_project(session)
        existing = self.catalogue.find(prj, "resource", s.name)
        req, needs = self._req(session, s.span.text)
        if existing is not None and not s.overwrite:
            raise StatementError(f"FAILED: resource '{s.name}' already exists; use -f to "
                                 "overwrite it")
        if existing is not None:
            needs.add(*req.access_need(Access("write", existing)))
            return Plan(needs)
        needs.add(*req.access_need(Access("createresource", prj.object)))

        def effect() -> None:
            self.catalogue.create_object(prj, "resource", s.name, session.user, s.span)

        return Plan(needs, effect)

    def _plan_DropResource(self, session: SessionState, s: st.DropResource) -> Plan:
        prj, obj = self._object(session, "resource", s.name)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.access_need(Access("delete", obj)))
        return Plan(needs, lambda: self.catalogue.drop_object(prj, obj))

    def _plan_TunnelDownload(self, session: SessionState, s: st.TunnelDownload) -> Plan:
        _, obj = self._table(session, s.table)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.access_need(Access("download", obj, tuple(obj.columns), ("client",),
                                          "dt", read=True)))
        return Plan(needs)

    def _plan_TunnelUpload(self, session: SessionState, s: st.TunnelUpload) -> Plan:
        _, obj = self._table(session, s.table)
        req, needs = self._req(session, s.span.text)
        needs.add(*req.access_need(Access("update", obj, task="dt")))
        return Plan(needs)


_COLUMNS = re.compile(r"^(?P<name>[^(]*?)\s*(?:\((?P<cols>[^)]*)\))?\s*$")


def _split_columns(name: str) -> tuple[str, tuple[str, ...]]:
    """``prj_b.sales(amount, region)`` -> ("prj_b.sales", ("amount", "region"))."""
    match = _COLUMNS.match(name)
    if match is None:
        raise StatementError(f"expected <name>[(<columns>)], got {name!r}")
    cols = match["cols"]
    columns = tuple(dict.fromkeys(c.strip().strip("`").lower() for c in cols.split(",")
                                  if c.strip())) if cols else ()
    return match["name"].strip(), columns
