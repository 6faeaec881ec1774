"""What every reasoning engine offers, so that checks, proofs and diffs stay engine-independent.

The proof layer needs only ``program`` (the rules) and ``solve`` (a conjunction's bindings);
the policy layer needs facts in and point checks out. :class:`BaseBackend` holds the argument
validation every engine must do the same way, so engines differ only in evaluation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol, runtime_checkable

from reasoner.datalog.ast import (
    Atom,
    Comparison,
    Const,
    Literal,
    Negation,
    Program,
    Var,
    format_value,
)
from reasoner.datalog.check import QUERY_SOURCE, check_query
from reasoner.errors import RuleError

Value = str | int
Binding = dict[str, Value]


def value_key(value: Value) -> tuple[int, int | str]:
    """Sort key that orders ints before strings (they never compare with each other)."""
    return (0, value) if isinstance(value, int) else (1, value)


def row_key(row: Sequence[Value]) -> tuple[tuple[int, int | str], ...]:
    return tuple(value_key(v) for v in row)


def sorted_rows(rows: Iterable[tuple[Value, ...]]) -> list[tuple[Value, ...]]:
    """Answers in the deterministic order every backend returns them in."""
    return sorted(set(rows), key=row_key)


@runtime_checkable
class Backend(Protocol):
    """A Datalog engine holding one program plus the input facts given to it."""

    name: str

    def load_program(self, program: Program) -> None:
        """Install the rules and rule-file facts (replacing anything loaded before)."""

    def add_fact(self, pred: str, args: tuple[Value, ...]) -> None:
        """Store a fact of an extensional predicate (set semantics: twice is once)."""

    def remove_fact(self, pred: str, args: tuple[Value, ...]) -> None:
        """Delete a stored fact; a missing fact is a no-op."""

    def holds(self, pred: str, args: tuple[Value, ...]) -> bool:
        """Whether the ground atom is derivable."""

    def query(self, atom: Atom) -> list[tuple[Value, ...]]:
        """Every derivable instance of ``atom`` as full argument tuples, sorted."""

    def count(self, atom: Atom) -> int:
        """How many instances of ``atom`` are derivable (unsorted; for counting only)."""

    def answers(self, atom: Atom) -> set[tuple[Value, ...]]:
        """The instances of ``atom`` as a set, unsorted."""

    def solve(self, body: Sequence[Literal], limit: int | None = None) -> list[Binding]:
        """Bindings of the conjunction's named variables (sorted; [{}] for a true ground one)."""

    def facts(self, pred: str) -> list[tuple[Value, ...]]:
        """The stored facts of an extensional predicate, sorted."""

    @property
    def program(self) -> Program:
        """The loaded program."""


