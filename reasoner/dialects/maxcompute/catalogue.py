"""The MaxCompute catalogue: projects, members, roles, objects, grants, policies, labels,
packages and trusted projects, mirrored into facts.

It applies each statement's effect with MaxCompute's own checks and error texts (does the
object exist, is the grantee a member, is the role still held) and records every row as
a fact that remembers the statement that made it. It never decides authorization.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from reasoner.errors import StatementError
from reasoner.facts import FactStore, Journal
from reasoner.source import Span

from .policy import PolicyStatement, glob

NEVER = 10**15  # the expiry day of a grant without one
BUILTIN_ROLES = ("admin", "super_administrator")
# the security switches (spec §10) and their defaults
FLAGS = {
    "checkpermissionusingacl": True,
    "checkpermissionusingpolicy": True,
    "objectcreatorhasaccesspermission": True,
    "objectcreatorhasgrantpermission": True,
    "labelsecurity": False,
    "projectprotection": False,
}
ARN_PATH = {"table": "tables", "function": "registration/functions", "resource": "resources",
            "instance": "instances", "package": "packages"}


def arn(project: str, kind: str, name: str | None = None) -> str:
    """The resource name policies use for an object (spec §5.2), lower case."""
    base = f"acs:odps:*:projects/{project}"
    return base if kind == "project" else f"{base}/{ARN_PATH[kind]}/{name}"


def principal_parts(key: str) -> tuple[str, str]:
    """``aliyun$alice@x.com`` -> (aliyun, alice@x.com); ``ram$bob@x.com:allen`` ->
    (ram, bob@x.com): the account system and the Alibaba Cloud account it belongs to."""
    prefix, _, rest = key.partition("$")
    if prefix == "ram":
        return "ram", rest.split(":", 1)[0]
    return prefix or "unknown", rest


_PRINCIPAL = re.compile(r"^(aliyun|ram|v4)\$\S+$")


@dataclass(eq=False)
class RoleRec:
    id: str
    name: str
    project: str
    type: str
    builtin: bool = False


@dataclass(eq=False)
class ObjectRec:
    id: str
    kind: str  # project table function resource instance package
    project: str
    name: str
    columns: list[str] = field(default_factory=list)
    partition_columns: tuple[str, ...] = ()
    creator: str | None = None
    view: bool = False
    arns: tuple[str, ...] = ()
    package: str | None = None  # an installed package: the package id

    @property
    def qualified(self) -> str:
        return f"{self.project}.{self.name}"


@dataclass(eq=False)
class PackageRec:
    id: str  # "<project>.<name>"
    name: str
    project: str
    items: dict[str, tuple[str, ...]] = field(default_factory=dict)  # object id -> privileges
    allowed: dict[str, int] = field(default_factory=dict)  # project -> label level


@dataclass(eq=False)
class ProjectRec:
    name: str
    owner: str  # principal key
    owner_written: str
    object: ObjectRec
    flags: dict[str, bool] = field(default_factory=lambda: dict(FLAGS))
    members: dict[str, str] = field(default_factory=dict)  # key -> as written
    roles: dict[str, RoleRec] = field(default_factory=dict)
    objects: dict[tuple[str, str], ObjectRec] = field(default_factory=dict)  # (kind, name)
    packages: dict[str, PackageRec] = field(default_factory=dict)
    trusted: set[str] = field(default_factory=set)
    exception: str | None = None  # the exception policy's file name


@dataclass
class SessionState:
    """A MaxCompute client session: who, and the current project."""

    id: str
    user: str  # principal key
    written: str
    project: str


class Catalogue:
    """Every project of one tenant, mirrored into facts."""

    def __init__(self, facts: FactStore, journal: Journal) -> None:
        self.facts = facts
        self.journal = journal
        self.projects: dict[str, ProjectRec] = {}
        self.policy_files: dict[str, str] = {}
        self.now = 0
        self._incarnations: dict[str, int] = {}
        self._statements = 0
        # grants and policies, keyed for REVOKE
        self.acl_rows: dict[tuple[str, ...], int] = {}  # (kind, subject, action, object[, col])
        self.label_rows: dict[tuple[str, ...], tuple[int, int]] = {}  # -> (level, expires)
        self.policy_docs: dict[tuple[str, str], list[str]] = {}  # (scope, owner) -> st ids
        self.policy_entries: dict[tuple[str, str, str, str, tuple[str, ...]], str] = {}
        self.ref_rows: set[tuple[str, str, str, str, str, str]] = set()
        self.user_roles: set[tuple[str, str]] = set()  # (user key, role id)
        # the glob relation: patterns and values, with use counts
        self._patterns: dict[str, int] = {}
        self._values: dict[str, int] = {}
        self._principals: set[str] = set()  # names in the wildcard relation (journaled)
        self._named: set[str] = set()  # names with a principal fact (never undone)

    # ids and small helpers --------------------------------------------------------------

    def _new_id(self, base: str) -> str:
        count = self._incarnations.get(base, 0) + 1
        self.journal.set_item(self._incarnations, base, count)
        return base if count == 1 else f"{base}#{count}"

    def _fact(self, pred: str, args: tuple[str | int, ...], span: Span) -> None:
        self.facts.add(pred, args, span)

    def _unfact(self, pred: str, args: tuple[str | int, ...]) -> None:
        self.facts.remove(pred, args)

    def _drop_facts(self, pred: str, test: object) -> None:
        """Remove every stored fact of ``pred`` whose arguments pass ``test``."""
        for name, args, _ in list(self.facts.all_facts()):
            if name == pred and test(args):  # type: ignore[operator]
                self._unfact(name, args)

    def project(self, name: str) -> ProjectRec:
        prj = self.projects.get(name)
        if prj is None:
            raise StatementError(f"ODPS-0420111: Project not found - '{name}'.")
        return prj

    def in_project(self, prj: ProjectRec, user: str) -> bool:
        return user == prj.owner or user in prj.members

    def expiry(self, days: int | None) -> int:
        return NEVER if days is None else self.now + days

    # the glob relation ------------------------------------------------------------------

    def _use(self, counts: dict[str, int], item: str, delta: int) -> int:
        count = counts.get(item, 0) + delta
        if count <= 0:
            self.journal.del_item(counts, item)
        else:
            self.journal.set_item(counts, item, count)
        return count

    def add_pattern(self, pattern: str, span: Span) -> None:
        if self._use(self._patterns, pattern, 1) == 1:
            matcher = glob(pattern)
            for value in self._values:
                if matcher.match(value):
                    self._fact("glob_match", (pattern, value), span)

    def drop_pattern(self, pattern: str) -> None:
        if self._use(self._patterns, pattern, -1) <= 0:
            self._drop_facts("glob_match", lambda a: a[0] == pattern)

    def add_value(self, value: str, span: Span) -> None:
        if self._use(self._values, value, 1) == 1:
            for pattern in self._patterns:
                if glob(pattern).match(value):
                    self._fact("glob_match", (pattern, value), span)

    def drop_value(self, value: str) -> None:
        if self._use(self._values, value, -1) <= 0:
            self._drop_facts("glob_match", lambda a: a[1] == value)

    # principals and clock ------------------------------------------------------------------

    def register_principal(self, key: str, span: Span) -> None:
        """Record an account name the first time it is seen (its system and account).

        The ``principal`` fact says what a name is, not what the tenant holds, so it
        outlives a rolled-back statement: a statement planned in a trial and judged after
        it (the conformance runner's explain pass) sees the names the statement itself
        sees. The name's place in the wildcard relation stays journaled.
        """
        if key not in self._named:
            kind, account = principal_parts(key)
            self._named.add(key)
            # recorded before the add: a rollback undoes the add, then this re-adds it
            self.journal.record(lambda: self.facts.add("principal", (key, kind, account),
                                                       span))
            self._fact("principal", (key, kind, account), span)
        if key in self._principals:
            return
        self.journal.record(lambda: self._principals.discard(key))
        self._principals.add(key)
        self.add_value(key, span)

    def set_clock(self, day: int, span: Span) -> None:
        self._unfact("now", (self.now,))
        self.journal.set_attr(self, "now", day)
        self._fact("now", (day,), span)

    # projects -------------------------------------------------------------------------------

    def declare_project(self, name: str, owner_written: str, span: Span) -> ProjectRec:
        """A project made in the console: its owner, built-in roles and default switches."""
        if name in self.projects:
            raise StatementError(f"project {name} is already declared")
        owner = owner_written.lower()
        if not _PRINCIPAL.match(owner):
            raise StatementError(f"FAILED: Invalid account Name {owner_written}")
        obj = self._new_object("project", name, name, span)
        prj = ProjectRec(name, owner, owner_written, obj)
        self.journal.set_item(self.projects, name, prj)
        self.register_principal(owner, span)
        self._fact("project", (name, owner), span)
        self._fact("member", (name, owner), span)
        for flag, on in FLAGS.items():
            if on:
                self._fact("flag", (name, flag), span)
        for role in BUILTIN_ROLES:
            self._add_role(prj, role, "admin", span, builtin=True)
        return prj

    def set_flag(self, prj: ProjectRec, flag: str, on: bool, span: Span) -> None:
        self.journal.set_item(prj.flags, flag, on)
        if on:
            self._fact("flag", (prj.name, flag), span)
        else:
            self._unfact("flag", (prj.name, flag))

    # members ----------------------------------------------------------------------------------

    def add_user(self, prj: ProjectRec, key: str, written: str, span: Span) -> None:
        if not _PRINCIPAL.match(key):
            raise StatementError(f"FAILED: Invalid account Name {written}")
        if self.in_project(prj, key):
            raise StatementError(f"FAILED: ODPS-0420111: User {written} already exists in "
                                 f"project {prj.name}")
        self.journal.set_item(prj.members, key, written)
        self._fact("member", (prj.name, key), span)

    def remove_user(self, prj: ProjectRec, key: str, written: str) -> None:
        if key == prj.owner:
            raise StatementError(f"FAILED: the project owner {written} cannot be removed from "
                                 f"project {prj.name}")
        if key not in prj.members:
            raise StatementError(f"FAILED: user {written} doesn't exist in project {prj.name}")
        held = [r for (u, r) in self.user_roles if u == key and r.startswith(f"{prj.name}/")]
        if held:
            names = ", ".join(sorted(r.rsplit("/", 1)[1] for r in held))
            raise StatementError(f"FAILED: user {written} still holds role(s) {names} in "
                                 f"project {prj.name}; revoke all roles first")
        # grants made to the user stay, and count again if the user is added back
        self.journal.del_item(prj.members, key)
        self._unfact("member", (prj.name, key))

    def require_member(self, prj: ProjectRec, key: str, written: str) -> None:
        if not self.in_project(prj, key):
            raise StatementError(f"FAILED: user {written} doesn't exist in project {prj.name}; "
                                 "the grantee must be added to the project first")

    # roles ------------------------------------------------------------------------------------

    def _add_role(self, prj: ProjectRec, name: str, role_type: str, span: Span, *,
                  builtin: bool = False) -> RoleRec:
        role = RoleRec(self._new_id(f"{prj.name}/role/{name}"), name, prj.name, role_type,
                       builtin)
        self.journal.set_item(prj.roles, name, role)
        self._fact("role", (role.id, prj.name, role_type), span)
        if builtin:
            self._fact("builtin_role", (role.id, name), span)
        return role

    def role(self, prj: ProjectRec, name: str) -> RoleRec:
        role = prj.roles.get(name)
        if role is None:
            raise StatementError(f"FAILED: role '{name}' doesn't exist in project {prj.name}")
        return role

    def create_role(self, prj: ProjectRec, name: str, role_type: str, span: Span, *,
                    if_not_exists: bool) -> None:
        if role_type not in ("admin", "resource"):
            raise StatementError(f"FAILED: invalid role type '{role_type}' (admin or resource)")
        if name in prj.roles:
            if if_not_exists:
                return
            raise StatementError(f"FAILED: role '{name}' already exists in project {prj.name}")
        self._add_role(prj, name, role_type, span)

    def drop_role(self, prj: ProjectRec, name: str, *, if_exists: bool) -> None:
        role = prj.roles.get(name)
        if role is None:
            if if_exists:
                return
            raise StatementError(f"FAILED: role '{name}' doesn't exist in project {prj.name}")
        if role.builtin:
            raise StatementError(f"FAILED: the built-in role '{name}' cannot be dropped")
        holders = [u for (u, r) in self.user_roles if r == role.id]
        if holders:
            raise StatementError(f"FAILED: role '{name}' is still granted to "
                                 f"{len(holders)} user(s); revoke it from them first")
        self._remove_subject("role", role.id)
        for key in [k for k in self.policy_docs if k == ("role", role.id)]:
            self._replace_policy(key, prj.name, "role", [], None, Span("", 0, 0, ""))
        self._unfact("role", (role.id, prj.name, role.type))
        self.journal.del_item(prj.roles, name)

    def grant_roles(self, prj: ProjectRec, roles: Iterable[RoleRec], key: str, written: str,
                    span: Span) -> None:
        self.require_member(prj, key, written)
        for role in roles:
            self.journal.record(lambda r=role: self.user_roles.discard((key, r.id)))
            self.user_roles.add((key, role.id))
            self._fact("user_role", (key, role.id), span)

    def revoke_roles(self, roles: Iterable[RoleRec], key: str) -> None:
        for role in roles:
            if (key, role.id) in self.user_roles:
                self.user_roles.discard((key, role.id))
                self.journal.record(lambda r=role: self.user_roles.add((key, r.id)))
                self._unfact("user_role", (key, role.id))

    def _remove_subject(self, kind: str, subject: str) -> None:
        """Everything granted to a subject that is going away."""
        for row in [r for r in self.acl_rows if r[0] == kind and r[1] == subject]:
            self._remove_acl(row)
        for row in [r for r in self.label_rows if r[0] == kind and r[1] == subject]:
            self._remove_label_row(row)
        for row in [r for r in self.ref_rows if r[1] == kind and r[2] == subject]:
            self.remove_ref_acl(row)
        if kind == "role":
            self._drop_facts("role_level", lambda a: a[0] == subject)
            for key, st_id in [(k, v) for k, v in self.policy_entries.items() if k[0] == subject]:
                self._drop_statement(st_id)
                self.journal.del_item(self.policy_entries, key)

    # objects ----------------------------------------------------------------------------------

    def _new_object(self, kind: str, project: str, name: str, span: Span, *,
                    extra_arns: tuple[str, ...] = ()) -> ObjectRec:
        base = f"project:{name}" if kind == "project" else f"{kind}:{project}.{name}"
        arns = (arn(project, kind, name),) + extra_arns
        obj = ObjectRec(self._new_id(base), kind, project, name, arns=arns)
        self._fact("object", (obj.id, kind, project), span)
        for resource in arns:
            self._fact("arn", (obj.id, resource), span)
            self.add_value(resource, span)
        return obj

    def find(self, prj: ProjectRec, kind: str, name: str) -> ObjectRec | None:
        if kind == "project":
            return prj.object
        return prj.objects.get((kind, name))

    def create_object(self, prj: ProjectRec, kind: str, name: str, creator: str | None,
                      span: Span, *, columns: Iterable[str] = (),
                      partition: tuple[str, ...] = (), view: bool = False) -> ObjectRec:
        obj = self._new_object(kind, prj.name, name, span)
        obj.columns = list(dict.fromkeys(columns))
        obj.partition_columns = partition
        obj.view = view
        obj.creator = creator
        self.journal.set_item(prj.objects, (kind, name), obj)
        for col in obj.columns:
            self._fact("column", (obj.id, col), span)
        for col in partition:
            self._fact("partition_column", (obj.id, col), span)
        if creator is not None:
            self._fact("created_by", (obj.id, creator), span)
            # the ObjectCreator record (spec §4.3) is written when the object is made
            if prj.flags["objectcreatorhasaccesspermission"]:
                self._fact("creator_right", (obj.id, creator, "access"), span)
            if prj.flags["objectcreatorhasgrantpermission"]:
                self._fact("creator_right", (obj.id, creator, "grant"), span)
        return obj

    def add_columns(self, obj: ObjectRec, columns: Iterable[str], span: Span) -> None:
        new = [c for c in columns if c not in obj.columns]
        if not new:
            return
        self.journal.set_attr(obj, "columns", obj.columns + new)
        for col in new:
            self._fact("column", (obj.id, col), span)

    def rename_object(self, prj: ProjectRec, obj: ObjectRec, new_name: str, span: Span) -> None:
        if (obj.kind, new_name) in prj.objects:
            raise StatementError(f"ODPS-0130071: Semantic analysis exception - Table or view "
                                 f"already exists - {prj.name}.{new_name}")
        for resource in obj.arns:
            self._unfact("arn", (obj.id, resource))
            self.drop_value(resource)
        self.journal.del_item(prj.objects, (obj.kind, obj.name))
        self.journal.set_attr(obj, "name", new_name)
        self.journal.set_attr(obj, "arns", (arn(prj.name, obj.kind, new_name),))
        self.journal.set_item(prj.objects, (obj.kind, new_name), obj)
        for resource in obj.arns:
            self._fact("arn", (obj.id, resource), span)
            self.add_value(resource, span)

    def drop_object(self, prj: ProjectRec, obj: ObjectRec) -> None:
        """Dropping an object drops its ACLs, labels and label grants (spec §4.2, §7)."""
        for row in [r for r in self.acl_rows if r[3] == obj.id]:
            self._remove_acl(row)
        for row in [r for r in self.label_rows if r[2] == obj.id]:
            self._remove_label_row(row)
        for row in [r for r in self.ref_rows if r[4] == obj.id]:
            self.remove_ref_acl(row)
        for pkg in (p for other in self.projects.values() for p in other.packages.values()):
            if obj.id in pkg.items:
                self.remove_package_item(pkg, obj)
        for pred in ("column", "partition_column", "column_label", "table_label", "created_by",
                     "creator_right"):
            self._drop_facts(pred, lambda a: a[0] == obj.id)
        for resource in obj.arns:
            self._unfact("arn", (obj.id, resource))
            self.drop_value(resource)
        self._drop_facts("installed", lambda a: a[0] == obj.id)
        self._unfact("object", (obj.id, obj.kind, obj.project))
        self.journal.del_item(prj.objects, (obj.kind, obj.name))

    # ACL ----------------------------------------------------------------------------------------

    def grant_acl(self, kind: str, subject: str, action: str, obj: ObjectRec,
                  columns: tuple[str, ...], expires: int, span: Span) -> None:
        rows = [(kind, subject, action, obj.id, c) for c in columns] if columns else \
            [(kind, subject, action, obj.id)]
        for row in rows:
            old = self.acl_rows.get(row)
            if old is not None:
                self._unfact(*self._acl_fact(row, old))
            self.journal.set_item(self.acl_rows, row, expires)
            self._fact(*self._acl_fact(row, expires), span)

    @staticmethod
    def _acl_fact(row: tuple[str, ...], expires: int) -> tuple[str, tuple[str | int, ...]]:
        if len(row) == 5:
            return "acl_column", (row[0], row[1], row[2], row[3], row[4], expires)
        return "acl", (row[0], row[1], row[2], row[3], expires)

    def revoke_acl(self, kind: str, subject: str, action: str, obj: ObjectRec,
                   columns: tuple[str, ...]) -> None:
        if columns:
            rows = [(kind, subject, action, obj.id, c) for c in columns]
            if action == "all":
                rows = [r for r in self.acl_rows if len(r) == 5 and r[4] in columns
                        and r[0] == kind and r[1] == subject and r[3] == obj.id]
        elif action == "all":  # REVOKE All takes back every action on the object
            rows = [r for r in self.acl_rows if r[0] == kind and r[1] == subject
                    and r[3] == obj.id]
        else:  # a whole-object revoke also takes back the column grants of that action
            rows = [r for r in self.acl_rows if r[:4] == (kind, subject, action, obj.id)]
        for row in rows:
            if row in self.acl_rows:
                self._remove_acl(row)

    def _remove_acl(self, row: tuple[str, ...]) -> None:
        expires = self.acl_rows[row]
        self._unfact(*self._acl_fact(row, expires))
        self.journal.del_item(self.acl_rows, row)

    # policies ---------------------------------------------------------------------------------

    def _new_statement(self, project: str, scope: str, stmt: PolicyStatement,
                       role: str | None, expires: int | None, span: Span,
                       columns: tuple[str, ...] = ()) -> str:
        self.journal.set_attr(self, "_statements", self._statements + 1)
        st_id = f"{project}/policy/{self._statements}"
        self._fact("policy", (st_id, project, scope, stmt.effect), span)
        if role is not None:
            self._fact("policy_role", (st_id, role), span)
        for pattern in stmt.principals:
            self._fact("policy_principal", (st_id, pattern), span)
            self.add_pattern(pattern, span)
        for pattern in stmt.actions:
            self._fact("policy_action", (st_id, pattern), span)
            if pattern != "all":
                self.add_pattern(pattern, span)
        for pattern in stmt.resources:
            self._fact("policy_resource", (st_id, pattern), span)
            self.add_pattern(pattern, span)
        for col in columns:
            self._fact("policy_column", (st_id, col), span)
        for task in stmt.tasks:
            self._fact("policy_task", (st_id, task), span)
        if stmt.opaque:
            self._fact("policy_opaque", (st_id,), span)
        if expires is not None:
            self._fact("policy_expires", (st_id, expires), span)
        return st_id

    def _drop_statement(self, st_id: str) -> None:
        for name, args, _ in list(self.facts.all_facts()):
            if not name.startswith("policy") or args[0] != st_id:
                continue
            self._unfact(name, args)
            if name in ("policy_principal", "policy_resource") or (
                    name == "policy_action" and args[1] != "all"):
                self.drop_pattern(str(args[1]))

    def _replace_policy(self, key: tuple[str, str], project: str, scope: str,
                        statements: list[PolicyStatement], role: str | None,
                        span: Span) -> None:
        for st_id in self.policy_docs.get(key, []):
            self._drop_statement(st_id)
        ids = [self._new_statement(project, scope, s, role, None, span) for s in statements]
        if ids:
            self.journal.set_item(self.policy_docs, key, ids)
        else:
            self.journal.del_item(self.policy_docs, key)

    def put_policy(self, prj: ProjectRec, role: RoleRec | None,
                   statements: list[PolicyStatement], span: Span) -> None:
        """PUT POLICY overwrites the previous document of the project or the role."""
        if role is None:
            self._replace_policy(("project", prj.name), prj.name, "project", statements, None,
                                 span)
        else:
            self._replace_policy(("role", role.id), prj.name, "role", statements, role.id, span)

    def set_exception(self, prj: ProjectRec, file: str | None,
                      statements: list[PolicyStatement], span: Span) -> None:
        self._replace_policy(("exception", prj.name), prj.name, "exception", statements, None,
                             span)
        self.journal.set_attr(prj, "exception", file)

    def add_policy_entry(self, prj: ProjectRec, role: RoleRec, stmt: PolicyStatement,
                         columns: tuple[str, ...], expires: int | None, span: Span) -> None:
        """One GRANT ... privilegeproperties("policy"="true") entry, per action."""
        key = (role.id, stmt.effect, stmt.actions[0], stmt.resources[0], columns)
        old = self.policy_entries.get(key)
        if old is not None:
            self._drop_statement(old)
        st_id = self._new_statement(prj.name, "role", stmt, role.id, expires, span, columns)
        self.journal.set_item(self.policy_entries, key, st_id)

    def remove_policy_entry(self, role: RoleRec, effect: str, action: str, resource: str,
                            columns: tuple[str, ...]) -> None:
        """REVOKE removes only the entry whose allow flag, object and role match."""
        key = (role.id, effect, action, resource, columns)
        st_id = self.policy_entries.get(key)
        if st_id is not None:
            self._drop_statement(st_id)
            self.journal.del_item(self.policy_entries, key)

    # labels -----------------------------------------------------------------------------------

    def set_column_labels(self, obj: ObjectRec, columns: tuple[str, ...], level: int,
                          span: Span) -> None:
        for col in columns:
            self._drop_facts("column_label", lambda a, c=col: a[0] == obj.id and a[1] == c)
            self._fact("column_label", (obj.id, col, level), span)

    def set_table_label(self, obj: ObjectRec, level: int, span: Span) -> None:
        self._drop_facts("table_label", lambda a: a[0] == obj.id)
        self._fact("table_label", (obj.id, level), span)

    def set_user_level(self, prj: ProjectRec, key: str, level: int, span: Span) -> None:
        self._drop_facts("user_level", lambda a: a[0] == prj.name and a[1] == key)
        self._fact("user_level", (prj.name, key, level), span)

    def set_role_level(self, role: RoleRec, level: int, span: Span) -> None:
        self._drop_facts("role_level", lambda a: a[0] == role.id)
        self._fact("role_level", (role.id, level), span)

    def grant_label(self, kind: str, subject: str, obj: ObjectRec, columns: tuple[str, ...],
                    level: int, expires: int, span: Span) -> None:
        rows = [(kind, subject, obj.id, c) for c in columns] if columns else \
            [(kind, subject, obj.id)]
        for row in rows:
            if row in self.label_rows:
                self._remove_label_row(row)
            self.journal.set_item(self.label_rows, row, (level, expires))
            self._fact(*self._label_fact(row, level, expires), span)

    @staticmethod
    def _label_fact(row: tuple[str, ...], level: int, expires: int
                    ) -> tuple[str, tuple[str | int, ...]]:
        if len(row) == 4:
            return "label_grant_column", (row[0], row[1], row[2], row[3], level, expires)
        return "label_grant", (row[0], row[1], row[2], level, expires)

    def revoke_label(self, kind: str, subject: str, obj: ObjectRec,
                     columns: tuple[str, ...]) -> None:
        """Revoking the table-level grant also revokes the subject's column grants on it."""
        if columns:
            rows = [(kind, subject, obj.id, c) for c in columns]
        else:
            rows = [r for r in self.label_rows if r[:3] == (kind, subject, obj.id)]
        for row in rows:
            if row in self.label_rows:
                self._remove_label_row(row)

    def _remove_label_row(self, row: tuple[str, ...]) -> None:
        level, expires = self.label_rows[row]
        self._unfact(*self._label_fact(row, level, expires))
        self.journal.del_item(self.label_rows, row)

    def clear_expired(self) -> None:
        for row, (_, expires) in list(self.label_rows.items()):
            if expires <= self.now:
                self._remove_label_row(row)
        for row, expires in list(self.acl_rows.items()):
            if expires <= self.now:
                self._remove_acl(row)

    # trusted projects ----------------------------------------------------------------------------

    def add_trusted(self, prj: ProjectRec, other: str, span: Span) -> None:
        self.journal.record(lambda: prj.trusted.discard(other))
        prj.trusted.add(other)
        self._fact("trusts", (prj.name, other), span)

    def remove_trusted(self, prj: ProjectRec, other: str) -> None:
        if other in prj.trusted:
            prj.trusted.discard(other)
            self.journal.record(lambda: prj.trusted.add(other))
            self._unfact("trusts", (prj.name, other))

    # packages -----------------------------------------------------------------------------------

    def package(self, prj: ProjectRec, name: str) -> PackageRec:
        pkg = prj.packages.get(name)
        if pkg is None:
            raise StatementError(f"FAILED: package '{name}' doesn't exist in project {prj.name}")
        return pkg

    def create_package(self, prj: ProjectRec, name: str, span: Span) -> None:
        if len(name) > 128:
            raise StatementError("FAILED: a package name has at most 128 characters")
        if name in prj.packages:
            raise StatementError(f"FAILED: package '{name}' already exists in project "
                                 f"{prj.name}")
        pkg = PackageRec(f"{prj.name}.{name}", name, prj.name)
        self.journal.set_item(prj.packages, name, pkg)
        self._fact("package", (pkg.id, prj.name), span)

    def drop_package(self, prj: ProjectRec, pkg: PackageRec) -> None:
        self._drop_facts("package_item", lambda a: a[0] == pkg.id)
        self._drop_facts("package_allowed", lambda a: a[0] == pkg.id)
        self._unfact("package", (pkg.id, prj.name))
        self.journal.del_item(prj.packages, pkg.name)

    def add_package_item(self, pkg: PackageRec, obj: ObjectRec, privileges: tuple[str, ...],
                         span: Span) -> None:
        if obj.id in pkg.items:
            raise StatementError(f"FAILED: {obj.kind} {obj.name} is already in package "
                                 f"{pkg.name}; remove it and add it again to change it")
        if len(pkg.items) >= 1000:
            raise StatementError("FAILED: a package holds at most 1000 resources")
        self.journal.set_item(pkg.items, obj.id, privileges)
        for priv in privileges:
            self._fact("package_item", (pkg.id, obj.id, priv), span)

    def remove_package_item(self, pkg: PackageRec, obj: ObjectRec) -> None:
        self._drop_facts("package_item", lambda a: a[0] == pkg.id and a[1] == obj.id)
        self.journal.del_item(pkg.items, obj.id)

    def allow_install(self, pkg: PackageRec, project: str, level: int, span: Span) -> None:
        self._drop_facts("package_allowed", lambda a: a[0] == pkg.id and a[1] == project)
        self.journal.set_item(pkg.allowed, project, level)
        self._fact("package_allowed", (pkg.id, project, level), span)

    def disallow_install(self, pkg: PackageRec, project: str) -> None:
        self._drop_facts("package_allowed", lambda a: a[0] == pkg.id and a[1] == project)
        self.journal.del_item(pkg.allowed, project)

    def install(self, prj: ProjectRec, pkg: PackageRec, span: Span) -> ObjectRec:
        name = pkg.id
        if ("package", name) in prj.objects:
            raise StatementError(f"FAILED: package {name} is already installed in project "
                                 f"{prj.name}")
        obj = self._new_object("package", prj.name, name, span,
                               extra_arns=(arn(pkg.project, "package", pkg.name),))
        obj.package = pkg.id
        self.journal.set_item(prj.objects, ("package", name), obj)
        self._fact("installed", (obj.id, pkg.id, prj.name), span)
        return obj

    def add_ref_acl(self, project: str, kind: str, subject: str, action: str, obj: ObjectRec,
                    pkg: str, span: Span) -> None:
        row = (project, kind, subject, action, obj.id, pkg)
        self.journal.record(lambda: self.ref_rows.discard(row))
        self.ref_rows.add(row)
        self._fact("package_ref_acl", row, span)

    def remove_ref_acl(self, row: tuple[str, str, str, str, str, str]) -> None:
        if row in self.ref_rows:
            self.ref_rows.discard(row)
            self.journal.record(lambda: self.ref_rows.add(row))
            self._unfact("package_ref_acl", row)
