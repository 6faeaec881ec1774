"""Rule files (``rules/**/*.dl``) to :class:`Program`, with ``file:line:col`` errors.

The grammar lives in ``grammar/datalog.lark`` (found through :func:`reasoner.resources.data_dir`
so that it works from a checkout and from an installed wheel).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError
from lark.lexer import PatternStr

from reasoner.datalog.ast import (
    Atom,
    Comparison,
    Const,
    Declaration,
    Fact,
    Literal,
    Negation,
    Program,
    Rule,
    Term,
    Var,
    merge_inputs,
)
from reasoner.datalog.check import check_program
from reasoner.errors import RuleError
from reasoner.resources import data_dir

_GRAMMAR_FILE = "datalog.lark"
_lock = threading.Lock()
_parser: Lark | None = None

# how the regex terminals read in "expected ..." messages
_TERMINAL_NAMES = {
    "NAME": "a lower-case identifier",
    "VAR": "a variable",
    "STRING": "a quoted string",
    "INT": "an integer",
    "COMP_OP": "a comparison operator",
    "INPUT": "'.input'",
    "NOT": "'not'",
    "$END": "end of file",
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def _get_parser() -> Lark:
    """The LALR parser, built once per process (building it costs milliseconds)."""
    global _parser
    with _lock:
        if _parser is None:
            text = (data_dir("grammar") / _GRAMMAR_FILE).read_text(encoding="utf-8")
            _parser = Lark(
                text,
                parser="lalr",
                lexer="contextual",
                propagate_positions=True,
                maybe_placeholders=False,
            )
        return _parser


def _unquote(text: str) -> str:
    body = text[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    chars = iter(body)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars)
            out.append(_ESCAPES.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


def _pos(item: Tree | Token) -> tuple[int, int]:
    if isinstance(item, Token):
        return (item.line or 1, item.column or 1)
    return (item.meta.line, item.meta.column)


class _ToAst(Transformer):
    """Parse tree to AST; statements keep their (line, column) for later messages."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def var(self, children: list[Token]) -> Var:
        return Var(str(children[0]))

    def string(self, children: list[Token]) -> Const:
        return Const(_unquote(str(children[0])))

    def int(self, children: list[Token]) -> Const:
        return Const(int(children[0]))

    def name(self, children: list[Token]) -> Const:
        return Const(str(children[0]))

    def args(self, children: list[Term]) -> tuple[Term, ...]:
        return tuple(children)

    def atom(self, children: list) -> Atom:
        args = children[1] if len(children) > 1 else ()
        return Atom(str(children[0]), args)

    def negation(self, children: list) -> Negation:
        return Negation(children[-1])

    def comparison(self, children: list) -> Comparison:
        left, op, right = children
        return Comparison(str(op), left, right)

    def columns(self, children: list[Token]) -> tuple[str, ...]:
        return tuple(str(c) for c in children)


def _literal(tree: Tree, transformer: _ToAst) -> Literal:
    return transformer.transform(tree)


def _statements(tree: Tree, source: str) -> Program:
    """Walk the top-level statements (kept as trees, so their positions stay at hand)."""
    to_ast = _ToAst(source)
    rules: list[Rule] = []
    facts: list[Fact] = []
    inputs: dict[str, Declaration] = {}
    for stmt in tree.children:
        assert isinstance(stmt, Tree)
        line, column = _pos(stmt)
        kind = stmt.data
        if kind == "declaration":
            name = stmt.children[1]
            columns = to_ast.transform(stmt.children[2]) if len(stmt.children) > 2 else ()
            decl = Declaration(str(name), columns, source, line, column)
            seen = set()
            for col in columns:
                if col in seen:
                    raise RuleError(f"{decl.where()}: column {col} repeated in {decl}")
                seen.add(col)
            merge_inputs(inputs, [decl])
        elif kind == "rule":
            name_tok, head_tree, body_tree = stmt.children
            body_items = body_tree.children
            rules.append(
                Rule(
                    name=str(name_tok),
                    head=_literal(head_tree, to_ast),
                    body=tuple(_literal(b, to_ast) for b in body_items),
                    source=source,
                    line=line,
                    column=column,
                    positions=(_pos(head_tree), *(_pos(b) for b in body_items)),
                )
            )
        elif kind == "fact":
            fact_name = str(stmt.children[0]) if len(stmt.children) == 2 else None
            atom = _literal(stmt.children[-1], to_ast)
            facts.append(Fact(atom, source, line, column, fact_name))
        else:  # pragma: no cover - the grammar has no other statement
            raise AssertionError(kind)
    return Program(tuple(rules), tuple(facts), inputs)


