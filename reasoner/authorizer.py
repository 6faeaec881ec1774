"""Judges a Requirement against the rule base. Never fails open.

Python has already decided what the statement needs; here each alternative's conjunction
is handed to the engine. Any exception while deciding becomes a deny carrying the error,
and so does a decision that outlives its deadline.

Deadlines are checked between engine calls (before each alternative, after each answer):
one engine call cannot be interrupted -- pyDatalog evaluates inside compiled code, where
neither a signal handler nor another thread can stop it -- so a deadline bounds how long a
decision may go on, and turns an over-long one into a deny, but the answer comes only once
the running call returns.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from reasoner.backends.base import Backend
from reasoner.decision import Decision, Need, Requirement, Satisfied

# the deadline decide() uses when its caller names none (Reasoner(decision_timeout=...))
_DEFAULT_DEADLINE: ContextVar[float | None] = ContextVar("reasoner_deadline", default=None)


class DecisionTimeout(Exception):
    """Raised inside decide() when the deadline has passed; never escapes it."""


@contextmanager
def decision_timeout(seconds: float | None) -> Iterator[None]:
    """Within the block (this thread or task), decisions without an explicit deadline get
    ``seconds`` (None: no deadline). Dialect executors call decide() themselves, so the
    library sets the deadline here rather than through every executor."""
    if seconds is not None and seconds < 0:
        raise ValueError(f"a decision timeout must be >= 0 seconds, not {seconds!r}")
    token = _DEFAULT_DEADLINE.set(seconds)
    try:
        yield
    finally:
        _DEFAULT_DEADLINE.reset(token)


def decide(backend: Backend, requirement: Requirement, *, all_bindings: bool = False,
           deadline_s: float | None = None) -> Decision:
    """Allow when every need has an alternative whose conjunction holds.

    ``all_bindings``: keep every binding of the alternative that held (used where the
    statement's effect depends on which role supplied a privilege); otherwise the first.
    ``deadline_s``: seconds the decision may take (default: the one set by
    :func:`decision_timeout`, else none); past it the decision is a deny whose error says
    "timed out after ...".
    """
    if deadline_s is None:
        deadline_s = _DEFAULT_DEADLINE.get()
    started = time.monotonic()
    deadline = None if deadline_s is None else started + deadline_s
    satisfied: list[Satisfied] = []
    failed: list[Need] = []
    try:
        for need in requirement.needs:
            found = _first_alternative(backend, need, all_bindings, deadline)
            if found is None:
                failed.append(need)
            else:
                satisfied.append(found)
    except DecisionTimeout:
        return Decision(
            allowed=False,
            requirement=requirement,
            satisfied=tuple(satisfied),
            failed=tuple(failed),
            errors=(f"timed out after {time.monotonic() - started:.3g} s, "
                    f"past the decision deadline of {deadline_s:g} s",),
        )
    except Exception as exc:  # fail closed: an internal error is a deny that says why
        return Decision(
            allowed=False,
            requirement=requirement,
            satisfied=tuple(satisfied),
            failed=tuple(failed),
            errors=(f"internal error while deciding: {type(exc).__name__}: {exc}",),
        )
    return Decision(
        allowed=not failed,
        requirement=requirement,
        satisfied=tuple(satisfied),
        failed=tuple(failed),
    )


def _check(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise DecisionTimeout


def _first_alternative(backend: Backend, need: Need, all_bindings: bool,
                       deadline: float | None) -> Satisfied | None:
    for alternative in need.alternatives:
        _check(deadline)
        bindings = backend.solve(alternative.body, limit=None if all_bindings else 1)
        _check(deadline)  # an answer that came too late is no answer
        if bindings:
            return Satisfied(need=need, alternative=alternative, bindings=tuple(bindings))
    return None
