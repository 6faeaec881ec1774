"""The incremental backend: same answers as the reference, through every kind of update.

References: hand-computed closures for the unit cases; a *fresh* pyDatalog backend loaded
with the current facts for the randomised ones (pyDatalog 0.22.4 can hang on a
right-recursive query after a retract, so the reference never sees a retract); and the
pyDatalog-backed Reasoner for the MatrixOne differential tests and conformance cases.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner import Reasoner, conformance
from reasoner.backends import Backend, PyDatalogBackend
from reasoner.backends.incremental import IncrementalBackend, on_demand_predicates
from reasoner.datalog import Atom, Comparison, Const, Negation, Program, Var, parse_program
from reasoner.errors import RuleError
from reasoner.rulebase import new_backend, program_for
from tests.strategies.matrixone import BASE, ROLES, TABLES, USERS, World, worlds

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
loop :: self(X) :- t(X, X).
node(a). node(b). node(c). node(d).
start :: ping(X) :- blocked(X).
ping(zz).
"""
PROGRAM = parse_program(RULES, "test.dl")
DERIVED = sorted(PROGRAM.derived())
# every derived predicate kept; the default; every derived predicate on demand
MODES = {"kept": (), "default": None, "on_demand": tuple(DERIVED)}


def make(mode: str = "kept", rules: str | Program = PROGRAM, **kw: object) -> IncrementalBackend:
    backend = IncrementalBackend(MODES[mode], **kw)  # type: ignore[arg-type]
    backend.load_program(parse_program(rules, "test.dl") if isinstance(rules, str) else rules)
    return backend


def every_answer(backend: Backend, preds: list[str] | None = None) -> dict[str, list]:
    program = backend.program
    return {p: backend.query(Atom(p, tuple(Var(f"V{i}") for i in range(program.arity(p)))))
            for p in preds or sorted(program.derived())}


