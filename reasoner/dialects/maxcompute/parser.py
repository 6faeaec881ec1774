"""MaxCompute statement text to the typed statements of :mod:`.statements`.

``parse_statement`` parses one statement with the LALR grammar ``grammar/maxcompute.lark``;
ordinary SQL is recognised there by its leading keywords and read with sqlglot (its Hive
dialect is the closest to MaxCompute SQL). ``parse_script`` splits a script on ``;``
(outside quotes and comments), yields ``-- connect <project> <user>`` lines and the
directives that set up a tenant (``-- project``, ``-- policyfile`` ... ``-- end``,
``-- advance``), and reports a statement that does not parse as a :class:`ParseError`
value so that the caller can go on. Positions in errors and spans are those of the
original file (1-based).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlglot
from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternStr
from lark.tree import Meta
from sqlglot import exp
from sqlglot.errors import ParseError as SqlglotParseError
from sqlglot.errors import TokenError

from reasoner.dialects.base import Directive
from reasoner.errors import ParseError
from reasoner.resources import data_dir
from reasoner.source import Span, position, shift

from . import statements as st

__all__ = ["SQL_DIALECT", "ConnectDirective", "parse_script", "parse_statement"]

SQL_DIALECT = "hive"
_GRAMMAR_FILE = "maxcompute.lark"
_lock = threading.Lock()
_parser: Lark | None = None


@dataclass(frozen=True)
class ConnectDirective:
    """A ``-- connect <project> <user>`` comment line of a script."""

    principal: str  # "<project> <user>", as the engine's connect expects it
    span: Span


def _get_parser() -> Lark:
    """The LALR parser, built once per process."""
    global _parser
    with _lock:
        if _parser is None:
            text = (data_dir("grammar") / _GRAMMAR_FILE).read_text(encoding="utf-8")
            _parser = Lark(text, parser="lalr", lexer="contextual", propagate_positions=True,
                           maybe_placeholders=True)
        return _parser


def _unquote(text: str) -> str:
    """The value of a '...' / "..." literal (backslash escapes) or a `...` name."""
    quote, body = text[0], text[1:-1]
    if quote == "`":
        return body.replace("``", "`")
    return re.sub(r"\\(.)", r"\1", body)


def _word(tok: Token) -> str:
    value = str(tok)
    return _unquote(value) if tok.type in ("QNAME", "STRING") else value


# --- tree -> statements ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Tagged:
    """A sub-tree's value with what it is ("as", "force")."""

    tag: str
    value: Any


class _BuildError(Exception):
    """A parsed value the statement cannot take: message and 1-based position inside it."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class _SqlError(_BuildError):
    """sqlglot refused the SQL text."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"expected valid SQL: {message}", line, column)


_TOKEN_REPR = re.compile(r"<Token token_type: [^,]*, text: (.*?), line: .*?>")


def read_sql(text: str) -> exp.Expression:
    """One statement of ordinary SQL, read by sqlglot (MaxCompute is read as Hive)."""
    try:
        trees = [t for t in sqlglot.parse(text, read=SQL_DIALECT) if t is not None]
    except SqlglotParseError as err:
        first = err.errors[0] if err.errors else {}
        message = _TOKEN_REPR.sub(lambda m: repr(m.group(1)),
                                  str(first.get("description") or err))
        column = int(first.get("col") or 1)  # sqlglot points at the end of the token
        column = max(1, column - len(str(first.get("highlight") or "")) + 1)
        raise _SqlError(message, int(first.get("line") or 1), column) from None
    except TokenError as err:
        raise _SqlError(str(err), 1, 1) from None
    if len(trees) != 1:
        raise _SqlError(f"expected one statement, got {len(trees)}", 1, 1)
    tree = trees[0]
    if isinstance(tree, exp.Command):
        raise _SqlError(f"unsupported statement: {str(tree.this).upper()} ...", 1, 1)
    return tree


def _name_of(table: exp.Table) -> st.Name:
    project = table.args.get("db")
    return st.Name(project.name.lower() if project is not None else None, table.name.lower())


