"""MatrixOne SQL text to the typed statements of :mod:`.statements`.

``parse_statement`` parses one statement with the LALR grammar ``grammar/matrixone.lark``;
``parse_script`` splits a script on ``;`` (outside quotes and comments), yields the
``-- connect ...`` directives it finds between statements, and reports a statement that does
not parse as a :class:`ParseError` value so that the caller can go on with the next one.
Positions in errors and spans are those of the original file (1-based line and column).

A statement is parsed by ``_FastParser`` (lark's LALR table and per-state terminals run in
one loop that builds the statement as it reduces) and, wherever that gives up -- any error,
deep nesting --, by lark's own loop, which makes the ParseError; see "the fast path" below.
"""

from __future__ import annotations

import functools
import io
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from re import _constants as _sre_constants  # type: ignore[attr-defined]
from re import _parser as _sre_parser  # type: ignore[attr-defined]
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import ContextualLexer, LexerState, PatternStr
from lark.parsers.lalr_analysis import Reduce, Shift
from lark.tree import Meta
from lark.visitors import _vargs_inline, _vargs_meta, _vargs_meta_inline

from reasoner.errors import ParseError
from reasoner.resources import data_dir
from reasoner.source import Span, position, shift

from . import statements as st

__all__ = ["ConnectDirective", "parse_script", "parse_statement"]

_GRAMMAR_FILE = "matrixone.lark"
_lock = threading.Lock()
_parser: Lark | None = None


@dataclass(frozen=True)
class ConnectDirective:
    """A ``-- connect <principal> [role R] [secondary all|none]`` comment line of a script:
    who runs the statements that follow (names lower-cased, as MatrixOne folds them)."""

    principal: str
    role: str | None
    secondary: str | None  # "all" | "none"
    span: Span


# A run of what NAME, NUMBER, OP, ",", ".", "*", "=" and "@" match, with the whitespace between
# them -- never "(", ")", a quote, a backslash, ";" or a comment start, so it ends exactly where
# one of those terminals would have had to end. Atomic groups and possessive repeats keep the
# match linear and free of backtracking state on a 10 MB run ("1,1,1,...").
_PIECE = (r"(?>[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*+"
          r"|0[xX][0-9a-fA-F]++|0[bB][01]++"
          r"|(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][-+]?+\d++)?+"
          r"|[+%<>!~^&|:?{}\[\]=,.*@]|-(?!-(?:\s|$))|/(?!\*))")
_CHUNK = re.compile(rf"\s*+({_PIECE}(?>\s*+{_PIECE})*+)")
_TAIL_RULES = frozenset({"_tail_word", "_tok", "_tail_group"})


class _TailLexer(ContextualLexer):
    """Lark's contextual lexer, plus one shortcut inside tails.

    Tails (the SQL of queries and view bodies, column lists, options) are opaque: the builder
    keeps only their source text. Lexed one word at a time they cost a token, a parser step
    and a tree node per word -- minutes for a 10 MB ``select 1,1,...``. In the parser states
    reached by shifting a token of a tail (``tail_states``: every action there is a reduction
    of a tail rule, so what follows is more tail up to its ``)`` or the end), a run of plain
    tokens is handed over as one ``CHUNK`` token instead. Anything else (a quote, a
    parenthesis, a comment, a character no terminal accepts) goes to the ordinary lexer, so
    errors are the same as before.
    """

    tail_states: frozenset[int] = frozenset()

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        text, line_ctr = lexer_state.text, lexer_state.line_ctr
        tail_states = self.tail_states
        try:
            while True:
                if parser_state.position in tail_states:
                    match = _CHUNK.match(text.text, line_ctr.char_pos, text.end)
                    if match is not None:
                        line_ctr.feed(text.text[line_ctr.char_pos:match.start(1)])
                        token = Token("CHUNK", match.group(1), line_ctr.char_pos,
                                      line_ctr.line, line_ctr.column)
                        line_ctr.feed(token.value)
                        token.end_line, token.end_column = line_ctr.line, line_ctr.column
                        token.end_pos = line_ctr.char_pos
                        lexer_state.last_token = token
                        yield token
                        continue
                lexer = self.lexers[parser_state.position]
                yield lexer.next_token(lexer_state, parser_state)
        except EOFError:
            pass
        except UnexpectedCharacters as exc:  # as ContextualLexer.lex: a nicer error if possible
            try:
                last_token = lexer_state.last_token
                token = self.root_lexer.next_token(lexer_state, parser_state)
                raise UnexpectedToken(token, exc.allowed, state=parser_state,
                                      token_history=[last_token],
                                      terminals_by_name=self.root_lexer.terminals_by_name
                                      ) from None
            except UnexpectedCharacters:
                raise exc from None


def _tail_states(parser: Lark) -> frozenset[int]:
    """The LALR states in which every action reduces a tail rule (see _TailLexer)."""
    table = parser.parser.parser.parser.parse_table
    return frozenset(
        state for state, actions in table.states.items()
        if actions and all(action is Reduce and arg.origin.name in _TAIL_RULES
                           for action, arg in actions.values()))


def _get_parser() -> Lark:
    """The LALR parser, built once per process (building it takes a fraction of a second)."""
    global _parser
    with _lock:
        if _parser is None:
            text = (data_dir("grammar") / _GRAMMAR_FILE).read_text(encoding="utf-8")
            parser = Lark(
                text,
                parser="lalr",
                lexer="contextual",
                propagate_positions=True,
                maybe_placeholders=True,
                _plugins={"ContextualLexer": _TailLexer},
            )
            lexer = parser.parser.lexer
            if isinstance(lexer, _TailLexer):
                lexer.tail_states = _tail_states(parser)
            _parser = parser
        return _parser


# --- values ---------------------------------------------------------------------------------

_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


def _unquote_string(text: str) -> str:
    """A '...' or "..." literal's value: MySQL backslash escapes and doubled quotes."""
    quote, body = text[0], text[1:-1]
    if "\\" not in body:
        return body.replace(quote * 2, quote)
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            # \% and \_ keep their backslash (they are LIKE escapes), as in MySQL
            out.append("\\" + nxt if nxt in "%_" else _ESCAPES.get(nxt, nxt))
            i += 2
        elif ch == quote and body.startswith(quote * 2, i):
            out.append(quote)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _token_text(tok: Token) -> str:
    """The value of a NAME / `QNAME` / 'STRING' token, quotes removed, case kept."""
    value = str(tok)
    if tok.type == "QNAME":
        return value[1:-1].replace("``", "`")
    if tok.type == "STRING":
        return _unquote_string(value)
    return value


def _fold(name: str) -> str:
    """MatrixOne's folding of user, role, account, database and table names."""
    return name.strip().lower()


