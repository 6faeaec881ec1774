"""Laws MatrixOne's privilege model and the reasoner obey, checked on generated histories
(tests/strategies/matrixone.py: grants, revokes, drops, sessions, DML by several users and
invalid statements mixed in). A failure's message is the minimal history as a runnable
``.test`` file whose last records state what the law expected."""

from __future__ import annotations

import random
import re
import tempfile
from pathlib import Path

from hypothesis import assume, given
from hypothesis import strategies as st

from reasoner import Reasoner, conformance
from reasoner.explain.checker import ProofChecker
from reasoner.explain.repairs import Candidate, trial
from tests.strategies import budget, testfile
from tests.strategies.matrixone import (
    CHECKS,
    H_USERS,
    History,
    Replay,
    Step,
    catalogue_state,
    check_matrix,
    facts,
    grant_privilege,
    grant_role,
    histories,
    matrix_records,
    replay,
    session_state,
    what_can_matrix,
)

# history-only facts no rule of these targets reads, with an order-dependent counter
HISTORY_ONLY = ("ownership_transfer",)


def stored(reasoner: Reasoner) -> frozenset:
    """The facts as the engine itself holds them (not the fact store's bookkeeping)."""
    backend = reasoner.engine.backend
    return frozenset((pred, row) for pred in sorted(backend.program.extensional())
                     for row in backend.facts(pred))


def state(rep: Replay) -> tuple:
    return (facts(rep.reasoner, with_origin=True), stored(rep.reasoner),
            catalogue_state(rep.reasoner), session_state(rep.session))


def what_can_records(before: frozenset, after: frozenset) -> list[testfile.Record]:
    """Check records that hold before and fail after (what_can rows that changed)."""
    records: list[testfile.Record] = []
    for user, privilege, kind, name, _roots in sorted(before ^ after):
        records.append(testfile.connect(f"acc:{user}", "public", "all"))
        records.append(testfile.check(privilege, f"{kind} {name}",
                                      any(r[:4] == (user, privilege, kind, name)
                                          for r in before)))
    return records


@budget(10)
@given(histories())
def test_a_rejected_statement_changes_nothing(history: History) -> None:
    """Law: a statement MatrixOne rejects -- denied, invalid, unparsable -- and a login
    that fails leave everything as it was: every fact with its origin, the facts the engine
    holds, the catalogue with its indexes, the session, and every user's access."""
    seen: dict[str, object] = {}

    def before(rep: Replay, _step: Step) -> None:
        seen["state"], seen["access"] = state(rep), what_can_matrix(rep.reasoner)

    def after(rep: Replay, _step: Step) -> None:
        played = rep.played[-1]
        if played.outcome is not None and played.outcome.ok:
            return
        now, access = state(rep), what_can_matrix(rep.reasoner)
        if (now, access) != (seen["state"], seen["access"]):
            changed = sorted(seen["state"][0] ^ now[0], key=str)[:10]  # type: ignore[index]
            raise AssertionError(
                f"rejected: {played.step.statement!r} "
                f"({played.outcome.error if played.outcome else played.connect_error})\n"
                f"facts changed: {changed}\n"
                + rep.render(*what_can_records(seen["access"], access),  # type: ignore[arg-type]
                             title="a rejected statement changed the state"))

    replay(history, before=before, after=after)


REVOKES = ((re.compile(r"^grant (.+) on (.+) to (\S+)( with grant option)?$"),
            r"revoke \1 on \2 from \3"),
           (re.compile(r"^grant (\S+) to (\S+)( with grant option)?$"), r"revoke \1 from \2"))
ROWS = ("privilege", "ownership_grant", "role_grant", "user_role")


def revoke_of(grant: str) -> str:
    for pattern, replacement in REVOKES:
        if pattern.match(grant):
            return pattern.sub(replacement, grant)
    raise AssertionError(grant)


@budget(10)
@given(histories(), st.one_of(grant_privilege, grant_role))
def test_grant_then_its_revoke_restores_every_decision(history: History, grant: str) -> None:
    """Law: after any history, GRANT x followed by the REVOKE of x restores every fact
    and every decision (what_can of every user, point checks with every role active),
    when the grant made a new row (re-granting a held row and revoking it would remove
    what was there before)."""
    rep = replay(history)
    admin = rep.reasoner.session("acc:admin")
    facts_before = facts(rep.reasoner, ignore=HISTORY_ONLY)
    access_before, checks_before = what_can_matrix(rep.reasoner), check_matrix(rep.reasoner)
    outcome = admin.execute(grant)
    assume(outcome.ok)
    assume(any(pred in ROWS for pred, _ in facts(rep.reasoner, ignore=HISTORY_ONLY)
               - facts_before))
    revoke = revoke_of(grant)
    undone = admin.execute(revoke)
    assert undone.ok, undone.error
    checks_after = check_matrix(rep.reasoner)
    expected = rep.render(testfile.connect("acc:admin"), testfile.statement(grant, True),
                          testfile.statement(revoke, True),
                          *matrix_records(checks_before, [k for k in checks_before
                                                          if checks_before[k] !=
                                                          checks_after.get(k)]),
                          title="GRANT then REVOKE did not restore every decision")
    assert facts(rep.reasoner, ignore=HISTORY_ONLY) == facts_before, expected
    assert what_can_matrix(rep.reasoner) == access_before, expected
    assert checks_after == checks_before, expected


