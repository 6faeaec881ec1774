"""The Spark backend runs the same compiled plan and gives exactly DuckDB's rows.

Local mode, one SparkSession for the suite (``conftest.spark``), small policies only.
"""

from __future__ import annotations

from pathlib import Path

from reasoner.backends.duckdb_backend import DuckDBBackend
from reasoner.backends.spark_backend import SparkBackend, default_master
from reasoner.materialize import materialize
from tests.backends.test_sql_compiler import FACTS, RULES, every_relation, loaded
from tests.strategies.matrixone import World, build

WORLD = World(("grant r1 to r2", "grant r2 to u1", "grant select on table db1.* to r1",
               "grant all on table db1.t1 to r3", "grant r3 to u2",
               "grant ownership on table db2.t3 to r4", "grant r4 to r1", "grant r1 to u3",
               "revoke select on table db1.* from r1", "drop table db1.t2"))


def test_master_comes_from_the_configuration(monkeypatch) -> None:
    monkeypatch.setenv("SPARK_MASTER", "local[1]")
    assert default_master() == "local[1]"
    monkeypatch.delenv("SPARK_MASTER")
    assert default_master() in ("local[2]", None)


def test_small_program_equals_duckdb(spark) -> None:
    """Every relation (recursion, negation, comparisons, zero arity, mixed columns), strings
    kept as text here; the interned form runs in the matrix and differential tests."""
    backend = loaded(SparkBackend(spark, intern=False))
    assert every_relation(backend) == every_relation(loaded(DuckDBBackend(intern=False)))
    backend.close()


def test_changes_and_separate_backends(spark) -> None:
    """A change is seen at the next question; two backends in one SparkSession do not see
    each other's views."""
    rules = "tc_base :: t(X, Y) :- e(X, Y).\ntc_step :: t(X, Y) :- t(X, Z), e(Z, Y).\n" \
            ".input e(x, y)\n"
    one = loaded(SparkBackend(spark), facts=FACTS[:3], rules=rules)
    two = loaded(SparkBackend(spark), facts=FACTS[:2], rules=rules)
    assert one.relation_rows("t") == [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"),
                                      ("b", "d"), ("c", "d")]
    one.remove_fact("e", ("b", "c"))
    assert one.relation_rows("t") == [("a", "b"), ("c", "d")]
    assert two.relation_rows("t") == [("a", "b"), ("a", "c"), ("b", "c")]
    one.close()
    two.close()


def test_matrix_equals_duckdb(spark, tmp_path: Path) -> None:
    reasoner = build(WORLD)
    duck = materialize(reasoner, backend="duckdb")
    sparked = materialize(reasoner, backend="spark", spark=spark)
    assert sparked.rows() == duck.rows()
    assert sparked.count() == duck.count() == len(duck.rows())
    assert sparked.who_can("select", "table", "db1.t1", account="acc") == duck.who_can(
        "select", "table", "db1.t1", account="acc")
    assert sparked.what_can("acc:u1") == duck.what_can("acc:u1")
    sparked.to_csv(tmp_path / "spark.csv", ordered=True)
    duck.to_csv(tmp_path / "duck.csv", ordered=True)
    assert (tmp_path / "spark.csv").read_text().splitlines()[1:] == (
        tmp_path / "duck.csv").read_text().splitlines()[1:]
    sparked.backend.close()


def test_rules_program_text_is_the_same_plan(spark) -> None:
    """The same plan, printed for Spark: what the engine ran."""
    from reasoner.backends.sql_compiler import compile_program
    from reasoner.datalog import parse_program

    plan = compile_program(parse_program(RULES, "test.dl"))
    assert "`r_t`" in plan.script("spark")
