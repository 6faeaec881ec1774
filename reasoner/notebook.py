"""IPython magics: write policy statements in cells, ask questions inline.

``%load_ext reasoner`` registers them. ``%%policy`` runs a cell of statements into the
notebook's reasoner (one per kernel, so one per notebook) and shows each statement's
outcome; the session the cell ends in is the one the line magics ask in, unless they
say ``--as``. Each line magic returns the rich object (Decision, Why, WhyNot, a table,
a graphviz picture), so it renders inline and stays usable from Python::

    %%policy --dialect matrixone --target matrixone-v4.2.0 [--new]
    create account acc1 admin_name 'admin' identified by '111';
    -- connect acc1:admin
    create role dev;

    %check select on table db1.t1 --as acc1:joe [--role dev] [--secondary all]
    %why select on table db1.t1 [--more 2]
    %why_not insert on table db1.t1 [--no-repairs]
    %who_can select on table db1.t1 [--account acc1]
    %what_can acc1:joe
    %roles [--focus table db1.t1] [--privilege select] [--user joe] [--account acc1]

``%policy --new --dialect maxcompute`` (the line form) only sets up a fresh reasoner;
``--new`` alone keeps the current dialect and target.

Options come after the question; an option's value runs to the next option, so
MaxCompute's ``--as prj_a ALIYUN$alice@aliyun.com`` needs no quotes (``$`` is not
expanded). MaxCompute cells may declare projects with ``-- project NAME owner PRINCIPAL``
and move the clock with ``-- advance N days``. ``reasoner.notebook.current()`` is the
notebook's Reasoner for plain API use.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import graphviz
from IPython.core.error import UsageError
from IPython.core.magic import (
    Magics,
    line_cell_magic,
    line_magic,
    magics_class,
    no_var_expand,
)

from reasoner.api import Reasoner, Session
from reasoner.decision import Decision, Outcome
from reasoner.dialects.base import Connect
from reasoner.errors import ParseError, StatementError
from reasoner.explain.why import Why
from reasoner.explain.whynot import WhyNot
from reasoner.render.html import (
    AccessTable,
    OutcomeTable,
    RunRow,
    what_can_table,
    who_can_table,
)
from reasoner.source import Span

_QUESTION = re.compile(r"^(?P<privilege>.+?)\s+on\s+(?P<kind>[A-Za-z_]+)\s+(?P<name>\S.*)$",
                       re.IGNORECASE | re.DOTALL)
_DIRECTIVE = re.compile(r"^\s*--\s*(?P<kind>project|advance)\s+(?P<rest>\S.*?)\s*$",
                        re.IGNORECASE)
_SESSION_OPTIONS = {"as", "role", "secondary"}


@dataclass
class _State:
    """The notebook's reasoner and the session its last ``%%policy`` cell ended in."""

    reasoner: Reasoner | None = None
    session: Session | None = None


_state = _State()


def current() -> Reasoner:
    """The notebook's Reasoner (a MatrixOne one, made on first use)."""
    if _state.reasoner is None:
        reset()
    assert _state.reasoner is not None
    return _state.reasoner


def current_session() -> Session | None:
    """The session the line magics ask in when no ``--as`` is given."""
    return _state.session


def reset(dialect: str = "matrixone", target: str | None = None) -> Reasoner:
    """Start a fresh notebook reasoner (what ``%%policy --new`` does)."""
    _state.reasoner = Reasoner(dialect, target)
    _state.session = None
    return _state.reasoner


# option parsing -----------------------------------------------------------------------


