"""The rule language's syntax: what parses to which AST, and where syntax errors point."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasoner.datalog import (
    Atom,
    Comparison,
    Const,
    Declaration,
    Fact,
    Negation,
    Program,
    Rule,
    Var,
    format_value,
    load_program,
    parse_program,
    source_name,
)
from reasoner.errors import RuleError

EXAMPLE = """\
% comment to end of line (also // comments)
.input user_role(user, role)            % declares an extensional predicate
.input privilege(role, priv, kind, scope, object)
.input session_role(s, r)
.input role_grant(r, r0)
.input node(x)
.input edge(x, y)

primary_role :: root_role(S, R) :- session_role(S, R).
inherited :: active_via(S, Root, R) :- active_via(S, Root, R0), role_grant(R, R0).
start :: active_via(S, R, R) :- root_role(S, R).
no_cycle :: lonely(X) :- node(X), !edge(X, _), X != "root".
account_privilege("create user").         // a fact: no name needed
account_privilege(connect).
"""


def test_example_parses_to_the_expected_ast() -> None:
    program = parse_program(EXAMPLE, "rules/x.dl")
    assert list(program.inputs) == [
        "user_role",
        "privilege",
        "session_role",
        "role_grant",
        "node",
        "edge",
    ]
    assert program.inputs["user_role"] == Declaration(
        "user_role", ("user", "role"), "rules/x.dl", 2
    )
    assert [r.name for r in program.rules] == ["primary_role", "inherited", "start", "no_cycle"]
    lonely = program.rules[3]
    assert lonely == Rule(
        "no_cycle",
        Atom("lonely", (Var("X"),)),
        (
            Atom("node", (Var("X"),)),
            Negation(Atom("edge", (Var("X"), Var("_")))),
            Comparison("!=", Var("X"), Const("root")),
        ),
        "rules/x.dl",
        12,
    )
    assert program.facts == (
        Fact(Atom("account_privilege", (Const("create user"),)), "rules/x.dl", 13),
        Fact(Atom("account_privilege", (Const("connect"),)), "rules/x.dl", 14),
    )


def test_positions_of_rule_head_and_body_literals() -> None:
    program = parse_program("\n  r :: p(X) :-\n    q(X),\n    !s(X).\n", "f.dl")
    rule = program.rules[0]
    assert (rule.line, rule.column) == (2, 3)
    assert rule.where() == "f.dl:2:3"
    assert rule.where(0) == "f.dl:2:8"
    assert rule.where(1) == "f.dl:3:5"
    assert rule.where(2) == "f.dl:4:5"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"create user"', "create user"),
        ("'create user'", "create user"),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'it\\'s'", "it's"),
        ('"a\\\\b"', "a\\b"),
        ('"tab\\there"', "tab\there"),
        ('"50% off // not a comment"', "50% off // not a comment"),
        ("connect", "connect"),
        ("notify", "notify"),
        ("42", 42),
        ("-7", -7),
        ('"42"', "42"),
        ('""', ""),
    ],
)
def test_constants(text: str, value: str | int) -> None:
    program = parse_program(f"p({text}).")
    assert program.facts[0].atom.args == (Const(value),)


def test_integer_and_string_constants_differ() -> None:
    program = parse_program('p(1). p("1").')
    assert program.facts[0].atom != program.facts[1].atom


def test_variables_and_anonymous_variables() -> None:
    program = parse_program("r :: p(X, _Y) :- q(X, _, _Y, _), s(Abc_1).")
    rule = program.rules[0]
    assert rule.head.args == (Var("X"), Var("_Y"))
    assert rule.body[0] == Atom("q", (Var("X"), Var("_"), Var("_Y"), Var("_")))
    assert Var("_").anonymous and not Var("_Y").anonymous
    assert rule.body[0].named_variables() == {"X", "_Y"}


def test_both_negation_spellings_and_all_comparisons() -> None:
    text = "r :: p(X) :- q(X, Y), !s(X), not t(Y), X = Y, X != 1, X < Y, X <= Y, X > 2, X >= 'z'."
    body = parse_program(text).rules[0].body
    assert body[1] == Negation(Atom("s", (Var("X"),)))
    assert body[2] == Negation(Atom("t", (Var("Y"),)))
    assert [c.op for c in body[3:]] == ["=", "!=", "<", "<=", ">", ">="]
    assert body[4] == Comparison("!=", Var("X"), Const(1))
    assert body[8] == Comparison(">=", Var("X"), Const("z"))


def test_zero_arity_atoms_with_or_without_parentheses() -> None:
    program = parse_program("flag. other(). r :: on() :- flag, other().")
    assert program.facts[0].atom == Atom("flag", ())
    assert program.facts[1].atom == Atom("other", ())
    assert program.rules[0].body == (Atom("flag"), Atom("other"))


def test_named_facts_and_declaration_with_optional_dot() -> None:
    program = parse_program(".input e(a, b).\nvocab :: kind(table).\n")
    assert program.inputs["e"].columns == ("a", "b")
    assert program.facts[0].name == "vocab"
    assert program.facts[0].to_source() == "vocab :: kind(table)."


def test_comments_are_ignored() -> None:
    text = "% only a comment\n// another\np(a). % trailing\n// p(b).\n"
    assert [f.atom for f in parse_program(text).facts] == [Atom("p", (Const("a"),))]


def test_str_is_rule_language_syntax() -> None:
    rule = parse_program("primary_role :: root_role(S, R) :- session_role(S, R).").rules[0]
    assert str(rule) == "root_role(S, R) :- session_role(S, R)."
    assert rule.to_source() == "primary_role :: root_role(S, R) :- session_role(S, R)."
    lonely = parse_program(EXAMPLE).rules[3]
    assert str(lonely) == "lonely(X) :- node(X), !edge(X, _), X != root."
    assert str(Const("create user")) == '"create user"'
    assert str(Const("Upper")) == '"Upper"'
    assert str(Const("not")) == '"not"'
    assert str(Const(3)) == "3" and str(Const("3")) == '"3"'
    assert str(Atom("p")) == "p()"
    assert str(parse_program(".input e(a, b)").inputs["e"]) == ".input e(a, b)"


def test_printed_program_parses_back_to_the_same_program() -> None:
    program = parse_program(EXAMPLE, "x.dl")
    again = parse_program(str(program), "x.dl")
    assert [(r.name, r.head, r.body) for r in again.rules] == [
        (r.name, r.head, r.body) for r in program.rules
    ]
    assert [f.atom for f in again.facts] == [f.atom for f in program.facts]
    assert {p: d.columns for p, d in again.inputs.items()} == {
        p: d.columns for p, d in program.inputs.items()
    }


@given(st.one_of(st.text(max_size=20), st.integers(min_value=-(10**12), max_value=10**12)))
def test_any_constant_round_trips(value: str | int) -> None:
    program = parse_program(f"p({format_value(value)}).")
    assert program.facts[0].atom.args == (Const(value),)


@pytest.mark.parametrize(
    ("text", "where", "expected"),
    [
        ("p(X", "f.dl:1:4:", "expected ')' or ','"),
        ("ok(a).\nr :: p(X) :- q(X)", "f.dl:2:18:", "expected ',' or '.'"),
        ("ok(a).\n\nr :: p(X) :- q(X) q(Y).", "f.dl:3:19:", "found 'q'"),
        ("r :: p(X) :- X ! Y.", "f.dl:1:16:", "expected a comparison operator"),
        (".input 3(a)", "f.dl:1:8:", "expected a lower-case identifier"),
        ('p("open).', "f.dl:1:3:", "found '\"'"),
        ("P(a).", "f.dl:1:1:", "found 'P'"),
        ("r :: p(X) :- .", "f.dl:1:14:", "expected"),
        ("p(a) :- q(a).", "f.dl:1:6:", "expected '.'"),
    ],
)
def test_syntax_errors_point_at_line_and_column(text: str, where: str, expected: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_program(text, "f.dl")
    message = str(info.value)
    assert message.startswith(where), message
    assert expected in message


def test_conflicting_input_declarations_name_both_places() -> None:
    with pytest.raises(RuleError, match=r"^f\.dl:2:1: .*first declared at f\.dl:1:1"):
        parse_program(".input e(a, b)\n.input e(a)\n", "f.dl")
    # repeating the same declaration is harmless
    assert parse_program(".input e(a, b)\n.input e(a, b)\n").inputs["e"].arity == 2


def test_merge_concatenates_and_checks_declarations() -> None:
    one = parse_program(".input e(a, b)\nr :: t(X) :- e(X, _).", "one.dl")
    two = parse_program(".input e(a, b)\n.input f(a)\ns :: u(X) :- f(X).", "two.dl")
    merged = Program.merge(one, two)
    assert [r.name for r in merged.rules] == ["r", "s"]
    assert set(merged.inputs) == {"e", "f"}
    assert merged.rules_for("u") == (two.rules[0],)
    assert merged.arity("e") == 2 and merged.arity("u") == 1
    with pytest.raises(KeyError):
        merged.arity("nope")
    with pytest.raises(RuleError, match="two.dl"):
        Program.merge(one, parse_program(".input e(a)", "two.dl"))


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_load_program_names_sources_relative_to_the_rules_parent(tmp_path: Path) -> None:
    roles = _write(
        tmp_path / "rules" / "m" / "roles.dl", ".input ur(u, r)\nr1 :: hr(U, R) :- ur(U, R).\n"
    )
    more = _write(tmp_path / "rules" / "m" / "more.dl", "r2 :: any(U) :- hr(U, _).\n")
    program = load_program([roles, more])
    assert [r.source for r in program.rules] == ["rules/m/roles.dl", "rules/m/more.dl"]
    assert source_name(roles, root=tmp_path / "rules") == "m/roles.dl"
    # a directory stands for all its .dl files (sorted)
    assert [r.name for r in load_program([tmp_path / "rules"]).rules] == ["r2", "r1"]


def test_load_program_runs_the_checks_across_files(tmp_path: Path) -> None:
    a = _write(tmp_path / "rules" / "a.dl", ".input e(x)\ndup :: p(X) :- e(X).\n")
    b = _write(tmp_path / "rules" / "b.dl", "\ndup :: q(X) :- e(X).\n")
    with pytest.raises(RuleError) as info:
        load_program([a, b])
    assert str(info.value).startswith("rules/b.dl:2:1: duplicate rule name dup")
    assert "rules/a.dl:2:1" in str(info.value)


def test_load_program_reports_syntax_errors_with_the_file(tmp_path: Path) -> None:
    bad = _write(tmp_path / "elsewhere" / "bad.dl", "p(a)\n")
    with pytest.raises(RuleError, match=r"bad\.dl:1:5: expected"):
        load_program([bad])
    with pytest.raises(RuleError, match="cannot read"):
        load_program([tmp_path / "missing.dl"])
