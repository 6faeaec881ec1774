"""Where a statement or a fact came from: the user's file, line and text."""

from __future__ import annotations

from dataclasses import dataclass


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