def _column_names(schema: exp.Expression | None) -> tuple[str, ...]:
    if schema is None:
        return ()
    names = []
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            names.append(item.name.lower())
        elif isinstance(item, exp.Identifier):
            names.append(item.name.lower())
    return tuple(names)


@v_args(inline=True)
class _Builder(Transformer):
    """Builds the statement dataclasses; one instance per statement (it holds its text)."""

    def __init__(self, text: str, span: Span) -> None:
        super().__init__(visit_tokens=False)
        self.text = text
        self.span = span

    def _slice(self, meta: Meta) -> str:
        return "" if meta.empty else self.text[meta.start_pos:meta.end_pos]

    # names
    def ident(self, tok: Token) -> str:
        return _word(tok).lower()

    def pattern(self, tok: Token | None = None) -> str:
        return "*" if tok is None else _word(tok).lower()

    def obj_name(self, *parts: str) -> st.Name:
        if len(parts) == 1:
            return st.Name(None, parts[0])
        return st.Name(parts[0], ".".join(parts[1:]))

    def name_list(self, *names: str) -> tuple[str, ...]:
        return names

    def column_list(self, *names: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(names))

    def principal(self, tok: Token) -> st.Principal:
        return st.Principal(_word(tok).strip())

    def file_name(self, tok: Token) -> str:
        return _word(tok)

    def if_exists(self) -> bool:
        return True

    def if_not_exists(self) -> bool:
        return True

    def _number(self, tok: Token) -> int:
        text = str(tok)
        if not text.isdigit():  # NUMBER also lexes 1.5 and 1e3 (SQL literals elsewhere)
            raise _BuildError(f"expected a whole number, got {text!r}",
                              tok.line or 1, tok.column or 1)
        return int(text)

    # users and roles
    def add_user(self, user: st.Principal, _comment: Token | None = None) -> st.AddUser:
        return st.AddUser(self.span, user)

    def remove_user(self, user: st.Principal) -> st.RemoveUser:
        return st.RemoveUser(self.span, user)

    def account_provider(self, _name: str) -> st.Other:
        return st.Other(self.span, "accountprovider")

    def create_role(self, flag: bool | None, name: str,
                    props: tuple[tuple[str, str], ...] | None) -> st.CreateRole:
        role_type = dict(props or ()).get("type", "resource").lower()
        return st.CreateRole(self.span, name, role_type, if_not_exists=bool(flag))

    def drop_role(self, flag: bool | None, name: str) -> st.DropRole:
        return st.DropRole(self.span, name, if_exists=bool(flag))

    def grant_roles(self, roles: tuple[str, ...], user: st.Principal) -> st.GrantRoles:
        return st.GrantRoles(self.span, roles, user)

    def revoke_roles(self, roles: tuple[str, ...], user: st.Principal) -> st.RevokeRoles:
        return st.RevokeRoles(self.span, roles, user)

    # grants
    def object_type(self, tok: Token) -> str:
        kind = str(tok).lower()
        return "table" if kind == "view" else kind

    def object_ref(self, kind: str, name: st.Name, columns: tuple[str, ...] | None
                   ) -> st.ObjectRef:
        return st.ObjectRef(kind, name, columns or ())

    def user_subject(self, user: st.Principal) -> st.Subject:
        return st.Subject("user", user.key, user.written)

    def role_subject(self, name: str) -> st.Subject:
        return st.Subject("role", name, name)

    def property(self, key: Token, value: Token) -> tuple[str, str]:
        return _word(key).strip().lower(), _word(value).strip()

    def properties(self, *props: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        return props

    def grant_acl(self, actions: tuple[str, ...], on: st.ObjectRef, subject: st.Subject,
                  props: tuple[tuple[str, str], ...] | None) -> st.GrantAcl:
        return st.GrantAcl(self.span, actions, on, subject, props or ())

    def revoke_acl(self, actions: tuple[str, ...], on: st.ObjectRef, subject: st.Subject,
                   props: tuple[tuple[str, str], ...] | None) -> st.RevokeAcl:
        return st.RevokeAcl(self.span, actions, on, subject, props or ())

    # labels
    def set_label_table(self, level: Token, table: st.Name, columns: tuple[str, ...] | None
                        ) -> st.SetLabelTable:
        return st.SetLabelTable(self.span, self._number(level), table, columns or ())

    def set_label_user(self, level: Token, user: st.Principal) -> st.SetLabelSubject:
        return st.SetLabelSubject(self.span, self._number(level),
                                  st.Subject("user", user.key, user.written))

    def set_label_role(self, level: Token, role: str) -> st.SetLabelSubject:
        return st.SetLabelSubject(self.span, self._number(level), st.Subject("role", role, role))

    def expiry(self, days: Token) -> int:
        return self._number(days)

    def grant_label(self, level: Token, table: st.Name, columns: tuple[str, ...] | None,
                    subject: st.Subject, days: int | None) -> st.GrantLabel:
        return st.GrantLabel(self.span, self._number(level), table, columns or (), subject, days)

    def revoke_label(self, table: st.Name, columns: tuple[str, ...] | None,
                     subject: st.Subject) -> st.RevokeLabel:
        return st.RevokeLabel(self.span, table, columns or (), subject)

    def clear_expired(self) -> st.ClearExpiredGrants:
        return st.ClearExpiredGrants(self.span)

    # policies and switches
    def put_policy(self, file: str, role: str | None) -> st.PutPolicy:
        return st.PutPolicy(self.span, file, role)

    def get_policy(self, _role: str | None) -> st.Show:
        return st.Show(self.span, "policy")

    def setting(self, *parts: Token) -> str:
        return ".".join(str(p) for p in parts)

    @v_args(meta=True)
    def set_value(self, meta: Meta, children: list[Any]) -> str:
        text = self._slice(meta).strip()
        if len(children) == 1 and isinstance(children[0], Token) and children[0].type == "STRING":
            return _unquote(text)
        return text

    def set_flag(self, name: str, value: str, file: str | None) -> st.SetFlag:
        return st.SetFlag(self.span, name, value, file)

    def setproject(self, _tail: Any) -> st.Other:
        return st.Other(self.span, "setproject")

    def add_trusted(self, project: str) -> st.AddTrustedProject:
        return st.AddTrustedProject(self.span, project)

    def remove_trusted(self, project: str) -> st.RemoveTrustedProject:
        return st.RemoveTrustedProject(self.span, project)

    # packages
    def create_package(self, name: str) -> st.CreatePackage:
        return st.CreatePackage(self.span, name)

    def drop_package(self, name: str) -> st.DropPackage:
        return st.DropPackage(self.span, name)

    def package_item_type(self, tok: Token) -> str:
        return str(tok).lower()

    def package_target(self, package: str, privileges: tuple[str, ...] | None
                       ) -> tuple[str, tuple[str, ...]]:
        return package, privileges or ()

    def resource_options(self, *children: Any) -> dict[str, Any]:
        alias = next((c.value for c in children if isinstance(c, _Tagged) and c.tag == "as"),
                     None)
        force = any(isinstance(c, _Tagged) and c.tag == "force" for c in children)
        return {"alias": alias, "force": force}

    def resource_alias(self, name: Token) -> _Tagged:
        return _Tagged("as", _word(name).lower())

    def force(self) -> _Tagged:
        return _Tagged("force", True)

    def add_object(self, kind: str, name: st.Name, target: Any) -> st.Statement:
        if isinstance(target, tuple):
            package, privileges = target
            return st.AddToPackage(self.span, kind, name, package,
                                   tuple(p.lower() for p in privileges))
        if kind != "table":
            raise _SqlError(f"expected TO PACKAGE after ADD {kind.upper()} {name}", 1, 1)
        alias = target["alias"] or name.name
        return st.AddResource(self.span, alias, "table", overwrite=target["force"])

    def remove_from_package(self, kind: str, name: st.Name, package: str
                            ) -> st.RemoveFromPackage:
        return st.RemoveFromPackage(self.span, kind, name, package)

    def allow_install(self, project: str, package: str, level: Token | None
                      ) -> st.AllowInstall:
        return st.AllowInstall(self.span, project, package,
                               None if level is None else self._number(level))

    def disallow_install(self, project: str, package: str) -> st.DisallowInstall:
        return st.DisallowInstall(self.span, project, package)

    def _package_name(self, name: st.Name) -> tuple[str, str]:
        if name.project is None:
            raise _SqlError(f"expected <project>.<package>, got {name}", 1, 1)
        return name.project, name.name

    def install_package(self, name: st.Name) -> st.InstallPackage:
        return st.InstallPackage(self.span, *self._package_name(name))

    def uninstall_package(self, name: st.Name) -> st.UninstallPackage:
        return st.UninstallPackage(self.span, *self._package_name(name))

    # session and SHOW
    def use(self, project: str) -> st.Use:
        return st.Use(self.span, project)

    def show_tail(self, *_children: Any) -> None:
        return None

    def show(self, _tail: None) -> st.Show:
        return st.Show(self.span, " ".join(self.text.split()[:2]).lower())

    def whoami(self) -> st.Show:
        return st.Show(self.span, "whoami")

    def describe_other(self, *_children: Any) -> st.Show:
        return st.Show(self.span, " ".join(self.text.split()[:2]).lower())

    # ordinary SQL
    def tail(self, *_children: Any) -> None:
        return None

    desc_tail = tail

    def ct_tail(self, *children: Any) -> list[tuple[int, int]]:
        """Where the top-level ``LIFECYCLE <n>`` clauses are (sqlglot does not know them)."""
        tokens = [c for c in children if isinstance(c, Token)]
        cuts = []
        for word, number in zip(tokens, tokens[1:], strict=False):
            if word.type == "NAME" and word.lower() == "lifecycle" and number.type == "NUMBER":
                cuts.append((word.start_pos, number.end_pos))
        return cuts

    def create_table(self, cuts: list[tuple[int, int]]) -> st.Statement:
        text = self.text
        for start, end in sorted(cuts, reverse=True):
            text = text[:start] + " " * (end - start) + text[end:]
        tree = read_sql(text)
        if not isinstance(tree, exp.Create) or str(tree.args.get("kind", "")).upper() != "TABLE":
            raise _SqlError("expected CREATE TABLE", 1, 1)
        return self._create(tree, view=False)

    def _create(self, tree: exp.Create, *, view: bool) -> st.CreateTable:
        target = tree.this
        columns: tuple[str, ...] = ()
        if isinstance(target, exp.Schema):
            columns = _column_names(target)
            target = target.this
        if not isinstance(target, exp.Table):
            raise _SqlError("expected a table name", 1, 1)
        partition: tuple[str, ...] = ()
        like: st.Name | None = None
        properties = tree.args.get("properties")
        for prop in properties.expressions if properties else ():
            if isinstance(prop, exp.PartitionedByProperty):
                partition = _column_names(prop.this if isinstance(prop.this, exp.Schema)
                                          else None)
            elif isinstance(prop, exp.LikeProperty) and isinstance(prop.this, exp.Table):
                like = _name_of(prop.this)
        query = tree.expression if isinstance(tree.expression, exp.Query) else None
        return st.CreateTable(self.span, _name_of(target), columns + partition, partition,
                              if_not_exists=bool(tree.args.get("exists")), as_select=query,
                              like=like, view=view, or_replace=bool(tree.args.get("replace")))

    def create_view(self, _tail: Any) -> st.Statement:
        tree = read_sql(self.text)
        if not isinstance(tree, exp.Create) or str(tree.args.get("kind", "")).upper() != "VIEW":
            raise _SqlError("expected CREATE VIEW", 1, 1)
        if not isinstance(tree.expression, exp.Query):
            raise _SqlError("a view body must be a query", 1, 1)
        return self._create(tree, view=True)

    def drop_table(self, flag: bool | None, name: st.Name) -> st.DropTable:
        return st.DropTable(self.span, name, if_exists=bool(flag))

    def drop_view(self, flag: bool | None, name: st.Name) -> st.DropTable:
        return st.DropTable(self.span, name, if_exists=bool(flag), view=True)

    def alter_table(self, name: st.Name, _tail: Any) -> st.Statement:
        try:
            tree = read_sql(self.text)
        except _SqlError:  # MaxCompute's own forms (SET LIFECYCLE, TOUCH, MERGE SMALLFILES)
            return st.AlterTable(self.span, name)
        added: list[str] = []
        rename: st.Name | None = None
        for action in (tree.args.get("actions") or ()) if isinstance(tree, exp.Alter) else ():
            if isinstance(action, exp.Schema):
                added.extend(_column_names(action))
            elif isinstance(action, exp.ColumnDef):
                added.append(action.name.lower())
            elif isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
                rename = _name_of(action.this)
        return st.AlterTable(self.span, name, tuple(added), rename)

    def describe(self, name: st.Name, _tail: Any) -> st.Describe:
        return st.Describe(self.span, name)

    def create_function(self, name: st.Name, _tail: Any) -> st.CreateFunction:
        return st.CreateFunction(self.span, name)

    def drop_function(self, name: st.Name) -> st.DropFunction:
        return st.DropFunction(self.span, name)

    def resource_type(self, tok: Token) -> str:
        return str(tok).lower()

    def add_file_resource(self, kind: str, path: Token, options: dict[str, Any]
                          ) -> st.AddResource:
        name = options["alias"] or str(path).replace("\\", "/").rsplit("/", 1)[-1]
        return st.AddResource(self.span, name.lower(), kind, overwrite=options["force"])

    def drop_resource(self, name: st.Name) -> st.DropResource:
        return st.DropResource(self.span, name)

    def _tunnel_table(self, text: str) -> st.Name:
        table = text.split("/", 1)[0].lower()
        project, _, name = table.rpartition(".")
        return st.Name(project or None, name)

    def tunnel_download(self, *paths: Token) -> st.TunnelDownload:
        return st.TunnelDownload(self.span, self._tunnel_table(str(paths[0])))

    def tunnel_upload(self, *paths: Token) -> st.TunnelUpload:
        if len(paths) < 2:
            raise _SqlError("expected TUNNEL UPLOAD <file> <table>", 1, 1)
        return st.TunnelUpload(self.span, self._tunnel_table(str(paths[1])))

    def query_keyword(self, tok: Token) -> str:
        return str(tok).lower()

    def query(self, keyword: str, _tail: Any) -> st.Query:
        tree = read_sql(self.text)
        kinds = {exp.Insert: "insert", exp.Update: "update", exp.Delete: "delete",
                 exp.TruncateTable: "truncate", exp.Merge: "merge"}
        kind = next((v for k, v in kinds.items() if isinstance(tree, k)), None)
        if kind is None:
            if not isinstance(tree, exp.Query):
                raise _SqlError(f"unsupported statement: {keyword.upper()} ...", 1, 1)
            kind = "select"
        return st.Query(self.span, kind, tree)

    def start(self, statement: st.Statement) -> st.Statement:
        return statement


# --- errors ---------------------------------------------------------------------------------

_CLASS_NAMES = {
    "NAME": "a name", "QNAME": "a name", "WILDNAME": "a name pattern",
    "PRINCIPAL": "an account name (ALIYUN$... or RAM$...)", "STRING": "a string",
    "NUMBER": "a number", "PATH": "a file name", "OP": "an operator",
    "$END": "end of statement",
}
_MAX_EXPECTED = 16


def _describe_expected(names: Iterable[str]) -> str:
    parser = _get_parser()
    keywords: set[str] = set()
    others: set[str] = set()
    for name in names:
        if name in _CLASS_NAMES:
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
    return ", ".join(items)


def _error(exc: UnexpectedInput, text: str, source: str, line: int, column: int) -> ParseError:
    rel_line, rel_column = getattr(exc, "line", -1), getattr(exc, "column", -1)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        near = f"near '{exc.token}'"
        expected = exc.accepts or exc.expected
    elif isinstance(exc, UnexpectedCharacters):
        near = f"near {text[exc.pos_in_stream:exc.pos_in_stream + 1]!r}"
        expected = exc.allowed or set()
    else:
        near = "near end of statement"
        expected = getattr(exc, "expected", None) or set()
        rel_line, rel_column = position(text, len(text))
    if not isinstance(rel_line, int) or not isinstance(rel_column, int) or \
            rel_line < 1 or rel_column < 1:
        rel_line, rel_column = position(text, len(text))
    where = shift(line, column, rel_line, rel_column)
    described = _describe_expected(expected)
    message = f"expected one of: {described} {near}" if described else f"unexpected input {near}"
    return ParseError(source, where[0], where[1], message)


# --- statements -----------------------------------------------------------------------------

_LEADING = re.compile(r"(?:\s+|--[^\n]*|/\*[\s\S]*?\*/)*")
_TOO_DEEP = "expected fewer nested parentheses: the statement is nested too deeply"


def parse_statement(text: str, source: str = "<text>", line: int = 1, column: int = 1
                    ) -> st.Statement:
    """One MaxCompute statement (an optional trailing ``;`` is allowed) -> its dataclass."""
    if "\r" in text:  # CRLF and CR end lines, as when a script is split into statements
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    skip = _LEADING.match(text)
    offset = skip.end() if skip else 0
    line, column = shift(line, column, *position(text, offset))
    body = text[offset:].rstrip()
    if body.endswith(";"):
        body = body[:-1].rstrip()
    span = Span(source, line, column, body)
    if not body:
        raise ParseError(source, line, column, "expected a statement, got nothing")
    if "\0" in body:
        where = shift(line, column, *position(body, body.index("\0")))
        raise ParseError(source, where[0], where[1], "expected text, got a NUL character")
    try:
        tree: Tree = _get_parser().parse(body)
    except UnexpectedInput as exc:
        raise _error(exc, body, source, line, column) from None
    except RecursionError:
        raise ParseError(source, line, column, _TOO_DEEP) from None
    try:
        return _Builder(body, span).transform(tree)
    except RecursionError:
        raise ParseError(source, line, column, _TOO_DEEP) from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, _BuildError):
            err = exc.orig_exc
            where = shift(line, column, err.line, err.column)
            raise ParseError(source, where[0], where[1], err.message) from None
        if isinstance(exc.orig_exc, RecursionError):
            raise ParseError(source, line, column, _TOO_DEEP) from None
        raise RuntimeError(f"cannot build statement from {body!r}: {exc.orig_exc}") from exc