def parse_line(line: str, valued: AbstractSet[str], flags: AbstractSet[str] = frozenset()
               ) -> tuple[str, dict[str, Any]]:
    """(question, options): words up to the first ``--option``, then options whose
    values run to the next option (``--as=x`` works too)."""
    lexer = shlex.shlex(line, posix=False)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError as exc:
        raise UsageError(f"cannot read the line: {exc}") from None
    known = valued | flags
    question: list[str] = []
    options: dict[str, Any] = {}
    current_name: str | None = None
    values: list[str] = []

    def close() -> None:
        if current_name is None:
            return
        if current_name in flags:
            if values:
                raise UsageError(f"--{current_name} takes no value, got {' '.join(values)!r}")
            options[current_name] = True
        else:
            if not values:
                raise UsageError(f"--{current_name} needs a value")
            options[current_name] = _unquote(" ".join(values))

    for token in tokens:
        name = token[2:].split("=", 1)[0].lower() if token.startswith("--") else None
        if name is not None and name in known:
            close()
            current_name, values = name, []
            if "=" in token:
                values.append(token.split("=", 1)[1])
        elif name is not None:
            raise UsageError(f"unknown option {token} (known: "
                             f"{', '.join('--' + k for k in sorted(known)) or 'none'})")
        elif current_name is None:
            question.append(token)
        else:
            values.append(token)
    close()
    return " ".join(question), options


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def parse_question(question: str) -> tuple[str, str]:
    """``select on table db1.t1`` -> ("select", "table db1.t1")."""
    match = _QUESTION.match(question.strip())
    if not match:
        raise UsageError("ask 'PRIVILEGE on KIND NAME', e.g. 'select on table db1.t1' or "
                         f"'create user on account *'; got {question!r}")
    return match["privilege"].strip(), f"{match['kind'].lower()} {match['name'].strip()}"


def _account_of(reasoner: Reasoner, principal: str | None) -> str:
    if reasoner.dialect.name == "matrixone" and principal:
        from reasoner.dialects.matrixone import split_principal

        return split_principal(principal)[0]
    return "sys"


# the magics ---------------------------------------------------------------------------


