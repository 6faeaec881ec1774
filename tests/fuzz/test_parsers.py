"""Hostile input to both dialects' parsers and to ``Reasoner.load``: grammar-aware
sentences and byte mutations of real statements (tests/fuzz/corpus.py).

The contract: ``parse_statement`` returns a statement or raises ``ParseError``;
``parse_script`` yields statements, ``ParseError`` values and directives; ``Reasoner.load``
returns outcomes (``ok=False`` with an error for anything wrong) and never raises. Every
``ParseError`` names ``file:line:col`` -- a real position of the input -- and what was
expected.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasoner import Reasoner
from reasoner.dialects import get_dialect
from reasoner.errors import ParseError
from tests.fuzz.corpus import PARSE_ERROR, mutated, sentences
from tests.strategies import budget

DIALECTS = ("matrixone", "maxcompute")
def check_position(error: ParseError, text: str) -> None:
    """The error names a real place of ``text`` and says what was expected."""
    assert PARSE_ERROR.match(str(error)), str(error)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert 1 <= error.line <= len(lines) + 1, (str(error), len(lines))
    if error.line <= len(lines):
        assert 1 <= error.column <= len(lines[error.line - 1]) + 2, (
            str(error), lines[error.line - 1])


def parse_one(dialect: str, text: str) -> None:
    try:
        get_dialect(dialect).parse_statement(text, "fuzz.sql", 1, 1)
    except ParseError as error:
        check_position(error, text)
    except Exception as exc:  # noqa: BLE001 - anything else is the bug we look for
        raise AssertionError(f"{dialect} parse_statement({text!r}) raised "
                                 f"{type(exc).__name__}: {exc}") from exc


def parse_all(dialect: str, text: str) -> None:
    for item in get_dialect(dialect).parse_script(text, "fuzz.sql"):
        if isinstance(item, ParseError):
            check_position(item, text)


# one reasoner per dialect for the whole module: load() must survive anything after anything
_REASONERS: dict[str, Reasoner] = {}


def load(dialect: str, script: str | Path) -> None:
    reasoner = _REASONERS.get(dialect)
    if reasoner is None:
        reasoner = _REASONERS[dialect] = Reasoner(dialect)
        if dialect == "maxcompute":
            reasoner.engine.directive("project", ["prj_a", "owner", "ALIYUN$bob@aliyun.com"],
                                      "")
    header = "-- connect prj_a ALIYUN$bob@aliyun.com\n" if dialect == "maxcompute" else ""
    if isinstance(script, str):
        script = header + script
    for outcome in reasoner.load(script):
        assert outcome.ok or outcome.error, outcome
        if outcome.error and "internal error" in outcome.error:
            raise AssertionError(f"{dialect}: {outcome.describe()}")


@pytest.mark.parametrize("dialect", DIALECTS)
@budget(300)
@given(text=st.data())
def test_grammar_sentences_parse_or_fail_with_a_position(dialect: str, text) -> None:
    """Sentences of the dialect's own grammar (every statement form, odd names and
    literals) parse, or fail with file:line:col and what was expected; run through
    load() they give outcomes, never an exception."""
    sentence = text.draw(sentences(dialect))
    parse_one(dialect, sentence)
    load(dialect, sentence)


@pytest.mark.parametrize("dialect", DIALECTS)
@budget(300)
@given(data=st.data())
def test_mutated_statements_parse_or_fail_with_a_position(dialect: str, data) -> None:
    """Real statements with bytes flipped, inserted, deleted, duplicated or spliced
    (NUL, quotes, CR, BOM, invalid UTF-8 ...), decoded as a file reader would: the same
    contract, for one statement and as a script."""
    raw = data.draw(mutated(dialect))
    text = raw.decode("utf-8", errors="replace")
    parse_one(dialect, text)
    parse_all(dialect, text)


@pytest.mark.parametrize("dialect", DIALECTS)
@budget(25)
@given(data=st.data())
def test_mutated_files_load_as_outcomes(dialect: str, data) -> None:
    """A script file of mutated statements -- invalid UTF-8, NUL bytes, CRLF and a BOM
    included -- read by ``Reasoner.load(Path)``: outcomes only."""
    parts = data.draw(st.lists(mutated(dialect), min_size=1, max_size=6))
    prefix = b"-- connect prj_a ALIYUN$bob@aliyun.com\r\n" if dialect == "maxcompute" else b""
    raw = b"\xef\xbb\xbf" + prefix + b";\r\n".join(parts)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.sql"
        path.write_bytes(raw)
        load(dialect, path)


def test_maxcompute_non_integer_label_is_a_parse_error() -> None:
    """Regression (found by the fuzzer): ``set label 1.5`` raised a RuntimeError from the
    builder; it is a ParseError naming the number."""
    with pytest.raises(ParseError):
        get_dialect("maxcompute").parse_statement(
            "set label 1.5 to user ALIYUN$alice@aliyun.com")