# --- scripts --------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r"--\s*connect\s+(?P<project>\S+)\s+(?P<user>\S+)\s*$", re.IGNORECASE)
# the conformance records project / policyfile / advance, written as comments in a script
_PROJECT = re.compile(r"--\s*project\s+(?P<name>\S+)\s+owner\s+(?P<owner>\S+)\s*$",
                      re.IGNORECASE)
_POLICYFILE = re.compile(r"--\s*policyfile\s+(?P<name>\S+)\s*$", re.IGNORECASE)
_ADVANCE = re.compile(r"--\s*advance\s+(?P<days>\d+)(?:\s+(?P<unit>days?))?\s*$",
                      re.IGNORECASE)
_END = re.compile(r"--\s*end\s*$", re.IGNORECASE)


@dataclass
class _Chunk:
    text: str
    line: int
    column: int


@dataclass
class _Error:
    """A script-level mistake (an unclosed policy file), reported as a ParseError."""

    line: int
    column: int
    message: str


@dataclass
class _PolicyFile:
    """A ``-- policyfile <name>`` block being read: its content lines, ``--`` removed."""

    name: str
    span: Span
    lines: list[str]

    def directive(self) -> Directive:
        return Directive("policyfile", (self.name,), "\n".join(self.lines), self.span)

    def unclosed(self) -> _Error:
        return _Error(self.span.line, self.span.column,
                      f"expected '-- end' to close policy file {self.name}")


