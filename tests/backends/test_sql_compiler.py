"""The SQL compiler: plans printed for DuckDB and Spark, and DuckDB's rows equal to
pyDatalog's for every relation of small programs and of the MatrixOne rule base."""

from __future__ import annotations

import pytest

from reasoner.backends import PyDatalogBackend
from reasoner.backends.duckdb_backend import DuckDBBackend
from reasoner.backends.sql_compiler import (
    MIXED,
    SYM,
    compile_program,
    decode,
    encode,
    recursive_cte,
    restrict,
)
from reasoner.datalog import Atom, Comparison, Const, Negation, Var, parse_program
from reasoner.errors import RuleError
from tests.strategies.matrixone import World, build

X, Y = Var("X"), Var("Y")

RULES = """
.input e(x, y)
.input blocked(x)
.input score(x, n)
.input flag()
tc_base :: t(X, Y) :- e(X, Y).
tc_step :: t(X, Y) :- t(X, Z), e(Z, Y).
sq :: tt(X, Y) :- tt(X, Z), tt(Z, Y).
sq_base :: tt(X, Y) :- e(X, Y).
open_path :: open(X, Y) :- t(X, Y), !blocked(Y).
unreach :: unreachable(X, Y) :- node(X), node(Y), !t(X, Y).
sink :: sink(X) :- node(X), !e(X, _).
high :: high(X) :- score(X, N), N >= 10, N != 99.
below :: below(X, Y) :- score(X, N), score(Y, M), N < M.
even_a :: even(X) :- node(X), X = "a".
before_c :: early(X) :- node(X), X < c.
self_loop :: loop(X) :- e(X, X).
constant_head :: tagged(X, kind, 7) :- node(X).
mutual_a :: ping(X) :- e(X, _).
mutual_b :: ping(X) :- pong(X).
mutual_c :: pong(Y) :- ping(X), e(X, Y).
flagged :: on() :- flag().
flagged_nodes :: lit(X) :- on(), node(X).
unflagged :: dark(X) :- node(X), !on().
node(a). node(b). node(c). node(d). node(e).
label("create user").
label(1).
label(-5).
derived_with_fact :: t2(X) :- node(X), X = b.
t2(z).
"""

FACTS = [("e", ("a", "b")), ("e", ("b", "c")), ("e", ("c", "d")), ("e", ("d", "d")),
         ("e", ("e", "a")), ("blocked", ("c",)), ("score", ("a", 10)), ("score", ("b", 99)),
         ("score", ("c", 3)), ("score", ("d", -2)), ("flag", ())]


def loaded(backend, facts=FACTS, rules=RULES):
    backend.load_program(parse_program(rules, "test.dl"))
    for pred, args in facts:
        backend.add_fact(pred, args)
    return backend


def every_relation(backend) -> dict[str, list[tuple]]:
    program = backend.program
    return {pred: backend.query(Atom(pred, tuple(Var(f"V{i}") for i in range(arity))))
            for pred, arity in sorted(program.predicates().items())}


@pytest.mark.parametrize("intern", [True, False])
@pytest.mark.parametrize("strategy", ["semi-naive", "recursive-cte"])
def test_every_relation_equals_pydatalog(intern: bool, strategy: str) -> None:
    reference = every_relation(loaded(PyDatalogBackend()))
    duck = loaded(DuckDBBackend(intern=intern, strategy=strategy))
    assert every_relation(duck) == reference
    assert duck.last_evaluation is not None
    assert duck.last_evaluation.rounds["t"] >= (0 if strategy == "recursive-cte" else 3)


def test_changes_are_seen_at_the_next_question() -> None:
    duck, reference = loaded(DuckDBBackend()), loaded(PyDatalogBackend())
    for backend in (duck, reference):
        backend.remove_fact("e", ("b", "c"))
        backend.add_fact("e", ("a", "e"))
        backend.remove_fact("flag", ())
    assert every_relation(duck) == every_relation(reference)


