"""reasoner.sql: which tables ordinary SQL touches, and how (MatrixOne spec §4.3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner.dialects.matrixone import statements as st
from reasoner.dialects.matrixone.parser import parse_script
from reasoner.sql import SqlSyntaxError, TableUse, read_access, view_references

_HERE = Path(__file__).resolve()
_CASE_DIRS = (
    _HERE.parent / "conformance" / "matrixone",
    _HERE.parents[2] / "shared" / "conformance" / "matrixone",
)
CASES = next((d for d in _CASE_DIRS if d.is_dir() and any(d.glob("*.test"))), None)


def uses(sql: str) -> list[tuple[str | None, str, str]]:
    return [(u.database, u.name, u.action) for u in read_access(sql).uses]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select 1", []),
        ("select current_role()", []),
        ("select 1 from dual", []),
        ("select * from generate_series(1, 3) g", []),
        ("select * from A,B where A.a = B.b", [(None, "a", "select"), (None, "b", "select")]),
        ("select * from Db1.T1 join t2 on 1", [("db1", "t1", "select"), (None, "t2", "select")]),
        ("select * from t where a in (select a from s)", [(None, "t", "select"),
                                                          (None, "s", "select")]),
        ("select * from (select * from t) d", [(None, "t", "select")]),
        ("select * from t, t", [(None, "t", "select")]),
        # CTE names are not tables; CTE bodies are scans
        ("with x as (select * from t) select * from x join y on 1",
         [(None, "t", "select"), (None, "y", "select")]),
        ("with recursive x (n) as (select 1 union all select n + 1 from x) select * from x", []),
        ("select * from db.x", [("db", "x", "select")]),
        # INSERT / REPLACE
        ("insert into db1.t values (1)", [("db1", "t", "insert")]),
        ("insert into G select A.a from A,B where A.a = B.b",
         [(None, "g", "insert"), (None, "a", "select"), (None, "b", "select")]),
        ("insert into t (a) select a from t", [(None, "t", "insert"), (None, "t", "select")]),
        ("replace into t (a) select b from s", [(None, "t", "insert"), (None, "s", "select")]),
        # UPDATE: scans of the target are update, others select
        ("update A set a = 2 where a = 1", [(None, "a", "update")]),
        ("update A set a = (select max(a) from A) where a in (select b from B)",
         [(None, "a", "update"), (None, "b", "select")]),
        ("update C,D set c = d+1 where c = d", [(None, "c", "update"), (None, "d", "update")]),
        ("update testdb4.table_1 set name='oppo' where id=10",
         [("testdb4", "table_1", "update")]),
        # DELETE
        ("delete from A where a = 2", [(None, "a", "delete")]),
        ("delete from A where a in (select a from A)", [(None, "a", "delete")]),
        ("delete E,F from E,F where E.e = F.f", [(None, "e", "delete"), (None, "f", "delete")]),
        ("delete a1 from db.t1 as a1 join t2 on a1.a = t2.a",
         [("db", "t1", "delete"), (None, "t2", "select")]),
        ("delete from t1 using t1, t2 where t1.a = t2.a",
         [(None, "t1", "delete"), (None, "t2", "select")]),
    ],
)
def test_read_access(sql: str, expected: list[tuple[str | None, str, str]]) -> None:
    assert uses(sql) == expected


def test_kind() -> None:
    assert read_access("replace into t values (1)").kind == "replace"
    assert read_access("with x as (select 1) select * from x").kind == "select"
    assert read_access("delete from t").kind == "delete"


def test_view_references_are_all_selects() -> None:
    assert view_references("select * from v1 join db.t2 on 1 where a in (select a from t3)") == (
        TableUse(None, "v1", "select"), TableUse("db", "t2", "select"),
        TableUse(None, "t3", "select"))


@pytest.mark.parametrize("sql", ["select * from where", "select 'abc", "select 1; select 2",
                                 "create table t (a int)"])
def test_syntax_errors(sql: str) -> None:
    with pytest.raises(SqlSyntaxError) as info:
        read_access(sql)
    assert info.value.line >= 1 and info.value.column >= 1


def test_syntax_error_position() -> None:
    with pytest.raises(SqlSyntaxError) as info:
        read_access("select *\nfrom where")
    assert (info.value.line, info.value.column) == (2, 10)
    assert "'where'" in info.value.message


def test_view_body_must_be_a_query() -> None:
    with pytest.raises(SqlSyntaxError):
        view_references("delete from t")


def _statements(path: Path) -> list[str]:
    """The statement texts of a .test file's ``statement ok|error`` records."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        if lines[i].startswith("statement "):
            j = i + 1
            while j < len(lines) and lines[j].strip():
                j += 1
            found.append("\n".join(lines[i + 1 : j]))
            i = j
        else:
            i += 1
    return found


@pytest.mark.skipif(CASES is None, reason="no conformance cases found")
def test_every_conformance_query_and_view_body_is_readable() -> None:
    count = 0
    for path in sorted(CASES.glob("*.test")):
        for item in parse_script(";\n".join(_statements(path)), str(path)):
            if isinstance(item, st.Query):
                read_access(item.text)
                count += 1
            elif isinstance(item, st.CreateView):
                view_references(item.body)
                count += 1
    assert count > 50