def _independent(first: str, second: str) -> bool:
    """Not independent: two role edges (the later may close a cycle and be refused), and
    two grants of one row (the later grant option wins)."""
    edge = re.compile(r"^grant r\d to r\d")
    if edge.match(first) and edge.match(second):
        return False
    plain = re.compile(r" with grant option$")
    return plain.sub("", first) != plain.sub("", second)


@budget(10)
@given(histories(max_steps=10), st.one_of(grant_privilege, grant_role),
       st.one_of(grant_privilege, grant_role))
def test_independent_grants_commute_after_any_history(history: History, first: str,
                                                      second: str) -> None:
    """Law: two independent grants by the administrator, after any history, have the same
    outcomes and leave the same facts and the same access in either order."""
    assume(_independent(first, second))
    results = []
    for pair in ((first, second), (second, first)):
        rep = replay(History(history.steps + tuple(Step(s, "acc:admin") for s in pair),
                             history.target))
        outcomes = {p.step.statement: (p.outcome.ok, p.outcome.error) for p in rep.played[-2:]
                    if p.outcome is not None}
        results.append((rep, outcomes, facts(rep.reasoner, ignore=HISTORY_ONLY),
                        what_can_matrix(rep.reasoner)))
    (one, *a), (other, *b) = results
    message = one.render(title="independent grants do not commute") + "\n--- other order ---\n" \
        + other.render()
    assert a[0] == b[0], message
    assert a[1] == b[1], message
    assert a[2] == b[2], message


_QUOTED = re.compile(r"('(?:[^'\\]|\\.)*'|`[^`]*`)")


def vary_case(text: str, rng: random.Random) -> str:
    """Each letter outside quotes in a random case (names and keywords; not strings)."""
    parts = _QUOTED.split(text)
    return "".join(part if i % 2 else "".join(c.upper() if rng.random() < 0.5 else c.lower()
                                               for c in part)
                   for i, part in enumerate(parts))


def _norm(error: str | None) -> str | None:
    return None if error is None else re.sub(r"^\S*:\d+:\d+: ", "", error).lower()


@budget(10)
@given(histories(), st.integers(0, 2**32 - 1))
def test_case_variants_of_names_change_nothing(history: History, seed: int) -> None:
    """Law: MatrixOne folds account, user, role, database and table names (and keywords)
    to lower case, so writing them in any case changes no outcome, no fact and no access."""
    rng = random.Random(seed)
    variant = History(tuple(
        Step(vary_case(s.statement, rng), s.principal and vary_case(s.principal, rng),
             s.role and vary_case(s.role, rng), s.secondary and vary_case(s.secondary, rng))
        for s in history.steps), history.target)
    one, other = replay(history), replay(variant)
    message = one.render(title="a case variant changed something") + "\n--- variant ---\n" \
        + other.render()
    assert [(p.outcome.ok, _norm(p.outcome.error)) if p.outcome else p.connect_error is None
            for p in one.played] == \
           [(p.outcome.ok, _norm(p.outcome.error)) if p.outcome else p.connect_error is None
            for p in other.played], message
    assert facts(one.reasoner) == facts(other.reasoner), message
    assert what_can_matrix(one.reasoner) == what_can_matrix(other.reasoner), message


@budget(10)
@given(histories())
def test_who_can_and_what_can_equal_point_checks_after_any_history(history: History) -> None:
    """Differential: the reverse questions agree with point checks -- who_can(p, x) lists
    exactly the users some granted role of which allows p on x as current role, with
    exactly those roles; what_can(user) lists exactly what those checks allow."""
    rep = replay(history)
    reasoner, catalogue = rep.reasoner, rep.reasoner.engine.catalogue
    acc = catalogue.account("acc")
    expected: dict[tuple[str, str, str], set[str]] = {}
    questions = [(p, on) for p, on in CHECKS if on.startswith(("table", "view"))
                 and catalogue.object(acc, *on.split()[1].split(".")) is not None]
    for user in sorted(acc.users):
        for role_id, _ in catalogue.user_roles(acc.users[user].id):
            role = catalogue.role_by_id(role_id).name
            session = reasoner.session(f"acc:{user}", role)
            for privilege, on in questions:
                if session.check(privilege, on):
                    expected.setdefault((user, privilege, on), set()).add(role)
            session.close()
    message = rep.render(title="who_can/what_can disagree with point checks")
    for privilege, on in questions:
        got = {(a.user, a.roles) for a in reasoner.who_can(privilege, on, account="acc")}
        want = {(u, tuple(sorted(roles))) for (u, p, o), roles in expected.items()
                if (p, o) == (privilege, on)}
        assert got == want, f"who_can {privilege} on {on}: {got} != {want}\n{message}"
    for user in sorted(acc.users):
        got_rows = {(p, f"{k} {n}") for p, k, n, _ in reasoner.what_can(f"acc:{user}")}
        want_rows = {(p, o) for (u, p, o) in expected if u == user}
        assert {q for q in got_rows if q in questions} == want_rows, f"what_can {user}\n{message}"


