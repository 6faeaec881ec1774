"""The dialects the reasoner knows, by name."""

from __future__ import annotations

from reasoner.dialects.base import Dialect


def get_dialect(name: str) -> Dialect:
    name = name.lower()
    if name == "matrixone":
        from reasoner.dialects.matrixone import MatrixOne

        return MatrixOne()
    if name == "maxcompute":
        from reasoner.dialects.maxcompute import MaxCompute

        return MaxCompute()
    raise ValueError(f"unknown dialect {name!r} (known: matrixone, maxcompute)")
