"""Differential tests: pyDatalog (the reference), DuckDB and Spark derive the same rows for
every derived relation of generated MatrixOne histories, grants then revokes and drops.

On a difference hypothesis shrinks the history; the failure prints the minimal script.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from reasoner import Reasoner
from reasoner.backends.duckdb_backend import DuckDBBackend
from reasoner.backends.spark_backend import SparkBackend
from reasoner.datalog import Atom, Var
from reasoner.materialize import materialize
from tests.strategies.matrixone import LEVELS, ROLES, TABLE_PRIVILEGES, TABLES, USERS, World
from tests.strategies.matrixone import worlds as grant_worlds

PRIVILEGES = ("select", "insert", "update", "delete", "all", "ownership")

revoke_role = st.tuples(st.sampled_from(ROLES), st.sampled_from(USERS)).map(
    lambda p: f"revoke {p[0]} from {p[1]}")
revoke_edge = st.tuples(st.integers(0, len(ROLES) - 1), st.integers(0, len(ROLES) - 1)).filter(
    lambda p: p[0] < p[1]).map(lambda p: f"revoke {ROLES[p[0]]} from {ROLES[p[1]]}")
revoke_privilege = st.tuples(st.sampled_from(TABLE_PRIVILEGES), st.sampled_from(LEVELS),
                             st.sampled_from(ROLES)).map(
    lambda p: f"revoke {p[0]} on table {p[1]} from {p[2]}")
drop = st.one_of(st.sampled_from(ROLES).map(lambda r: f"drop role {r}"),
                 st.sampled_from(USERS).map(lambda u: f"drop user {u}"),
                 st.sampled_from(TABLES).map(lambda t: f"drop table {t}"),
                 st.just("drop database db2"))
undo = st.one_of(revoke_role, revoke_edge, revoke_privilege, drop)
histories = st.tuples(grant_worlds, st.lists(undo, max_size=4))

FAST = settings(max_examples=10, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SPARK = settings(FAST, max_examples=2)


def replay(history: tuple[World, list[str]]) -> tuple[Reasoner, str]:
    """The reasoner after the history; statements MatrixOne rejects change nothing."""
    world, extra = history
    script = world.script(tuple(extra))
    reasoner = Reasoner("matrixone")
    reasoner.load(script)
    note(f"script:\n{script}")
    return reasoner, script


def derived(backend, program) -> dict[str, list[tuple]]:
    return {pred: backend.query(Atom(pred, tuple(Var(f"V{i}")
                                                for i in range(program.arity(pred)))))
            for pred in sorted(program.derived())}


def bulk(backend, reasoner: Reasoner):
    backend.load_program(reasoner.engine.backend.program)
    backend.add_facts((p, a) for p, a, _ in reasoner.engine.facts.all_facts())
    return backend


def differences(left: dict, right: dict) -> list[str]:
    return [f"{pred}: only left {sorted(set(left[pred]) - set(right[pred]))[:5]}, only right "
            f"{sorted(set(right[pred]) - set(left[pred]))[:5]}"
            for pred in left if left[pred] != right[pred]]


@FAST
@given(histories)
def test_duckdb_equals_pydatalog(history) -> None:
    reasoner, script = replay(history)
    program = reasoner.engine.backend.program
    reference = derived(reasoner.engine.backend, program)
    duck = derived(bulk(DuckDBBackend(), reasoner), program)
    assert not differences(reference, duck), (differences(reference, duck), script)


@FAST
@given(histories)
def test_matrix_equals_what_can(history) -> None:
    """The DuckDB matrix, read per user, is what the point path's what_can says."""
    reasoner, script = replay(history)
    matrix = materialize(reasoner)
    acc = reasoner.engine.catalogue.account("acc")
    for user in sorted(acc.users):
        grouped: dict[tuple[str, str, str], set[str]] = {}
        for row in matrix.what_can(f"acc:{user}"):
            grouped.setdefault((row.privilege, row.kind, row.object), set()).add(row.via_role)
        got = [(p, k, o, tuple(sorted(r))) for (p, k, o), r in sorted(grouped.items())]
        assert got == reasoner.what_can(f"acc:{user}"), (user, script)


@SPARK
@given(histories)
def test_spark_equals_duckdb(spark, history) -> None:
    reasoner, script = replay(history)
    program = reasoner.engine.backend.program
    duck = derived(bulk(DuckDBBackend(), reasoner), program)
    sparked = bulk(SparkBackend(spark), reasoner)
    try:
        rows = derived(sparked, program)
    finally:
        sparked.close()
    assert not differences(duck, rows), (differences(duck, rows), script)
