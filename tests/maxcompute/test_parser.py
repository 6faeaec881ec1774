"""The MaxCompute grammar: statements become the right dataclasses, errors say where."""

from __future__ import annotations

import pytest

from reasoner.dialects.base import Connect
from reasoner.dialects.maxcompute import MaxCompute
from reasoner.dialects.maxcompute import statements as st
from reasoner.dialects.maxcompute.parser import parse_statement
from reasoner.errors import ParseError


def test_acl_grant_with_actions_columns_and_user() -> None:
    s = parse_statement("GRANT Select, Describe ON TABLE prj_a.T1 (ID, name) "
                        "TO USER ALIYUN$Alice@aliyun.com;")
    assert isinstance(s, st.GrantAcl)
    assert s.actions == ("select", "describe")
    assert s.on == st.ObjectRef("table", st.Name("prj_a", "t1"), ("id", "name"))
    assert s.subject.kind == "user"
    assert s.subject.name == "aliyun$alice@aliyun.com"
    assert s.subject.written == "ALIYUN$Alice@aliyun.com"


def test_policy_grant_keeps_its_properties() -> None:
    s = parse_statement('grant Drop on table * to role dev '
                        'privilegeproperties("policy"="true", "allow"="false")')
    assert isinstance(s, st.GrantAcl)
    assert s.on.name == st.Name(None, "*")
    assert s.prop("policy") == "true" and s.prop("allow") == "false"


def test_role_grant_and_revoke_name_a_user_without_keyword() -> None:
    g = parse_statement("grant worker, reader to RAM$bob@aliyun.com:Allen")
    assert isinstance(g, st.GrantRoles)
    assert g.roles == ("worker", "reader")
    assert g.user.key == "ram$bob@aliyun.com:allen"
    r = parse_statement("revoke worker from ALIYUN$alice@aliyun.com")
    assert isinstance(r, st.RevokeRoles)


@pytest.mark.parametrize(("text", "kind"), [
    ("set label 2 to table up(mobile, addr)", st.SetLabelTable),
    ("set label 3 to user ALIYUN$alice@aliyun.com", st.SetLabelSubject),
    ("set label 1 to role analysts", st.SetLabelSubject),
    ("grant label 2 on table up(mobile) to user ALIYUN$a@b.com with exp 7", st.GrantLabel),
    ("revoke label on table up from user ALIYUN$a@b.com", st.RevokeLabel),
    ("clear expired grants", st.ClearExpiredGrants),
    ("put policy p.json on role dev", st.PutPolicy),
    ("set ProjectProtection=true with exception exc_a.json", st.SetFlag),
    ("add trustedproject prj_b", st.AddTrustedProject),
    ("remove trustedproject prj_b", st.RemoveTrustedProject),
    ("create package pkg", st.CreatePackage),
    ("add table sales to package pkg with privileges select, describe", st.AddToPackage),
    ("remove table sales from package pkg", st.RemoveFromPackage),
    ("allow project prj_b to install package pkg using label 2", st.AllowInstall),
    ("disallow project prj_b to install package pkg", st.DisallowInstall),
    ("install package prj_a.pkg", st.InstallPackage),
    ("uninstall package prj_a.pkg", st.UninstallPackage),
    ("delete package pkg", st.DropPackage),
    ("add user ALIYUN$x@y.com", st.AddUser),
    ("remove user ALIYUN$x@y.com", st.RemoveUser),
    ('create role r privilegeproperties("type"="admin")', st.CreateRole),
    ("drop role r", st.DropRole),
    ("list trustedprojects", st.Show),
    ("show grants for ALIYUN$x@y.com on type table", st.Show),
    ("desc role admin", st.Show),
    ("whoami", st.Show),
    ("get policy on role r", st.Show),
    ("use prj_b", st.Use),
    ("add accountprovider ram", st.Other),
    ("create table t (id bigint) partitioned by (ds string) lifecycle 30", st.CreateTable),
    ("create table t2 as select * from prj_a.t1", st.CreateTable),
    ("create view v as select id from t", st.CreateTable),
    ("drop table if exists t", st.DropTable),
    ("alter table t add columns (c string)", st.AlterTable),
    ("alter table t set lifecycle 10", st.AlterTable),  # MaxCompute's own: sqlglot falls back
    ("desc prj_a.t1", st.Describe),
    ("insert overwrite table t partition (ds='1') select * from s", st.Query),
    ("create function f as 'com.x.F' using 'x.jar'", st.CreateFunction),
    ("add jar /tmp/udf.jar -f", st.AddResource),
    ("drop resource udf.jar", st.DropResource),
    ("tunnel download prj_a.t1 /tmp/t1.csv", st.TunnelDownload),
])
def test_statement_kinds(text: str, kind: type) -> None:
    assert isinstance(parse_statement(text), kind)


def test_create_table_reads_columns_and_partition_keys_with_sqlglot() -> None:
    s = parse_statement("create table if not exists T (Id bigint comment 'x', v string) "
                        "partitioned by (ds string) lifecycle 7;")
    assert isinstance(s, st.CreateTable)
    assert s.table == st.Name(None, "t")
    assert s.columns == ("id", "v", "ds")
    assert s.partition_columns == ("ds",)
    assert s.if_not_exists


def test_select_keeps_the_sqlglot_tree() -> None:
    s = parse_statement("select a.id from prj_b.t2 a where a.v > 1")
    assert isinstance(s, st.Query) and s.kind == "select"
    assert s.tree.find_all  # a sqlglot expression


def test_keywords_are_case_insensitive_and_only_keywords_in_place() -> None:
    s = parse_statement("GRANT CreateTable, select ON PROJECT prj_a TO ROLE table_admins")
    assert isinstance(s, st.GrantAcl)
    assert s.actions == ("createtable", "select")
    assert s.subject == st.Subject("role", "table_admins", "table_admins")


@pytest.mark.parametrize(("text", "column", "fragment"), [
    ("grant select on tabel t to user ALIYUN$a@b.com", 17, "expected one of"),
    ("add user bob", 10, "account name"),
    ("grant label x on table t to user ALIYUN$a@b.com", 13, "a number"),
    ("select from where", 13, "expected valid SQL"),
])
def test_parse_errors_point_at_the_problem(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_statement(text, "f.sql", 3, 5)
    assert info.value.line == 3
    assert info.value.column == 5 + column - 1
    assert fragment in info.value.message


def test_script_splits_statements_and_connect_directives() -> None:
    items = list(MaxCompute().parse_script(
        "-- connect prj_a ALIYUN$bob@aliyun.com\n"
        "select ';' from t; -- a comment\n"
        "bad statement;\n"
        "-- connect prj_b ALIYUN$amy@aliyun.com\n"
        "show tables\n", "s.sql"))
    assert isinstance(items[0], Connect) and items[0].principal == "prj_a ALIYUN$bob@aliyun.com"
    assert isinstance(items[1], st.Query)
    assert isinstance(items[2], ParseError) and items[2].line == 3
    assert isinstance(items[3], Connect) and items[3].span.line == 4
    assert isinstance(items[4], st.Show)
