"""Where a statement or a fact came from: the user's file, line and text."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BREAK = re.compile(r"\r\n?|\n")


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``; CRLF, CR and LF each end a line,
    as they do when a script is split into statements."""
    if "\r" not in text[:offset]:
        return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1
    line, start = 1, 0
    for found in _BREAK.finditer(text):
        if found.end() > offset:  # past it, or inside a CRLF: still the line it ends
            break
        line, start = line + 1, found.end()
    return line, offset - start + 1


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
