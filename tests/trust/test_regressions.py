"""Bugs the trust suite found, each pinned by its minimal script (docs/reliability.md
lists them with the property that found them). Others are pinned where they belong:
the 2,000-role chain (checker and JSON recursion) and the 10 MB statement in
tests/fuzz/test_limits.py, the corrupt rule file in tests/trust/test_fail_closed.py, the
.dot fallback overwrite in tests/trust/test_security.py."""

from __future__ import annotations

from reasoner import Reasoner
from reasoner.dialects.matrixone import parser as matrixone_parser

VIEW = """
create account acc admin_name 'admin' identified by '1';
-- connect acc:admin
create database db1;
create table db1.t1 (a int);
create view db1.v1 as select * from db1.t1;
"""


def test_who_can_on_a_view_lists_no_other_accounts_admins() -> None:
    """Found by test_who_can_and_what_can_equal_point_checks_after_any_history: the rule
    giving admin roles every view was not scoped to the view's account, so who_can on
    acc's view listed sys:root and sys:dump (through moadmin)."""
    reasoner = Reasoner("matrixone")
    assert all(o.ok for o in reasoner.load(VIEW))
    found = reasoner.who_can("select", "view db1.v1", account="acc")
    assert [(a.user, a.roles) for a in found] == [("admin", ("accountadmin",))]


def test_what_can_lists_the_views_a_point_check_allows() -> None:
    """Found by the same differential test: what_can built on ``effective``, which had no
    view rows for ALL, OWNERSHIP or the admin role, so it missed what checks allowed."""
    reasoner = Reasoner("matrixone")
    assert all(o.ok for o in reasoner.load(VIEW))
    assert reasoner.session("acc:admin").check("select", "view db1.v1")
    assert ("select", "view", "db1.v1") in {row[:3] for row in reasoner.what_can("acc:admin")}


def test_a_parser_crash_inside_a_script_is_an_outcome(monkeypatch) -> None:
    """Found by test_grammar_sentences_parse_or_fail_with_a_position: a parser exception
    other than ParseError escaped ``Reasoner.load``. Now that statement is a ParseError
    outcome and the script goes on (MatrixOne), or ends with one (any dialect)."""
    real = matrixone_parser.parse_statement

    def crash_on_b(text: str, *args: object) -> object:
        if "b" in text:
            raise RuntimeError("builder bug")
        return real(text, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(matrixone_parser, "parse_statement", crash_on_b)
    outcomes = Reasoner("matrixone").load("create role a;\ncreate role b;\ncreate role c;")
    assert [o.ok for o in outcomes] == [True, False, True]
    assert "<text>:2:1:" in (outcomes[1].error or "") and "expected" in outcomes[1].error

    mc = Reasoner("maxcompute")
    mc.engine.directive("project", ["prj_a", "owner", "ALIYUN$bob@aliyun.com"], "")
    outcomes = mc.load("-- connect prj_a ALIYUN$bob@aliyun.com\ncreate role r1;\n"
                       "set label 1.5 to user ALIYUN$bob@aliyun.com;\ncreate role r2;\n")
    assert outcomes[0].ok and not all(o.ok for o in outcomes)


def test_a_query_syntax_error_names_the_file_line_and_column() -> None:
    """Found while checking that every error names file:line:col: errors of the SQL
    reader gave positions relative to the statement ("line 1, column 5")."""
    outcomes = Reasoner("matrixone").load(
        "create database d;\ncreate table d.t (a int);\nselect a from\n  d.t where;\n"
        "create view d.v as select from where;")
    assert outcomes[2].error.startswith("<text>:4:")  # type: ignore[union-attr]
    assert outcomes[3].error.startswith("<text>:5:36: syntax error")  # type: ignore[union-attr]


def test_a_delete_without_from_is_a_syntax_error_with_its_position() -> None:
    """Found by the long run of test_grammar_sentences_parse_or_fail_with_a_position
    (2026-12-02): ``delete a`` reached sqlglot, which reads it as a DELETE of nothing
    (``this=False``), and the table reader crashed: rejected, but as "internal error:
    AttributeError". Now MatrixOne's own verdict, a syntax error at the name."""
    reasoner = Reasoner("matrixone")
    outcomes = reasoner.load("create database d;\ncreate table d.a (x int);\n"
                             "delete a;\ndelete d.a;\ndelete from d.a;\n")
    assert [o.ok for o in outcomes] == [True, True, False, False, True]
    assert outcomes[2].error == "<text>:3:8: syntax error: expected FROM and a table after DELETE"
    assert outcomes[3].error.startswith("<text>:4:8: syntax error: expected FROM")


def test_a_statement_after_a_lone_cr_is_placed_on_the_next_line() -> None:
    """Found by the long run of test_mutated_statements_parse_or_fail_with_a_position
    (2026-12-02, both dialects): a statement starting with a lone CR was placed on line 1,
    the CR counted as a column, while the script splitter (which treats CR as a line break)
    said line 2. Both now say line 2, the column of the error on it."""
    from reasoner.dialects import get_dialect
    from reasoner.errors import ParseError

    for dialect in ("matrixone", "maxcompute"):
        for text in ("\rdrop x!", "\r\ncreate!role r", "\r\rgrant\"x", "grant\r 'x",
                     "create\r\nrole\r!"):
            try:
                get_dialect(dialect).parse_statement(text, "f.sql", 1, 1)
            except ParseError as error:
                one = (error.line, error.column)
            else:
                raise AssertionError(f"{dialect}: {text!r} parsed")
            many = [(e.line, e.column) for e in get_dialect(dialect).parse_script(text, "f.sql")
                    if isinstance(e, ParseError)]
            assert [one] == many, (dialect, text)
            assert one[0] >= 2
