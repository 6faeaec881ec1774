"""Load-time checks: each bad program is rejected with file:line:col before pyDatalog sees it."""

from __future__ import annotations

import pytest

from reasoner.datalog import (
    Atom,
    Comparison,
    Const,
    Negation,
    Program,
    Var,
    check_program,
    check_query,
    parse_program,
    strongly_connected_components,
)
from reasoner.errors import RuleError

PRELUDE = ".input e(x, y)\n.input n(x)\n"  # lines 1-2; rules under test start on line 3


def check(text: str) -> Program:
    return check_program(parse_program(PRELUDE + text, "t.dl"))


def rejected(text: str) -> str:
    with pytest.raises(RuleError) as info:
        check(text)
    return str(info.value)


def test_a_good_program_passes() -> None:
    program = check(
        "tc1 :: t(X, Y) :- e(X, Y).\n"
        "tc2 :: t(X, Y) :- t(X, Z), e(Z, Y).\n"
        "far :: far(X, Y) :- t(X, Y), !e(X, Y), X != Y.\n"
        'vocab(a). vocab("b c").\n'
    )
    assert len(program.rules) == 3


def test_unsafe_head_variable() -> None:
    message = rejected("r :: p(X, Y) :- n(X).\n")
    assert message.startswith("t.dl:3:6: unsafe head p(X, Y) of rule r: variable Y")


def test_anonymous_variable_in_head() -> None:
    assert "anonymous variable _ in the head" in rejected("r :: p(_) :- n(X).\n")


def test_head_variable_bound_only_by_negation_or_comparison_is_unsafe() -> None:
    assert "variable Y does not occur in a positive" in rejected("r :: p(Y) :- n(X), !n(Y).\n")
    assert "variable Y" in rejected("r :: p(Y) :- n(X), X = Y.\n")


def test_unsafe_negation() -> None:
    message = rejected("r :: p(X) :- n(X), !e(X, Y).\n")
    assert message.startswith("t.dl:3:20: unsafe negation !e(X, Y) of rule r: variable Y")


def test_anonymous_variable_in_negation_is_fine() -> None:
    check("r :: p(X) :- n(X), !e(X, _).\n")


def test_negation_right_of_its_binding_is_fine_but_left_is_an_error() -> None:
    check("r :: p(X) :- n(X), !e(X, X).\n")
    message = rejected("r :: p(X) :- !e(X, X), n(X).\n")
    assert message.startswith("t.dl:3:14: negation !e(X, X) of rule r uses X before")
    assert "left to right" in message


def test_comparison_must_follow_the_atoms_binding_it() -> None:
    check("r :: p(X) :- n(X), X != 3.\n")
    message = rejected("r :: p(X) :- X != 3, n(X).\n")
    assert message.startswith("t.dl:3:14: comparison X != 3 of rule r uses X before")
    assert "unsafe comparison" in rejected("r :: p(X) :- n(X), X < Y.\n")
    assert "anonymous variable _ in comparison" in rejected("r :: p(X) :- n(X), X < _.\n")


def test_unknown_predicate() -> None:
    message = rejected("r :: p(X) :- n(X), missing(X).\n")
    assert message.startswith("t.dl:3:20: unknown predicate missing/1 in rule r")
    assert "unknown predicate gone/1" in rejected("r :: p(X) :- n(X), !gone(X).\n")


def test_arity_mismatch_against_input_declaration() -> None:
    message = rejected("r :: p(X) :- e(X).\n")
    assert message.startswith("t.dl:3:14: e has 1 argument(s) here (body of rule r), but 2")
    assert "t.dl:1:1 (declared)" in message


def test_arity_mismatch_between_heads_and_facts() -> None:
    assert "p has 2 argument(s) here" in rejected("r :: p(X) :- n(X).\ns :: p(X, X) :- n(X).\n")
    assert "fact" in rejected("r :: p(X) :- n(X).\np(a, b).\n")


def test_duplicate_rule_names_name_both_places() -> None:
    message = rejected("r :: p(X) :- n(X).\nr :: q(X) :- n(X).\n")
    assert message.startswith("t.dl:4:1: duplicate rule name r: also used at t.dl:3:1")
    assert "duplicate rule name r" in rejected("r :: p(X) :- n(X).\nr :: vocab(a).\n")
    check("vocab(a).\nvocab(b).\n")  # unnamed facts need no names


