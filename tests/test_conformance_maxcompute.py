"""Every published MaxCompute conformance case passes (they carry no target pragma)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner import conformance

CASES = sorted((Path(__file__).parent / "conformance" / "maxcompute").glob("*.test"))


def test_cases_are_present() -> None:
    assert len(CASES) >= 13


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_maxcompute_case(path: Path) -> None:
    result = conformance.run_file(path, "matrixone-v4.2.0", display=path.name)
    assert result.skipped is None
    assert result.failures == []
    assert result.passed > 0
