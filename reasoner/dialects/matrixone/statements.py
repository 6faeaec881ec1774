"""Typed MatrixOne statements, as the grammar's transformer builds them.

Names are already folded as MatrixOne folds them (user, role, database and table names
lower-cased and trimmed); a name is kept as written only in error texts that quote it.
Every statement carries the span it was parsed from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reasoner.source import Span


@dataclass(frozen=True)
class ObjectName:
    """``db.name`` or ``name`` (database None: the session's current database)."""

    database: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.database}.{self.name}" if self.database else self.name


@dataclass(frozen=True)
class PrivilegeLevel:
    """The ``ON <object_type> <level>`` part of GRANT/REVOKE.

    ``object_type``: account, database, table, view, function, procedure.
    ``level``: the level as written and normalised: ``*``, ``*.*``, ``db.*``, ``db.t``, ``t``.
    ``database`` / ``name``: its parts (``*`` kept as ``*``), e.g. ``db.*`` -> ("db", "*").
    """

    object_type: str
    level: str
    database: str | None
    name: str


@dataclass(frozen=True)
class Statement:
    span: Span = field(compare=False, repr=False)


# --- accounts -------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateAccount(Statement):
    name: str
    admin_name: str
    password: str
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropAccount(Statement):
    name: str
    if_exists: bool = False


@dataclass(frozen=True)
class AlterAccount(Statement):
    name: str
    if_exists: bool = False


# --- users and roles ------------------------------------------------------------------


@dataclass(frozen=True)
class UserSpec:
    name: str  # folded; "" when the user wrote an empty name
    password: str | None  # None: no IDENTIFIED BY


@dataclass(frozen=True)
class CreateUser(Statement):
    users: tuple[UserSpec, ...]
    default_role: str | None = None
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropUser(Statement):
    names: tuple[str, ...]
    if_exists: bool = False


@dataclass(frozen=True)
class AlterUser(Statement):
    name: str
    if_exists: bool = False
    default_role: str | None = None


@dataclass(frozen=True)
class CreateRole(Statement):
    names: tuple[str, ...]
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropRole(Statement):
    names: tuple[str, ...]
    if_exists: bool = False


@dataclass(frozen=True)
class AlterRole(Statement):
    name: str
    new_name: str | None = None  # ALTER ROLE r RENAME TO s


# --- grants ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Privilege:
    """A privilege keyword as written, lower case, single spaces: ``select``, ``create user``,
    ``all``, ``ownership``, ``manage grants``; unsupported MySQL keywords (``super``) too.
    ``columns``: the column list of ``select(a, b)``, folded (empty: the whole object)."""

    keyword: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class GrantPrivilege(Statement):
    privileges: tuple[Privilege, ...]
    on: PrivilegeLevel
    roles: tuple[str, ...]
    with_grant_option: bool = False


@dataclass(frozen=True)
class RevokePrivilege(Statement):
    privileges: tuple[Privilege, ...]
    on: PrivilegeLevel
    roles: tuple[str, ...]
    if_exists: bool = False


@dataclass(frozen=True)
class GrantRole(Statement):
    roles: tuple[str, ...]
    grantees: tuple[str, ...]
    with_grant_option: bool = False


@dataclass(frozen=True)
class RevokeRole(Statement):
    roles: tuple[str, ...]
    grantees: tuple[str, ...]
    if_exists: bool = False


# --- session --------------------------------------------------------------------------


@dataclass(frozen=True)
class SetRole(Statement):
    role: str


@dataclass(frozen=True)
class SetSecondaryRole(Statement):
    all: bool  # True: ALL, False: NONE


@dataclass(frozen=True)
class SetDefaultRole(Statement):
    """Parses in MatrixOne but has no handler: nothing is stored."""


@dataclass(frozen=True)
class SetVariable(Statement):
    name: str  # lower case, without @@ / GLOBAL / SESSION
    value: str  # the literal's text, unquoted, as written
    is_global: bool = False
    # ``SET a = 1, b = 2``: the assignments after the first, each a SetVariable of its own
    more: tuple[SetVariable, ...] = ()


@dataclass(frozen=True)
class Use(Statement):
    database: str


# --- catalogue DDL --------------------------------------------------------------------


@dataclass(frozen=True)
class CreateDatabase(Statement):
    name: str
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropDatabase(Statement):
    name: str
    if_exists: bool = False


@dataclass(frozen=True)
class CreateTable(Statement):
    table: ObjectName
    if_not_exists: bool = False
    temporary: bool = False
    as_select: str | None = None  # the SELECT text of CREATE TABLE ... AS SELECT
    like: ObjectName | None = None


@dataclass(frozen=True)
class DropTable(Statement):
    tables: tuple[ObjectName, ...]
    if_exists: bool = False


@dataclass(frozen=True)
class AlterTable(Statement):
    table: ObjectName


@dataclass(frozen=True)
class RenameTable(Statement):
    pairs: tuple[tuple[ObjectName, ObjectName], ...]


@dataclass(frozen=True)
class CreateView(Statement):
    view: ObjectName
    body: str  # the SELECT text after AS, verbatim
    or_replace: bool = False
    if_not_exists: bool = False
    security: str | None = None  # "definer" | "invoker" when written in the statement


@dataclass(frozen=True)
class DropView(Statement):
    views: tuple[ObjectName, ...]
    if_exists: bool = False


@dataclass(frozen=True)
class AlterView(Statement):
    view: ObjectName
    body: str
    security: str | None = None  # "definer" | "invoker" when written in the statement


@dataclass(frozen=True)
class RoutineDDL(Statement):
    """CREATE/DROP FUNCTION|PROCEDURE, CALL, CREATE/ALTER/DROP SEQUENCE: objects of a
    database, checked on it (spec §4.2)."""

    kind: str  # function | procedure | sequence
    action: str  # create | drop | alter | call
    name: ObjectName
    if_exists: bool = False


@dataclass(frozen=True)
class IndexDDL(Statement):
    """CREATE/DROP INDEX ... ON t: index, table all or table ownership on t (spec §4.3)."""

    action: str  # create | drop
    index: str
    table: ObjectName


@dataclass(frozen=True)
class AccountObjectDDL(Statement):
    """CREATE/DROP/ALTER SNAPSHOT | PUBLICATION | SUBSCRIPTION | PITR | STAGE: account all
    (spec §4.1)."""

    action: str
    kind: str


@dataclass(frozen=True)
class Truncate(Statement):
    table: ObjectName


# --- queries and SHOW -----------------------------------------------------------------


@dataclass(frozen=True)
class Query(Statement):
    """Ordinary SQL (SELECT, INSERT, UPDATE, DELETE, REPLACE, WITH ...): read with sqlglot."""

    kind: str  # "select", "insert", "update", "delete", "replace"
    text: str


@dataclass(frozen=True)
class Show(Statement):
    """SHOW ... : ``what`` is the lower-case words after SHOW up to the first name/FROM
    (``databases``, ``tables``, ``grants``, ``roles``, ``create table``, ``accounts``,
    ``variables``, ``columns``, ...); ``database``/``table`` name its target if given."""

    what: str
    database: str | None = None
    table: ObjectName | None = None
    grantee: str | None = None  # SHOW GRANTS FOR <user or role>, folded


@dataclass(frozen=True)
class Other(Statement):
    """A statement MatrixOne accepts and that needs no privilege here
    (BEGIN, COMMIT, ROLLBACK, EXPLAIN ..., KILL, PREPARE/DEALLOCATE)."""

    keyword: str
