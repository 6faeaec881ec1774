"""The MatrixOne dialect: grammar, catalogue, requirements and rule profiles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reasoner.dialects.base import Connect
from reasoner.errors import ParseError, StatementError
from reasoner.rulebase import new_backend
from reasoner.source import Span

from .executor import MatrixOneExecutor
from .profiles import DEFAULT_TARGET, PROFILES, rule_files


def split_principal(principal: str) -> tuple[str, str, str | None]:
    """``account:user[:role]`` (``#`` works too); a bare ``user`` is in account sys."""
    parts = principal.replace("#", ":").split(":")
    if len(parts) == 1:
        return "sys", parts[0].strip().lower(), None
    role = parts[2].strip().lower() if len(parts) > 2 and parts[2].strip() else None
    return parts[0].strip().lower(), parts[1].strip().lower(), role


class MatrixOneEngine(MatrixOneExecutor):
    """A MatrixOne cluster under one target's rules."""

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(new_backend(rule_files(target)))

    def connect(self, principal: str, role: str | None, secondary: bool,  # type: ignore[override]
                span: Span) -> Any:
        account, user, login_role = split_principal(principal)
        return super().connect(account, user, (role or login_role or None) and
                               (role or login_role or "").lower(), secondary, span)


class MatrixOne:
    name = "matrixone"
    targets = tuple(PROFILES)
    default_target = DEFAULT_TARGET
    initial_principal = "sys:root"
    initial_role: str | None = "moadmin"

    def parse_statement(self, text: str, source: str = "<text>", line: int = 1,
                        column: int = 1) -> Any:
        from .parser import parse_statement

        return parse_statement(text, source, line, column)

    def parse_script(self, text: str, source: str = "<text>") -> Iterator[Any | ParseError |
                                                                         Connect]:
        from .parser import ConnectDirective, parse_script

        for item in parse_script(text, source):
            if isinstance(item, ConnectDirective):
                yield Connect(item.principal, item.role, item.secondary, item.span)
            else:
                yield item

    def new_engine(self, target: str | None = None) -> MatrixOneEngine:
        return MatrixOneEngine(target or DEFAULT_TARGET)


__all__ = ["MatrixOne", "MatrixOneEngine", "StatementError", "split_principal"]