class BaseBackend(ABC):
    """Shared validation; subclasses implement the ``_``-prefixed evaluation hooks."""

    name: str = "abstract"

    def __init__(self) -> None:
        self._program = Program()
        self._arities: dict[str, int] = {}
        self._extensional: set[str] = set()

    # ------------------------------------------------------------------ program

    @property
    def program(self) -> Program:
        return self._program

    def _set_program(self, program: Program) -> None:
        """Remember the program and what is extensional (callers checked it already)."""
        self._program = program
        self._arities = program.predicates()
        self._extensional = program.extensional()

    def _guard(self) -> AbstractContextManager[object]:
        """Held around validation plus evaluation; engines that share state override it."""
        return nullcontext()

    # ------------------------------------------------------------------ validation

    @staticmethod
    def _where(text: str) -> str:
        return f"{QUERY_SOURCE}:1:1: {text}"

    def _check_args(self, pred: str, args: tuple[Value, ...]) -> None:
        """Known predicate, right arity, values that are str or int (never bool, float)."""
        if not isinstance(args, tuple):
            raise RuleError(self._where(f"arguments of {pred} must be a tuple, not {args!r}"))
        for value in args:
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise RuleError(
                    self._where(f"value {value!r} of {pred} is not a string or an integer")
                )
        self._check_pred(pred, len(args))

    def _check_pred(self, pred: str, arity: int) -> None:
        known = self._arities.get(pred)
        if known is None:
            raise RuleError(self._where(f"unknown predicate {pred}/{arity}"))
        if known != arity:
            raise RuleError(self._where(f"{pred} has {known} argument(s), not {arity}"))

    def _check_extensional(self, pred: str, args: tuple[Value, ...]) -> None:
        self._check_args(pred, args)
        if pred not in self._extensional:
            raise RuleError(
                self._where(
                    f"{pred} is derived by rules; facts can only be stored for input predicates"
                )
            )

    def _check_atom(self, atom: Atom) -> None:
        if not isinstance(atom, Atom):
            raise RuleError(self._where(f"not an atom: {atom!r}"))
        self._check_terms(atom.args, str(atom))
        self._check_pred(atom.pred, atom.arity)

    def _check_terms(self, terms: Iterable[object], text: str) -> None:
        for term in terms:
            if isinstance(term, Var):
                continue
            if not isinstance(term, Const) or isinstance(term.value, bool):
                raise RuleError(self._where(f"bad term {term!r} in {text}"))
            if not isinstance(term.value, str | int):
                raise RuleError(self._where(f"bad constant {term.value!r} in {text}"))

    def _check_body(self, body: Sequence[Literal]) -> None:
        for literal in body:
            if isinstance(literal, Comparison):
                self._check_terms((literal.left, literal.right), str(literal))
            elif isinstance(literal, Negation):
                self._check_terms(literal.atom.args, str(literal))
            elif isinstance(literal, Atom):
                self._check_terms(literal.args, str(literal))
        check_query(self._program, body)

    # ------------------------------------------------------------------ public API

    @abstractmethod
    def load_program(self, program: Program) -> None: ...

    def add_fact(self, pred: str, args: tuple[Value, ...]) -> None:
        with self._guard():
            self._check_extensional(pred, args)
            self._add_fact(pred, args)

    def remove_fact(self, pred: str, args: tuple[Value, ...]) -> None:
        with self._guard():
            self._check_extensional(pred, args)
            self._remove_fact(pred, args)

    def holds(self, pred: str, args: tuple[Value, ...]) -> bool:
        with self._guard():
            self._check_args(pred, args)
            return self._holds(pred, args)

    def query(self, atom: Atom) -> list[tuple[Value, ...]]:
        with self._guard():
            self._check_atom(atom)
            rows = self._query(atom)
        return sorted_rows(rows)

    def count(self, atom: Atom) -> int:
        """How many instances of ``atom`` are derivable (``len(query(atom))``, unsorted)."""
        return len(self.answers(atom))

    def answers(self, atom: Atom) -> set[tuple[Value, ...]]:
        """The instances of ``atom``, as a set (``query`` without the sorting)."""
        with self._guard():
            self._check_atom(atom)
            return set(self._query(atom))

    def solve(self, body: Sequence[Literal], limit: int | None = None) -> list[Binding]:
        body = tuple(body)
        if limit is not None and (isinstance(limit, bool) or limit < 0):
            raise RuleError(self._where(f"limit must be a non-negative integer, got {limit!r}"))
        with self._guard():
            self._check_body(body)
            if limit == 0:
                return []
            names, rows = self._solve(body)
        ordered = sorted_rows(rows)
        if limit is not None:
            ordered = ordered[:limit]
        return [dict(zip(names, row, strict=True)) for row in ordered]

    def facts(self, pred: str) -> list[tuple[Value, ...]]:
        with self._guard():
            if pred not in self._arities:
                raise RuleError(self._where(f"unknown predicate {pred}"))
            if pred not in self._extensional:
                raise RuleError(self._where(f"{pred} is derived by rules; use query() instead"))
            rows = self._facts(pred)
        return sorted_rows(rows)

    # ------------------------------------------------------------------ engine hooks

    @abstractmethod
    def _add_fact(self, pred: str, args: tuple[Value, ...]) -> None: ...

    @abstractmethod
    def _remove_fact(self, pred: str, args: tuple[Value, ...]) -> None: ...

    @abstractmethod
    def _holds(self, pred: str, args: tuple[Value, ...]) -> bool: ...

    @abstractmethod
    def _query(self, atom: Atom) -> Iterable[tuple[Value, ...]]: ...

    @abstractmethod
    def _solve(self, body: tuple[Literal, ...]) -> tuple[list[str], Iterable[tuple[Value, ...]]]:
        """The answer columns (named variables, first-occurrence order) and the rows."""

    @abstractmethod
    def _facts(self, pred: str) -> Iterable[tuple[Value, ...]]: ...


def describe_fact(pred: str, args: tuple[Value, ...]) -> str:
    """``pred(a, "b c")`` for messages."""
    return f"{pred}({', '.join(format_value(v) for v in args)})"
