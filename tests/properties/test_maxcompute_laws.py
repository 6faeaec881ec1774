"""Laws MaxCompute's permission model obeys, on generated histories (public API only).

Already in tests/maxcompute/test_decisions.py, on fixed small worlds, and not repeated
here: a deny policy never adds access, raising a user's label never removes access, an
expired label grant never allows. Here: the other monotone changes, after any history.
"""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from reasoner.explain.checker import ProofChecker
from tests.strategies import budget, testfile
from tests.strategies.maxcompute import (
    BOB,
    COLUMNS,
    USERS,
    Step,
    decision_records,
    decisions,
    histories,
    replay,
)


def _changed(before: dict, after: dict, *, may_add: bool) -> list:
    """Questions whose answer moved the forbidden way."""
    if may_add:
        return [k for k in before if before[k] and not after[k]]
    return [k for k in before if after[k] and not before[k]]


@budget(5)
@given(histories, st.integers(0, 4), st.integers(1, 5), st.sampled_from(COLUMNS))
def test_raising_a_columns_label_never_adds_access(steps: tuple[Step, ...], level: int,
                                                   raise_by: int, column: str) -> None:
    """Law: with LabelSecurity in any state, raising a column's sensitivity label never
    lets anybody read what they could not read before."""
    rep = replay(steps)
    bob = rep.reasoner.session(f"prj_a {BOB}")
    first = f"set label {level} to table up({column})"
    assume(bob.execute(first).ok)
    before = decisions(rep.reasoner)
    second = f"set label {level + raise_by} to table up({column})"
    assert bob.execute(second).ok
    after = decisions(rep.reasoner)
    bad = _changed(before, after, may_add=False)
    assert not bad, rep.render(
        testfile.connect(f"prj_a {BOB}"), testfile.statement(first + ";", True),
        *decision_records(before, bad), testfile.connect(f"prj_a {BOB}"),
        testfile.statement(second + ";", True), *decision_records(before, bad),
        title="raising a column's label added access")


@budget(5)
@given(histories)
def test_adding_a_trusted_project_never_removes_access(steps: tuple[Step, ...]) -> None:
    """Law: ``add trustedproject`` only opens a protected project to more readers; it
    takes nothing away from anybody."""
    rep = replay(steps)
    before = decisions(rep.reasoner)
    outcome = rep.reasoner.session(f"prj_a {BOB}").execute("add trustedproject prj_b")
    assume(outcome.ok)
    after = decisions(rep.reasoner)
    bad = _changed(before, after, may_add=True)
    assert not bad, rep.render(testfile.connect(f"prj_a {BOB}"),
                               testfile.statement("add trustedproject prj_b;", True),
                               *decision_records(before, bad),
                               title="adding a trusted project removed access")


@budget(4)
@given(histories, st.sampled_from(("Select", "Describe", "Drop", "Update")),
       st.sampled_from(("t1", "t2", "*")))
def test_a_deny_policy_never_adds_access_after_any_history(steps: tuple[Step, ...],
                                                          action: str, table: str) -> None:
    """Law (the fixed-world version is in tests/maxcompute): after any history, a deny
    policy entry never gives anybody anything."""
    rep = replay(steps)
    before = decisions(rep.reasoner)
    text = (f'grant {action} on table {table} to role dev privilegeproperties("policy"="true", '
            '"allow"="false")')
    assume(rep.reasoner.session(f"prj_a {BOB}").execute(text).ok)
    after = decisions(rep.reasoner)
    bad = _changed(before, after, may_add=False)
    assert not bad, rep.render(testfile.connect(f"prj_a {BOB}"),
                               testfile.statement(text + ";", True),
                               *decision_records(before, bad),
                               title="a deny policy added access")


@budget(3)
@given(histories)
def test_a_rejected_maxcompute_statement_changes_no_decision(steps: tuple[Step, ...]) -> None:
    """Law: a statement MaxCompute rejects (denied, invalid, unknown names) changes no
    decision of any user, from inside the project or from another one."""
    assume(steps)
    rep = replay(steps[:-1])
    last = steps[-1]
    before = decisions(rep.reasoner)
    outcome = rep.reasoner.session(last.principal).execute(last.statement)
    assume(not outcome.ok)
    after = decisions(rep.reasoner)
    bad = [k for k in before if before[k] != after[k]]
    rep.played.append((last, outcome))
    assert not bad, rep.render(*decision_records(before, bad),
                               title="a rejected statement changed a decision")


@budget(4)
@given(histories)
def test_every_maxcompute_allow_has_a_proof_the_checker_accepts(
        steps: tuple[Step, ...]) -> None:
    """Law: every allowed question has a proof, and the independent checker accepts it."""
    rep = replay(steps)
    engine = rep.reasoner.engine
    checker = ProofChecker(engine.backend.program, engine.facts, engine.backend)
    for (project, user, action, on), allowed in decisions(rep.reasoner).items():
        if not allowed or user not in USERS:
            continue
        session = rep.reasoner.session(f"{project} {user}")
        problems = checker.check_why(session.why(action, on))
        assert problems == [], (problems, rep.render(
            testfile.connect(f"{project} {user}"), testfile.check(action, on, True)))
