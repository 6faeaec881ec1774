"""Inputs for the fuzz tests: real statements, their mutations, and sentences of the grammars.

- ``statements(dialect)``: every statement of tests/conformance/<dialect>/*.test.
- ``mutated(dialect)``: a real statement with byte-level mutations (flip, insert, delete,
  duplicate, splice with another statement, interesting bytes: NUL, quotes, parentheses,
  CR, BOM, invalid UTF-8), as bytes.
- ``sentences(dialect)``: random derivations of the dialect's own Lark grammar, so that
  inputs reach deep into every statement form rather than failing at the first token.
"""

from __future__ import annotations

import functools
import random
import re
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from lark import Lark
from lark.grammar import NonTerminal, Terminal
from lark.lexer import PatternStr

from reasoner.conformance import read_records

CONFORMANCE = Path(__file__).resolve().parent.parent / "conformance"

# documented errors: a ParseError reads "<file>:<line>:<col>: syntax error: expected ..."
PARSE_ERROR = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): syntax error: .*expected")


@functools.cache
def statements(dialect: str) -> tuple[str, ...]:
    found: list[str] = []
    for path in sorted((CONFORMANCE / dialect).glob("*.test")):
        for record in read_records(path.read_text(encoding="utf-8")):
            if record.kind == "statement" and record.body.strip():
                found.append(record.body)
    return tuple(dict.fromkeys(found))


INTERESTING = (b"\x00", b"'", b'"', b"`", b"(", b")", b";", b"\r", b"\r\n", b"\n", b"\\",
               b"\xef\xbb\xbf", b"\xff", b"\xc3", b"\xed\xa0\x80", b"--", b"/*", b"*/", b"#",
               b"\t", b" ", b"@", b"$", b"\xf0\x9f\x98\x80", b"-- connect acc:x\n")


def _mutate(data: bytes, other: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        at = rng.randint(0, len(out))
        if op == 0 and out:  # flip a bit
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert an interesting byte sequence
            out[at:at] = rng.choice(INTERESTING)
        elif op == 2 and out:  # delete a run
            del out[at:at + rng.randint(1, 8)]
        elif op == 3 and out:  # duplicate a run
            j = rng.randrange(len(out))
            out[at:at] = out[j:j + rng.randint(1, 16)]
        elif op == 4:  # splice with another statement
            j = rng.randint(0, len(other))
            out = out[:at] + other[j:]
        else:  # a random byte
            out[at:at] = bytes([rng.randrange(256)])
    return bytes(out)


def mutated(dialect: str) -> st.SearchStrategy[bytes]:
    pool = statements(dialect)
    return st.builds(lambda a, b, rng: _mutate(a.encode(), b.encode(), rng),
                     st.sampled_from(pool), st.sampled_from(pool),
                     st.randoms(use_true_random=False))


# --- grammar-aware generation -----------------------------------------------------------------

_SAMPLES = {
    "NAME": ("a", "db1", "t1", "r1", "u1", "select", "x_y", "ALIYUN$alice@aliyun.com", "é"),
    "QNAME": ("`a`", "`a b`", "`a``b`", "``"),
    "STRING": ("'x'", "'it''s'", '"q"', "'a\\'b'", "''", "'%'", "'1'"),
    "NUMBER": ("0", "1", "42", "1.5", "0x1f", "1e3"),
    "VARIABLE": ("@a", "@@autocommit", "@@global.x", "@'v'"),
    "OP": ("+", "-", "<", ">=", "!=", "||", "->>", "%", "?"),
    "INT": ("0", "1", "7"),
}


class GrammarSampler:
    """Random sentences of a Lark grammar: each rule picks one of its expansions, the
    shortest ones once the depth budget is spent; terminals get typical spellings."""

    def __init__(self, parser: Lark) -> None:
        self.rules: dict[str, list[tuple[Any, ...]]] = {}
        for rule in parser.rules:
            self.rules.setdefault(rule.origin.name, []).append(tuple(rule.expansion))
        self.terminals = {t.name: t for t in parser.terminals}
        self.start = parser.options.start[0]
        self._size: dict[str, int] = {}
        for _ in range(len(self.rules)):  # shortest derivation length, by fixpoint
            for name, expansions in self.rules.items():
                self._size[name] = min(self._cost(e) for e in expansions)

    def _cost(self, expansion: tuple[Any, ...]) -> int:
        return sum(self._size.get(s.name, 10**6) if isinstance(s, NonTerminal) else 1
                   for s in expansion)

    def terminal(self, name: str, rng: random.Random) -> str:
        if name in _SAMPLES:
            return rng.choice(_SAMPLES[name])
        terminal = self.terminals.get(name)
        if terminal is None:  # declared, never lexed (e.g. CHUNK)
            return "x"
        pattern = terminal.pattern
        if isinstance(pattern, PatternStr):
            return pattern.value
        word = re.match(r"[A-Za-z_]+(?=\(\?!|$)", pattern.value)
        return word.group(0) if word else name.strip("_").lower()

    def sentence(self, rng: random.Random, depth: int = 12) -> str:
        out: list[str] = []
        stack: list[tuple[Any, int]] = [(NonTerminal(self.start), 0)]
        while stack and len(out) < 400:
            symbol, level = stack.pop()
            if isinstance(symbol, Terminal):
                out.append(self.terminal(symbol.name, rng))
                continue
            expansions = self.rules.get(symbol.name, [()])
            if level >= depth:
                expansion = min(expansions, key=self._cost)
            else:
                expansion = rng.choice(expansions)
            stack.extend((s, level + 1) for s in reversed(expansion))
        return " ".join(out)


@functools.cache
def sampler(dialect: str) -> GrammarSampler:
    if dialect == "matrixone":
        from reasoner.dialects.matrixone.parser import _get_parser
    else:
        from reasoner.dialects.maxcompute.parser import _get_parser
    return GrammarSampler(_get_parser())


def sentences(dialect: str) -> st.SearchStrategy[str]:
    return st.builds(lambda rng: sampler(dialect).sentence(rng),
                     st.randoms(use_true_random=False))