def _describe(parser: Lark, names: Iterable[str]) -> str:
    readable = set()
    for name in names:
        if name in _TERMINAL_NAMES:
            readable.add(_TERMINAL_NAMES[name])
            continue
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            readable.add(name)
            continue
        readable.add(repr(pattern.value) if isinstance(pattern, PatternStr) else name)
    items = sorted(readable)
    if len(items) <= 1:
        return "".join(items) or "nothing"
    return ", ".join(items[:-1]) + " or " + items[-1]


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _syntax_error(parser: Lark, err: UnexpectedInput, text: str, source: str) -> RuleError:
    line, column = err.line, err.column
    if isinstance(err, UnexpectedCharacters):
        expected = _describe(parser, err.allowed or ())
        found = repr(text[err.pos_in_stream]) if err.pos_in_stream < len(text) else "end of file"
    else:
        names: Iterable[str] = getattr(err, "expected", None) or ()
        interactive = getattr(err, "interactive_parser", None)
        if interactive is not None:
            try:  # exact: LALR state merging makes ``expected`` list too much
                names = interactive.accepts() or names
            except Exception:  # noqa: BLE001 - fall back to lark's own list
                pass
        expected = _describe(parser, names)
        token = getattr(err, "token", None)
        if isinstance(err, UnexpectedEOF) or token is None or token.type == "$END":
            found = "end of file"
            if token is not None and isinstance(token.end_line, int):
                line, column = token.end_line, token.end_column  # just after the last token
        else:
            found = repr(str(token))
    if not isinstance(line, int) or line < 1:
        line, column = _end_position(text)
    return RuleError(f"{source}:{line}:{column}: expected {expected}, found {found}")


def parse_program(text: str, source: str = "<text>") -> Program:
    """Parse one rule file's text; syntax errors raise RuleError ``source:line:col: expected``.

    Only the syntax (and repeated ``.input`` declarations) is checked here; run
    :func:`reasoner.datalog.check.check_program` on the merged program for the rest.
    """
    parser = _get_parser()
    try:
        tree = parser.parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(parser, err, text, source) from None
    try:
        return _statements(tree, source)
    except VisitError as err:  # pragma: no cover - the transformer raises nothing itself
        raise err.orig_exc from None


def source_name(path: Path, root: Path | None = None) -> str:
    """How a rule file is named in messages: relative to ``root``, or to the folder above
    the nearest ``rules`` directory (``rules/matrixone/roles.dl``), else as given."""
    resolved = path.resolve()
    bases = [root.resolve()] if root is not None else []
    bases += [p.parent for p in resolved.parents if p.name == "rules"][:1]
    for base in bases:
        try:
            return resolved.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


def _expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        files.extend(sorted(path.rglob("*.dl")) if path.is_dir() else [path])
    return files


def load_program(paths: Iterable[Path], root: Path | None = None) -> Program:
    """Parse rule files (a directory stands for its ``**/*.dl``), merge them, check them."""
    programs = []
    for path in _expand(paths):
        source = source_name(path, root)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise RuleError(f"{source}:1:1: cannot read rule file: {err.strerror}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:  # a corrupt file is a RuleError, never a crash
            line = data.count(b"\n", 0, err.start) + 1
            column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
            raise RuleError(f"{source}:{line}:{column}: cannot read rule file: not UTF-8 "
                            f"(byte 0x{data[err.start]:02x}); expected UTF-8 text") from None
        programs.append(parse_program(text, source))
    return check_program(Program.merge(*programs))