@dataclass(frozen=True)
class _Flag:
    """An optional keyword group that was present (IF EXISTS, OR REPLACE, TEMPORARY ...)."""

    name: str


@dataclass(frozen=True)
class _Text:
    """The exact source text of a sub-tree (a query, a view body, a SET value)."""

    text: str
    single: Token | None = None  # the only token of the text, when there is exactly one


@dataclass(frozen=True)
class _Tagged:
    """A sub-tree's value with what it is: "default_role", "from_db", "security"..."""

    tag: str
    value: Any


def _flags(children: Iterable[Any]) -> set[str]:
    return {c.name for c in children if isinstance(c, _Flag)}


def _first(children: Iterable[Any], kind: type) -> Any:
    return next((c for c in children if isinstance(c, kind)), None)


def _tagged(children: Iterable[Any], tag: str) -> Any:
    return next((c.value for c in children if isinstance(c, _Tagged) and c.tag == tag), None)


# --- tree -> statements ---------------------------------------------------------------------


@v_args(inline=True)
class _Builder(Transformer):
    """Builds the statement dataclasses; one instance per statement (it holds its text)."""

    def __init__(self, text: str, span: Span) -> None:
        super().__init__(visit_tokens=False)
        self.text = text
        self.span = span

    def _slice(self, meta: Meta) -> str:
        return "" if meta.empty else self.text[meta.start_pos : meta.end_pos]

    # names
    def ident(self, tok: Token) -> str:
        return _fold(_token_text(tok))

    name_str = ident
    db_name = ident

    def table_name(self, first: Token, second: Token | None = None) -> st.ObjectName:
        return self.obj_name(self.ident(first), self.ident(second) if second else None)

    def obj_name(self, first: str, second: str | None = None) -> st.ObjectName:
        return st.ObjectName(None, first) if second is None else st.ObjectName(first, second)

    def obj_names(self, *names: st.ObjectName) -> tuple[st.ObjectName, ...]:
        return names

    def role_names(self, *names: str) -> tuple[str, ...]:
        return names

    def user_name(self, name: str, _host: Any = None) -> str:
        return name

    def user_names(self, *names: str) -> tuple[str, ...]:
        return names

    def if_exists(self) -> _Flag:
        return _Flag("if_exists")

    def if_not_exists(self) -> _Flag:
        return _Flag("if_not_exists")

    def grant_option(self) -> _Flag:
        return _Flag("with_grant_option")

    def temporary(self) -> _Flag:
        return _Flag("temporary")

    def or_replace(self) -> _Flag:
        return _Flag("or_replace")

    @v_args(meta=True)
    def tail(self, meta: Meta, _children: list[Any]) -> _Text:
        return _Text(self._slice(meta))

    @v_args(meta=True)
    def set_value(self, meta: Meta, children: list[Any]) -> _Text:
        single = children[0] if len(children) == 1 and isinstance(children[0], Token) else None
        return _Text(self._slice(meta), single)

    select_body = tail
    view_body = tail

    @v_args(meta=True)
    def as_select(self, meta: Meta, children: list[Any]) -> _Tagged:
        if len(children) == 1:  # [AS] SELECT ...: the select_body's text starts at SELECT
            return _Tagged("as_select", children[0].text)
        text = self._slice(meta)  # AS (SELECT ...) ...: drop the AS
        return _Tagged("as_select", text[text.index("(", 2):])

    # accounts
    def auth_password(self, password: Token) -> str:
        return _token_text(password)

    def auth_random(self) -> str:
        return ""

    def auth_with(self, _value: Token) -> str:
        return ""

    def create_account(self, flag: _Flag | None, name: str, admin: str, password: str,
                       *_options: Token) -> st.CreateAccount:
        return st.CreateAccount(self.span, name, admin, password, if_not_exists=flag is not None)

    def drop_account(self, flag: _Flag | None, name: str) -> st.DropAccount:
        return st.DropAccount(self.span, name, if_exists=flag is not None)

    def alter_account(self, flag: _Flag | None, name: str, *_options: Any) -> st.AlterAccount:
        return st.AlterAccount(self.span, name, if_exists=flag is not None)

    # users and roles
    def user_spec(self, name: str, password: str | None) -> st.UserSpec:
        return st.UserSpec(name, password)

    def user_specs(self, *specs: st.UserSpec) -> tuple[st.UserSpec, ...]:
        return specs

    def default_role(self, name: str) -> _Tagged:
        return _Tagged("default_role", name)

    def create_user(self, flag: _Flag | None, users: tuple[st.UserSpec, ...],
                    role: _Tagged | None, *_options: Token) -> st.CreateUser:
        return st.CreateUser(self.span, users, default_role=role.value if role else None,
                             if_not_exists=flag is not None)

    def alter_user(self, flag: _Flag | None, users: tuple[st.UserSpec, ...],
                   role: _Tagged | None, *_options: Token) -> st.AlterUser:
        return st.AlterUser(self.span, users[0].name, if_exists=flag is not None,
                            default_role=role.value if role else None)

    def drop_user(self, flag: _Flag | None, names: tuple[str, ...]) -> st.DropUser:
        return st.DropUser(self.span, names, if_exists=flag is not None)

    def create_role(self, flag: _Flag | None, names: tuple[str, ...]) -> st.CreateRole:
        return st.CreateRole(self.span, names, if_not_exists=flag is not None)

    def drop_role(self, flag: _Flag | None, names: tuple[str, ...]) -> st.DropRole:
        return st.DropRole(self.span, names, if_exists=flag is not None)

    def alter_role_rename(self, name: str, new_name: str) -> st.AlterRole:
        return st.AlterRole(self.span, name, new_name)

    def alter_role_rule(self, name: str, _tail: _Text) -> st.AlterRole:
        return st.AlterRole(self.span, name)

    # grants
    def priv_type(self, *tokens: Token) -> str:
        keyword = " ".join(str(t).lower() for t in tokens)
        return "all" if keyword == "all privileges" else keyword

    def privilege(self, keyword: str, *columns: str) -> st.Privilege:
        return st.Privilege(keyword, columns)

    def privileges(self, *privs: st.Privilege) -> tuple[st.Privilege, ...]:
        return privs

    def object_type(self, tok: Token) -> str:
        return str(tok).lower()

    def level_star(self) -> tuple[str, str | None, str]:
        return "*", None, "*"

    def level_star_star(self) -> tuple[str, str | None, str]:
        return "*.*", "*", "*"

    def level_db_star(self, db: str) -> tuple[str, str | None, str]:
        return f"{db}.*", db, "*"

    def level_db_table(self, db: str, name: str) -> tuple[str, str | None, str]:
        return f"{db}.{name}", db, name

    def level_name(self, name: str) -> tuple[str, str | None, str]:
        return name, None, name

    def grant_privilege(self, privs: tuple[st.Privilege, ...], object_type: str,
                        level: tuple[str, str | None, str], roles: tuple[str, ...],
                        flag: _Flag | None) -> st.GrantPrivilege:
        on = st.PrivilegeLevel(object_type, *level)
        return st.GrantPrivilege(self.span, privs, on, roles, with_grant_option=flag is not None)

    def revoke_privilege(self, flag: _Flag | None, privs: tuple[st.Privilege, ...],
                         object_type: str, level: tuple[str, str | None, str],
                         roles: tuple[str, ...]) -> st.RevokePrivilege:
        on = st.PrivilegeLevel(object_type, *level)
        return st.RevokePrivilege(self.span, privs, on, roles, if_exists=flag is not None)

    def grant_role(self, roles: tuple[str, ...], grantees: tuple[str, ...],
                   flag: _Flag | None) -> st.GrantRole:
        return st.GrantRole(self.span, roles, grantees, with_grant_option=flag is not None)

    def revoke_role(self, flag: _Flag | None, roles: tuple[str, ...],
                    grantees: tuple[str, ...]) -> st.RevokeRole:
        return st.RevokeRole(self.span, roles, grantees, if_exists=flag is not None)

    # session
    def set_role(self, name: str) -> st.SetRole:
        return st.SetRole(self.span, name)

    def secondary_kind(self, tok: Token) -> str:
        return str(tok).lower()

    def set_secondary_role(self, kind: str) -> st.SetSecondaryRole:
        return st.SetSecondaryRole(self.span, all=kind == "all")

    def set_default_role(self, *_children: Any) -> st.SetDefaultRole:
        return st.SetDefaultRole(self.span)

    def scope(self, tok: Token) -> str:
        return str(tok).lower()

    def _value(self, value: _Text) -> str:
        if value.single is not None and value.single.type == "STRING":
            return _unquote_string(str(value.single))
        return value.text

    def assign_system(self, scope: str | None, *rest: Any) -> st.SetVariable:
        *names, value = rest
        name = ".".join(str(n) for n in names).lower()
        return st.SetVariable(self.span, name, self._value(value), is_global=scope == "global")

    def assign_variable(self, var: Token, value: _Text) -> st.SetVariable:
        raw = str(var)
        is_system = raw.startswith("@@")
        body = raw[2:] if is_system else raw[1:]
        if body[:1] in "`'\"":
            body = _token_text(Token("QNAME" if body[0] == "`" else "STRING", body))
        is_global = False
        if is_system:
            scope, dot, rest = body.partition(".")
            if dot and scope.lower() in ("global", "session", "local"):
                is_global, body = scope.lower() == "global", rest
        name = body.lower() if is_system else "@" + body.lower()
        return st.SetVariable(self.span, name, self._value(value), is_global=is_global)

    def assign_names(self, value: _Text) -> st.SetVariable:
        return st.SetVariable(self.span, "names", self._value(value))

    def assign_charset(self, value: _Text) -> st.SetVariable:
        return st.SetVariable(self.span, "character_set_client", self._value(value))

    def set_variables(self, first: st.SetVariable, *more: st.SetVariable) -> st.SetVariable:
        if not more:
            return first
        return st.SetVariable(first.span, first.name, first.value, first.is_global, more=more)

    def use(self, name: str) -> st.Use:
        return st.Use(self.span, name)

    # catalogue DDL
    def create_database(self, flag: _Flag | None, name: str, _tail: _Text
                        ) -> st.CreateDatabase:
        return st.CreateDatabase(self.span, name, if_not_exists=flag is not None)

    def drop_database(self, flag: _Flag | None, name: str) -> st.DropDatabase:
        return st.DropDatabase(self.span, name, if_exists=flag is not None)

    @v_args(inline=False)
    def create_table_like(self, children: list[Any]) -> st.CreateTable:
        flags = _flags(children)
        table, like = [c for c in children if isinstance(c, st.ObjectName)]
        return st.CreateTable(self.span, table, if_not_exists="if_not_exists" in flags,
                              temporary="temporary" in flags, like=like)

    @v_args(inline=False)
    def create_table(self, children: list[Any]) -> st.CreateTable:
        flags = _flags(children)
        as_select = _tagged(children, "as_select")
        return st.CreateTable(self.span, _first(children, st.ObjectName),
                              if_not_exists="if_not_exists" in flags,
                              temporary="temporary" in flags, as_select=as_select)

    def table_options(self, *_tokens: Any) -> None:
        return None

    def drop_table(self, flag: _Flag | None, names: tuple[st.ObjectName, ...]) -> st.DropTable:
        return st.DropTable(self.span, names, if_exists=flag is not None)

    def alter_table(self, table: st.ObjectName, _tail: _Text) -> st.AlterTable:
        return st.AlterTable(self.span, table)

    def rename_pair(self, old: st.ObjectName, new: st.ObjectName
                    ) -> tuple[st.ObjectName, st.ObjectName]:
        return old, new

    def rename_table(self, *pairs: tuple[st.ObjectName, st.ObjectName]) -> st.RenameTable:
        return st.RenameTable(self.span, pairs)

    def truncate(self, table: st.ObjectName) -> st.Truncate:
        return st.Truncate(self.span, table)

    # routines, sequences, indexes, account objects
    def routine_kind(self, tok: Token) -> str:
        return str(tok).lower()

    def sequence_action(self, tok: Token) -> str:
        return str(tok).lower()

    def account_object_action(self, tok: Token) -> str:
        return str(tok).lower()

    def account_object_kind(self, tok: Token) -> str:
        return str(tok).lower()

    def create_routine(self, *children: Any) -> st.RoutineDDL:
        kind = next(c for c in children if isinstance(c, str))
        return st.RoutineDDL(self.span, kind, "create", _first(list(children), st.ObjectName))

    def drop_routine(self, kind: str, flag: Any, name: st.ObjectName, *_rest: Any
                     ) -> st.RoutineDDL:
        return st.RoutineDDL(self.span, kind, "drop", name, if_exists=flag is not None)

    def call_routine(self, name: st.ObjectName, *_rest: Any) -> st.RoutineDDL:
        return st.RoutineDDL(self.span, "procedure", "call", name)

    def sequence_ddl(self, action: str, *children: Any) -> st.RoutineDDL:
        flags = _flags(list(children))
        return st.RoutineDDL(self.span, "sequence", action,
                             _first(list(children), st.ObjectName),
                             if_exists="if_exists" in flags)

    def create_index(self, *children: Any) -> st.IndexDDL:
        names = [c for c in children if isinstance(c, (str, st.ObjectName))]
        index = next(c for c in names if isinstance(c, str))
        return st.IndexDDL(self.span, "create", index, _first(list(children), st.ObjectName))

    def drop_index(self, index: str, table: st.ObjectName) -> st.IndexDDL:
        return st.IndexDDL(self.span, "drop", index, table)

    def account_object_ddl(self, action: str, kind: str, *_rest: Any) -> st.AccountObjectDDL:
        return st.AccountObjectDDL(self.span, action, kind)

    def security_kind(self, tok: Token) -> str:
        return str(tok).lower()

    def security(self, kind: str) -> _Tagged:
        return _Tagged("security", kind)

    @v_args(inline=False)
    def create_view(self, children: list[Any]) -> st.CreateView:
        flags = _flags(children)
        return st.CreateView(self.span, _first(children, st.ObjectName), children[-1].text,
                             or_replace="or_replace" in flags,
                             if_not_exists="if_not_exists" in flags,
                             security=_tagged(children, "security"))

    @v_args(inline=False)
    def alter_view(self, children: list[Any]) -> st.AlterView:
        return st.AlterView(self.span, _first(children, st.ObjectName), children[-1].text,
                            security=_tagged(children, "security"))

    def drop_view(self, flag: _Flag | None, names: tuple[st.ObjectName, ...]) -> st.DropView:
        return st.DropView(self.span, names, if_exists=flag is not None)

    # SHOW
    def from_db(self, name: str) -> _Tagged:
        return _Tagged("from_db", name)

    def show_filter(self, _tail: _Text) -> None:
        return None

    def show_tables(self, db: _Tagged | None, _filter: None) -> st.Show:
        return st.Show(self.span, "tables", database=db.value if db else None)

    def _table_in(self, table: st.ObjectName, db: _Tagged | None) -> st.ObjectName:
        return st.ObjectName(db.value, table.name) if db else table

    def show_columns(self, table: st.ObjectName, db: _Tagged | None, _filter: None
                     ) -> st.Show:
        table = self._table_in(table, db)
        return st.Show(self.span, "columns", database=table.database, table=table)

    def show_index(self, table: st.ObjectName, db: _Tagged | None, _filter: None) -> st.Show:
        table = self._table_in(table, db)
        return st.Show(self.span, "index", database=table.database, table=table)

    def show_grants(self, grantee: str | None = None, _roles: Any = None) -> st.Show:
        return st.Show(self.span, "grants", grantee=grantee)

    def show_create_table(self, table: st.ObjectName) -> st.Show:
        return st.Show(self.span, "create table", database=table.database, table=table)

    def show_create_view(self, view: st.ObjectName) -> st.Show:
        return st.Show(self.span, "create view", database=view.database, table=view)

    def show_create_database(self, _flag: _Flag | None, name: str) -> st.Show:
        return st.Show(self.span, "create database", database=name)

    def show_table_status(self, db: _Tagged | None, _filter: None) -> st.Show:
        return st.Show(self.span, "table status", database=db.value if db else None)

    def show_create(self) -> str:
        return "create"

    def show_word(self, tok: Token) -> str:
        return str(tok).lower()

    def show_generic(self, create: str | None, *rest: Any) -> st.Show:
        words = [w for w in rest if isinstance(w, str)]
        what = " ".join(([create] if create else []) + words)
        return st.Show(self.span, what, database=_tagged(rest, "from_db"))

    # everything else
    def describe(self, table: st.ObjectName, _column: str | None) -> st.Show:
        return st.Show(self.span, "columns", database=table.database, table=table)

    def explain(self, *_children: Any) -> st.Other:
        return st.Other(self.span, "explain")

    def other_keyword(self, *tokens: Token) -> str:
        return " ".join(str(t).lower() for t in tokens)

    def other(self, keyword: str, _tail: _Text) -> st.Other:
        return st.Other(self.span, keyword)

    def query_keyword(self, tok: Token) -> str:
        return str(tok).lower()

    def query(self, kind: str, _tail: _Text) -> st.Query:
        return st.Query(self.span, kind, self.span.text)

    def paren_query(self, *_children: Any) -> st.Query:
        return st.Query(self.span, "select", self.span.text)

    def cte(self, *_children: Any) -> None:
        return None

    def with_query(self, *children: Any) -> st.Query:
        kind = next((c for c in children if isinstance(c, str)), "select")
        return st.Query(self.span, kind, self.span.text)

    def start(self, statement: st.Statement) -> st.Statement:
        return statement


