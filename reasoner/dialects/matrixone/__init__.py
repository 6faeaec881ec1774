"""The MatrixOne dialect: grammar, catalogue, requirements and rule profiles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from reasoner.decision import Decision
from reasoner.dialects.base import Connect
from reasoner.errors import ParseError, StatementError
from reasoner.explain.repairs import Candidate, verify
from reasoner.explain.whynot import WhyNot, WhyNotBuilder
from reasoner.reverse import Access, what_can, who_can
from reasoner.rulebase import new_backend
from reasoner.source import Span

from .catalogue import SessionState
from .executor import MatrixOneExecutor
from .explain import AccessIndex, MatrixOneExplainer, access_count
from .profiles import DEFAULT_TARGET, PROFILES, rule_files


def split_principal(principal: str) -> tuple[str, str, str | None]:
    """``account:user[:role]`` (``#`` works too); a bare ``user`` is in account sys."""
    parts = principal.replace("#", ":").split(":")
    if len(parts) == 1:
        return "sys", parts[0].strip().lower(), None
    role = parts[2].strip().lower() if len(parts) > 2 and parts[2].strip() else None
    return parts[0].strip().lower(), parts[1].strip().lower(), role


class MatrixOneEngine(MatrixOneExecutor):
    """A MatrixOne cluster under one target's rules."""

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(new_backend(rule_files(target)))
        self.access_index = AccessIndex(self)  # blast-radius counts, kept between why-nots

    def connect(self, principal: str, role: str | None, secondary: bool,  # type: ignore[override]
                span: Span) -> Any:
        account, user, login_role = split_principal(principal)
        return super().connect(account, user, (role or login_role or None) and
                               (role or login_role or "").lower(), secondary, span)

    # reverse questions ----------------------------------------------------------------

    def who_can(self, account: str, privilege: str, kind: str, name: str) -> list[Access]:
        acc = self.catalogue.account(account.lower())
        if acc is None:
            raise StatementError(f"there is no account {account}")
        probe = SessionState(id="who-can", account=acc.name, user="", role="")
        try:
            requirement = self.check_requirement(probe, privilege, kind, name)
        except StatementError:
            if self._broken_view(acc, kind, name):
                return []  # every point check fails the same way: nobody can
            raise
        names = {r.id: r.name for r in acc.roles.values()}
        names.update({u.id: u.name for u in acc.users.values()})
        defaults = {u.id: acc.roles[u.default_role].id for u in acc.users.values()
                    if u.default_role in acc.roles}
        return who_can(self.backend, requirement, defaults, names)

    def _broken_view(self, acc: Any, kind: str, name: str) -> bool:
        """A view that exists but reads a table dropped since (every use of it fails)."""
        database, _, view = name.lower().rpartition(".")
        obj = self.catalogue.object(acc, database, view) if database else None
        return kind in ("table", "view") and obj is not None and self._is_broken(acc, obj)

    def _is_broken(self, acc: Any, obj: Any) -> bool:
        if obj.kind != "view":
            return False
        try:
            self._tips(acc, "select", obj, ())
        except StatementError:
            return True
        return False

    def what_can(self, principal: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
        account, user, _ = split_principal(principal)
        acc = self.catalogue.account(account)
        if acc is None or user not in acc.users:
            raise StatementError(f"there is no user {user}")
        out = []
        shown: dict[str, str | None] = {}  # object id -> its name (None: not shown)
        named: dict[tuple[str, ...], tuple[str, ...]] = {}
        for privilege, kind, obj, roots in what_can(self.backend, acc.users[user].id):
            if obj not in shown:
                described = self.catalogue.describe(obj)
                if described is None:
                    shown[obj] = None  # an orphan row left by a dropped object
                elif kind == "view" and self._is_broken(acc, self.catalogue.by_id[obj]):
                    shown[obj] = None  # a view over a dropped table: every use of it fails
                else:
                    shown[obj] = described[1]
            name = shown[obj]
            if name is None:
                continue
            names = named.get(roots)
            if names is None:
                names = named[roots] = tuple(
                    role.name if (role := self.catalogue.role_by_id(r)) else r for r in roots)
            out.append((privilege, kind, name, names))
        return out

    # explanations ---------------------------------------------------------------------

    def why_not(self, session: Any, decision: Decision, recheck: Callable[[], Decision], *,
                repairs: bool = True) -> WhyNot:
        """The failing conditions of a deny, what the session has, and verified repairs."""
        result = WhyNotBuilder(self.backend).build(decision)
        explainer = MatrixOneExplainer(self, session)
        result.context = explainer.context()
        reason = explainer.unrepairable(result)
        if reason:
            result.context["unrepairable"] = reason
        elif repairs and not decision.errors:
            result.repairs = verify(
                self.journal, explainer.candidates(result),
                lambda c: self._apply_candidate(session, c), recheck,
                lambda users, objects: access_count(self, users, objects))
        return result

    def _apply_candidate(self, session: Any, candidate: Candidate) -> str:
        """Run a repair's statements as its author would; raises when one is rejected."""
        if candidate.run_as == "session":
            runner, who = session, "the user, in this session"
        else:
            acc = self.catalogue.account_of(session)
            admin = acc.roles[acc.admin_role_name]
            user = next(u for u in acc.users.values()
                        if self.catalogue.user_has_role(u.id, admin.id))
            runner = MatrixOneExecutor.connect(self, acc.name, user.name, admin.name, False,
                                               Span("<repair>", 0, 0, "connect"))
            who = f"{acc.name}:{user.name}"
        for text in candidate.statements:
            statement = MatrixOne().parse_statement(text, "<repair>")
            if candidate.run_as == "session" or text.startswith("set "):
                self.execute(session, statement)
            else:
                self.execute(runner, statement)
        return who


class MatrixOne:
    name = "matrixone"
    targets = tuple(PROFILES)
    default_target = DEFAULT_TARGET
    initial_principal = "sys:root"
    initial_role: str | None = "moadmin"

    def parse_statement(self, text: str, source: str = "<text>", line: int = 1,
                        column: int = 1) -> Any:
        from .parser import parse_statement

        return parse_statement(text, source, line, column)

    def parse_script(self, text: str, source: str = "<text>") -> Iterator[Any | ParseError |
                                                                         Connect]:
        from .parser import ConnectDirective, parse_script

        for item in parse_script(text, source):
            if isinstance(item, ConnectDirective):
                yield Connect(item.principal, item.role, item.secondary, item.span)
            else:
                yield item

    def new_engine(self, target: str | None = None) -> MatrixOneEngine:
        return MatrixOneEngine(target or DEFAULT_TARGET)


__all__ = ["MatrixOne", "MatrixOneEngine", "StatementError", "split_principal"]
