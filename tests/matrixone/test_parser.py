"""The MatrixOne statement parser: every conformance statement, then the values it builds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reasoner.dialects.matrixone import statements as st
from reasoner.dialects.matrixone.parser import ConnectDirective, parse_script, parse_statement
from reasoner.errors import ParseError

_HERE = Path(__file__).resolve()
_CASE_DIRS = (
    _HERE.parents[1] / "conformance" / "matrixone",  # copied into the project
    _HERE.parents[3] / "shared" / "conformance" / "matrixone",  # the shared checkout
)
CASES = next((d for d in _CASE_DIRS if d.is_dir() and any(d.glob("*.test"))), None)


def _records(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, header, statement text) of each ``statement ok|error`` record of a .test file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("statement "):
            j = i + 1
            while j < len(lines) and lines[j].strip():
                j += 1
            yield i + 2, lines[i], "\n".join(lines[i + 1 : j])
            i = j
        else:
            i += 1


def _case_files() -> list[Path]:
    return sorted(CASES.glob("*.test")) if CASES else []


@pytest.mark.skipif(CASES is None, reason="no conformance cases found")
@pytest.mark.parametrize("path", _case_files(), ids=lambda p: p.name)
def test_every_conformance_statement_parses(path: Path) -> None:
    failures = []
    for line, header, text in _records(path):
        expect_syntax_error = header.startswith("statement error") and "syntax error" in header
        try:
            statement = parse_statement(text, str(path), line, 1)
        except ParseError as exc:
            if not expect_syntax_error:
                failures.append(str(exc))
            continue
        if expect_syntax_error:
            failures.append(f"{path.name}:{line}: parsed but must be a syntax error: {text}")
        assert statement.span.line == line and statement.span.text == text.strip()
    assert not failures, "\n".join(failures)


def one(text: str) -> st.Statement:
    return parse_statement(text)


# --- privilege levels and grants ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "object_type", "level", "database", "name"),
    [
        ("grant select on table * to r", "table", "*", None, "*"),
        ("grant select on table *.* to r", "table", "*.*", "*", "*"),
        ("grant select on table DB1.* to r", "table", "db1.*", "db1", "*"),
        ("grant select on table db1.T1 to r", "table", "db1.t1", "db1", "t1"),
        ("grant select on table t to r", "table", "t", None, "t"),
        ("grant select on view `Db`.`V` to r", "view", "db.v", "db", "v"),
        ("grant create table on database db1 to r", "database", "db1", None, "db1"),
        ("grant create user on account * to r", "account", "*", None, "*"),
        ("grant execute on function db.f to r", "function", "db.f", "db", "f"),
        ("grant execute on procedure p to r", "procedure", "p", None, "p"),
    ],
)
def test_privilege_levels(text: str, object_type: str, level: str, database: str | None,
                          name: str) -> None:
    s = one(text)
    assert isinstance(s, st.GrantPrivilege)
    assert s.on == st.PrivilegeLevel(object_type, level, database, name)


def test_privilege_keywords_are_lower_case_single_spaced() -> None:
    s = one("GRANT ALL   PRIVILEGES, Create  User, show databases, MANAGE GRANTS, super, "
            "create routine, grant option, lock tables, replication client, replication slave, "
            "create temporary tables, create tablespace, alter routine, show view, usage, file, "
            "reload, event, shutdown, trigger, references, reference, create, upgrade account, "
            "ownership, execute on account * to r")
    assert isinstance(s, st.GrantPrivilege)
    assert [p.keyword for p in s.privileges] == [
        "all", "create user", "show databases", "manage grants", "super", "create routine",
        "grant option", "lock tables", "replication client", "replication slave",
        "create temporary tables", "create tablespace", "alter routine", "show view", "usage",
        "file", "reload", "event", "shutdown", "trigger", "references", "reference", "create",
        "upgrade account", "ownership", "execute",
    ]


def test_column_privileges_keep_their_columns() -> None:
    s = one("grant select(A, b), insert on table db.t to r")
    assert isinstance(s, st.GrantPrivilege)
    assert s.privileges == (st.Privilege("select", ("a", "b")), st.Privilege("insert"))


def test_grant_and_revoke_flags() -> None:
    g = one("grant select on table *.* to R1, 'R2' with grant option")
    assert isinstance(g, st.GrantPrivilege)
    assert g.roles == ("r1", "r2") and g.with_grant_option
    r = one("revoke if exists select, insert on table *.* from r1")
    assert isinstance(r, st.RevokePrivilege) and r.if_exists and r.roles == ("r1",)
    gr = one("grant dev, Lead to anne, bill with grant option")
    assert gr == st.GrantRole(gr.span, ("dev", "lead"), ("anne", "bill"), True)
    rr = one("revoke if exists dev from anne")
    assert rr == st.RevokeRole(rr.span, ("dev",), ("anne",), True)
    assert not one("grant dev to anne").with_grant_option


def test_missing_object_type_is_a_syntax_error_naming_what_was_expected() -> None:
    with pytest.raises(ParseError) as info:
        parse_statement("grant select,insert,update on d.* to role_r1", "f.sql", 7, 3)
    err = info.value
    assert (err.source, err.line, err.column) == ("f.sql", 7, 3 + 30)
    assert "syntax error" in str(err)
    assert "ACCOUNT, DATABASE, FUNCTION, PROCEDURE, TABLE, VIEW" in err.message
    assert "near 'd'" in err.message


# --- names ----------------------------------------------------------------------------------


def test_names_are_folded_and_unquoted_passwords_keep_case() -> None:
    s = one("create user if not exists Test_User identified by 'PassWord', "
            "'user_grant_1' identified by \"123\", 'user:1' identified by '' default role R1")
    assert isinstance(s, st.CreateUser)
    assert s.users == (st.UserSpec("test_user", "PassWord"), st.UserSpec("user_grant_1", "123"),
                       st.UserSpec("user:1", ""))
    assert s.default_role == "r1" and s.if_not_exists
    assert one("create role 'Role_A', `Role_B`, RoleC").names == (
        "role_a", "role_b", "rolec")
    assert one('drop user ""').names == ("",)
    assert one("drop role ''").names == ("",)
    assert one("create user 'u'@'%' identified by 'x'").users[0].name == "u"


def test_accounts() -> None:
    s = one('create account `test_create_user` ADMIN_NAME "Admin" IDENTIFIED BY "Pw1"')
    assert s == st.CreateAccount(s.span, "test_create_user", "admin", "Pw1")
    s = one("create account if not exists a1 admin_name = 'admin' identified by '1' "
            "open comment 'x'")
    assert isinstance(s, st.CreateAccount) and s.if_not_exists and s.admin_name == "admin"
    assert one("create account d ADMIN_NAME admin IDENTIFIED BY '1'").admin_name == "admin"
    assert one("drop account if exists A1") == st.DropAccount(s.span, "a1", True)
    assert one("alter account a1 admin_name 'admin' identified by 'x'") == st.AlterAccount(
        s.span, "a1")


def test_keywords_are_names_where_matrixone_allows_it() -> None:
    s = one("create table a(a int, b varchar(20), c double)")
    assert isinstance(s, st.CreateTable) and s.table == st.ObjectName(None, "a")
    assert one("use account").database == "account"
    assert one("create role public").names == ("public",)
    assert one("grant delete on table t.* to r1").on.level == "t.*"
    with pytest.raises(ParseError):  # "tablespace" is not TABLE followed by "space"
        one("create tablespace x")


# --- users, roles, session ------------------------------------------------------------------


def test_users_and_roles() -> None:
    assert one("drop user if exists u1, U2").names == ("u1", "u2")
    a = one("alter user if exists u1 identified by 'x' lock")
    assert isinstance(a, st.AlterUser) and a.name == "u1" and a.if_exists
    assert one("alter user u1 default role r2").default_role == "r2"
    c = one("create user u_a identified by 'a111', u_b identified by 'b111' default role public "
            "lock")
    assert isinstance(c, st.CreateUser) and c.default_role == "public" and len(c.users) == 2
    assert one("create user u4").users == (st.UserSpec("u4", None),)
    assert one("create role if not exists r1, r2") == st.CreateRole(c.span, ("r1", "r2"), True)
    assert one("drop role if exists r1") == st.DropRole(c.span, ("r1",), True)
    assert one("alter role r1 rename to R2") == st.AlterRole(c.span, "r1", "r2")


def test_session_statements() -> None:
    assert one("set role Role1") == st.SetRole(one("set role x").span, "role1")
    assert one("set secondary role ALL").all is True
    assert one("set secondary role none").all is False
    assert isinstance(one("set default role r1 to u1, u2"), st.SetDefaultRole)
    assert isinstance(one("use db1"), st.Use)


@pytest.mark.parametrize(
    ("text", "name", "value", "is_global"),
    [
        ("set view_security_type = 'INVOKER'", "view_security_type", "INVOKER", False),
        ('set view_security_type = "definer"', "view_security_type", "definer", False),
        ("set global enable_privilege_cache = off", "enable_privilege_cache", "off", True),
        ("set @@x=1", "x", "1", False),
        ("set @@GLOBAL.X = -1", "x", "-1", True),
        ("set session autocommit := 1", "autocommit", "1", False),
        ("set @my = 'v'", "@my", "v", False),
        ("set names utf8mb4", "names", "utf8mb4", False),
    ],
)
def test_set_variable(text: str, name: str, value: str, is_global: bool) -> None:
    s = one(text)
    assert isinstance(s, st.SetVariable)
    assert (s.name, s.value, s.is_global, s.more) == (name, value, is_global, ())


def test_set_with_several_assignments_keeps_them_all() -> None:
    s = one("set autocommit = 1, view_security_type = 'INVOKER'")
    assert isinstance(s, st.SetVariable) and s.name == "autocommit"
    assert [(m.name, m.value) for m in s.more] == [("view_security_type", "INVOKER")]


# --- catalogue DDL --------------------------------------------------------------------------


def test_databases_and_tables() -> None:
    span = one("show tables").span
    assert one("create database if not exists D1") == st.CreateDatabase(span, "d1", True)
    assert one("drop database if exists D1") == st.DropDatabase(span, "d1", True)
    t = one("create temporary table if not exists db.T (a int, primary key (a)) engine=x")
    assert t == st.CreateTable(span, st.ObjectName("db", "t"), True, True)
    assert one("create table t2 as select * from t").as_select == "select * from t"
    assert one("create table t3 (a int) select a from t").as_select == "select a from t"
    assert one("create table t4 like db.t").like == st.ObjectName("db", "t")
    assert one("drop table if exists t1, db.t2") == st.DropTable(
        span, (st.ObjectName(None, "t1"), st.ObjectName("db", "t2")), True)
    assert one("alter table test_table add column age int DEFAULT 0") == st.AlterTable(
        span, st.ObjectName(None, "test_table"))
    assert one("rename table a to b") == st.RenameTable(
        span, ((st.ObjectName(None, "a"), st.ObjectName(None, "b")),))
    assert one("truncate table db1.t1") == st.Truncate(span, st.ObjectName("db1", "t1"))
    assert one("truncate t") == st.Truncate(span, st.ObjectName(None, "t"))


def test_view_body_is_the_exact_text_after_as() -> None:
    text = "CREATE OR REPLACE SQL SECURITY INVOKER VIEW Db.V1 (a) AS\n  SELECT  A, `b`\nFROM t1"
    s = one(text + " -- tail comment\n;")
    assert isinstance(s, st.CreateView)
    assert s.view == st.ObjectName("db", "v1")
    assert s.body == "SELECT  A, `b`\nFROM t1"
    assert s.or_replace and s.security == "invoker" and not s.if_not_exists
    assert s.span.text == text + " -- tail comment"
    v = one("create view if not exists v as with x as (select 1) select * from x")
    assert isinstance(v, st.CreateView) and v.if_not_exists and v.security is None
    assert v.body == "with x as (select 1) select * from x"
    a = one("alter sql security definer view v as select 2")
    assert a == st.AlterView(a.span, st.ObjectName(None, "v"), "select 2", "definer")
    assert one("drop view if exists v1") == st.DropView(a.span, (st.ObjectName(None, "v1"),),
                                                        True)


# --- SHOW, other statements, queries --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "what", "database", "table", "grantee"),
    [
        ("show databases", "databases", None, None, None),
        ("show tables", "tables", None, None, None),
        ("show full tables from DB1 like 'x%'", "tables", "db1", None, None),
        ("show grants", "grants", None, None, None),
        ("show grants for role_v1", "grants", None, None, "role_v1"),
        ("show roles", "roles", None, None, None),
        ("show create table db.T", "create table", "db", ("db", "t"), None),
        ("show create view v", "create view", None, (None, "v"), None),
        ("show create database d", "create database", "d", None, None),
        ("show columns from t from db", "columns", "db", ("db", "t"), None),
        ("show accounts", "accounts", None, None, None),
        ("show global variables like 'a%'", "variables", None, None, None),
        ("show full processlist", "processlist", None, None, None),
        ("show snapshots", "snapshots", None, None, None),
    ],
)
def test_show(text: str, what: str, database: str | None, table: tuple[str | None, str] | None,
              grantee: str | None) -> None:
    s = one(text)
    assert isinstance(s, st.Show)
    assert (s.what, s.database, s.grantee) == (what, database, grantee)
    assert s.table == (st.ObjectName(*table) if table else None)


@pytest.mark.parametrize(
    ("text", "keyword"),
    [("begin", "begin"), ("COMMIT", "commit"), ("rollback", "rollback"),
     ("start transaction", "start transaction"), ("explain select 1", "explain"),
     ("kill 12", "kill"), ("set transaction isolation level read committed", "set transaction"),
     ("prepare s from 'select 1'", "prepare"), ("deallocate prepare s", "deallocate")],
)
def test_other(text: str, keyword: str) -> None:
    assert one(text) == st.Other(one("begin").span, keyword)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("select current_role()", "select"),
        ("SELECT * FROM t WHERE a = 'x;y'", "select"),
        ("insert into G select A.a from A,B where A.a = B.b", "insert"),
        ("insert into t (a) select 1", "insert"),
        ("replace into t values (1)", "replace"),
        ("update C,D set c = d+1 where c = d", "update"),
        ("delete E,F from E,F where E.e = F.f", "delete"),
        ("with x as (select 1) select * from x", "select"),
        ("with x as (select 1), y as (select 2) delete from t", "delete"),
        ("(select 1) union (select 2)", "select"),
    ],
)
def test_queries_keep_their_text(text: str, kind: str) -> None:
    s = one(text + ";")
    assert s == st.Query(s.span, kind, text) and s.text == text


# --- scripts --------------------------------------------------------------------------------

SCRIPT = """\
-- set up
create role r1;   create role 'a;b';
/* a ; block */ grant select
  on t to r1;