# --- errors ---------------------------------------------------------------------------------

_CLASS_NAMES = {
    "NAME": "a name",
    "QNAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "VARIABLE": "a variable",
    "OP": "an operator",
    "$END": "end of statement",
    "CHUNK": "",  # only ever expected where a name, a number ... are: nothing to add
}
_MAX_EXPECTED = 30


def _describe_expected(names: Iterable[str]) -> list[str]:
    parser = _get_parser()
    keywords: set[str] = set()
    others: set[str] = set()
    for name in names:
        if name in _CLASS_NAMES:
            if _CLASS_NAMES[name]:
                others.add(_CLASS_NAMES[name])
            continue
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            others.add(name.lstrip("_"))
            continue
        if isinstance(pattern, PatternStr):
            others.add(f"'{pattern.value}'")
        else:
            keywords.add(name.lstrip("_"))
    items = sorted(keywords) + sorted(others)
    if len(items) > _MAX_EXPECTED:
        items = items[:_MAX_EXPECTED] + ["..."]
    return items


def _error(exc: UnexpectedInput, text: str, source: str, line: int, column: int) -> ParseError:
    """A lark error as the file:line:col 'expected ... near ...' ParseError."""
    rel_line, rel_column = getattr(exc, "line", -1), getattr(exc, "column", -1)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        near = f"near '{exc.token}'"
        expected = exc.accepts or exc.expected
    elif isinstance(exc, UnexpectedCharacters):
        near = f"near {text[exc.pos_in_stream:exc.pos_in_stream + 1]!r}"
        expected = exc.allowed or set()
    else:  # end of input
        near = "near end of statement"
        expected = getattr(exc, "expected", None) or set()
        rel_line, rel_column = position(text, len(text))
    if rel_line < 1 or rel_column < 1:
        rel_line, rel_column = position(text, len(text))
    where = shift(line, column, rel_line, rel_column)
    described = _describe_expected(expected)
    if not described:
        message = f"expected a valid token {near}"
    elif len(described) > 1:
        message = f"expected one of: {', '.join(described)} {near}"
    else:
        message = f"expected {described[0]} {near}"
    return ParseError(source, where[0], where[1], message)


