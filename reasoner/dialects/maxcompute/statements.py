"""Typed MaxCompute statements, as the parser builds them.

Object and role names are folded to lower case (MaxCompute names are case-insensitive);
principal names keep the case they were written in (``written``) and are compared by
their lower-cased key. Ordinary SQL carries the sqlglot tree it was read into. Every
statement carries the span it was parsed from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from reasoner.source import Span


@dataclass(frozen=True)
class Name:
    """``prj.name`` or ``name`` (project None: the session's current project)."""

    project: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.project}.{self.name}" if self.project else self.name


@dataclass(frozen=True)
class Principal:
    """An account name as written (``ALIYUN$alice@aliyun.com``) and its comparison key."""

    written: str

    @property
    def key(self) -> str:
        return self.written.strip().lower()

    def __str__(self) -> str:
        return self.written


@dataclass(frozen=True)
class Subject:
    """A grantee: ``user <principal>`` or ``role <name>``."""

    kind: str  # "user" | "role"
    name: str  # principal key for users, folded role name for roles
    written: str

    def __str__(self) -> str:
        return f"{self.kind} {self.written}"


@dataclass(frozen=True)
class ObjectRef:
    """``<type> <name> [(<columns>)]`` of GRANT / REVOKE (type lower case)."""

    kind: str  # project table function resource instance package
    name: Name
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    span: Span = field(compare=False, repr=False)


# --- users and roles --------------------------------------------------------------------


@dataclass(frozen=True)
class AddUser(Statement):
    user: Principal


@dataclass(frozen=True)
class RemoveUser(Statement):
    user: Principal


@dataclass(frozen=True)
class CreateRole(Statement):
    name: str
    type: str = "resource"  # privilegeproperties("type"="admin|resource")
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropRole(Statement):
    name: str
    if_exists: bool = False


@dataclass(frozen=True)
class GrantRoles(Statement):
    roles: tuple[str, ...]
    user: Principal


@dataclass(frozen=True)
class RevokeRoles(Statement):
    roles: tuple[str, ...]
    user: Principal


# --- ACL and policy entries ---------------------------------------------------------------


@dataclass(frozen=True)
class GrantAcl(Statement):
    """GRANT actions ON object TO subject [privilegeproperties(...)]; with
    ``"policy"="true"`` it is a policy entry instead of an ACL grant."""

    actions: tuple[str, ...]  # lower case as written ("select", "all", "createtable")
    on: ObjectRef
    subject: Subject
    properties: tuple[tuple[str, str], ...] = ()

    def prop(self, key: str) -> str | None:
        return next((v for k, v in self.properties if k == key), None)


@dataclass(frozen=True)
class RevokeAcl(Statement):
    actions: tuple[str, ...]
    on: ObjectRef
    subject: Subject
    properties: tuple[tuple[str, str], ...] = ()

    def prop(self, key: str) -> str | None:
        return next((v for k, v in self.properties if k == key), None)


# --- labels -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetLabelTable(Statement):
    level: int
    table: Name
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetLabelSubject(Statement):
    level: int
    subject: Subject


@dataclass(frozen=True)
class GrantLabel(Statement):
    level: int
    table: Name
    columns: tuple[str, ...]
    subject: Subject
    days: int | None = None  # WITH EXP <days>; None: the default validity


@dataclass(frozen=True)
class RevokeLabel(Statement):
    table: Name
    columns: tuple[str, ...]
    subject: Subject


@dataclass(frozen=True)
class ClearExpiredGrants(Statement):
    pass


# --- policies, switches, trusted projects ---------------------------------------------------


@dataclass(frozen=True)
class PutPolicy(Statement):
    file: str
    role: str | None = None


@dataclass(frozen=True)
class SetFlag(Statement):
    """``set <name>=<value> [with exception <file>]``: a security switch or a session
    setting (``odps.sql....``), told apart by the executor."""

    name: str  # as written
    value: str
    exception_file: str | None = None


@dataclass(frozen=True)
class AddTrustedProject(Statement):
    project: str


@dataclass(frozen=True)
class RemoveTrustedProject(Statement):
    project: str


# --- packages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatePackage(Statement):
    name: str


@dataclass(frozen=True)
class DropPackage(Statement):
    name: str


@dataclass(frozen=True)
class AddToPackage(Statement):
    kind: str  # table instance function resource
    name: Name
    package: str
    privileges: tuple[str, ...] = ()  # empty: the default Read, Describe, Select


@dataclass(frozen=True)
class RemoveFromPackage(Statement):
    kind: str
    name: Name
    package: str


@dataclass(frozen=True)
class AllowInstall(Statement):
    project: str
    package: str
    level: int | None = None  # USING LABEL n


@dataclass(frozen=True)
class DisallowInstall(Statement):
    project: str
    package: str


@dataclass(frozen=True)
class InstallPackage(Statement):
    provider: str
    package: str


@dataclass(frozen=True)
class UninstallPackage(Statement):
    provider: str
    package: str


# --- session, SHOW ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Use(Statement):
    project: str


@dataclass(frozen=True)
class Show(Statement):
    """SHOW / LIST / WHOAMI / GET POLICY / DESC ROLE ...: reads nothing the reasoner guards."""

    what: str


@dataclass(frozen=True)
class Other(Statement):
    """Accepted and inert here: account providers, SETPROJECT, session settings."""

    keyword: str


# --- ordinary SQL ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateTable(Statement):
    table: Name
    columns: tuple[str, ...]
    partition_columns: tuple[str, ...] = ()
    if_not_exists: bool = False
    as_select: exp.Expression | None = field(default=None, compare=False)
    like: Name | None = None
    view: bool = False
    or_replace: bool = False


@dataclass(frozen=True)
class DropTable(Statement):
    table: Name
    if_exists: bool = False
    view: bool = False


@dataclass(frozen=True)
class AlterTable(Statement):
    table: Name
    add_columns: tuple[str, ...] = ()
    rename_to: Name | None = None


@dataclass(frozen=True)
class Describe(Statement):
    table: Name


@dataclass(frozen=True)
class Query(Statement):
    """SELECT / INSERT / UPDATE / DELETE / TRUNCATE / MERGE / WITH ...: the sqlglot tree."""

    kind: str  # select insert update delete truncate merge
    tree: exp.Expression = field(compare=False)


@dataclass(frozen=True)
class CreateFunction(Statement):
    name: Name


@dataclass(frozen=True)
class DropFunction(Statement):
    name: Name


@dataclass(frozen=True)
class AddResource(Statement):
    name: str
    kind: str  # jar file py archive table
    overwrite: bool = False


@dataclass(frozen=True)
class DropResource(Statement):
    name: Name


@dataclass(frozen=True)
class TunnelDownload(Statement):
    table: Name


@dataclass(frozen=True)
class TunnelUpload(Statement):
    table: Name