def test_input_predicate_may_have_facts_but_no_rules() -> None:
    check("n(a).\nn(1).\n")
    message = rejected("r :: n(X) :- e(X, _).\n")
    assert message.startswith("t.dl:3:6: rule r defines n, which is declared .input at t.dl:2:1")


def test_facts_must_be_ground() -> None:
    assert "fact p(X). is not ground: variable X" in rejected("p(X).\n")


def test_all_problems_are_reported_together() -> None:
    message = rejected("r :: p(X, Y) :- n(X).\ns :: q(X) :- nope(X).\n")
    lines = message.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("t.dl:3:6: unsafe head")  # in file order
    assert lines[1].startswith("t.dl:4:14: unknown predicate nope/1")


def test_unstratified_negation_is_rejected_with_the_cycle() -> None:
    message = rejected("a :: p(X) :- n(X), !q(X).\nb :: q(X) :- n(X), !p(X).\n")
    assert "not stratified" in message
    first = message.splitlines()[0]
    assert first.startswith("t.dl:3:20: negation !q(X) in rule a (t.dl:3)")
    assert "cycle p -> q -> p" in first


def test_negation_through_a_longer_cycle_names_every_predicate() -> None:
    message = rejected(
        "a :: p(X) :- n(X), !q(X).\nb :: q(X) :- r(X).\nc :: r(X) :- p(X).\nd :: r(X) :- n(X).\n"
    )
    assert "cycle p -> q -> r -> p" in message


def test_self_negation_is_rejected() -> None:
    assert "cycle p -> p" in rejected("a :: p(X) :- n(X), !p(X).\n")


def test_negation_over_a_recursive_predicate_is_stratified() -> None:
    program = check(
        "tc1 :: t(X, Y) :- e(X, Y).\n"
        "tc2 :: t(X, Y) :- t(X, Z), e(Z, Y).\n"
        "nr :: unreachable(X, Y) :- n(X), n(Y), !t(X, Y).\n"
        "top :: isolated(X) :- n(X), !unreachable(X, X).\n"
    )
    strata = program.strata()
    assert strata == [{"e", "n", "t"}, {"unreachable"}, {"isolated"}]


def test_mutual_positive_recursion_shares_a_stratum() -> None:
    program = check("a :: p(X) :- n(X).\nb :: p(X) :- q(X).\nc :: q(X) :- p(X), e(X, _).\n")
    assert program.strata() == [{"e", "n", "p", "q"}]


def test_scc_is_iterative_on_deep_graphs() -> None:
    depth = 20_000  # far beyond the recursion limit
    graph = {i: [i + 1] for i in range(depth)}
    graph[depth] = [0]
    components = strongly_connected_components(graph)
    assert len(components) == 1 and len(components[0]) == depth + 1
    chain = {i: [i + 1] for i in range(depth)}
    components = strongly_connected_components(chain)
    assert components[0] == [depth] and components[-1] == [0]  # dependencies first


def test_deep_program_stratifies() -> None:
    lines = [f"r{i} :: p{i + 1}(X) :- n(X), !p{i}(X).\n" for i in range(1000)]
    program = check("r :: p0(X) :- n(X).\n" + "".join(lines))
    strata = program.strata()
    assert len(strata) == 1001
    assert strata[0] == {"e", "n", "p0"} and strata[-1] == {"p1000"}


def test_check_query_uses_the_same_rules() -> None:
    program = check("tc1 :: t(X, Y) :- e(X, Y).\n")
    X, Y = Var("X"), Var("Y")
    check_query(program, [Atom("t", (X, Y)), Negation(Atom("n", (X,))), Comparison("<", X, Y)])
    check_query(program, [Atom("n", (Const("a"),))])
    with pytest.raises(RuleError, match=r"^<query>:1:1: negation !n\(X\) in query .* uses X"):
        check_query(program, [Negation(Atom("n", (X,))), Atom("n", (X,))])
    with pytest.raises(RuleError, match="unknown predicate zz/1"):
        check_query(program, [Atom("zz", (X,))])
    with pytest.raises(RuleError, match="t has 2 argument"):
        check_query(program, [Atom("t", (X,))])
    with pytest.raises(RuleError, match=r"^<query>:1:7: unsafe comparison"):
        check_query(program, [Atom("n", (X,)), Comparison("=", X, Y)])