@magics_class
class PolicyMagics(Magics):
    """``%%policy`` and the question magics over the notebook's reasoner."""

    # sessions -------------------------------------------------------------------------

    def _base_session(self, reasoner: Reasoner) -> Session | None:
        if _state.session is not None and _state.reasoner is reasoner:
            return _state.session
        if reasoner.dialect.initial_principal:
            return reasoner.initial_session
        return None

    def _session(self, reasoner: Reasoner, options: dict[str, Any]) -> tuple[Session, bool]:
        """The session to ask in, and whether it was opened for this question alone."""
        principal = options.get("as")
        role, secondary = options.get("role"), options.get("secondary")
        base = self._base_session(reasoner)
        if principal is None and role is None and secondary is None:
            if base is None:
                raise UsageError("no session yet: connect in a %%policy cell "
                                 "('-- connect ...' or --as) or pass --as")
            return base, False
        if principal is None:
            if base is None:
                raise UsageError("--role and --secondary need a session: pass --as too")
            principal = base.principal
        if secondary is not None and secondary.lower() not in ("all", "none"):
            raise UsageError(f"--secondary is all or none, got {secondary!r}")
        try:
            return reasoner.session(principal, role, secondary), True
        except StatementError as exc:
            raise UsageError(f"cannot connect as {principal}: {exc.message}") from None
        except ValueError as exc:
            raise UsageError(f"cannot connect as {principal}: {exc}") from None

    def _ask(self, line: str, valued: AbstractSet[str], flags: AbstractSet[str] = frozenset()
             ) -> tuple[Reasoner, Session, bool, str, str, dict[str, Any]]:
        question, options = parse_line(line, valued | _SESSION_OPTIONS, flags)
        privilege, on = parse_question(question)
        reasoner = current()
        session, temporary = self._session(reasoner, options)
        return reasoner, session, temporary, privilege, on, options

    # %%policy -------------------------------------------------------------------------

    @no_var_expand
    @line_cell_magic
    def policy(self, line: str, cell: str | None = None) -> OutcomeTable:
        """Run the cell's statements; ``-- connect`` lines switch sessions. As a line
        magic (``%policy --new --dialect maxcompute``) it only sets the reasoner up."""
        cell = cell or ""
        question, options = parse_line(line, {"dialect", "target"} | _SESSION_OPTIONS,
                                       {"new"})
        if question:
            raise UsageError(f"%%policy takes only options, got {question!r}")
        note = ""
        reasoner = _state.reasoner
        dialect = (options.get("dialect") or (reasoner.dialect.name if reasoner
                                              else "matrixone")).lower()
        target = options.get("target")
        if target is None and reasoner is not None and dialect == reasoner.dialect.name:
            target = reasoner.target  # --new alone: a fresh reasoner like this one
        if (options.get("new") or reasoner is None or dialect != reasoner.dialect.name
                or (target is not None and target != reasoner.target)):
            try:
                reasoner = reset(dialect, target)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            note = f"new reasoner: {reasoner.dialect.name}, target {reasoner.target}. "
        session: Session | None = None
        if _SESSION_OPTIONS & set(options):
            session = self._session(reasoner, options)[0]
        else:
            session = self._base_session(reasoner)
        count = getattr(self.shell, "execution_count", None)
        source = f"<cell {count}>" if count is not None else "<cell>"
        rows, outcomes, session = _run_cell(reasoner, session, cell, source)
        _state.session = session
        errors = sum(1 for r in rows if not r.ok)
        now = f"; session now {session.principal}" if session is not None else ""
        title = (f"{note}{len(outcomes)} statement(s), {errors} error(s){now}")
        return OutcomeTable(title, rows, outcomes)

    # questions ------------------------------------------------------------------------

    @no_var_expand
    @line_magic
    def check(self, line: str) -> Decision:
        """``%check PRIVILEGE on KIND NAME [--as P] [--role R] [--secondary all]``"""
        _, session, temporary, privilege, on, _ = self._ask(line, set())
        try:
            return session.check(privilege, on)
        finally:
            if temporary:
                session.close()

    @no_var_expand
    @line_magic
    def why(self, line: str) -> Why:
        """``%why PRIVILEGE on KIND NAME [--more N]``: the proof of an allow."""
        _, session, temporary, privilege, on, options = self._ask(line, {"more"})
        try:
            more = int(options.get("more", 0))
        except ValueError:
            raise UsageError("--more takes a number") from None
        try:
            return session.why(privilege, on, more=more)
        except ValueError as exc:
            raise UsageError(f"{exc} (%why_not explains a deny)") from None
        finally:
            if temporary:
                session.close()

    @no_var_expand
    @line_magic
    def why_not(self, line: str) -> WhyNot:
        """``%why_not PRIVILEGE on KIND NAME [--no-repairs]``: what fails, and repairs."""
        reasoner, session, temporary, privilege, on, options = self._ask(
            line, set(), {"no-repairs"})
        try:
            if not hasattr(reasoner.engine, "why_not"):
                raise UsageError(f"why-not is not available for the {reasoner.dialect.name}"
                                 " dialect yet (%check shows the failing needs)")
            try:
                return session.why_not(privilege, on, repairs=not options.get("no-repairs"))
            except ValueError as exc:
                raise UsageError(f"{exc} (%why explains an allow)") from None
        finally:
            if temporary:
                session.close()

    @no_var_expand
    @line_magic
    def who_can(self, line: str) -> AccessTable:
        """``%who_can PRIVILEGE on KIND NAME [--account A]``: every user who may."""
        question, options = parse_line(line, {"account"})
        privilege, on = parse_question(question)
        reasoner = current()
        if not hasattr(reasoner.engine, "who_can"):
            raise UsageError(f"who-can is not available for the {reasoner.dialect.name} "
                             "dialect yet")
        base = self._base_session(reasoner)
        account = options.get("account") or _account_of(reasoner, base and base.principal)
        try:
            result = reasoner.who_can(privilege, on, account=account)
        except StatementError as exc:
            raise UsageError(exc.message) from None
        return who_can_table(result, privilege, on, account)

    @no_var_expand
    @line_magic
    def what_can(self, line: str) -> AccessTable:
        """``%what_can [PRINCIPAL]``: everything a user may reach (default: the session's
        user)."""
        question, _ = parse_line(line, set())
        reasoner = current()
        if not hasattr(reasoner.engine, "what_can"):
            raise UsageError(f"what-can is not available for the {reasoner.dialect.name} "
                             "dialect yet")
        base = self._base_session(reasoner)
        principal = _unquote(question.strip()) or (base.principal if base else "")
        if not principal:
            raise UsageError("name a user: %what_can acc1:joe")
        try:
            result = reasoner.what_can(principal)
        except StatementError as exc:
            raise UsageError(exc.message) from None
        return what_can_table(result, principal)

    @no_var_expand
    @line_magic
    def roles(self, line: str) -> graphviz.Digraph:
        """``%roles [--focus KIND NAME] [--privilege P] [--user U] [--account A]
        [--no-owners]``: the account's roles drawn (MatrixOne)."""
        from reasoner.render.graph import role_graph

        question, options = parse_line(line, {"focus", "user", "account", "privilege"},
                                       {"no-owners"})
        if question:
            raise UsageError(f"%roles takes only options, got {question!r}")
        reasoner = current()
        base = self._base_session(reasoner)
        account = options.get("account") or _account_of(reasoner, base and base.principal)
        try:
            return role_graph(reasoner, account, focus=options.get("focus"),
                              user=options.get("user"), privilege=options.get("privilege"),
                              show_owners=not options.get("no-owners"))
        except ValueError as exc:
            raise UsageError(str(exc)) from None