@budget(10)
@given(histories())
def test_main_and_v420_agree_when_no_secondary_role_is_used(history: History) -> None:
    """Differential: the two targets differ only by SET SECONDARY ROLE ALL, so a history
    that never uses it has the same outcomes, facts and access under both."""
    steps = tuple(Step(s.statement, s.principal, s.role) for s in history.steps
                  if "secondary" not in s.statement)
    one = replay(History(steps, "matrixone-v4.2.0"))
    other = replay(History(steps, "matrixone-main"))
    message = one.render(title="v4.2.0 and main disagree")
    assert [(p.outcome and (p.outcome.ok, p.outcome.error)) for p in one.played] == \
           [(p.outcome and (p.outcome.ok, p.outcome.error)) for p in other.played], message
    assert facts(one.reasoner) == facts(other.reasoner), message
    assert what_can_matrix(one.reasoner) == what_can_matrix(other.reasoner), message


@budget(10)
@given(histories())
def test_a_rendered_history_replays_the_same_through_load_and_the_runner(
        history: History) -> None:
    """Differential: the step-by-step driver, ``Reasoner.load`` of the same script, and
    the conformance runner on the rendered ``.test`` file all agree on every outcome
    (so the files the other properties print are faithful)."""
    rep = replay(history)
    assume(all(p.outcome is not None for p in rep.played))  # load keeps a failed login's
    loaded = Reasoner("matrixone", history.target).load(history.script())  # old session
    driven = [p.outcome for p in rep.played if p.outcome is not None]
    tail = loaded[len(loaded) - len(driven):]  # after the base's outcomes
    # positions differ (one script versus one statement at a time): compare the rest
    assert [(o.ok, _norm(o.error)) for o in tail] == [(o.ok, _norm(o.error)) for o in driven]
    text = rep.render(title="rendered history")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.test"
        path.write_text(text, encoding="utf-8")
        result = conformance.run_file(path, history.target)
    assert result.failures == [], text


QUESTIONS = st.tuples(st.sampled_from(H_USERS), st.sampled_from(CHECKS))


@budget(10)
@given(histories(max_steps=10), st.lists(QUESTIONS, min_size=1, max_size=3, unique=True))
def test_explanations_are_sound(history: History, questions: list) -> None:
    """Law: every allow has a proof the independent checker accepts; every deny's
    repairs, each applied alone (then rolled back), allow -- so the best one does, and no
    repair is ever claimed that fails its own re-check."""
    rep = replay(history)
    engine = rep.reasoner.engine
    checker = ProofChecker(engine.backend.program, engine.facts, engine.backend)
    for user, (privilege, on) in questions:
        try:
            session = rep.reasoner.session(f"acc:{user}", "public", "all")
        except Exception:
            continue
        decision = session.check(privilege, on)
        ask = rep.render(testfile.connect(f"acc:{user}", "public", "all"),
                         testfile.check(privilege, on, decision.allowed),
                         title=f"explanation of {privilege} on {on} for {user}")
        if decision.allowed:
            problems = checker.check_why(session.why(privilege, on))
            assert problems == [], f"{problems}\n{ask}"
            continue
        explanation = session.why_not(privilege, on)
        for repair in explanation.repairs:
            run_as = "session" if repair.run_as.startswith("the user") else "admin"
            with trial(engine.journal):
                engine._apply_candidate(session.state,  # noqa: SLF001
                                        Candidate(repair.statements, run_as))
                assert session.check(privilege, on).allowed, \
                    f"repair {repair.statements} does not allow\n{ask}"
        assert session.check(privilege, on).allowed is False, "a trial left a trace"
        session.close()


@budget(10)
@given(histories(max_steps=10), st.lists(QUESTIONS, min_size=1, max_size=3, unique=True))
def test_blast_radius_counted_on_named_objects_equals_the_whole_count(
        history: History, questions: list) -> None:
    """Law: the blast radius counted the fast way (on the objects a repair names; or by
    joining each role's rows once) equals counting the ``user_may`` relation itself, user
    by user (the shortcuts are exact, not estimates)."""
    from unittest import mock

    import reasoner.dialects.matrixone.explain as explain
    from reasoner.datalog.ast import Atom, Const, Var

    def whole(engine, users, objects=None) -> int:
        return sum(len(engine.backend.query(Atom("user_may", (Const(u), Var("P"), Var("K"),
                                                              Var("O"))))) for u in users)

    rep = replay(history)
    for user, (privilege, on) in questions:
        try:
            session = rep.reasoner.session(f"acc:{user}", "public", "all")
        except Exception:
            continue
        if session.check(privilege, on).allowed:
            continue
        scoped = [(r.statements, r.blast_radius) for r in session.why_not(privilege, on).repairs]
        with mock.patch.object(explain, "access_count", whole):
            counted = [(r.statements, r.blast_radius)
                       for r in session.why_not(privilege, on).repairs]
        assert scoped == counted, rep.render(title=f"blast radius of {privilege} on {on}")
        session.close()
