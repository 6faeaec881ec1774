"""Verifying and ranking repairs: a candidate is kept only when applying it to the state
turns the deny into an allow. The state is changed inside a journal transaction that is
always rolled back, so verifying leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from reasoner.decision import Decision
from reasoner.errors import ReasonerError
from reasoner.explain.whynot import Repair
from reasoner.facts import Journal


@dataclass(frozen=True)
class Candidate:
    """Statements that might allow; ``run_as``: "admin" (the account's administrator runs
    them) or "session" (the user runs them in the denied session)."""

    statements: tuple[str, ...]
    run_as: str
    affected_users: tuple[str, ...] = ()
    note: str = ""
    # the objects on which the statements can open access (None: anywhere); the blast
    # radius is then counted on these objects only, which is exact and much cheaper
    objects: tuple[str, ...] | None = None


AccessCount = Callable[[Sequence[str], "Sequence[str] | None"], int]


class _Undo(Exception):
    pass


@contextmanager
def trial(journal: Journal) -> Iterator[None]:
    """Apply changes, then undo them all, whatever happens."""
    if journal._undo is not None:  # noqa: SLF001 - nested trials would undo the caller
        raise RuntimeError("a trial cannot run inside a statement's transaction")
    try:
        with journal.transaction():
            yield
            raise _Undo
    except _Undo:
        pass


def verify(journal: Journal, candidates: Sequence[Candidate],
           apply: Callable[[Candidate], str], recheck: Callable[[], Decision],
           access_count: AccessCount, *, limit: int = 5) -> list[Repair]:
    """Keep the candidates that work, ranked by size, then blast radius.

    ``apply`` runs a candidate's statements (raising on any rejected one) and returns who
    ran them; ``access_count(users, objects)`` counts the allows of the given users (on
    the given objects, or everywhere when None), for the blast radius. Counts before any
    change are the same for every candidate, so each is taken once.
    """
    repairs: list[Repair] = []
    seen: set[tuple[str, ...]] = set()
    baseline: dict[tuple[tuple[str, ...], tuple[str, ...] | None], int] = {}
    for candidate in candidates:
        if candidate.statements in seen:
            continue
        seen.add(candidate.statements)
        result: list[Repair] = []
        key = (candidate.affected_users, candidate.objects)
        try:
            with trial(journal):
                if key not in baseline:
                    baseline[key] = access_count(*key)
                before = baseline[key]
                who = apply(candidate)
                decision = recheck()
                if decision.allowed:
                    after = access_count(*key)
                    result.append(Repair(candidate.statements, who,
                                         max(0, after - before - 1), candidate.note))
        except ReasonerError:
            continue
        repairs.extend(result)
    # size, then blast radius; a change of the session alone before a change of policy
    repairs.sort(key=lambda r: (r.size, r.blast_radius, not r.run_as.startswith("the user"),
                                r.statements))
    return repairs[:limit]