# --- the fast path ----------------------------------------------------------------------------
#
# Lark's own loop (``Lark.parse`` then ``_Builder.transform``) cost ~450 µs a statement: a
# generator step, a Token and a LineCounter update per token (whitespace included), a Tree
# and a propagate_positions Meta per rule, then a recursive walk of the tree. ``_FastParser``
# runs the very same LALR table, lexing with the contextual lexer's own per-state terminals
# (plus the CHUNK shortcut of _TailLexer), in one loop, and calls the _Builder methods as it
# reduces, with the children lark's child filter would have given them (_reducer_source).
# A rule's Meta -- built only for the v_args(meta=True) methods -- spans its first token to
# the last token shifted, which is what propagate_positions computes.
#
# The fast path only ever returns a statement. On anything else -- a character no terminal
# of the state matches, a token the state has no action for, an exception in the builder,
# parentheses nested deeply enough that lark's recursive tree walk might run out of stack --
# it gives up, and parse_statement runs lark's loop as before, which then produces the
# ParseError (or the RuntimeError, or "nested too deeply") exactly as it always did.

_GIVE_UP = object()
# how the fast path reduces a rule: one child, several, none, with a Meta, the start rule
_UNIT, _MANY, _EMPTY, _META, _START = "unit", "many", "empty", "meta", "start"
# A "(" lexed with a stack this high (each open parenthesis holds at least one entry) sends
# the statement to lark's loop, whose recursive tree walk turns a statement nested too deeply
# into _TOO_DEEP; lark's walk only fails some hundreds of levels deeper.
_MAX_STACK = 128
# Shortcuts past a state's scanner (each checked per state in _shortcuts against the
# state's own terminals): ASCII whitespace is skipped with _WS at once (lark's scanner tries
# every other terminal first: NAME even matches U+00A0); an ASCII word followed by an ASCII
# character is one of the state's keywords (they match "word(?![\w$])" case-insensitively,
# ahead of every other terminal) or else a NAME; "(", ")", ",", ".", "*" and "=" are their
# own terminal unless another terminal of the state matches there (a NUMBER at ".5").
_ASCII_SPACE = frozenset(c for c in map(chr, range(128)) if c.isspace())
_WS = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_WORD_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$")
_KEYWORD = re.compile(r"([a-z_]+)\(\?!\[\\w\$\]\)")
_NAME_PATTERN = "[A-Za-z_$\x80-\uffff][\\w$\x80-\uffff]*"  # NAME, as lark holds it
_PUNCTUATION = "(),.*="