def _run_cell(reasoner: Reasoner, session: Session | None, cell: str, source: str
              ) -> tuple[list[RunRow], list[Outcome], Session | None]:
    """Like ``Reasoner.run``, but starting in (and returning) the notebook's session,
    with every step as a row, and MaxCompute's ``-- project`` / ``-- advance`` lines
    applied in order."""
    directives: dict[int, tuple[str, list[str], str]] = {}
    directive = getattr(reasoner.engine, "directive", None)
    if directive is not None:
        lines = cell.split("\n")
        for number, text in enumerate(lines, 1):
            match = _DIRECTIVE.match(text)
            if match:
                directives[number] = (match["kind"].lower(), match["rest"].split(),
                                      text.strip())
                lines[number - 1] = ""
        cell = "\n".join(lines)
    pending = sorted(directives)
    rows: list[RunRow] = []
    outcomes: list[Outcome] = []

    def apply_until(line: int) -> None:
        while pending and pending[0] < line:
            number = pending.pop(0)
            kind, words, text = directives[number]
            try:
                with reasoner.lock:
                    directive(kind, words, "")  # type: ignore[misc]
                rows.append(RunRow(number, text, True, ""))
            except StatementError as exc:
                rows.append(RunRow(number, text, False, exc.message))

    for item in reasoner.dialect.parse_script(cell, source):
        span: Span | None = getattr(item, "span", None)
        line = span.line if span is not None else getattr(item, "line", 0)
        apply_until(line)
        if isinstance(item, Connect):
            try:
                session = reasoner.session(item.principal, item.role, item.secondary)
                rows.append(RunRow(line, item.span.text.strip(), True, "session switched",
                                   session.principal))
            except (StatementError, ValueError) as exc:
                message = exc.message if isinstance(exc, StatementError) else str(exc)
                rows.append(RunRow(line, item.span.text.strip(), False, message))
            continue
        if isinstance(item, ParseError):
            outcome = Outcome(False, "", item.line, item.source, error=str(item))
            outcomes.append(outcome)
            rows.append(RunRow(item.line, "", False, str(item)))
            continue
        if session is None:
            message = "no session: the cell needs a '-- connect' line first (or --as)"
            outcome = Outcome(False, item.span.text, line, source, error=message)
            outcomes.append(outcome)
            rows.append(RunRow(line, item.span.text, False, message))
            continue
        outcome = session.run(item)
        outcomes.append(outcome)
        rows.append(RunRow(outcome.line, outcome.statement, outcome.ok, outcome.error or "",
                           session.principal))
    apply_until(1 << 30)
    rows.sort(key=lambda r: r.line)
    return rows, outcomes, session


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext reasoner``: register the magics."""
    ipython.register_magics(PolicyMagics)