_Item = _Chunk | ConnectDirective | Directive | _Error


class _Splitter:
    """Cuts a script into statement texts and ``-- connect`` directives, line by line."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.start: tuple[int, int] | None = None
        self.state = ""  # "": normal, a quote character, or "/*"
        self.block: _PolicyFile | None = None  # a policy file being read

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

    def feed(self, line: str, lineno: int) -> Iterator[_Item]:
        stripped = line.strip()
        if self.block is not None:
            if _END.match(stripped):
                yield self.block.directive()
                self.block = None
                return
            if not stripped or (stripped.startswith("--") and
                                _header(stripped, Span("", lineno, 1, stripped)) is None):
                content = stripped[2:]
                self.block.lines.append(content[1:] if content.startswith(" ") else content)
                return
            # a statement or another directive before '-- end': report, then read it
            yield self.block.unclosed()
            self.block = None
        if not self.state and stripped.startswith("--"):
            col = len(line) - len(line.lstrip()) + 1
            span = Span("", lineno, col, stripped)
            item = _header(stripped, span)
            if item is not None:
                chunk = self.flush()
                if chunk:
                    yield chunk
                if isinstance(item, _PolicyFile):
                    self.block = item
                else:
                    yield item
                return
        i, n = 0, len(line)
        while i < n:
            if self.state == "":
                found = _STOP.search(line, i)
                stop = found.start() if found else n
                if stop > i:
                    self._add(line[i:stop], lineno, i + 1)
                if found is None:
                    return
                token = found.group()
                if token == ";":
                    chunk = self.flush()
                    if chunk:
                        yield chunk
                    i = stop + 1
                elif token == "--":
                    if self.start is not None:
                        self.parts.append(line[stop:])
                    return
                elif token == "/*":
                    if self.start is not None:
                        self.parts.append("/*")
                    self.state, i = "/*", stop + 2
                else:
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
                found = _QUOTE_STOP[quote].search(line, i)
                if found is None:
                    self.parts.append(line[i:])
                    return
                if found.group() == "\\":
                    self.parts.append(line[i:found.end() + 1])
                    i = found.end() + 1
                else:
                    self.parts.append(line[i:found.end()])
                    self.state, i = "", found.end()


def _header(stripped: str, span: Span) -> ConnectDirective | Directive | _PolicyFile | None:
    """The directive a comment line is, if any (span without its source yet)."""
    if match := _DIRECTIVE.match(stripped):
        return ConnectDirective(f"{match['project']} {match['user']}", span)
    if match := _PROJECT.match(stripped):
        return Directive("project", (match["name"], "owner", match["owner"]), "", span)
    if match := _POLICYFILE.match(stripped):
        return _PolicyFile(match["name"], span, [])
    if match := _ADVANCE.match(stripped):
        return Directive("advance", (match["days"], "days"), "", span)
    return None


_STOP = re.compile(r"[;'\"`]|--|/\*")
_QUOTE_STOP = {q: re.compile(r"\\|" + re.escape(q)) for q in "'\""}
_QUOTE_STOP["`"] = re.compile("`")


def _lines(text: str) -> Iterator[str]:
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    for line in text.split("\n"):
        yield line + "\n"


def parse_script(text: str, source: str = "<text>"
                 ) -> Iterator[st.Statement | ParseError | ConnectDirective | Directive]:
    """The statements, ``-- connect`` lines and set-up directives of a script, in order,
    lazily. A policy file is the ``--`` lines after ``-- policyfile <name>``, up to
    ``-- end``; each loses its ``--`` and one space."""
    splitter = _Splitter()

    def emit(item: _Item) -> st.Statement | ParseError | ConnectDirective | Directive:
        if isinstance(item, _Error):
            return ParseError(source, item.line, item.column, item.message)
        if isinstance(item, ConnectDirective | Directive):
            span = Span(source, item.span.line, item.span.column, item.span.text)
            if isinstance(item, ConnectDirective):
                return ConnectDirective(item.principal, span)
            return Directive(item.kind, item.words, item.body, span)
        try:
            return parse_statement(item.text, source, item.line, item.column)
        except ParseError as exc:
            return exc

    for lineno, line in enumerate(_lines(text), 1):
        for item in splitter.feed(line, lineno):
            yield emit(item)
    if splitter.block is not None:
        yield emit(splitter.block.unclosed())
    chunk = splitter.flush()
    if chunk:
        yield emit(chunk)
