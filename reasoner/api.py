"""The decision library: load what was run, open sessions, ask and execute.

Thread safety: one lock per Reasoner serialises statements and checks, so a reader never
sees half of a statement's effect; any number of threads may share one Reasoner.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reasoner.authorizer import decide, decision_timeout
from reasoner.decision import Decision, Outcome, Requirement
from reasoner.dialects import get_dialect
from reasoner.dialects.base import Connect, Directive
from reasoner.errors import ParseError, ReasonerError, StatementError
from reasoner.explain.why import Why
from reasoner.explain.why import why as explain_why
from reasoner.explain.whynot import WhyNot
from reasoner.reverse import Access
from reasoner.source import Span


class Reasoner:
    """One policy world (a MatrixOne cluster, a MaxCompute tenant) under one target."""

    def __init__(self, dialect: str = "matrixone", target: str | None = None,
                 backend: str | None = None, *, decision_timeout: float | None = None
                 ) -> None:
        """``decision_timeout``: seconds one decision (a check, or the authorization of a
        statement) may take; past it the answer is a deny whose error says "timed out
        after ...". Checked between engine calls: one engine call is never interrupted
        (docs/reliability.md). ``backend``: "incremental" (the default fast path) or
        "pydatalog" (the reference evaluator of the same rules)."""
        if decision_timeout is not None and decision_timeout < 0:
            raise ValueError(f"decision_timeout must be >= 0 seconds, not {decision_timeout!r}")
        self.decision_timeout = decision_timeout
        self.dialect = get_dialect(dialect)
        self.target = target or self.dialect.default_target
        if self.target not in self.dialect.targets:
            raise ValueError(f"unknown target {self.target!r} for {self.dialect.name} "
                             f"(known: {', '.join(self.dialect.targets)})")
        from reasoner.rulebase import DEFAULT_BACKEND, check_backend, default_backend

        self.backend_name = check_backend(backend or DEFAULT_BACKEND)
        self.lock = threading.RLock()
        with default_backend(self.backend_name):  # the dialect's engine builds its backend inside
            self.engine = self.dialect.new_engine(self.target)
        self._initial: Session | None = None
        self.last_session: Session | None = None  # the session the last script ran in

    # sessions -------------------------------------------------------------------------

    def session(self, principal: str | None = None, role: str | None = None,
                secondary: str | bool | None = None) -> Session:
        """Log in: ``"acc1:joe"`` (MatrixOne), with an optional role and secondary mode."""
        principal = principal or self.dialect.initial_principal
        if principal == self.dialect.initial_principal and role is None:
            role = self.dialect.initial_role
        on = secondary is True or (isinstance(secondary, str) and secondary.lower() == "all")
        span = Span("<session>", 0, 0, f"connect {principal}")
        with self.lock:
            state = self.engine.connect(principal, role, on, span)
        return Session(self, state, principal)

    @property
    def initial_session(self) -> Session:
        if self._initial is None:
            self._initial = self.session()
        return self._initial

    # scripts --------------------------------------------------------------------------

    def load(self, script: str | Path, *, source: str | None = None) -> list[Outcome]:
        """Run a script (a path, or the text itself) and return each statement's outcome.

        ``-- connect <principal> [role R] [secondary all|none]`` lines switch sessions, so
        a history made by several users replays as it happened.
        """
        return list(self.run(script, source=source))

    def run(self, script: str | Path, *, source: str | None = None) -> Iterator[Outcome]:
        text, name = _read(script, source)
        session = self.initial_session if self.dialect.initial_principal else None
        for item in _guarded(self.dialect.parse_script(text, name), name):
            if isinstance(item, Connect):
                try:
                    session = self.session(item.principal, item.role, item.secondary)
                    self.last_session = session
                except Exception as exc:  # a login that fails is an outcome, never a crash
                    message = exc.message if isinstance(exc, StatementError) else (
                        f"cannot log in: {type(exc).__name__}: {exc}")
                    yield Outcome(False, item.span.text, item.span.line, item.span.source,
                                  error=message)
                continue
            if isinstance(item, ParseError):  # a bad byte in it is shown as \xNN
                yield Outcome(False, "", item.line, item.source,
                              error=_BAD_BYTE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}",
                                                  str(item)))
                continue
            if isinstance(item, Directive):  # sets up the world (MaxCompute projects)
                error: str | None = None
                with self.lock:
                    try:
                        self.engine.directive(item.kind, item.words,  # type: ignore[attr-defined]
                                              item.body)
                    except Exception as exc:
                        error = exc.message if isinstance(exc, StatementError) else str(exc)
                yield Outcome(error is None, item.span.text, item.span.line, item.span.source,
                              error=error)
                continue
            if session is None:
                span = item.span
                yield Outcome(False, span.text, span.line, span.source,
                              error="no session: the script needs a '-- connect' line first")
                continue
            self.last_session = session
            yield session.run(item)

    # reverse questions ----------------------------------------------------------------

    def who_can(self, privilege: str, on: str, *, account: str = "sys") -> list[Access]:
        """Every user who may use ``privilege`` on ``on`` (``"table db1.t1"``), with the
        roles it works through and whether it works as logged in (no SET ROLE needed)."""
        kind, _, name = on.strip().partition(" ")
        with self.lock:
            return self.engine.who_can(account, privilege.lower(), kind.lower(), name.strip())

    def what_can(self, principal: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """Everything a user may reach: (privilege, kind, object, roles it comes through)."""
        with self.lock:
            return self.engine.what_can(principal)

    def execute(self, sql: str) -> Outcome:
        """Run one statement as the initial session (MatrixOne: sys:root, moadmin)."""
        return self.initial_session.execute(sql)


class Session:
    """A logged-in user: current role, secondary mode, current database."""

    def __init__(self, reasoner: Reasoner, state: Any, principal: str) -> None:
        self.reasoner = reasoner
        self.state = state
        self.principal = principal

    def execute(self, sql: str, *, source: str = "<text>", line: int = 1) -> Outcome:
        """Run one statement; the outcome is ok or the error the real system gives."""
        try:
            statement = self.reasoner.dialect.parse_statement(sql, source, line, 1)
        except ParseError as exc:
            return Outcome(False, sql, line, source, error=str(exc))
        except Exception as exc:  # a parser bug must not crash the caller or allow anything
            return Outcome(False, sql, line, source,
                           error=f"internal error while parsing: {type(exc).__name__}: {exc}")
        return self.run(statement)

    def run(self, statement: Any) -> Outcome:
        span: Span = statement.span
        undecodable = _undecodable(span)
        if undecodable:  # never guess what a name was: two bad bytes must not become one
            return Outcome(False, span.text, span.line, span.source, error=undecodable)
        with self.reasoner.lock, decision_timeout(self.reasoner.decision_timeout):
            try:
                decision = self.reasoner.engine.execute(self.state, statement)
            except StatementError as exc:
                return Outcome(False, span.text, span.line, span.source, error=exc.message,
                               decision=getattr(exc, "decision", None))
            except ReasonerError as exc:
                return Outcome(False, span.text, span.line, span.source, error=str(exc))
            except Exception as exc:  # fail closed: report, never allow
                return Outcome(False, span.text, span.line, span.source,
                               error=f"internal error: {type(exc).__name__}: {exc}")
        return Outcome(True, span.text, span.line, span.source, decision=decision)

    def check(self, privilege: str, on: str) -> Decision:
        """May this session use ``privilege`` on ``on`` (``"table db1.t1"``,
        ``"account *"``, ``"database db1"``)? Never raises: errors are denies."""
        kind, _, name = on.strip().partition(" ")
        with self.reasoner.lock, decision_timeout(self.reasoner.decision_timeout):
            try:
                return self.reasoner.engine.check(self.state, privilege, kind.lower(),
                                                  name.strip())
            except Exception as exc:
                message = exc.message if isinstance(exc, StatementError) else (
                    f"{type(exc).__name__}: {exc}")
                return Decision(False, Requirement(f"{privilege} on {on}"), errors=(message,))

    # explanations ---------------------------------------------------------------------

    def _question(self, on: str) -> tuple[str, str]:
        kind, _, name = on.strip().partition(" ")
        return kind.lower(), name.strip()

    def why(self, privilege: str, on: str, *, more: int = 0) -> Why:
        """The proof of an allow: rule instances down to the lines of your own script."""
        decision = self.check(privilege, on)
        if not decision.allowed:
            raise ValueError(f"{privilege} on {on} is denied; ask why_not()")
        with self.reasoner.lock:
            engine = self.reasoner.engine
            return explain_why(decision, engine.backend, engine.facts, more=more)

    def why_not(self, privilege: str, on: str, *, repairs: bool = True) -> WhyNot:
        """What fails, what the session has, and verified repairs (statements to run)."""
        kind, name = self._question(on)
        decision = self.check(privilege, on)
        if decision.allowed:
            raise ValueError(f"{privilege} on {on} is allowed; ask why()")
        engine = self.reasoner.engine
        with self.reasoner.lock:
            return engine.why_not(self.state, decision,
                                  lambda: engine.check(self.state, privilege, kind, name),
                                  repairs=repairs)

    def why_not_statement(self, outcome: Outcome, *, repairs: bool = True) -> WhyNot:
        """Explain a statement the authorization step rejected (``outcome.decision``)."""
        if outcome.decision is None or outcome.decision.allowed:
            raise ValueError("the outcome carries no denied decision")
        engine = self.reasoner.engine
        statement = self.reasoner.dialect.parse_statement(outcome.statement, outcome.source,
                                                          outcome.line, 1)

        def recheck() -> Decision:
            plan = engine.plan(self.state, statement)
            return decide(engine.backend, plan.requirement)

        with self.reasoner.lock:
            return engine.why_not(self.state, outcome.decision, recheck, repairs=repairs)

    def close(self) -> None:
        with self.reasoner.lock:
            self.reasoner.engine.disconnect(self.state)


def _guarded(items: Iterator[Any], source: str) -> Iterator[Any]:
    """A dialect's script items; a parser bug ends the script with a ParseError value
    (the generator cannot go on after raising) instead of escaping ``load``."""
    line = 1
    try:
        for item in items:
            span = getattr(item, "span", None)
            line = span.line if span is not None else getattr(item, "line", line)
            yield item
    except ParseError as exc:
        yield exc
    except Exception as exc:  # fail closed: report and stop, never crash the caller
        yield ParseError(source, line, 1, f"expected a script the reasoner can read after "
                                          f"this line; the parser failed: "
                                          f"{type(exc).__name__}: {exc}")


_BAD_BYTE = re.compile("[\udc80-\udcff]")


def _undecodable(span: Span) -> str | None:
    """The error for a statement holding bytes that are not UTF-8 (read from a file with
    ``surrogateescape``, so each bad byte is kept as itself), else None."""
    found = _BAD_BYTE.search(span.text)
    if found is None:
        return None
    before = span.text[:found.start()]
    line, column = span.line + before.count("\n"), (
        len(before) - before.rfind("\n") if "\n" in before else span.column + len(before))
    return (f"{span.source}:{line}:{column}: expected UTF-8 text, got the byte "
            f"0x{ord(found.group()) - 0xDC00:02x}")


def _read(script: str | Path, source: str | None) -> tuple[str, str]:
    """A script's text. Files are read as UTF-8 with each invalid byte kept as a lone
    surrogate (``surrogateescape``): the statement holding one is rejected, naming the
    byte and its place, rather than run with a guessed character."""
    if isinstance(script, Path):
        return _read_file(script), source or str(script)
    if "\n" not in script and len(script) < 4096:
        path = Path(script)
        try:
            if path.is_file():
                return _read_file(path), source or script
        except OSError:
            pass
    return script, source or "<text>"


def _read_file(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="surrogateescape")