class _FastMeta:
    """What the builder reads of a lark Meta."""

    __slots__ = ("empty", "start_pos", "end_pos")

    def __init__(self, empty: bool, start_pos: int, end_pos: int) -> None:
        self.empty, self.start_pos, self.end_pos = empty, start_pos, end_pos


class _FastBuilder(_Builder):
    """The fast path's builder: one for every thread, the statement's text and span in a
    thread-local."""

    def __init__(self) -> None:
        Transformer.__init__(self, visit_tokens=False)
        self.current = threading.local()

    @property
    def text(self) -> str:  # type: ignore[override]
        return self.current.text

    @property
    def span(self) -> Span:  # type: ignore[override]
        return self.current.span


def _callback_name(rule: Any) -> str:
    return str(rule.alias or rule.options.template_source or rule.origin.name)


def _reducer_kind(rule: Any) -> str:
    """How the builder takes ``rule``'s children: "inline" (v_args(inline=True)), "list"
    (a method of a list), "meta" / "meta_inline" (v_args(meta=True)), "wrapper" (any other
    visit wrapper), "splice" (an inlined ``_rule``: a list its parent splices in) or "tree"
    (no method: lark's default, a Tree)."""
    name = _callback_name(rule)
    method = getattr(_Builder, name, None) if not name.startswith("_") else None
    if method is None:
        return "splice" if rule.origin.name.startswith("_") and not rule.alias else "tree"
    wrapper = getattr(method, "visit_wrapper", None)
    if wrapper is None:
        return "list"
    return {_vargs_inline: "inline", _vargs_meta: "meta",
            _vargs_meta_inline: "meta_inline"}.get(wrapper, "wrapper")


def _reducer_source(rule: Any, kind: str) -> str:
    """Python source of ``make(f, w, name)``, which returns the reducer of ``rule``: a
    function of the rule's stack values (a Meta first if the builder wants one) that gives
    the builder the children lark's ChildFilterLALR would give it -- tokens of a filtered-out
    terminal left out unless the rule keeps all tokens, an inlined rule's children spliced
    in, None for every absent ``[optional]`` (maybe_placeholders). Tokens are plain str on
    the fast path's stack; the reducer makes the Tokens the builder sees."""
    expansion = rule.expansion
    keep_all = rule.options.keep_all_tokens
    marks = rule.options.empty_indices
    if marks:  # as lark's maybe_create_child_filter: how many Nones before each symbol
        empty = [len(ones) for ones in "".join(str(int(b)) for b in marks).split("0")]
    else:
        empty = [0] * (len(expansion) + 1)
    params = [f"c{i}" for i in range(len(expansion))]
    args: list[str] = []
    for i, sym in enumerate(expansion):
        args += ["None"] * empty[i]
        if sym.is_term:
            if keep_all or not sym.filter_out:
                args.append(f"Token({str(sym.name)!r}, c{i})")  # positions: never read
        elif sym.name.startswith("_"):  # an inlined rule, as lark's _should_expand
            args.append(f"*c{i}")
        else:
            args.append(f"c{i}")
    args += ["None"] * empty[len(expansion)]
    items = ", ".join(args)
    body = {
        "inline": f"f({items})",
        "list": f"f([{items}])",
        "meta": f"f(m, [{items}])",
        "meta_inline": f"f(m, {items})",
        "wrapper": f"w(f, name, [{items}], m)",
        "splice": f"[{items}]",
        "tree": f"Tree(name, [{items}])",
    }[kind]
    if kind.startswith("meta") or kind == "wrapper":
        params.insert(0, "m")
    return f"def make(f, w, name):\n    return lambda {', '.join(params)}: {body}\n"


def _first_chars(regex: str) -> frozenset[str]:
    """The ASCII characters a match of ``regex`` may start with: all of them, or more (never
    fewer; anything this does not know of may start with any character)."""
    try:
        parsed = _sre_parser.parse(regex)
    except Exception:  # noqa: BLE001 -- then assume anything
        return _ASCII
    return frozenset(_firsts(parsed.data, bool(parsed.state.flags & re.IGNORECASE))[0])


