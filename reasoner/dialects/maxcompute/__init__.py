"""The MaxCompute (ODPS) dialect: grammar, catalogue, requirements and rules.

One target, ``maxcompute``: the semantics of the documentation the spec collects
(shared/spec/maxcompute.md); where the documentation is silent the choices are listed in
docs/maxcompute.md. A session is ``<project> <user>``: the current project, where jobs
run and unqualified names live, and the account that runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from reasoner.decision import Decision
from reasoner.dialects.base import Connect
from reasoner.errors import ParseError, StatementError
from reasoner.explain.whynot import WhyNot, WhyNotBuilder
from reasoner.rulebase import new_backend

from .executor import DeniedError, MaxComputeExecutor

RULE_FILES = tuple(f"maxcompute/{name}.dl" for name in (
    "schema", "vocabulary", "membership", "management", "acl", "coupling", "policies",
    "labels", "protection", "packages"))
TARGET = "maxcompute"


class MaxComputeEngine(MaxComputeExecutor):
    """One MaxCompute tenant (its projects and accounts) under the maxcompute rules."""

    def __init__(self, target: str = TARGET) -> None:
        if target != TARGET:
            raise ValueError(f"unknown MaxCompute target {target!r} (known: {TARGET})")
        self.target = target
        super().__init__(new_backend(RULE_FILES))

    def why_not(self, session: Any, decision: Decision, recheck: Callable[[], Decision], *,
                repairs: bool = True) -> WhyNot:
        """The failing conditions of a deny and who asked; no repairs are proposed yet."""
        result = WhyNotBuilder(self.backend).build(decision)
        result.context = {"user": session.written, "project": session.project}
        return result


class MaxCompute:
    name = "maxcompute"
    targets = (TARGET,)
    default_target = TARGET
    initial_principal = ""  # no session until the first connect
    initial_role: str | None = None

    def parse_statement(self, text: str, source: str = "<text>", line: int = 1,
                        column: int = 1) -> Any:
        from .parser import parse_statement

        return parse_statement(text, source, line, column)

    def parse_script(self, text: str, source: str = "<text>"
                     ) -> Iterator[Any | ParseError | Connect]:
        from .parser import ConnectDirective, parse_script

        for item in parse_script(text, source):
            if isinstance(item, ConnectDirective):
                yield Connect(item.principal, None, None, item.span)
            else:
                yield item

    def new_engine(self, target: str | None = None) -> MaxComputeEngine:
        return MaxComputeEngine(target or TARGET)


__all__ = ["DeniedError", "MaxCompute", "MaxComputeEngine", "StatementError"]