def test_points_and_conjunctions_equal_pydatalog() -> None:
    duck, reference = loaded(DuckDBBackend()), loaded(PyDatalogBackend())
    bodies = [
        (Atom("t", (X, Y)), Comparison("<", X, Y)),
        (Atom("t", (Const("a"), X)), Negation(Atom("blocked", (X,)))),
        (Atom("score", (X, Y)), Comparison(">", Y, Const(0))),
        (Atom("t", (X, Const("nowhere"))),),
        (Atom("label", (X,)), Comparison("=", X, Const(1))),
        (Atom("node", (X,)), Comparison(">=", X, Const("bb"))),  # a string no row holds
        (Atom("t", (X, X)),),
        (Atom("on", ()),),
        (Comparison("<", Const(1), Const(2)),),
    ]
    for body in bodies:
        assert duck.solve(body) == reference.solve(body), body
    for pred, args in [("t", ("a", "d")), ("t", ("d", "a")), ("label", (1,)),
                       ("label", ("1",)), ("on", ()), ("score", ("a", "10"))]:
        assert duck.holds(pred, args) == reference.holds(pred, args), (pred, args)
    assert duck.facts("score") == reference.facts("score")


def test_the_plan_prints_in_both_dialects() -> None:
    program = parse_program(RULES, "test.dl")
    plan = compile_program(program, {"score": [{"str"}, {"int"}]})
    duck, spark = plan.script("duckdb"), plan.script("spark")
    assert 'CREATE TABLE "r_e" ("x" TEXT, "y" TEXT)' in duck
    assert "CREATE TABLE `r_e` (`x` STRING, `y` STRING)" in spark
    assert "NOT EXISTS" in duck and "NOT EXISTS" in spark
    assert "VALUES" in duck and "VALUES" in spark
    # strata: negation reads a lower stratum, so `open` comes after `t`
    order = [p for comp in plan.components for p in comp.preds]
    assert order.index("t") < order.index("open") < len(order)
    assert order.index("on") < order.index("dark")
    assert plan.strata()[0] and all(c.stratum == i for i, s in enumerate(plan.strata())
                                    for c in s)
    recursive = {c.preds: c.recursive for c in plan.components}
    assert recursive[("t",)] and recursive[("ping", "pong")] and not recursive[("open",)]
    # linear recursion has a WITH RECURSIVE form; non-linear (tt) and mutual do not
    by_pred = {c.preds: c for c in plan.components}
    assert "WITH RECURSIVE" in recursive_cte(plan, by_pred[("t",)]).sql("duckdb")
    assert recursive_cte(plan, by_pred[("tt",)]) is None
    assert recursive_cte(plan, by_pred[("ping", "pong")]) is None


def test_column_kinds_follow_constants_facts_and_data() -> None:
    program = parse_program(RULES, "test.dl")
    plan = compile_program(program, {"score": [{"str"}, {"int"}]}, symbols={"a", "b"})
    assert plan.relations["score"].kinds == (SYM, "int")
    assert plan.relations["label"].kinds == (MIXED,)  # "create user" and 1
    assert plan.relations["tagged"].kinds == (SYM, SYM, "int")
    assert plan.relations["on"].columns == ("_unit",)
    assert plan.codec.values == sorted(plan.codec.values)
    for value in ("x", "", 0, -(2**62), 2**62):
        assert decode(encode(value, MIXED), MIXED) == value
    assert encode(-3, MIXED) < encode(2, MIXED) < encode(10, MIXED)


def test_restrict_keeps_what_a_target_needs() -> None:
    program = parse_program(RULES, "test.dl")
    part = restrict(program, ["open"])
    assert part.derived() == {"open", "t"}
    assert set(part.inputs) == set(program.inputs)
    with pytest.raises(RuleError, match="unknown predicate"):
        restrict(program, ["nothing"])


def test_unstratified_programs_are_refused() -> None:
    program = parse_program("a :: p(X) :- n(X), !q(X).\nb :: q(X) :- n(X), !p(X).\nn(a).",
                            "bad.dl")
    with pytest.raises(RuleError, match="not stratified"):
        compile_program(program)


def test_matrixone_rule_base_equals_pydatalog() -> None:
    """Every derived relation of the real rule base, on a small generated policy."""
    world = World(("grant r1 to r2", "grant r2 to u1", "grant select on table db1.* to r1",
                   "grant all on table db1.t1 to r3", "grant r3 to u2",
                   "grant ownership on table db2.t3 to r4", "grant r4 to r1",
                   "grant insert on table *.* to r4"))
    reasoner = build(world)
    reference = reasoner.engine.backend
    duck = DuckDBBackend()
    duck.load_program(reference.program)
    duck.add_facts((pred, args) for pred, args, _ in reasoner.engine.facts.all_facts())
    for pred in sorted(reference.program.derived()):
        arity = reference.program.arity(pred)
        atom = Atom(pred, tuple(Var(f"V{i}") for i in range(arity)))
        assert duck.query(atom) == reference.query(atom), pred
