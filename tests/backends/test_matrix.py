"""The access matrix on DuckDB (library and CLI): the point path's answers, for everyone."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from reasoner import Reasoner
from reasoner.backends.duckdb_backend import DuckDBBackend
from reasoner.cli import main
from reasoner.materialize import COLUMNS, MatrixRow, materialize
from tests.strategies.matrixone import TABLES, USERS, World, build

WORLD = World(("grant r1 to r2", "grant r2 to u1", "grant select on table db1.* to r1",
               "grant all on table db1.t1 to r3", "grant r3 to u2",
               "grant ownership on table db2.t3 to r4", "grant r4 to r1", "grant r1 to u3",
               "grant insert on table *.* to r4"))


@pytest.fixture(scope="module")
def reasoner() -> Reasoner:
    return build(WORLD)


def test_who_can_equals_the_point_path(reasoner: Reasoner) -> None:
    matrix = materialize(reasoner)
    for table in TABLES:
        for privilege in ("select", "insert", "update", "delete"):
            grouped: dict[str, set[str]] = {}
            for row in matrix.who_can(privilege, "table", table, account="acc"):
                grouped.setdefault(row.user, set()).add(row.via_role)
            got = {(u, tuple(sorted(r))) for u, r in grouped.items()}
            want = {(a.user, a.roles) for a in reasoner.who_can(privilege, f"table {table}",
                                                                  account="acc")}
            assert got == want, (privilege, table)


def test_rows_are_named_and_cover_every_kind(reasoner: Reasoner) -> None:
    matrix = materialize(reasoner)
    rows = matrix.rows()
    assert rows == sorted(rows) and len(rows) == matrix.count() == len(matrix)
    assert MatrixRow("acc", "u2", "insert", "table", "db1.t1", "r3") in rows
    assert MatrixRow("acc", "u1", "select", "table", "db1.t2", "r2") in rows
    assert {r.kind for r in rows} >= {"account", "database", "table"}
    assert {r.account for r in rows} == {"acc", "sys"}
    assert matrix.who_can("connect", "account", "*", account="acc")
    assert not matrix.who_can("select", "table", "db1.nothing", account="acc")
    assert not matrix.what_can("acc:nobody")
    # strategies and text storage give the same matrix
    assert materialize(reasoner, strategy="recursive-cte").rows() == rows
    assert materialize(reasoner, intern=False).rows() == rows


def test_dropped_objects_leave_no_rows() -> None:
    reasoner = build(WORLD, ("drop table db1.t2",))
    matrix = materialize(reasoner)
    assert not [r for r in matrix.rows() if r.object == "db1.t2"]
    assert matrix.count() == len(matrix.rows())
    for user in USERS:
        grouped: dict[tuple[str, str, str], set[str]] = {}
        for row in matrix.what_can(f"acc:{user}"):
            grouped.setdefault((row.privilege, row.kind, row.object), set()).add(row.via_role)
        assert [(p, k, o, tuple(sorted(r))) for (p, k, o), r in sorted(grouped.items())] == \
            reasoner.what_can(f"acc:{user}")


def test_exports(reasoner: Reasoner, tmp_path: Path) -> None:
    matrix = materialize(reasoner, database=tmp_path / "matrix.duckdb")
    matrix.to_parquet(tmp_path / "m.parquet")
    matrix.to_csv(tmp_path / "m.csv", ordered=True)
    from_parquet = duckdb.sql(f"SELECT * FROM '{tmp_path / 'm.parquet'}'")
    assert tuple(from_parquet.columns) == COLUMNS
    assert sorted(MatrixRow(*r) for r in from_parquet.fetchall()) == matrix.rows()
    with open(tmp_path / "m.csv", newline="") as f:
        lines = list(csv.reader(f))
    assert tuple(lines[0]) == COLUMNS
    assert sorted(MatrixRow(*r) for r in lines[1:]) == matrix.rows()
    matrix.to_csv(tmp_path / "again.csv", ordered=True)
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "m.csv").read_bytes()


def test_only_what_the_matrix_needs_is_materialised(reasoner: Reasoner) -> None:
    matrix = materialize(reasoner)
    assert isinstance(matrix.backend, DuckDBBackend)
    assert "may_grant" not in matrix.backend.program.derived()  # grant options: not needed
    assert "role_reach" in matrix.evaluation.rounds


def test_unknown_backend_and_dialect() -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        materialize(Reasoner("matrixone"), backend="oracle")


# --------------------------------------------------------------------------- CLI


@pytest.fixture()
def script(tmp_path: Path) -> Path:
    path = tmp_path / "policy.sql"
    path.write_text(WORLD.script())
    return path


def test_cli_matrix_writes_csv_and_parquet(script: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "m.csv"
    assert main(["matrix", str(script), "--format", "csv", "-o", str(out)]) == 0
    assert "row(s) to" in capsys.readouterr().out
    assert out.read_text().startswith("account,user,privilege,kind,object,via_role\n")
    assert main(["matrix", str(script), "--format", "csv", "-o", str(out)]) == 2  # exists
    assert "--force" in capsys.readouterr().err
    parquet = tmp_path / "m.parquet"
    assert main(["matrix", str(script), "--backend", "duckdb", "--format", "parquet",
                 "-o", str(parquet)]) == 0
    assert duckdb.sql(f"SELECT count(*) FROM '{parquet}'").fetchall()[0][0] == len(
        out.read_text().splitlines()) - 1


def test_cli_who_can_and_what_can_agree_across_backends(script: Path, capsys) -> None:
    outputs = {}
    for backend in ("point", "duckdb"):
        assert main(["who-can", str(script), "--account", "acc", "--backend", backend,
                     "insert", "on", "table", "db1.t1"]) == 0
        who = capsys.readouterr().out
        assert main(["what-can", str(script), "acc:u1", "--backend", backend]) == 0
        outputs[backend] = (who, capsys.readouterr().out)
    assert outputs["point"] == outputs["duckdb"]
    who, what = outputs["duckdb"]
    assert "u2  via r3" in who.splitlines()
    assert "select on table db1.t2  via r2" in what.splitlines()
    assert main(["who-can", str(script), "--account", "acc", "--backend", "duckdb",
                 "drop", "table", "on", "table", "db1.t1"]) == 1
    assert "nobody may" in capsys.readouterr().out