def _firsts(items: Any, icase: bool) -> tuple[set[str], bool]:
    """(the ASCII characters a match of the sre sequence ``items`` may start with, whether it
    may match the empty string)."""
    c = _sre_constants
    out: set[str] = set()
    for op, av in items:
        empty = False
        if op is c.LITERAL:
            first = {chr(av)} if av < 128 else set(_LETTERS) if icase else set()
        elif op is c.IN:
            first = _class(av, icase)
        elif op is c.BRANCH:
            first, empty = set(), False
            for branch in av[1]:
                chars, may_be_empty = _firsts(branch, icase)
                first |= chars
                empty = empty or may_be_empty
        elif op is c.SUBPATTERN:
            _group, add, remove, sub = av
            first, empty = _firsts(sub, (icase or bool(add & re.IGNORECASE))
                                   and not remove & re.IGNORECASE)
        elif op is c.ATOMIC_GROUP:
            first, empty = _firsts(av, icase)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, _high, sub = av
            first, empty = _firsts(sub, icase)
            empty = empty or low == 0
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):  # zero-width: leaving it out only adds
            first, empty = set(), True
        else:  # ANY, NOT_LITERAL, group references ...: anything
            first, empty = set(_ASCII), True
        if icase:
            first |= {ch.swapcase() for ch in first}
        out |= first
        if not empty:
            return out, False
    return out, True


def _class(items: Any, icase: bool) -> set[str]:
    """The ASCII characters of an sre character class (with ``icase``, any non-ASCII one
    counts as every ASCII letter: U+212A, the Kelvin sign, matches "k")."""
    c = _sre_constants
    chars: set[str] = set()
    negate = False
    for op, av in items:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL:
            chars.update(chr(av) if av < 128 else _LETTERS if icase else ())
        elif op is c.RANGE:
            chars.update(map(chr, range(av[0], min(av[1], 127) + 1)))
            if icase and av[1] >= 128:
                chars.update(_LETTERS)
        elif op is c.CATEGORY and str(av) in _CATEGORIES:
            chars.update(_CATEGORIES[str(av)])
        else:
            chars.update(_ASCII)
    return set(_ASCII) - chars if negate else chars


_ASCII = frozenset(map(chr, range(128)))
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_CATEGORIES = {
    name: frozenset(ch for ch in _ASCII if re.match(pattern, ch))
    for name, pattern in (("CATEGORY_DIGIT", r"\d"), ("CATEGORY_NOT_DIGIT", r"\D"),
                          ("CATEGORY_SPACE", r"\s"), ("CATEGORY_NOT_SPACE", r"\S"),
                          ("CATEGORY_WORD", r"\w"), ("CATEGORY_NOT_WORD", r"\W"))}


@functools.cache
def _terminal_firsts(terminal: Any) -> frozenset[str]:
    pattern = terminal.pattern
    if pattern.type == "str":
        return frozenset(pattern.value[:1]) & _ASCII if "i" not in pattern.flags else _ASCII
    return _first_chars(pattern.to_regexp())


def _shortcuts(lexer: Any) -> tuple[bool, dict[str, str] | None, str | None,
                                    dict[str, tuple[str, Any]]]:
    """The shortcuts past the scanner of a state's lexer that give what the scanner gives
    (see _MAX_STACK), each only where no other terminal of the state may start at that
    character: (skip ASCII whitespace?; keyword by lower-case word, or None: no words;
    "NAME" or None; (terminal, None or a regex of the other terminals that may start there:
    where it matches, the scanner decides) by punctuation character)."""
    terminals = list(lexer.terminals)
    if lexer.g_regex_flags:  # _terminal_firsts reads each pattern on its own
        return False, None, None, {}
    by_name = {t.name: t for t in terminals}
    name_terminal = by_name.get("NAME")
    if name_terminal is not None and (name_terminal.pattern.value != _NAME_PATTERN
                                      or name_terminal.pattern.flags):
        name_terminal = None
    words: dict[str, str] | None = {}
    others = []
    for terminal in terminals:
        pattern = terminal.pattern
        keyword = _KEYWORD.fullmatch(pattern.value) if pattern.type == "re" else None
        if (keyword and pattern.flags == {"i"}
                and (name_terminal is None or terminal.priority > name_terminal.priority)):
            words[keyword.group(1)] = terminal.name
        elif terminal is not name_terminal:
            others.append(terminal)
    if any(_terminal_firsts(t) & _WORD_START for t in others):
        words = None  # something else may start at a letter: the scanner decides
    ws = by_name.get("WS")
    skip = (ws is not None and "WS" in lexer.ignore_types and ws.pattern.value == r"\s+"
            and not ws.pattern.flags
            and not any(_terminal_firsts(t) & _ASCII_SPACE for t in terminals if t is not ws))
    punctuation: dict[str, tuple[str, Any]] = {}
    for char in _PUNCTUATION:
        own = [t for t in terminals if t.pattern.type == "str" and t.pattern.value == char
               and not t.pattern.flags]
        if own:
            clash = [t for t in terminals if t is not own[0] and char in _terminal_firsts(t)]
            punctuation[char] = (own[0].name, re.compile(
                "|".join(f"(?:{t.pattern.to_regexp()})" for t in clash),
                lexer.g_regex_flags) if clash else None)
    return skip, words, "NAME" if name_terminal is not None else None, punctuation


