"""The rule language: AST, parser and load-time checks (engine-independent)."""

from reasoner.datalog.ast import (
    COMPARISON_OPS,
    Atom,
    Comparison,
    Const,
    Declaration,
    Fact,
    Literal,
    Negation,
    Program,
    Rule,
    Term,
    Var,
    conjunction_variables,
    format_value,
)
from reasoner.datalog.check import (
    check_program,
    check_query,
    dependency_graph,
    stratify,
    strongly_connected_components,
)
from reasoner.datalog.parser import load_program, parse_program, source_name

__all__ = [
    "COMPARISON_OPS",
    "Atom",
    "Comparison",
    "Const",
    "Declaration",
    "Fact",
    "Literal",
    "Negation",
    "Program",
    "Rule",
    "Term",
    "Var",
    "check_program",
    "check_query",
    "conjunction_variables",
    "dependency_graph",
    "format_value",
    "load_program",
    "parse_program",
    "source_name",
    "stratify",
    "strongly_connected_components",
]