-- connect acc1:Admin role AccountAdmin secondary ALL
select 'it''s;' -- not the end ;
 , "x\\";y";
grant select on
  d.* to r1;
show tables"""


def test_script_statements_directives_and_errors_in_order() -> None:
    items = list(parse_script(SCRIPT, "s.sql"))
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["CreateRole", "CreateRole", "ParseError", "ConnectDirective", "Query",
                     "ParseError", "Show"]
    assert items[1].names == ("a;b",)
    assert (items[1].span.line, items[1].span.column) == (2, 19)
    first_error = items[2]
    assert isinstance(first_error, ParseError)
    assert (first_error.source, first_error.line, first_error.column) == ("s.sql", 4, 6)
    directive = items[3]
    assert directive == ConnectDirective("acc1:admin", "accountadmin", "all", directive.span)
    assert (directive.span.source, directive.span.line) == ("s.sql", 5)
    query = items[4]
    assert isinstance(query, st.Query) and query.span.line == 6
    assert query.text == "select 'it''s;' -- not the end ;\n , \"x\\\";y\""
    second_error = items[5]
    assert isinstance(second_error, ParseError)
    assert (second_error.line, second_error.column) == (9, 3)
    assert "near 'd'" in str(second_error) and "syntax error" in str(second_error)


def test_directive_ends_a_statement_without_semicolon() -> None:
    items = list(parse_script("create role r1\n-- connect sys:u1\nset role r1\n"))
    assert [type(i).__name__ for i in items] == ["CreateRole", "ConnectDirective", "SetRole"]
    assert items[1] == ConnectDirective("sys:u1", None, None, items[1].span)


def test_crlf_bom_and_blank_statements() -> None:
    text = "\ufeffcreate role r1;\r\n;;\r\n  -- only a comment\r\ncreate database\r\n  d1;\r\n"
    items = list(parse_script(text))
    assert [type(i).__name__ for i in items] == ["CreateRole", "CreateDatabase"]
    assert (items[0].span.line, items[0].span.column) == (1, 1)
    assert items[1].span.text == "create database\n  d1"
    assert items[1].span.line == 4


def test_nul_is_a_parse_error_of_its_statement_only() -> None:
    items = list(parse_script("create role r1;\ncreate\0 role r2;\ncreate role r3"))
    assert [type(i).__name__ for i in items] == ["CreateRole", "ParseError", "CreateRole"]
    error = items[1]
    assert isinstance(error, ParseError) and (error.line, error.column) == (2, 7)


def test_unterminated_quote_is_a_parse_error() -> None:
    items = list(parse_script("create role r1;\ncreate user u identified by 'abc;\n"))
    assert isinstance(items[0], st.CreateRole) and isinstance(items[1], ParseError)


def test_script_is_read_lazily() -> None:
    read: list[int] = []

    def lines() -> Iterator[str]:
        for n in range(1, 1000):
            read.append(n)
            yield f"create role r{n};\n"

    stream = parse_script(lines())
    first = next(stream)
    assert isinstance(first, st.CreateRole) and first.names == ("r1",)
    assert len(read) <= 2


def test_error_message_lists_expected_keywords() -> None:
    with pytest.raises(ParseError) as info:
        one("create tablespace x")
    assert re.search(r"expected one of: .*TABLE.*near 'tablespace'", info.value.message)
    with pytest.raises(ParseError) as info:
        one("grant select on table t to r with")
    assert "GRANT" in info.value.message and "end of statement" in info.value.message
