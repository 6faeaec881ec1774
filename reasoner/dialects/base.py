"""What a dialect offers the core: its grammar, its targets, and an engine per reasoner.

A dialect is a module of one core (grammar + catalogue + rules); the core's front ends
(library, CLI, conformance runner) only talk to this interface.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from reasoner.decision import Decision, Requirement
from reasoner.errors import ParseError
from reasoner.source import Span


@dataclass(frozen=True)
class Connect:
    """``-- connect <principal> [role R] [secondary all|none]`` in a script."""

    principal: str
    role: str | None
    secondary: str | None
    span: Span


@dataclass(frozen=True)
class Directive:
    """A script line that sets up the world rather than runs a statement (MaxCompute:
    ``-- project <name> owner <principal>``, ``-- policyfile <name>`` ... ``-- end``);
    ``Reasoner.run`` hands it to ``engine.directive(kind, words, body)``."""

    kind: str
    words: tuple[str, ...]
    body: str
    span: Span


class DialectEngine(Protocol):
    """One reasoner's state for one dialect: catalogue, facts, sessions."""

    backend: Any

    def connect(self, principal: str, role: str | None, secondary: bool, span: Span) -> Any: ...

    def disconnect(self, session: Any) -> None: ...

    def execute(self, session: Any, statement: Any) -> Decision: ...

    def check(self, session: Any, privilege: str, kind: str, name: str) -> Decision: ...

    def check_requirement(self, session: Any, privilege: str, kind: str,
                          name: str) -> Requirement: ...


class Dialect(Protocol):
    name: str
    targets: tuple[str, ...]
    default_target: str
    initial_principal: str
    initial_role: str | None

    def parse_statement(self, text: str, source: str, line: int, column: int) -> Any: ...

    def parse_script(self, text: str, source: str) -> Iterator[Any | ParseError | Connect]: ...

    def new_engine(self, target: str) -> DialectEngine: ...
