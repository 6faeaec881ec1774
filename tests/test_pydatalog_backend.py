"""The pyDatalog backend: answers, updates, isolation between instances, and thread safety."""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyDatalog import pyEngine
from pyDatalog.Logic import Logic

from reasoner.backends import Backend, PyDatalogBackend
from reasoner.datalog import Atom, Comparison, Const, Negation, Var, parse_program
from reasoner.errors import RuleError

X, Y, Z = Var("X"), Var("Y"), Var("Z")

RULES = """
.input e(x, y)
.input blocked(x)
.input score(x, n)
.input unused(a, b, c)
tc_base :: t(X, Y) :- e(X, Y).
tc_step :: t(X, Y) :- t(X, Z), e(Z, Y).            % left-recursive
rt_base :: rt(X, Y) :- e(X, Y).
rt_step :: rt(X, Y) :- e(X, Z), rt(Z, Y).          % right-recursive
open_path :: open(X, Y) :- t(X, Y), !blocked(Y).
unreach :: unreachable(X, Y) :- node(X), node(Y), !t(X, Y).
sink :: sink(X) :- node(X), !e(X, _).
high :: high(X) :- score(X, N), N >= 10, N != 99.
even_a :: even(X) :- node(X), X = "a".
mutual_a :: ping(X) :- e(X, _).
mutual_b :: ping(X) :- pong(X).
mutual_c :: pong(Y) :- ping(X), e(X, Y).
node(a). node(b). node(c). node(d).
label("create user").
label(1).
"""


def make(rules: str = RULES) -> PyDatalogBackend:
    backend = PyDatalogBackend()
    backend.load_program(parse_program(rules, "test.dl"))
    return backend


@pytest.fixture
def chain() -> PyDatalogBackend:
    backend = make()
    for x, y in [("a", "b"), ("b", "c"), ("c", "d")]:
        backend.add_fact("e", (x, y))
    return backend


def test_satisfies_the_protocol(chain: PyDatalogBackend) -> None:
    assert isinstance(chain, Backend)
    assert chain.name == "pydatalog"
    assert [r.name for r in chain.program.rules][:2] == ["tc_base", "tc_step"]


