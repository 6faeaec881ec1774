"""Where a statement or a fact came from: the user's file, line and text."""

from __future__ import annotations

from dataclasses import dataclass


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``, whose line breaks are LF (the
    parsers turn CRLF and CR into LF first, as script splitting does)."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def shift(line: int, column: int, rel_line: int, rel_column: int) -> tuple[int, int]:
    """A position inside a statement that starts at (line, column), made absolute."""
    if rel_line <= 1:
        return line, column + rel_column - 1
    return line + rel_line - 1, rel_column


@dataclass(frozen=True)
class Span:
    """A statement's place in its source: 1-based line and column, plus the text itself."""

    source: str  # a file path, or "<text>" for a string given to the library
    line: int
    column: int
    text: str

    def where(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"

    def short_text(self, limit: int = 120) -> str:
        flat = " ".join(self.text.split())
        return flat if len(flat) <= limit else flat[: limit - 3] + "..."


BUILTIN = Span(source="<builtin>", line=0, column=0, text="")
