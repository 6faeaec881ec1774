"""The conformance runner for ``.test`` files (shared/conformance/FORMAT.md).

Each file runs against one fresh reasoner, record by record. A failed record prints
``file:line: expected ..., got ...``; the run closes with ``N passed, N failed``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reasoner.api import Reasoner, Session

_CHECK = re.compile(r"^\s*(?P<priv>.+?)\s+on\s+(?P<kind>\w+)\s+(?P<name>.+?)\s*$", re.I)
# FORMAT.md: a MatrixOne file without a pragma holds for these targets
UNMARKED_TARGETS = ("matrixone-v4.2.0", "matrixone-main")
_TARGET = re.compile(r"^#\s*@target:\s*(\S+)")


@dataclass(frozen=True)
class Record:
    kind: str  # dialect, connect, statement, check, project, policyfile, advance
    header: str
    body: str
    line: int  # line of the header
    body_line: int


@dataclass
class FileResult:
    path: str
    skipped: str | None = None
    passed: int = 0
    failures: list[str] = field(default_factory=list)
    # with explain=True: every allow proved and checked, every deny explained and repaired
    proofs: int = 0
    proof_problems: list[str] = field(default_factory=list)
    denials: int = 0
    repaired: int = 0
    unrepaired: list[str] = field(default_factory=list)
    unrepairable: list[str] = field(default_factory=list)  # with the dialect's reason


def read_records(text: str) -> Iterator[Record]:
    """Split a .test file into records: blank-line separated, ``#`` comments dropped."""
    lines = text.replace("\r\n", "\n").split("\n")
    block: list[tuple[int, str]] = []
    for number, line in enumerate(lines + [""], start=1):
        if line.strip() == "":
            if block:
                yield _record(block)
                block = []
            continue
        if line.lstrip().startswith("#") and not block:
            continue
        if line.lstrip().startswith("#") and block and block[0][1].split()[0] != "policyfile":
            continue
        block.append((number, line))


def _record(block: list[tuple[int, str]]) -> Record:
    line, header = block[0]
    rest = block[1:]
    body = "\n".join(text for _, text in rest)
    word = header.split()[0].lower()
    return Record(word, header.strip(), body, line, rest[0][0] if rest else line)


def file_target(text: str) -> str | None:
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _TARGET.match(line.strip())
        if match:
            return match.group(1)
        if not line.startswith("#"):
            break
    return None


def run_file(path: Path, target: str, display: str | None = None, *,
             explain: bool = False, backend: str | None = None) -> FileResult:
    text = path.read_text(encoding="utf-8")
    name = display or str(path)
    result = FileResult(name)
    pragma = file_target(text)
    records = list(read_records(text))
    dialect = next((r.header.split()[1].lower() for r in records if r.kind == "dialect"),
                   "matrixone")
    if dialect == "matrixone" and pragma is not None and pragma != target:
        result.skipped = f"target {pragma}"
        return result
    if dialect == "matrixone" and pragma is None and target not in UNMARKED_TARGETS:
        result.skipped = "no target pragma: holds for matrixone-v4.2.0 and matrixone-main"
        return result
    try:
        reasoner = Reasoner(dialect, target if dialect == "matrixone" else None,
                            backend=backend)
    except Exception as exc:  # a broken installation fails every record, loudly
        result.failures.append(f"{name}:1: expected a reasoner, got {type(exc).__name__}: {exc}")
        return result
    session: Session | None = None
    if reasoner.dialect.initial_principal:
        session = reasoner.initial_session
    for record in records:
        if explain and session is not None and record.kind in ("statement", "check"):
            _explain_record(reasoner, session, record, name, result)
        outcome = _run_record(reasoner, session, record, name)
        if isinstance(outcome, Session):
            session = outcome
            continue
        if outcome is None:
            continue
        if outcome == "":
            result.passed += 1
        else:
            result.failures.append(outcome)
    return result


