"""Every published MaxCompute conformance case passes (they carry no target pragma)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner import conformance
from reasoner.rulebase import REFERENCE_BACKEND

CASES = sorted((Path(__file__).parent / "conformance" / "maxcompute").glob("*.test"))


def test_cases_are_present() -> None:
    assert len(CASES) >= 13


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_maxcompute_case(path: Path) -> None:
    """The case passes; on the way every allow gets a proof the independent checker
    accepts, and every deny a why-not whose best repair, applied, allows (or the dialect
    says why no statement can)."""
    result = conformance.run_file(path, "matrixone-v4.2.0", display=path.name, explain=True,
                                  backend=REFERENCE_BACKEND)
    assert result.skipped is None
    assert result.failures == []
    assert result.passed > 0
    assert result.proof_problems == []
    assert result.unrepaired == []
    assert result.repaired + len(result.unrepairable) == result.denials
