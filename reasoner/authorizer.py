"""Judges a Requirement against the rule base. Never fails open.

Python has already decided what the statement needs; here each alternative's conjunction
is handed to the engine. Any exception while deciding becomes a deny carrying the error.
"""

from __future__ import annotations

from reasoner.backends.base import Backend
from reasoner.decision import Decision, Need, Requirement, Satisfied


def decide(backend: Backend, requirement: Requirement, *, all_bindings: bool = False) -> Decision:
    """Allow when every need has an alternative whose conjunction holds.

    ``all_bindings``: keep every binding of the alternative that held (used where the
    statement's effect depends on which role supplied a privilege); otherwise the first.
    """
    satisfied: list[Satisfied] = []
    failed: list[Need] = []
    try:
        for need in requirement.needs:
            found = _first_alternative(backend, need, all_bindings)
            if found is None:
                failed.append(need)
            else:
                satisfied.append(found)
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


def _first_alternative(backend: Backend, need: Need, all_bindings: bool) -> Satisfied | None:
    for alternative in need.alternatives:
        bindings = backend.solve(alternative.body, limit=None if all_bindings else 1)
        if bindings:
            return Satisfied(need=need, alternative=alternative, bindings=tuple(bindings))
    return None
