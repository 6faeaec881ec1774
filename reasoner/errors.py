"""The documented errors. Anything else escaping the library is a bug."""

from __future__ import annotations


class ReasonerError(Exception):
    """Base of every error the library raises on purpose."""


class ParseError(ReasonerError):
    """A statement (or rule) could not be parsed: file:line:col and what was expected."""

    def __init__(self, source: str, line: int, column: int, message: str) -> None:
        self.source, self.line, self.column, self.message = source, line, column, message
        super().__init__(f"{source}:{line}:{column}: syntax error: {message}")


class RuleError(ReasonerError):
    """The rule base is malformed: unsafe, unstratified, unknown predicate, bad arity."""


class StatementError(ReasonerError):
    """A statement the real system would reject; the message is the system's own text."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class ScriptError(ReasonerError):
    """A script or conformance file is malformed (not a statement error)."""