def closure(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    out = set(edges)
    while True:
        extra = {(a, d) for a, b in out for c, d in edges if b == c} - out
        if not extra:
            return out
        out |= extra


@pytest.fixture(params=list(MODES))
def chain(request: pytest.FixtureRequest) -> IncrementalBackend:
    backend = make(request.param)
    for x, y in [("a", "b"), ("b", "c"), ("c", "d")]:
        backend.add_fact("e", (x, y))
    return backend


# ------------------------------------------------------------------------------ basics


def test_satisfies_the_protocol_and_registers() -> None:
    backend = make()
    assert isinstance(backend, Backend)
    assert backend.name == "incremental"
    engine = new_backend(("matrixone/schema.dl", "matrixone/vocabulary.dl"), "incremental")
    assert isinstance(engine, IncrementalBackend)
    reasoner = Reasoner("matrixone", backend="incremental")
    assert isinstance(reasoner.engine.backend, IncrementalBackend)
    assert isinstance(Reasoner("maxcompute", backend="incremental").engine.backend,
                      IncrementalBackend)
    assert isinstance(Reasoner("matrixone").engine.backend, IncrementalBackend)
    assert isinstance(Reasoner("matrixone", backend="pydatalog").engine.backend,
                      PyDatalogBackend)
    with pytest.raises(ValueError, match="unknown backend"):
        Reasoner("matrixone", backend="nope")


def test_recursion_left_right_and_mutual(chain: IncrementalBackend) -> None:
    expected = [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d")]
    assert chain.query(Atom("t", (X, Y))) == expected
    assert chain.query(Atom("rt", (X, Y))) == expected
    assert chain.query(Atom("t", (Const("b"), Y))) == [("b", "c"), ("b", "d")]
    assert chain.query(Atom("rt", (X, Const("c")))) == [("a", "c"), ("b", "c")]
    assert chain.holds("t", ("a", "d")) and not chain.holds("t", ("d", "a"))
    assert chain.query(Atom("ping", (X,))) == [("a",), ("b",), ("c",), ("d",), ("zz",)]
    assert chain.query(Atom("pong", (X,))) == [("b",), ("c",), ("d",)]


def test_cycles_terminate_and_unwind(chain: IncrementalBackend) -> None:
    chain.add_fact("e", ("d", "a"))
    assert len(chain.query(Atom("t", (X, Y)))) == 16
    assert chain.query(Atom("self", (X,))) == [("a",), ("b",), ("c",), ("d",)]
    chain.remove_fact("e", ("b", "c"))  # breaks the cycle: a -> b, c -> d -> a -> b
    want = closure({("a", "b"), ("c", "d"), ("d", "a")})
    assert set(chain.query(Atom("t", (X, Y)))) == want
    assert set(chain.query(Atom("rt", (X, Y)))) == want
    assert chain.query(Atom("self", (X,))) == []


def test_dred_on_a_diamond() -> None:
    for mode in MODES:
        backend = make(mode)
        for edge in [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e")]:
            backend.add_fact("e", edge)
        backend.remove_fact("e", ("a", "b"))  # d and e still reached through c
        assert backend.query(Atom("t", (Const("a"), Y))) == [("a", "c"), ("a", "d"),
                                                              ("a", "e")], mode
        backend.remove_fact("e", ("a", "c"))
        assert backend.query(Atom("t", (Const("a"), Y))) == [], mode
        backend.add_fact("e", ("a", "b"))
        assert backend.query(Atom("t", (Const("a"), Y))) == [("a", "b"), ("a", "d"),
                                                              ("a", "e")], mode


def test_dred_on_cycles_with_an_entry() -> None:
    for mode in MODES:
        backend = make(mode)
        edges = {("x", "a"), ("a", "b"), ("b", "c"), ("c", "a")}
        for edge in edges:
            backend.add_fact("e", edge)
        for gone in [("x", "a"), ("c", "a"), ("a", "b")]:
            backend.remove_fact("e", gone)
            edges.discard(gone)
            assert set(backend.query(Atom("t", (X, Y)))) == closure(edges), (mode, gone)
            assert set(backend.query(Atom("pong", (X,)))) == {(y,) for _, y in edges}, mode


def test_negation_over_recursion_follows_updates(chain: IncrementalBackend) -> None:
    assert not chain.holds("unreachable", ("a", "d"))
    chain.remove_fact("e", ("b", "c"))
    assert chain.holds("unreachable", ("a", "d"))
    assert chain.query(Atom("unreachable", (Const("a"), Y))) == [("a", "a"), ("a", "c"),
                                                                 ("a", "d")]
    chain.add_fact("e", ("b", "c"))
    assert not chain.holds("unreachable", ("a", "d"))
    assert chain.query(Atom("open", (Const("a"), Y))) == [("a", "b"), ("a", "c"), ("a", "d")]
    chain.add_fact("blocked", ("c",))
    assert chain.query(Atom("open", (Const("a"), Y))) == [("a", "b"), ("a", "d")]
    assert chain.holds("ping", ("c",))
    chain.remove_fact("blocked", ("c",))
    assert chain.query(Atom("open", (Const("a"), Y))) == [("a", "b"), ("a", "c"), ("a", "d")]
    assert chain.query(Atom("sink", (X,))) == [("d",)]
    chain.add_fact("e", ("d", "a"))
    assert chain.query(Atom("sink", (X,))) == []


def test_comparisons(chain: IncrementalBackend) -> None:
    for name, score in [("a", 5), ("b", 10), ("c", 99), ("d", 12)]:
        chain.add_fact("score", (name, score))
    assert chain.query(Atom("high", (X,))) == [("b",), ("d",)]
    assert chain.query(Atom("even", (X,))) == [("a",)]
    body = [Atom("score", (X, Y)), Atom("score", (Z, Var("W"))), Comparison("<", Y, Var("W"))]
    pairs = {(b["X"], b["Z"]) for b in chain.solve(body)}
    assert pairs == {("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("d", "c")}
    for op, expected in [("=", 1), ("!=", 3), ("<", 1), ("<=", 2), (">", 2), (">=", 3)]:
        assert len(chain.solve([Atom("score", (X, Y)), Comparison(op, Y, Const(10))])) == \
            expected, op
    chain.remove_fact("score", ("d", 12))
    chain.add_fact("score", ("d", 9))
    assert chain.query(Atom("high", (X,))) == [("b",)]


def test_comparing_a_string_with_an_integer_is_an_error() -> None:
    """As the reference: the question raises; a kept relation moves to on demand for it."""
    for mode in MODES:
        backend = make(mode)
        backend.add_fact("score", ("b", 12))
        backend.add_fact("score", ("a", "ten"))
        with pytest.raises(RuleError, match="cannot evaluate"):
            backend.query(Atom("high", (X,)))
        assert "high" in backend.on_demand()
        assert backend.query(Atom("t", (X, Y))) == []  # still usable
        backend.remove_fact("score", ("a", "ten"))
        assert backend.query(Atom("high", (X,))) == [("b",)]


def test_strings_and_integers_are_different_constants(chain: IncrementalBackend) -> None:
    chain.add_fact("e", (1, "1"))
    assert chain.holds("e", (1, "1")) and chain.holds("t", (1, "1"))
    assert not chain.holds("t", ("1", "1")) and not chain.holds("t", (1, 1))
    assert chain.query(Atom("t", (Const(1), Y))) == [(1, "1")]


def test_solve_bindings_limit_and_order(chain: IncrementalBackend) -> None:
    body = [Atom("t", (X, Y)), Atom("e", (Y, Z))]
    assert chain.solve(body) == [
        {"X": "a", "Y": "b", "Z": "c"},
        {"X": "a", "Y": "c", "Z": "d"},
        {"X": "b", "Y": "c", "Z": "d"},
    ]
    assert chain.solve(body, limit=2) == chain.solve(body)[:2]
    assert chain.solve(body, limit=0) == []
    assert chain.solve([Atom("t", (X, Var("_"))), Negation(Atom("blocked", (X,)))]) == [
        {"X": "a"}, {"X": "b"}, {"X": "c"}]
    assert chain.solve([Atom("t", (Const("a"), Const("d")))]) == [{}]
    assert chain.solve([Atom("t", (Const("d"), Const("a")))]) == []
    assert chain.solve([Negation(Atom("blocked", (Const("a"),)))]) == [{}]
    assert chain.solve([Atom("t", (X, X))]) == []
    assert chain.solve([]) == [{}]
    assert chain.query(Atom("t", (X, Var("_")))) == chain.query(Atom("t", (X, Y)))


def test_solve_validates_like_the_rule_checker(chain: IncrementalBackend) -> None:
    good = [Atom("t", (X, Y))]
    chain.solve(good)
    with pytest.raises(RuleError, match="uses X before"):
        chain.solve([Negation(Atom("blocked", (X,))), Atom("t", (X, Y))])
    with pytest.raises(RuleError, match="uses Y before"):
        chain.solve([Comparison("!=", Y, Const("a")), Atom("t", (X, Y))])
    with pytest.raises(RuleError, match="unsafe negation"):
        chain.solve([Atom("e", (X, Y)), Negation(Atom("t", (Y, Z)))])
    with pytest.raises(RuleError, match="unknown predicate nope/1"):
        chain.solve([Atom("nope", (X,))])
    with pytest.raises(RuleError, match="limit"):
        chain.solve(good, limit=-1)
    with pytest.raises(RuleError, match="bad"):
        chain.solve([Atom("t", (X, Const(True)))])  # type: ignore[arg-type]
    with pytest.raises(RuleError, match="t has 2"):
        chain.solve([Atom("t", (X,))])  # same shape as nothing valid before


def test_bad_calls_raise_rule_errors(chain: IncrementalBackend) -> None:
    with pytest.raises(RuleError, match="unknown predicate nope/1"):
        chain.add_fact("nope", ("a",))
    with pytest.raises(RuleError, match="derived by rules"):
        chain.add_fact("t", ("a", "b"))
    with pytest.raises(RuleError, match="derived by rules"):
        chain.facts("t")
    with pytest.raises(RuleError, match="not a string or an integer"):
        chain.add_fact("e", ("a", True))
    with pytest.raises(RuleError, match="not stratified"):
        make(rules=".input n(x)\na :: p(X) :- n(X), !q(X).\nb :: q(X) :- n(X), !p(X).\n")


def test_facts_and_rule_file_facts(chain: IncrementalBackend) -> None:
    chain.add_fact("e", ("a", "b"))  # already there
    chain.remove_fact("e", ("zz", "b"))  # missing: no-op
    assert chain.facts("e") == [("a", "b"), ("b", "c"), ("c", "d")]
    assert chain.facts("node") == [("a",), ("b",), ("c",), ("d",)]
    chain.remove_fact("node", ("a",))  # rule-file facts of inputs are stored facts
    assert not chain.holds("unreachable", ("a", "a"))
    assert chain.holds("ping", ("zz",))  # a rule-file fact of a derived predicate stays
    chain.add_fact("blocked", ("zz",))
    chain.remove_fact("blocked", ("zz",))
    assert chain.holds("ping", ("zz",))


def test_reloading_replaces_everything(chain: IncrementalBackend) -> None:
    chain.load_program(parse_program(".input e(x, y)\nonly :: s(X) :- e(X, _).\n"))
    assert chain.facts("e") == []
    with pytest.raises(RuleError, match="unknown predicate t/2"):
        chain.query(Atom("t", (X, Y)))
    chain.add_fact("e", ("q", "r"))
    assert chain.query(Atom("s", (X,))) == [("q",)]


def test_changes_between_questions_are_applied_as_one_batch() -> None:
    for mode in MODES:
        backend = make(mode)
        assert backend.query(Atom("t", (X, Y))) == []
        backend.add_fact("e", ("a", "b"))
        backend.add_fact("e", ("b", "c"))
        backend.remove_fact("e", ("a", "b"))
        backend.add_fact("e", ("c", "a"))
        backend.add_fact("blocked", ("a",))
        backend.remove_fact("blocked", ("a",))
        assert set(backend.query(Atom("t", (X, Y)))) == closure({("b", "c"), ("c", "a")})
        backend.remove_fact("e", ("b", "c"))
        backend.add_fact("e", ("b", "c"))
        backend.remove_fact("e", ("c", "a"))
        backend.add_fact("e", ("a", "b"))
        assert set(backend.query(Atom("t", (X, Y)))) == closure({("a", "b"), ("b", "c")})
        assert backend.holds("unreachable", ("c", "a"))


def test_oversized_relations_move_to_on_demand() -> None:
    backend = make("kept", max_rows=5)
    for i in range(4):
        backend.add_fact("e", (f"n{i}", f"n{i + 1}"))
    assert backend.is_materialised("e")
    assert "t" in backend.on_demand() and "unreachable" in backend.on_demand()
    assert len(backend.query(Atom("t", (X, Y)))) == 10
    backend.remove_fact("e", ("n1", "n2"))
    assert set(backend.query(Atom("t", (X, Y)))) == closure(
        {("n0", "n1"), ("n2", "n3"), ("n3", "n4")})


# ------------------------------------------------------------------------------ on demand

SESSIONS = """
.input session(session, user)
.input user_role(user, role)
.input role_grant(role, grantee)
.input grant(role, priv)
.input denied(user)
root :: root(S, R) :- session(S, U), user_role(U, R).
via_root :: via(S, R, R) :- root(S, R).
via_step :: via(S, Root, R) :- via(S, Root, R0), role_grant(R, R0).
active :: active(S, R) :- via(S, _, R).
may :: may(S, P) :- active(S, R), grant(R, P), session(S, U), !denied(U).
reach_self :: reach(U, R) :- user_role(U, R).
reach_step :: reach(U, R) :- reach(U, R0), role_grant(R, R0).
pair :: pair(U, V) :- denied(U), user_role(V, _).
"""


def test_the_default_on_demand_set() -> None:
    program = parse_program(SESSIONS, "s.dl")
    assert on_demand_predicates(program) == {"root", "via", "active", "may", "pair"}
    assert on_demand_predicates(program, ["reach"]) == {"reach"}
    matrixone = on_demand_predicates(program_for(
        tuple(f"matrixone/{n}.dl" for n in ("schema", "vocabulary", "inheritance", "admin",
                                            "privileges", "tables", "reverse"))))
    assert {"active", "active_via", "root_role", "user_may", "effective", "user_reach",
            "reached_by", "session_admin"} <= matrixone
    assert not matrixone & {"role_has", "held", "table_ok", "role_reach"}


def test_on_demand_answers_equal_kept_answers() -> None:
    program = parse_program(SESSIONS, "s.dl")
    kept = IncrementalBackend(())
    kept.load_program(program)
    default = IncrementalBackend()
    default.load_program(program)
    both = (kept, default)
    rng = random.Random(7)
    roles = [f"r{i}" for i in range(8)]
    facts: set[tuple[str, tuple[str, ...]]] = set()
    for step in range(300):
        pred, args = rng.choice([
            ("session", (f"s{rng.randrange(3)}", f"u{rng.randrange(3)}")),
            ("user_role", (f"u{rng.randrange(3)}", rng.choice(roles))),
            ("role_grant", (rng.choice(roles), rng.choice(roles))),
            ("grant", (rng.choice(roles), rng.choice("pq"))),
            ("denied", (f"u{rng.randrange(3)}",)),
        ])
        if (pred, args) in facts and rng.random() < 0.5:
            facts.discard((pred, args))
            for b in both:
                b.remove_fact(pred, args)
        else:
            facts.add((pred, args))
            for b in both:
                b.add_fact(pred, args)
        if step % 10 == 0:
            assert every_answer(kept) == every_answer(default), step
            s = f"s{rng.randrange(3)}"
            for body in ([Atom("active", (Const(s), X))],
                         [Atom("via", (Const(s), X, Const(rng.choice(roles))))],
                         [Atom("grant", (X, Const("p"))), Atom("active", (Const(s), X))],
                         [Atom("may", (X, Y)), Negation(Atom("active", (X, Const("r0"))))]):
                assert kept.solve(body) == default.solve(body), body
    assert not default.is_materialised("via") and default.is_materialised("reach")


# ------------------------------------------------------------------------------ randomised

edge = st.tuples(st.sampled_from("abcde"), st.sampled_from("abcde"))
change = st.one_of(
    st.tuples(st.just("e"), edge),
    st.tuples(st.just("blocked"), st.tuples(st.sampled_from("abcde"))),
    st.tuples(st.just("score"), st.tuples(st.sampled_from("abc"), st.sampled_from([5, 10, 99]))),
)
history = st.lists(st.tuples(change, st.booleans(), st.booleans()), max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history)
def test_random_histories_match_a_fresh_reference(steps) -> None:
    """After any mix of adds and removes (batched or not), every derived relation of every
    mode equals a pyDatalog knowledge base built from the current facts alone."""
    backends = [make(mode) for mode in MODES]
    current: set[tuple[str, tuple]] = set()
    for (pred, args), add, ask in steps:
        for backend in backends:
            (backend.add_fact if add else backend.remove_fact)(pred, args)
        (current.add if add else current.discard)((pred, args))
        if ask:
            for backend in backends:
                backend.holds("t", ("a", "b"))  # a question in between: propagate now
    reference = PyDatalogBackend()
    reference.load_program(PROGRAM)
    for pred, args in current:
        reference.add_fact(pred, args)
    want = every_answer(reference)
    for backend in backends:
        assert every_answer(backend) == want
        assert {(p, r) for p in ("e", "blocked", "score") for r in backend.facts(p)} == current


def test_many_threads_share_one_backend_consistently() -> None:
    backend = make("default")
    threads, steps = 8, 150
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def worker(n: int) -> None:
        try:
            rng = random.Random(n)
            start, mid, end = f"s{n}", f"m{n}", f"e{n}"
            present = {(start, mid): False, (mid, end): False}
            barrier.wait()
            for _ in range(steps):
                pair = rng.choice(list(present))
                action = rng.random()
                if action < 0.35:
                    backend.add_fact("e", pair)
                    present[pair] = True
                elif action < 0.6:
                    backend.remove_fact("e", pair)
                    present[pair] = False
                else:
                    assert backend.holds("t", (start, end)) == all(present.values())
                    assert backend.holds("rt", (start, end)) == all(present.values())
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []


# ------------------------------------------------------------------------------ MatrixOne

PRIVILEGES = ("select", "insert", "update", "delete")
revoke_statement = st.one_of(
    st.tuples(st.sampled_from(ROLES), st.sampled_from(USERS)).map(
        lambda p: f"revoke {p[0]} from {p[1]}"),
    st.tuples(st.sampled_from(ROLES), st.sampled_from(ROLES)).filter(
        lambda p: p[0] != p[1]).map(lambda p: f"revoke {p[0]} from {p[1]}"),
    st.tuples(st.sampled_from(("select", "insert", "all", "ownership")),
              st.sampled_from(("db1.t1", "db1.*", "*.*")), st.sampled_from(ROLES)).map(
        lambda p: f"revoke {p[0]} on table {p[1]} from {p[2]}"),
    st.sampled_from(ROLES).map(lambda r: f"drop role {r}"),
    st.sampled_from(TABLES).map(lambda t: f"drop table {t}"),
)
changes = st.lists(st.one_of(revoke_statement, revoke_statement,
                             st.sampled_from(["grant r1 to u1", "grant select on table db1.* "
                                              "to r2", "grant r2 to r3", "create role r1"])),
                   max_size=6)


def _reasoner(world: World, backend: str) -> Reasoner:
    reasoner = Reasoner("matrixone", backend=backend)
    for outcome in reasoner.load(world.script()):
        assert outcome.ok or "cannot grant role" in (outcome.error or ""), outcome.error
    return reasoner


def _observe(reasoner: Reasoner) -> tuple:
    """Every point check (all roles active), every who_can, and every current-role check."""
    matrix = []
    for user in USERS:
        session = reasoner.session(f"acc:{user}", "public", "all")
        for table in TABLES:
            for privilege in PRIVILEGES:
                matrix.append(bool(session.check(privilege, f"table {table}")))
        session.close()
    who = []
    for table in TABLES:
        for privilege in PRIVILEGES:
            try:
                who.append(tuple((a.user, a.roles, a.as_logged_in) for a in
                                 reasoner.who_can(privilege, f"table {table}", account="acc")))
            except Exception as exc:  # a dropped table: both must fail the same way
                who.append(type(exc).__name__ + str(exc))
    return tuple(matrix), tuple(who)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(worlds, changes)
def test_matrixone_answers_equal_pydatalog(world: World, later: list[str]) -> None:
    """Point checks and who_can agree on both backends, before and after revokes, drops
    and re-grants, run statement by statement in both reasoners."""
    reference, fast = _reasoner(world, "pydatalog"), _reasoner(world, "incremental")
    assert _observe(fast) == _observe(reference)
    admin_ref, admin_fast = reference.session("acc:admin"), fast.session("acc:admin")
    for statement in later:
        got, want = admin_fast.execute(statement), admin_ref.execute(statement)
        assert (got.ok, got.error) == (want.ok, want.error), statement
        assert _observe(fast) == _observe(reference), statement


# ------------------------------------------------------------------------------ conformance

CASES = Path(__file__).parent / "conformance"


def _runs() -> list[tuple[Path, str]]:
    runs = [(path, "maxcompute") for path in sorted((CASES / "maxcompute").glob("*.test"))]
    for path in sorted((CASES / "matrixone").glob("*.test")):
        pragma = conformance.file_target(path.read_text(encoding="utf-8"))
        for target in ("matrixone-v4.2.0", "matrixone-main", "matrixone-doc"):
            if (pragma is None and target != "matrixone-doc") or pragma == target:
                runs.append((path, target))
    return runs


@pytest.mark.parametrize(("path", "target"), _runs(),
                         ids=lambda v: v.name if isinstance(v, Path) else v)
def test_conformance_case_on_the_incremental_backend(path: Path, target: str) -> None:
    """Every published case passes with proofs checked and repairs verified over it."""
    result = conformance.run_file(path, target, display=path.name, explain=True,
                                  backend="incremental")
    assert result.skipped is None
    assert result.failures == []
    assert result.passed > 0
    assert result.proof_problems == []
    assert result.unrepaired == []
    assert result.repaired + len(result.unrepairable) == result.denials


def test_every_dialect_has_incremental_runs() -> None:
    assert {t for _, t in _runs()} == {"maxcompute", "matrixone-v4.2.0", "matrixone-main",
                                       "matrixone-doc"}
    assert BASE  # the worlds start from the strategy's base script


def test_queries_reuse_a_narrower_index_on_big_relations(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    import reasoner.backends.incremental as incremental

    monkeypatch.setattr(incremental, "NARROW_INDEX_ROWS", 0)
    backend = make()
    for row in [("a", "b", "x"), ("a", "c", "y"), ("b", "b", "z")]:
        backend.add_fact("unused", row)
    assert backend.query(Atom("unused", (Const("a"), X, Y))) == [("a", "b", "x"),
                                                                ("a", "c", "y")]
    before = backend.index_count()  # now with an index on position 0
    assert backend.solve([Atom("node", (X,)), Atom("unused", (Const("a"), X, Y))]) == [
        {"X": "b", "Y": "x"}, {"X": "c", "Y": "y"}]
    body = [Atom("node", (X,)), Negation(Atom("unused", (Const("a"), X, Var("_"))))]
    assert backend.solve(body) == [{"X": "a"}, {"X": "d"}]
    body = [Atom("node", (X,)), Negation(Atom("unused", (Const("q"), X, Var("_"))))]
    assert backend.solve(body) == [{"X": x} for x in "abcd"]
    assert backend.index_count() == before
