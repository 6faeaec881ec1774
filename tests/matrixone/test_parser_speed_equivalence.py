"""The MatrixOne parser's fast path (``_FastParser``) against lark's own loop.

``parse_statement`` first tries the fast path -- the same LALR table and per-state terminals
as lark, run in one loop that builds the statements as it reduces -- and falls back on
lark's loop (``Lark.parse`` + ``_Builder.transform``) whenever the fast path gives up. The
contract checked here: wherever lark's loop builds a statement, the fast path builds an
identical one (every field, spans included, same types); wherever lark's loop fails, the
fast path gives up, so that the error is lark's, as before.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from typing import Any

import pytest
from lark import Token

from reasoner.dialects.matrixone import parser
from reasoner.source import Span
from tests.fuzz.corpus import GrammarSampler, statements

SPELLINGS = ("(", ")", ",", ".", "*", "=", "@", ":=", ";", "'x'", "`q`", '"d"', "1", ".5", "0x1f",
             "@v", "@@global.x", "select", "SELECT", "ſelect", "\u212aill", "é", "a\u00a0b",
             "\u00a0", "\t", "\x1c", "-- c\n", "# c\n", "/* c */", "--", "-", "<=>", "->>", "$x",
             "as", "with", "(select 1)", "default", "role", "table", "to", "on", "if", "not",
             "exists", "identified", "by", "all", "privileges", "\\", "'", "`", "😀", "𝐀")


def canon(value: Any) -> Any:
    """Every field (compare=False ones too: spans) with its type; no lark Token inside."""
    assert not isinstance(value, Token), value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value), tuple((f.name, canon(getattr(value, f.name)))
                                   for f in dataclasses.fields(value)))
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(canon(v) for v in value))
    assert value is None or type(value) in (str, int, bool), (type(value), value)
    return (type(value), value)


def lark_loop(body: str, span: Span) -> Any:
    try:
        return canon(parser._Builder(body, span).transform(parser._get_parser().parse(body)))
    except Exception:  # noqa: BLE001 -- any failure: the fast path must give up
        return parser._GIVE_UP


def fast(body: str, span: Span) -> Any:
    result = parser._get_fast().parse(body, span)
    return result if result is parser._GIVE_UP else canon(result)


def corpus() -> list[str]:
    rng = random.Random(20240607)
    real = list(statements("matrixone"))
    sampler = GrammarSampler(parser._get_parser())
    sentences = [sampler.sentence(rng, depth=rng.choice((4, 8, 12))) for _ in range(400)]
    mutated = []
    for _ in range(1200):
        words = rng.choice(real + sentences).split(" ")
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(words) + 1)
            if rng.random() < 0.3 and words:
                del words[min(at, len(words) - 1)]
            else:
                words.insert(at, rng.choice(SPELLINGS))
        mutated.append(rng.choice((" ", "\n", "  ")).join(words))
    return real + sentences + mutated


CORPUS = corpus()


def test_the_fast_path_builds_what_lark_builds_and_gives_up_where_lark_fails() -> None:
    built = failed = 0
    for text in CORPUS:
        body = text.strip()
        span = Span("eq.sql", 3, 5, body)
        expected = lark_loop(body, span)
        assert fast(body, span) == expected, body
        if expected is parser._GIVE_UP:
            failed += 1
        else:
            built += 1
    assert built > 1000 and failed > 300  # both sides of the contract were exercised


def test_the_fast_path_takes_every_statement_of_the_conformance_files() -> None:
    """Not needed for correctness (lark's loop would do), but it is the point."""
    for text in statements("matrixone"):
        body = text.strip().removesuffix(";").rstrip()
        if lark_loop(body, Span("x", 1, 1, body)) is not parser._GIVE_UP:
            assert fast(body, Span("x", 1, 1, body)) is not parser._GIVE_UP, body


@pytest.mark.parametrize("depth", [10, 50, 200])
def test_deep_parentheses_go_to_lark_loop(depth: int) -> None:
    body = "select " + "(" * depth + "1" + ")" * depth
    result = fast(body, Span("x", 1, 1, body))
    if depth * 2 > parser._MAX_STACK:
        assert result is parser._GIVE_UP
    else:
        assert result == lark_loop(body, Span("x", 1, 1, body))


def test_threads_share_the_fast_path() -> None:
    texts = [t.strip() for t in CORPUS[:600]]
    expected = [lark_loop(t, Span("t", 1, 1, t)) for t in texts]
    results: dict[int, list[Any]] = {}

    def work(n: int) -> None:
        results[n] = [fast(t, Span("t", 1, 1, t)) for t in texts]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[n] == expected for n in range(4))