class _FastParser:
    """The LALR driver of the fast path (one for every thread)."""

    def __init__(self, parser: Lark) -> None:
        table = parser.parser.parser.parser.parse_table
        self.builder = builder = _FastBuilder()
        reductions = {}
        for rule in parser.rules:
            kind = _reducer_kind(rule)
            namespace = {"Token": _new_token, "Tree": Tree}
            exec(_reducer_source(rule, kind), namespace)  # noqa: S102 -- our own source
            name = _callback_name(rule)
            method = wrapper = None
            if kind not in ("splice", "tree"):
                method = getattr(builder, name)
                wrapper = getattr(method, "visit_wrapper", None)
                if kind != "wrapper" and wrapper is not None:
                    method = method.base_func  # what lark's _vargs_* wrappers call
            reducer = namespace["make"](method, wrapper, name)
            size, origin = len(rule.expansion), str(rule.origin.name)
            if kind.startswith("meta") or kind == "wrapper":
                mode = _META
            elif origin == "start":
                mode = _START
            else:
                mode = _UNIT if size == 1 else _MANY if size else _EMPTY
            reductions[rule] = (mode, size, origin, reducer)
        # per state: terminal -> next state (shift) or (mode, size, rule name, reducer)
        # (reduce); rule name -> next state (goto). Plain str keys: some of lark's are
        # Tokens, whose Python-level __eq__ slows every look-up down.
        self.table: list[dict[str, Any]] = [{} for _ in range(max(table.states) + 1)]
        for state, actions in table.states.items():
            row = self.table[state]
            for symbol, (action, arg) in actions.items():
                row[str(symbol)] = arg if action is Shift else reductions[arg]
        self.start_state = table.start_states["start"]
        self.end_state = table.end_states["start"]
        lexer = parser.parser.lexer
        self.lexers = lexer.lexers
        tail_states = getattr(lexer, "tail_states", frozenset())
        self.tail = [state in tail_states for state in range(len(self.table))]
        self.scanners: list[Any] = [None] * len(self.table)
        self.by_lexer: dict[int, Any] = {}  # lark shares a lexer between states

    def _scanner(self, state: int) -> Any:
        """How the fast path lexes in ``state``: the scanner's regexes, the ignored
        terminals and the _shortcuts; False if the state's lexer has callbacks (lark's
        would run them)."""
        lexer = self.lexers[state]
        entry = self.by_lexer.get(id(lexer))
        if entry is None:
            scanner = lexer.scanner  # built lazily, as lark does on a state's first token
            entry = False
            if not lexer.callback:
                entry = (tuple(scanner._mres), lexer.ignore_types, *_shortcuts(lexer))  # noqa: SLF001
            self.by_lexer[id(lexer)] = entry
        self.scanners[state] = entry
        return entry

    def parse(self, body: str, span: Span) -> Any:
        """The statement of ``body``, or _GIVE_UP."""
        current = self.builder.current
        current.text, current.span = body, span
        try:
            return self._run(body)
        except Exception:  # noqa: BLE001 -- lark's loop reports it as it always did
            return _GIVE_UP
        finally:
            current.text = current.span = None

    def _run(self, body: str) -> Any:
        table, scanners, tail = self.table, self.scanners, self.tail
        end_state = self.end_state
        chunk, space, word = _CHUNK.match, _WS.match, _WORD.match
        ascii_space, word_start, not_punctuation = _ASCII_SPACE, _WORD_START, _NOT_PUNCTUATION
        unit, many, meta_mode, max_stack = _UNIT, _MANY, _META, _MAX_STACK
        state = self.start_state
        stack = [state]
        values: list[Any] = []
        # per value, where its first token starts; an empty value's is the start of the token
        # after it (the look-ahead when it is reduced): a rule spans tokens iff its first is
        # before the look-ahead's start
        firsts: list[int] = []
        pos, size, last_end = 0, len(body), 0
        while True:
            # the next token, lexed in `state`: kind, text, start (and pos: its end)
            match = chunk(body, pos) if tail[state] else None
            if match is not None:
                kind, text, start, pos = "CHUNK", match.group(1), match.start(1), match.end()
            else:
                entry = scanners[state] or self._scanner(state)
                if entry is False:
                    return _GIVE_UP
                mres, ignore, skip, words, name, punctuation = entry
                while True:
                    if pos >= size:
                        kind, start = "$END", pos
                        break
                    char = body[pos]
                    if char in ascii_space and skip:
                        pos = space(body, pos).end()
                        continue
                    if char in word_start and words is not None:
                        match = word(body, pos)
                        end = match.end()
                        if end >= size or body[end] < "\x80":
                            text = match.group()
                            kind = words.get(text.lower()) or name
                            if kind is not None:
                                start, pos = pos, end
                                break
                    kind, clash = punctuation.get(char, not_punctuation)
                    if kind is not None and (clash is None or clash.match(body, pos) is None):
                        if char == "(" and len(stack) > max_stack:
                            return _GIVE_UP
                        text, start, pos = char, pos, pos + 1
                        break
                    for mre in mres:
                        match = mre.match(body, pos)
                        if match is not None:
                            break
                    else:
                        return _GIVE_UP
                    kind = match.lastgroup
                    if kind in ignore:
                        pos = match.end()
                        continue
                    text, start, pos = match.group(), pos, match.end()
                    if text == "(" and len(stack) > max_stack:
                        return _GIVE_UP
                    break
            # the LALR steps for it
            while True:
                action = table[state].get(kind)
                if action is None:
                    return _GIVE_UP
                if action.__class__ is int:
                    state = action
                    stack.append(state)
                    values.append(text)
                    firsts.append(start)
                    last_end = pos
                    break
                mode, count, origin, reduce = action
                if mode is unit:
                    values[-1] = reduce(values[-1])
                    state = stack[-1] = table[stack[-2]][origin]
                    continue
                if mode is many:
                    values[-count:] = [reduce(*values[-count:])]
                    del firsts[1 - count:], stack[1 - count:]
                    state = stack[-1] = table[stack[-2]][origin]
                    continue
                if mode is meta_mode:
                    first = firsts[-count] if count else start
                    meta = _FastMeta(first >= start, first, last_end)
                    value = reduce(meta, *values[-count:]) if count else reduce(meta)
                elif count:
                    value = reduce(*values[-count:])
                else:
                    value = reduce()
                if count == 1:
                    values[-1] = value
                    state = stack[-1] = table[stack[-2]][origin]
                elif count:
                    values[-count:] = [value]
                    del firsts[1 - count:], stack[1 - count:]
                    state = stack[-1] = table[stack[-2]][origin]
                else:
                    values.append(value)
                    firsts.append(start)
                    state = table[stack[-1]][origin]
                    stack.append(state)
                if mode is _START and state == end_state and kind == "$END":
                    return value


_new_token = getattr(Token, "_future_new", Token)  # Token(...) without its keyword checks
_NOT_PUNCTUATION = (None, None)
_fast: _FastParser | None = None


def _get_fast() -> _FastParser:
    global _fast
    if _fast is None:
        parser = _get_parser()
        with _lock:
            if _fast is None:
                _fast = _FastParser(parser)
    return _fast


# --- statements -----------------------------------------------------------------------------

_TOO_DEEP = "expected fewer nested parentheses: the statement is nested too deeply"
_LEADING = re.compile(r"(?:\s+|--(?=\s|$)[^\n]*|#[^\n]*|/\*[\s\S]*?\*/)*")


def parse_statement(text: str, source: str = "<text>", line: int = 1, column: int = 1
                    ) -> st.Statement:
    """One MatrixOne statement (an optional trailing ``;`` is allowed) -> its dataclass.

    ``line``/``column`` say where ``text`` starts in ``source``, so that the span and any
    :class:`ParseError` point into the original file.
    """
    if "\r" in text:  # CRLF and CR end lines, as when a script is split into statements
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = text[:1]
    if " " < first < "\x7f" and first not in "-#/":  # nothing for _LEADING to skip
        body = text.rstrip()
    else:
        skip = _LEADING.match(text)
        offset = skip.end() if skip else 0
        line, column = shift(line, column, *position(text, offset))
        body = text[offset:].rstrip()
    if body.endswith(";"):
        body = body[:-1].rstrip()
    span = Span(source, line, column, body)
    if not body:
        raise ParseError(source, line, column, "expected a statement, got nothing")
    nul = body.find("\0")
    if nul >= 0:
        where = shift(line, column, *position(body, nul))
        raise ParseError(source, where[0], where[1], "expected text, got a NUL character")
    statement = (_fast or _get_fast()).parse(body, span)
    if statement is not _GIVE_UP:
        return statement
    try:
        tree = _get_parser().parse(body)
        return _Builder(body, span).transform(tree)
    except UnexpectedInput as exc:
        raise _error(exc, body, source, line, column) from None
    except RecursionError:
        raise ParseError(source, line, column, _TOO_DEEP) from None
    except VisitError as exc:  # a bug in the builder, not the user's fault
        if isinstance(exc.orig_exc, RecursionError):
            raise ParseError(source, line, column, _TOO_DEEP) from None
        raise RuntimeError(f"cannot build statement from {body!r}: {exc.orig_exc}") from exc


