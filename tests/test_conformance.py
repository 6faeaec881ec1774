"""Every published conformance case, under every target it holds for, on the reference
evaluator (pyDatalog); tests/test_incremental_backend.py runs them on the default fast path."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner import conformance
from reasoner.rulebase import REFERENCE_BACKEND

CASES = Path(__file__).parent / "conformance"
MATRIXONE_TARGETS = ("matrixone-v4.2.0", "matrixone-main", "matrixone-doc")


def _matrixone_runs() -> list[tuple[Path, str]]:
    runs = []
    for path in sorted((CASES / "matrixone").glob("*.test")):
        pragma = conformance.file_target(path.read_text(encoding="utf-8"))
        for target in MATRIXONE_TARGETS:
            if pragma is None and target == "matrixone-doc":
                continue  # files without the pragma are stated for v4.2.0 and main
            if pragma is None or pragma == target:
                runs.append((path, target))
    return runs


@pytest.mark.parametrize(("path", "target"), _matrixone_runs(),
                         ids=lambda v: v.name if isinstance(v, Path) else v)
def test_matrixone_case(path: Path, target: str) -> None:
    """The case passes; on the way every allow gets a proof the independent checker
    accepts, and every deny a why-not whose best repair, applied, allows (or the dialect
    says why no statement can)."""
    result = conformance.run_file(path, target, display=path.name, explain=True,
                                  backend=REFERENCE_BACKEND)
    assert result.skipped is None
    assert result.failures == []
    assert result.passed > 0
    assert result.proof_problems == []
    assert result.unrepaired == []
    assert result.repaired + len(result.unrepairable) == result.denials


def test_every_target_has_cases() -> None:
    targets = {t for _, t in _matrixone_runs()}
    assert targets == set(MATRIXONE_TARGETS)
