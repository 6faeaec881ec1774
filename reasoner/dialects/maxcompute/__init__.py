"""The MaxCompute (ODPS) dialect: grammar, catalogue, requirements and rules.

One target, ``maxcompute``: the semantics of the documentation the spec collects
(shared/spec/maxcompute.md); where the documentation is silent the choices are listed in
docs/maxcompute.md. A session is ``<project> <user>``: the current project, where jobs
run and unqualified names live, and the account that runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from reasoner.decision import Decision
from reasoner.dialects.base import Connect, Directive
from reasoner.errors import ParseError, StatementError
from reasoner.explain.repairs import Candidate, verify
from reasoner.explain.whynot import WhyNot, WhyNotBuilder
from reasoner.reverse import Access
from reasoner.rulebase import new_backend
from reasoner.source import Span

from .executor import DeniedError, MaxComputeExecutor
from .statements import Query

RULE_FILES = tuple(f"maxcompute/{name}.dl" for name in (
    "schema", "vocabulary", "membership", "management", "acl", "coupling", "policies",
    "labels", "protection", "packages"))
TARGET = "maxcompute"


class MaxComputeEngine(MaxComputeExecutor):
    """One MaxCompute tenant (its projects and accounts) under the maxcompute rules."""

    def __init__(self, target: str = TARGET) -> None:
        if target != TARGET:
            raise ValueError(f"unknown MaxCompute target {target!r} (known: {TARGET})")
        self.target = target
        super().__init__(new_backend(RULE_FILES))

    # reverse questions ----------------------------------------------------------------

    def who_can(self, account: str, privilege: str, kind: str, name: str) -> list[Access]:
        """Every member of the job's project (``account``, or the qualified name's
        project) whose session passes ``check``; exact: one point check each."""
        from .reverse import who_can

        return who_can(self, account, privilege, kind, name)

    def what_can(self, principal: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """``"<project> <user>"``: each (action, kind, object, roles) ``check`` allows."""
        from .reverse import what_can

        return what_can(self, principal)

    def why_not(self, session: Any, decision: Decision, recheck: Callable[[], Decision], *,
                repairs: bool = True) -> WhyNot:
        """The failing layer and gates of a deny, what the session has, and verified
        repairs as MaxCompute statements (or why no statement can repair it)."""
        from .explain import MaxComputeExplainer

        result = WhyNotBuilder(self.backend).build(decision)
        explainer = MaxComputeExplainer(self, session, result)
        result.context = explainer.context()
        reason = explainer.unrepairable
        if reason:
            result.context["unrepairable"] = reason
        elif repairs and not decision.errors:
            result.repairs = verify(
                self.journal, explainer.candidates(),
                lambda c: explainer.applying(lambda: self._apply_candidate(session, c)),
                recheck,
                explainer.access_count)
        return result

    def _apply_candidate(self, session: Any, candidate: Candidate) -> str:
        """Run a repair as its authors would; raises when a statement is rejected.

        A session repair runs in the denied session. Any other repair is a script of
        project owners: it starts in the session's project, ``use <project>`` moves it
        to another, and each project's statements are run by that project's owner.
        """
        if candidate.run_as == "session":
            for text in candidate.statements:
                self.execute(session, _repair_statement(text))
            return "the user, in this session"
        project, runner = session.project, None
        owners: dict[str, str] = {}
        for text in candidate.statements:
            words = text.split()
            if len(words) == 2 and words[0].lower() == "use":
                project, runner = words[1].lower(), None
                continue
            if runner is None:
                prj = self.catalogue.project(project)
                runner = self.connect(f"{project} {prj.owner_written}", None, False,
                                      Span("<repair>", 0, 0, f"connect {project}"))
                owners[project] = prj.owner_written
            self.execute(runner, _repair_statement(text))
        shown = ", ".join(f"{p} ({who})" for p, who in owners.items())
        return f"the owner of {shown}" if len(owners) == 1 else f"the owners of {shown}"


_PARSED: dict[str, Any] = {}


def _repair_statement(text: str) -> Any:
    """A repair's statement, parsed once: the same few are applied over and over while
    repairs are verified. Queries are parsed afresh (their sqlglot trees are mutable)."""
    statement = _PARSED.get(text)
    if statement is None:
        statement = MaxCompute().parse_statement(text, "<repair>")
        if not isinstance(statement, Query) and len(_PARSED) < 1024:
            _PARSED[text] = statement
    return statement


class MaxCompute:
    name = "maxcompute"
    targets = (TARGET,)
    default_target = TARGET
    initial_principal = ""  # no session until the first connect
    initial_role: str | None = None

    def parse_statement(self, text: str, source: str = "<text>", line: int = 1,
                        column: int = 1) -> Any:
        from .parser import parse_statement

        return parse_statement(text, source, line, column)

    def parse_script(self, text: str, source: str = "<text>"
                     ) -> Iterator[Any | ParseError | Connect | Directive]:
        """Statements, ``-- connect <project> <user>`` lines, and the directives that
        declare projects and policy files (handed to ``MaxComputeEngine.directive``)."""
        from .parser import ConnectDirective, parse_script

        for item in parse_script(text, source):
            if isinstance(item, ConnectDirective):
                yield Connect(item.principal, None, None, item.span)
            else:
                yield item

    def new_engine(self, target: str | None = None) -> MaxComputeEngine:
        return MaxComputeEngine(target or TARGET)


__all__ = ["DeniedError", "MaxCompute", "MaxComputeEngine", "StatementError"]