# --- scripts --------------------------------------------------------------------------------

_DIRECTIVE = re.compile(
    r"--\s*connect\s+(?P<principal>\S+)"
    r"(?:\s+role\s+(?P<role>\S+))?"
    r"(?:\s+secondary\s+(?P<secondary>all|none))?\s*$",
    re.IGNORECASE,
)
_NORMAL_STOP = re.compile(r"[;'\"`#]|--(?=\s|$)|/\*")
_QUOTE_STOP = {q: re.compile(r"\\|" + re.escape(q)) for q in "'\""}
_QUOTE_STOP["`"] = re.compile("`")
# A line that is one statement (or an empty one) up to a ";" with only whitespace after it,
# and nothing in it that _NORMAL_STOP stops at (nor any "-" or "/", to keep it simple).
_SIMPLE_LINE = re.compile(r"([^;'\"`#/\-]*);\s*\Z")


@dataclass
class _Chunk:
    text: str
    line: int
    column: int


class _Splitter:
    """Cuts a script into statement texts and directives, one line at a time."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.start: tuple[int, int] | None = None
        self.state = ""  # "": normal, a quote character, or "/*"

    def _add(self, piece: str, lineno: int, col: int) -> None:
        if self.start is None:
            stripped = piece.lstrip()
            if not stripped:
                return
            col += len(piece) - len(stripped)
            piece = stripped
            self.start = (lineno, col)
        self.parts.append(piece)

    def flush(self) -> _Chunk | None:
        start, text = self.start, "".join(self.parts).rstrip()
        self.parts, self.start = [], None
        if start is None or not text:
            return None
        return _Chunk(text, start[0], start[1])

    def feed(self, line: str, lineno: int) -> Iterator[_Chunk | ConnectDirective]:
        if self.start is None and not self.state:
            simple = _SIMPLE_LINE.match(line)
            if simple:  # what the loop below makes of it, at once
                piece = simple.group(1)
                text = piece.lstrip()
                if text:
                    yield _Chunk(text.rstrip(), lineno, 1 + len(piece) - len(text))
                return
        stripped = line.strip()
        if not self.state and stripped.startswith("--"):
            m = _DIRECTIVE.match(stripped)
            if m:
                chunk = self.flush()
                if chunk:
                    yield chunk
                col = len(line) - len(line.lstrip()) + 1
                role, secondary = m.group("role"), m.group("secondary")
                yield ConnectDirective(
                    m.group("principal").lower(),
                    role.lower() if role else None,
                    secondary.lower() if secondary else None,
                    Span("", lineno, col, stripped),
                )
                return
        i, n = 0, len(line)
        while i < n:
            if self.state == "":
                m = _NORMAL_STOP.search(line, i)
                stop = m.start() if m else n
                if stop > i:
                    self._add(line[i:stop], lineno, i + 1)
                if m is None:
                    return
                token = m.group()
                if token == ";":
                    chunk = self.flush()
                    if chunk:
                        yield chunk
                    i = stop + 1
                elif token in ("#", "--"):
                    if self.start is not None:  # a comment inside a statement stays in it
                        self.parts.append(line[stop:])
                    return
                elif token == "/*":
                    if self.start is not None:
                        self.parts.append("/*")
                    self.state, i = "/*", stop + 2
                else:  # a quote opens
                    self._add(token, lineno, stop + 1)
                    self.state, i = token, stop + 1
            elif self.state == "/*":
                end = line.find("*/", i)
                stop = n if end < 0 else end + 2
                if self.start is not None:
                    self.parts.append(line[i:stop])
                if end >= 0:
                    self.state = ""
                i = stop
            else:
                quote = self.state
                m = _QUOTE_STOP[quote].search(line, i)
                if m is None:
                    self.parts.append(line[i:])
                    return
                if m.group() == "\\":
                    self.parts.append(line[i : m.end() + 1])
                    i = m.end() + 1
                elif line.startswith(quote * 2, m.start()):
                    self.parts.append(line[i : m.end() + 1])
                    i = m.end() + 1
                else:
                    self.parts.append(line[i : m.end()])
                    self.state, i = "", m.end()


def _lines(text: str | Iterable[str]) -> Iterator[str]:
    """Lines ending in "\\n" (CRLF and CR normalised), without a leading BOM."""
    source: Iterable[str] = io.StringIO(text, newline=None) if isinstance(text, str) else text
    first = True
    for line in source:
        if first:
            line, first = line.removeprefix("\ufeff"), False
        if line.endswith("\r\n"):
            line = line[:-2] + "\n"
        elif line.endswith("\r"):
            line = line[:-1] + "\n"
        yield line


def parse_script(text: str | Iterable[str], source: str = "<text>"
                 ) -> Iterator[st.Statement | ParseError | ConnectDirective]:
    """The statements and ``-- connect`` directives of a script, in order, lazily.

    ``text`` is the script, or any iterable of its lines (an open file), which is then read
    as it is consumed. A statement that does not parse is yielded as its ParseError.
    """
    splitter = _Splitter()

    def emit(item: _Chunk | ConnectDirective) -> st.Statement | ParseError | ConnectDirective:
        if isinstance(item, ConnectDirective):
            return ConnectDirective(item.principal, item.role, item.secondary,
                                    Span(source, item.span.line, item.span.column,
                                         item.span.text))
        try:
            return parse_statement(item.text, source, item.line, item.column)
        except ParseError as exc:
            return exc
        except Exception as exc:  # a builder bug: this statement fails, the script goes on
            return ParseError(source, item.line, item.column,
                              f"expected a statement the reasoner can build; building it "
                              f"failed: {type(exc).__name__}: {exc}")

    for lineno, line in enumerate(_lines(text), 1):
        for item in splitter.feed(line, lineno):
            yield emit(item)
    chunk = splitter.flush()
    if chunk:
        yield emit(chunk)


@functools.lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """The grammar's keywords (lower case), for writing names that must be quoted."""
    words = set()
    for terminal in _get_parser().terminals:
        name = terminal.name.lstrip("_")
        if terminal.name.startswith("_") and name.replace("_", "").isalpha() and not isinstance(
                terminal.pattern, PatternStr):
            words.update(name.lower().split("_"))
    return frozenset(words)