def test_transitive_closure_left_and_right_recursive(chain: PyDatalogBackend) -> None:
    expected = [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d")]
    assert chain.query(Atom("t", (X, Y))) == expected
    assert chain.query(Atom("rt", (X, Y))) == expected
    assert chain.query(Atom("t", (Const("b"), Y))) == [("b", "c"), ("b", "d")]
    assert chain.query(Atom("t", (X, Const("b")))) == [("a", "b")]
    assert chain.holds("t", ("a", "d")) and not chain.holds("t", ("d", "a"))


def test_cycles_terminate(chain: PyDatalogBackend) -> None:
    chain.add_fact("e", ("d", "a"))
    assert len(chain.query(Atom("t", (X, Y)))) == 16
    assert chain.query(Atom("t", (X, X))) == [("a", "a"), ("b", "b"), ("c", "c"), ("d", "d")]


def test_mutual_recursion(chain: PyDatalogBackend) -> None:
    # ping(d) comes only through pong(d), which needs ping(c)
    assert chain.query(Atom("ping", (X,))) == [("a",), ("b",), ("c",), ("d",)]
    assert chain.query(Atom("pong", (X,))) == [("b",), ("c",), ("d",)]


def test_negation_over_recursive_idb_follows_updates(chain: PyDatalogBackend) -> None:
    assert not chain.holds("unreachable", ("a", "d"))
    chain.remove_fact("e", ("b", "c"))
    assert chain.holds("unreachable", ("a", "d"))
    assert chain.query(Atom("unreachable", (Const("a"), Y))) == [("a", "a"), ("a", "c"), ("a", "d")]
    chain.add_fact("e", ("b", "c"))
    assert not chain.holds("unreachable", ("a", "d"))
    assert chain.query(Atom("open", (Const("a"), Y))) == [("a", "b"), ("a", "c"), ("a", "d")]
    chain.add_fact("blocked", ("c",))
    assert chain.query(Atom("open", (Const("a"), Y))) == [("a", "b"), ("a", "d")]


def test_negation_with_anonymous_variable(chain: PyDatalogBackend) -> None:
    assert chain.query(Atom("sink", (X,))) == [("d",)]
    chain.add_fact("e", ("d", "a"))
    assert chain.query(Atom("sink", (X,))) == []


def test_comparisons() -> None:
    backend = make()
    for name, score in [("a", 5), ("b", 10), ("c", 99), ("d", 12)]:
        backend.add_fact("score", (name, score))
    assert backend.query(Atom("high", (X,))) == [("b",), ("d",)]
    assert backend.query(Atom("even", (X,))) == [("a",)]
    body = [Atom("score", (X, Y)), Atom("score", (Z, Var("W"))), Comparison("<", Y, Var("W"))]
    pairs = {(b["X"], b["Z"]) for b in backend.solve(body)}
    assert pairs == {("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("d", "c")}
    for op, expected in [("=", 1), ("!=", 3), ("<", 1), ("<=", 2), (">", 2), (">=", 3)]:
        found = backend.solve([Atom("score", (X, Y)), Comparison(op, Y, Const(10))])
        assert len(found) == expected, op


def test_comparing_a_string_with_an_integer_is_an_error() -> None:
    backend = make()
    backend.add_fact("score", ("a", "ten"))
    with pytest.raises(RuleError, match="cannot evaluate"):
        backend.query(Atom("high", (X,)))
    assert backend.query(Atom("t", (X, Y))) == []  # the KB is still usable


def test_strings_and_integers_are_different_constants() -> None:
    backend = make()
    backend.add_fact("e", (1, "1"))
    assert backend.holds("e", (1, "1"))
    assert not backend.holds("e", ("1", "1")) and not backend.holds("e", (1, 1))
    assert backend.holds("label", (1,)) and not backend.holds("label", ("1",))
    assert backend.holds("label", ("create user",))


def test_solve_bindings_limit_and_order(chain: PyDatalogBackend) -> None:
    body = [Atom("t", (X, Y)), Atom("e", (Y, Z))]
    assert chain.solve(body) == [
        {"X": "a", "Y": "b", "Z": "c"},
        {"X": "a", "Y": "c", "Z": "d"},
        {"X": "b", "Y": "c", "Z": "d"},
    ]
    assert chain.solve(body, limit=2) == chain.solve(body)[:2]
    assert chain.solve(body, limit=0) == []
    anonymous = chain.solve([Atom("t", (X, Var("_"))), Negation(Atom("blocked", (X,)))])
    assert anonymous == [{"X": "a"}, {"X": "b"}, {"X": "c"}]
    assert chain.solve([Atom("t", (Const("a"), Const("d")))]) == [{}]
    assert chain.solve([Atom("t", (Const("d"), Const("a")))]) == []
    assert chain.solve([Negation(Atom("blocked", (Const("a"),)))]) == [{}]
    assert chain.solve([]) == [{}]
    mixed = make()
    mixed.add_fact("e", ("x", 2))
    mixed.add_fact("e", ("x", "2"))
    mixed.add_fact("e", ("x", 10))
    assert [b["Y"] for b in mixed.solve([Atom("e", (Const("x"), Y))])] == [2, 10, "2"]


def test_solve_validates_like_the_rule_checker(chain: PyDatalogBackend) -> None:
    with pytest.raises(RuleError, match="uses X before"):
        chain.solve([Negation(Atom("blocked", (X,))), Atom("t", (X, Y))])
    with pytest.raises(RuleError, match="uses Y before"):
        chain.solve([Comparison("!=", Y, Const("a")), Atom("t", (X, Y))])
    with pytest.raises(RuleError, match="unsafe negation"):
        chain.solve([Atom("e", (X, Y)), Negation(Atom("t", (Y, Z)))])
    with pytest.raises(RuleError, match="unknown predicate nope/1"):
        chain.solve([Atom("nope", (X,))])
    with pytest.raises(RuleError, match="limit"):
        chain.solve([Atom("t", (X, Y))], limit=-1)


def test_temporary_query_predicates_are_removed(chain: PyDatalogBackend) -> None:
    before = set(chain._kb.Db)
    for _ in range(3):
        chain.solve([Atom("t", (X, Y)), Negation(Atom("blocked", (Y,)))])
    assert set(chain._kb.Db) == before
    assert not any(key.startswith("_pyD_query") for key in chain._kb.Db)


def test_empty_predicates_answer_nothing() -> None:
    backend = make()
    assert not backend.holds("unused", ("a", "b", "c"))
    assert backend.query(Atom("unused", (X, Y, Z))) == []
    assert backend.query(Atom("t", (X, Y))) == []
    assert backend.facts("blocked") == []
    assert backend.query(Atom("unreachable", (Const("a"), Const("b")))) == [("a", "b")]


def test_facts_updates_are_set_like(chain: PyDatalogBackend) -> None:
    chain.add_fact("e", ("a", "b"))  # already there
    assert chain.facts("e") == [("a", "b"), ("b", "c"), ("c", "d")]
    chain.remove_fact("e", ("a", "b"))
    chain.remove_fact("e", ("a", "b"))  # missing: no-op
    chain.remove_fact("e", ("zz", "b"))
    assert chain.facts("e") == [("b", "c"), ("c", "d")]
    assert chain.facts("node") == [("a",), ("b",), ("c",), ("d",)]
    assert chain.facts("label") == [(1,), ("create user",)]


def test_bad_calls_raise_rule_errors(chain: PyDatalogBackend) -> None:
    with pytest.raises(RuleError, match="unknown predicate nope/1"):
        chain.add_fact("nope", ("a",))
    with pytest.raises(RuleError, match="e has 2 argument"):
        chain.holds("e", ("a",))
    with pytest.raises(RuleError, match="derived by rules"):
        chain.add_fact("t", ("a", "b"))
    with pytest.raises(RuleError, match="derived by rules"):
        chain.facts("t")
    with pytest.raises(RuleError, match="not a string or an integer"):
        chain.add_fact("e", ("a", True))
    with pytest.raises(RuleError, match="not a string or an integer"):
        chain.add_fact("e", ("a", 1.5))
    with pytest.raises(RuleError, match="unknown predicate"):
        chain.query(Atom("zz", ()))


def test_unstratified_program_is_rejected_not_run() -> None:
    backend = PyDatalogBackend()
    program = parse_program(
        ".input n(x)\na :: p(X) :- n(X), !q(X).\nb :: q(X) :- n(X), !p(X).\n", "bad.dl"
    )
    with pytest.raises(RuleError, match="not stratified"):
        backend.load_program(program)


def test_reloading_replaces_the_knowledge_base(chain: PyDatalogBackend) -> None:
    chain.load_program(parse_program(".input e(x, y)\nonly :: s(X) :- e(X, _).\n"))
    assert chain.facts("e") == []
    with pytest.raises(RuleError, match="unknown predicate t/2"):
        chain.query(Atom("t", (X, Y)))
    chain.add_fact("e", ("q", "r"))
    assert chain.query(Atom("s", (X,))) == [("q",)]


def test_two_backends_in_one_thread_are_isolated() -> None:
    one, two = make(), make()
    one.add_fact("e", ("a", "b"))
    two.add_fact("e", ("x", "y"))
    assert one.query(Atom("t", (X, Y))) == [("a", "b")]
    assert two.query(Atom("t", (X, Y))) == [("x", "y")]
    one.remove_fact("e", ("x", "y"))  # not one's fact: no effect on two
    assert two.holds("e", ("x", "y"))
    assert one._kb is not two._kb


def test_the_threads_own_pydatalog_kb_is_left_alone() -> None:
    own = Logic.tl.logic
    pyEngine.assert_(pyEngine.Clause(pyEngine.Literal("mine", [pyEngine.Const("v")]), []))
    backend = make()
    backend.add_fact("e", ("a", "b"))
    assert backend.holds("t", ("a", "b"))
    assert Logic.tl.logic is own
    assert pyEngine.Literal("mine", [pyEngine.Var("V")]).ask() == [("v",)]
    assert "r_e/2" not in own.Db


def test_many_threads_share_one_backend_consistently() -> None:
    backend = make()
    threads, steps = 8, 200
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def worker(n: int) -> None:
        try:
            rng = random.Random(n)
            start, mid, end = f"s{n}", f"m{n}", f"e{n}"
            present = {(start, mid): False, (mid, end): False}
            barrier.wait()
            for _ in range(steps):
                edge = rng.choice(list(present))
                action = rng.random()
                if action < 0.35:
                    backend.add_fact("e", edge)
                    present[edge] = True
                elif action < 0.6:
                    backend.remove_fact("e", edge)
                    present[edge] = False
                elif action < 0.9:
                    assert backend.holds("t", (start, end)) == all(present.values())
                    assert backend.holds("e", edge) == present[edge]
                else:
                    rows = backend.query(Atom("t", (Const(start), Y)))
                    expected = {(start, mid)} if present[(start, mid)] else set()
                    if all(present.values()):
                        expected.add((start, end))
                    assert set(rows) == expected
            assert not hasattr(Logic.tl, "logic")  # the worker's thread-local was restored
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []


def test_backends_in_different_threads_run_concurrently() -> None:
    backends = [make() for _ in range(4)]
    errors: list[BaseException] = []

    def worker(n: int, backend: PyDatalogBackend) -> None:
        try:
            for i in range(50):
                backend.add_fact("e", (f"n{i}", f"n{i + 1}"))
                assert backend.holds("t", ("n0", f"n{i + 1}"))
            assert len(backend.query(Atom("t", (Const("n0"), Y)))) == 50
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)

    pool = [threading.Thread(target=worker, args=pair) for pair in enumerate(backends)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []


def _closure(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    closure = set(edges)
    while True:
        extra = {(a, d) for a, b in closure for c, d in edges if b == c} - closure
        if not extra:
            return closure
        closure |= extra


_SHARED = make()


@settings(max_examples=25, deadline=None)
@given(st.sets(st.tuples(st.sampled_from("abcd"), st.sampled_from("abcd")), max_size=8))
def test_closure_matches_a_reference(edges: set[tuple[str, str]]) -> None:
    for fact in _SHARED.facts("e"):
        _SHARED.remove_fact("e", fact)
    for edge in edges:
        _SHARED.add_fact("e", edge)
    closure = _closure(edges)
    assert set(_SHARED.query(Atom("t", (X, Y)))) == closure
    nodes = set("abcd")
    assert set(_SHARED.query(Atom("unreachable", (X, Y)))) == {
        (a, b) for a in nodes for b in nodes if (a, b) not in closure
    }