def _run_record(reasoner: Reasoner, session: Session | None, record: Record,
                name: str) -> Session | str | None:
    where = f"{name}:{record.line}"
    words = record.header.split()
    if record.kind == "dialect":
        return None
    if record.kind == "connect":
        principal, role, secondary = parse_connect(words[1:])
        try:
            return reasoner.session(principal, role, secondary)
        except Exception as exc:
            return f"{where}: expected connect to succeed, got {exc}"
    if record.kind in ("project", "policyfile", "advance"):
        directive = getattr(reasoner.engine, "directive", None)
        if directive is None:
            return f"{where}: expected a {reasoner.dialect.name} record, got {record.kind!r}"
        try:
            directive(record.kind, words[1:], record.body)
        except Exception as exc:
            return f"{where}: expected the {record.kind} record to apply, got {exc}"
        return None
    if record.kind in ("statement", "check") and session is None:
        return f"{where}: expected a connect record before the first {record.kind}, got none"
    assert session is not None
    if record.kind == "statement":
        expect_ok = len(words) > 1 and words[1].lower() == "ok"
        expected_text = " ".join(words[2:]) if not expect_ok else ""
        outcome = session.execute(record.body, source=name, line=record.body_line)
        if expect_ok:
            return "" if outcome.ok else f"{where}: expected ok, got error: {outcome.error}"
        if outcome.ok:
            return f"{where}: expected error {expected_text!r}, got ok"
        if expected_text and expected_text.lower() not in (outcome.error or "").lower():
            return f"{where}: expected error {expected_text!r}, got error: {outcome.error}"
        return ""
    if record.kind == "check":
        expect = words[1].lower() if len(words) > 1 else "allow"
        match = _CHECK.match(record.body.strip())
        if not match:
            return f"{where}: expected a check '<privilege> on <kind> <name>', got {record.body!r}"
        decision = session.check(match["priv"], f"{match['kind']} {match['name']}")
        got = "allow" if decision.allowed else "deny"
        if got == expect:
            return ""
        extra = f" ({'; '.join(decision.errors)})" if decision.errors else ""
        return f"{where}: expected {expect}, got {got}{extra}"
    return f"{where}: expected a known record, got {record.kind!r}"


def _explain_record(reasoner: Reasoner, session: Session, record: Record, name: str,
                    result: FileResult) -> None:
    """Prove the allow or explain the deny the record is about to produce, before it runs
    (proofs and repairs are checked against the state the record is judged in)."""
    from reasoner.explain.checker import ProofChecker
    from reasoner.explain.repairs import trial

    engine = reasoner.engine
    where = f"{name}:{record.line}"
    if record.kind == "check":
        match = _CHECK.match(record.body.strip())
        if not match:
            return
        privilege, on = match["priv"], f"{match['kind']} {match['name']}"
        decision = session.check(privilege, on)
        kind, _, obj = on.partition(" ")

        def recheck():
            return engine.check(session.state, privilege, kind, obj)
    else:
        from reasoner.authorizer import decide

        try:
            statement = reasoner.dialect.parse_statement(record.body, name, record.body_line, 1)
            with trial(engine.journal):  # planning may record names: decide in that state
                decision = decide(engine.backend, engine.plan(session.state,
                                                              statement).requirement)
        except Exception:
            return  # fails before authorization (parse or planning): nothing to explain

        def recheck():
            return decide(engine.backend, engine.plan(session.state, statement).requirement)
    with reasoner.lock:
        if decision.allowed:
            if not decision.requirement.needs:
                return
            from reasoner.explain.why import why

            proof = why(decision, engine.backend, engine.facts)
            problems = ProofChecker(engine.backend.program, engine.facts,
                                    engine.backend).check_why(proof)
            result.proofs += 1
            result.proof_problems.extend(f"{where}: {p}" for p in problems)
            return
        result.denials += 1
        explanation = engine.why_not(session.state, decision, recheck)
        if not explanation.repairs:
            reason = explanation.context.get("unrepairable")
            if reason:
                result.repaired += 0
                result.unrepairable.append(f"{where}: {reason}")
            else:
                result.unrepaired.append(f"{where}: {decision.requirement.statement}")
            return
        best = explanation.repairs[0]
        from reasoner.explain.repairs import Candidate

        with trial(engine.journal):
            engine._apply_candidate(session.state, Candidate(  # noqa: SLF001
                best.statements, "session" if best.run_as.startswith("the user") else "admin"))
            if recheck().allowed:
                result.repaired += 1
            else:
                result.unrepaired.append(f"{where}: best repair {best.statements} fails")


def parse_connect(words: list[str]) -> tuple[str, str | None, str | None]:
    """``<principal...> [role R] [secondary all|none]``: the principal may be two words
    (MaxCompute: ``<project> <user>``), the options come last."""
    words = list(words)
    role = secondary = None
    while len(words) >= 3 and words[-2].lower() in ("role", "secondary"):
        key, value = words[-2].lower(), words[-1]
        words = words[:-2]
        if key == "role":
            role = value
        else:
            secondary = value
    return " ".join(words), role, secondary


def collect(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*.test")))
        else:
            files.append(path)
    return files


def run(paths: Iterable[Path], target: str, out: list[str] | None = None
        ) -> tuple[int, int, list[FileResult]]:
    """Run every .test file under ``paths``; returns (passed, failed, per-file results)."""
    results = [run_file(path, target) for path in collect(paths)]
    passed = sum(r.passed for r in results)
    failed = sum(len(r.failures) for r in results)
    return passed, failed, results
