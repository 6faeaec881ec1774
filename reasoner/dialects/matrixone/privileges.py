"""MatrixOne's privilege vocabulary (spec §2): keyword -> stored name, scope, and the
validation texts of GRANT/REVOKE. Pure data and lookups; no authorization here."""

from __future__ import annotations

from reasoner.errors import StatementError

ACCOUNT_PRIVILEGES = frozenset(
    {
        "create user",
        "drop user",
        "alter user",
        "create role",
        "drop role",
        "alter role",
        "create database",
        "drop database",
        "show databases",
        "connect",
        "manage grants",
    }
)
SYS_PRIVILEGES = frozenset({"create account", "drop account", "alter account", "upgrade account"})
DATABASE_PRIVILEGES = frozenset(
    {"show tables", "create table", "create view", "drop table", "drop view", "alter table",
     "alter view"}
)
TABLE_PRIVILEGES = frozenset(
    {"select", "insert", "update", "truncate", "delete", "reference", "index", "execute"}
)
UNSUPPORTED = frozenset(
    {
        "create", "references", "super", "trigger", "usage", "file", "reload", "event",
        "shutdown", "lock tables", "show view", "create routine", "alter routine",
        "grant option", "replication client", "replication slave", "create temporary tables",
        "create tablespace", "process", "create user with grant option",
    }
)

ALL_NAME = {"account": "account all", "database": "database all", "table": "table all",
            "view": "table all"}
OWNERSHIP_NAME = {"database": "database ownership", "table": "table ownership",
                  "view": "table ownership"}

SYSTEM_DATABASES = ("mo_catalog", "information_schema", "system", "system_metrics", "mysql",
                    "mo_task", "mo_debug")
SYSTEM_TABLES = {
    "mo_catalog": ("mo_user", "mo_role", "mo_user_grant", "mo_role_grant", "mo_role_privs",
                   "mo_database", "mo_tables", "mo_columns", "mo_account"),
    "information_schema": ("tables", "columns", "schemata"),
    "mysql": ("user", "db"),
}


def scope_of(keyword: str) -> str | None:
    """The object type a keyword belongs to: account, sys, database, table; None for ALL
    and OWNERSHIP, which belong to every type."""
    if keyword in ACCOUNT_PRIVILEGES:
        return "account"
    if keyword in SYS_PRIVILEGES:
        return "sys"
    if keyword in DATABASE_PRIVILEGES:
        return "database"
    if keyword in TABLE_PRIVILEGES:
        return "table"
    return None


def stored_name(keyword: str, object_type: str) -> str:
    """Validate ``keyword`` for ``object_type`` (account/database/table/view) and give the
    name MatrixOne stores in mo_role_privs. Raises the system's own error texts."""
    if keyword in UNSUPPORTED or (scope_of(keyword) is None and keyword not in ("all",
                                                                                 "ownership")):
        raise StatementError(f"unsupported privilege type {keyword}")
    if keyword == "all":
        return ALL_NAME[object_type]
    if keyword == "ownership":
        if object_type == "account":
            raise StatementError('the object type "account" do not support the privilege '
                                 '"ownership"')
        return OWNERSHIP_NAME[object_type]
    scope = scope_of(keyword)
    if scope in ("account", "sys"):
        if object_type != "account":
            raise StatementError(f'the privilege "{keyword}" can only be granted to the object '
                                 'type "account"')
    elif scope == "database":
        if object_type != "database":
            raise StatementError(f'the privilege "{keyword}" can only be granted to the object '
                                 'type "database"')
    elif scope == "table" and object_type not in ("table", "view"):
        raise StatementError(f'the privilege "{keyword}" can only be granted to the object type '
                             '"table" or "view"')
    return keyword
