"""The rule IR: one engine-independent program that every backend compiles from.

The classes are frozen so that rules can be shared between backends, threads and the proof
layer without anyone mutating them. Positions (columns) are kept for error messages but do not
take part in equality, so a hand-built rule equals the parsed one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

_BARE = re.compile(r"[a-z][A-Za-z0-9_]*\Z")
_KEYWORDS = frozenset({"not"})
ANONYMOUS = "_"


def format_value(value: str | int) -> str:
    """A constant in rule-language syntax: bare when it reads back as the same string."""
    if isinstance(value, int):
        return str(value)
    if _BARE.match(value) and value not in _KEYWORDS:
        return value
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    return f'"{escaped}"'


@dataclass(frozen=True)
class Var:
    """A variable; the name ``_`` is anonymous (every occurrence is a different variable)."""

    name: str

    @property
    def anonymous(self) -> bool:
        return self.name == ANONYMOUS

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Const:
    """A constant. Strings and integers are different constants: ``1`` is not ``"1"``."""

    value: str | int

    def __str__(self) -> str:
        return format_value(self.value)


Term = Var | Const


@dataclass(frozen=True)
class Atom:
    """``pred(arg, ...)``; a zero-arity atom is written ``pred()``."""

    pred: str
    args: tuple[Term, ...] = ()

    @property
    def arity(self) -> int:
        return len(self.args)

    def variables(self) -> Iterator[Var]:
        """The variables of the atom, in order, anonymous ones included."""
        return (a for a in self.args if isinstance(a, Var))

    def named_variables(self) -> set[str]:
        return {v.name for v in self.variables() if not v.anonymous}

    def is_ground(self) -> bool:
        return all(isinstance(a, Const) for a in self.args)

    def __str__(self) -> str:
        return f"{self.pred}({', '.join(str(a) for a in self.args)})"


@dataclass(frozen=True)
class Negation:
    """``!atom``: holds when no instance of the atom (free ``_`` existential) is derivable."""

    atom: Atom

    def named_variables(self) -> set[str]:
        return self.atom.named_variables()

    def __str__(self) -> str:
        return f"!{self.atom}"


COMPARISON_OPS = ("=", "!=", "<", "<=", ">", ">=")


@dataclass(frozen=True)
class Comparison:
    """``left op right`` between bound terms; ``op`` is one of :data:`COMPARISON_OPS`."""

    op: str
    left: Term
    right: Term

    def __post_init__(self) -> None:
        if self.op not in COMPARISON_OPS:
            raise ValueError(f"unknown comparison operator {self.op!r}")

    def variables(self) -> Iterator[Var]:
        return (t for t in (self.left, self.right) if isinstance(t, Var))

    def named_variables(self) -> set[str]:
        return {v.name for v in self.variables() if not v.anonymous}

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"


Literal = Atom | Negation | Comparison


def literal_predicate(literal: Literal) -> str | None:
    """The predicate a body literal reads, or None for a comparison."""
    if isinstance(literal, Atom):
        return literal.pred
    if isinstance(literal, Negation):
        return literal.atom.pred
    return None


def literal_atom(literal: Literal) -> Atom | None:
    """The atom of a positive or negated literal, or None for a comparison."""
    if isinstance(literal, Atom):
        return literal
    if isinstance(literal, Negation):
        return literal.atom
    return None


def literal_terms(literal: Literal) -> tuple[Term, ...]:
    """The terms of a body literal, in order."""
    if isinstance(literal, Comparison):
        return (literal.left, literal.right)
    atom = literal if isinstance(literal, Atom) else literal.atom
    return atom.args


def conjunction_variables(body: Sequence[Literal]) -> list[str]:
    """Named variables of a conjunction in order of first occurrence (the answer columns)."""
    seen: dict[str, None] = {}
    for literal in body:
        for term in literal_terms(literal):
            if isinstance(term, Var) and not term.anonymous:
                seen.setdefault(term.name, None)
    return list(seen)


@dataclass(frozen=True)
class Rule:
    """``name :: head :- body.`` with where it was written, for error messages and proofs."""

    name: str
    head: Atom
    body: tuple[Literal, ...]
    source: str
    line: int
    column: int = field(default=1, compare=False)
    # (line, column) of the head, then of each body literal; empty for hand-built rules
    positions: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)

    def where(self, index: int | None = None) -> str:
        """``source:line:col`` of the rule (None), its head (0) or body literal ``index - 1``."""
        if index is not None and index < len(self.positions):
            line, column = self.positions[index]
            return f"{self.source}:{line}:{column}"
        return f"{self.source}:{self.line}:{self.column}"

    def to_source(self) -> str:
        """The rule as written in a rule file, name included."""
        return f"{self.name} :: {self}"

    def __str__(self) -> str:
        if not self.body:  # only hand-built rules; the grammar requires a body
            return f"{self.head}."
        return f"{self.head} :- {', '.join(str(b) for b in self.body)}."


@dataclass(frozen=True)
class Fact:
    """A ground atom written in a rule file (vocabulary); ``name`` is optional."""

    atom: Atom
    source: str
    line: int
    column: int = field(default=1, compare=False)
    name: str | None = field(default=None, compare=False)

    def where(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"

    def to_source(self) -> str:
        return f"{self.name} :: {self}" if self.name else str(self)

    def __str__(self) -> str:
        return f"{self.atom}."


@dataclass(frozen=True)
class Declaration:
    """``.input pred(col, ...)``: an extensional predicate and the names of its columns."""

    pred: str
    columns: tuple[str, ...]
    source: str
    line: int
    column: int = field(default=1, compare=False)

    @property
    def arity(self) -> int:
        return len(self.columns)

    def where(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"

    def __str__(self) -> str:
        return f".input {self.pred}({', '.join(self.columns)})"


def merge_inputs(target: dict[str, Declaration], declarations: Iterable[Declaration]) -> None:
    """Add declarations to ``target``; a repeat must agree with the first (else RuleError)."""
    from reasoner.errors import RuleError

    for decl in declarations:
        first = target.get(decl.pred)
        if first is None:
            target[decl.pred] = decl
        elif first.columns != decl.columns:
            raise RuleError(
                f"{decl.where()}: .input {decl.pred} declared again with columns "
                f"({', '.join(decl.columns)}); first declared at {first.where()} with "
                f"({', '.join(first.columns)})"
            )


@dataclass(frozen=True)
class Program:
    """A whole rule base: rules, rule-file facts and the ``.input`` declarations."""

    rules: tuple[Rule, ...] = ()
    facts: tuple[Fact, ...] = ()
    inputs: dict[str, Declaration] = field(default_factory=dict)

    @staticmethod
    def merge(*programs: Program) -> Program:
        """One program from several files; conflicting ``.input`` declarations raise."""
        inputs: dict[str, Declaration] = {}
        for program in programs:
            merge_inputs(inputs, program.inputs.values())
        return Program(
            rules=tuple(r for p in programs for r in p.rules),
            facts=tuple(f for p in programs for f in p.facts),
            inputs=inputs,
        )

    def rules_for(self, pred: str) -> tuple[Rule, ...]:
        """The rules whose head is ``pred`` (in program order)."""
        return tuple(r for r in self.rules if r.head.pred == pred)

    def facts_for(self, pred: str) -> tuple[Fact, ...]:
        """The rule-file facts of ``pred``."""
        return tuple(f for f in self.facts if f.atom.pred == pred)

    def predicates(self) -> dict[str, int]:
        """Every predicate mentioned anywhere, with the arity of its first occurrence."""
        return dict(self._arities)

    @cached_property
    def _arities(self) -> dict[str, int]:
        # computed once: the program is immutable (cached_property bypasses the frozen setattr)
        found: dict[str, int] = {p: d.arity for p, d in self.inputs.items()}
        for rule in self.rules:
            found.setdefault(rule.head.pred, rule.head.arity)
        for fact in self.facts:
            found.setdefault(fact.atom.pred, fact.atom.arity)
        for rule in self.rules:
            for literal in rule.body:
                atom = literal_atom(literal)
                if atom is not None:
                    found.setdefault(atom.pred, atom.arity)
        return found

    def dependencies(self) -> dict[str, frozenset[str]]:
        """Every predicate -> the predicates its rules read (positively or negatively)."""
        return dict(self._dependencies)

    @cached_property
    def _dependencies(self) -> dict[str, frozenset[str]]:
        reads: dict[str, set[str]] = {p: set() for p in self._arities}
        for rule in self.rules:
            for literal in rule.body:
                atom = literal_atom(literal)
                if atom is not None:
                    reads[rule.head.pred].add(atom.pred)
        return {p: frozenset(d) for p, d in reads.items()}

    def inputs_read_by(self, pred: str) -> frozenset[str]:
        """The extensional predicates ``pred``'s rules read, directly or through others
        (``pred`` itself when it is one): what a cache of its answers depends on."""
        reads = self._dependencies
        seen, todo = {pred}, [pred]
        while todo:
            for below in reads.get(todo.pop(), ()):
                if below not in seen:
                    seen.add(below)
                    todo.append(below)
        return frozenset(seen & self.extensional())

    def derived(self) -> set[str]:
        """Intensional predicates: heads of rules with a body."""
        return {r.head.pred for r in self.rules}

    def extensional(self) -> set[str]:
        """Predicates that only hold stored facts (declared inputs and fact-only vocabularies)."""
        return (set(self.inputs) | {f.atom.pred for f in self.facts}) - self.derived()

    def arity(self, pred: str) -> int:
        """The arity of ``pred`` (its declaration, else its first use); KeyError if unknown."""
        try:
            return self._arities[pred]
        except KeyError:
            raise KeyError(f"unknown predicate {pred!r}") from None

    def strata(self) -> list[set[str]]:
        """Predicates per stratum, lowest first; RuleError if negation is not stratified."""
        from reasoner.datalog.check import stratify

        return stratify(self)

    def __str__(self) -> str:
        lines = [str(d) for d in self.inputs.values()]
        lines += [f.to_source() for f in self.facts]
        lines += [r.to_source() for r in self.rules]
        return "\n".join(lines) + ("\n" if lines else "")
