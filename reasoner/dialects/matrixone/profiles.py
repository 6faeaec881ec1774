"""Semantic profiles (conformance targets): which rule modules load. Profiles differ by
rules only, never by branches in Python."""

from __future__ import annotations

BASE = ("schema", "vocabulary", "inheritance", "admin", "privileges", "tables", "drop_owner",
        "grant_option", "reverse", "matrix")

PROFILES: dict[str, tuple[str, ...]] = {
    # the latest release: secondary roles active, the owner column never moves
    "matrixone-v4.2.0": BASE + ("secondary", "ownership"),
    # the development branch: SET SECONDARY ROLE ALL|NONE accepted and inert
    "matrixone-main": BASE + ("ownership",),
    # v4.2.0 plus the ownership model of the seed document
    "matrixone-doc": BASE + ("secondary", "profiles/doc_ownership"),
}
DEFAULT_TARGET = "matrixone-v4.2.0"


def rule_files(target: str) -> tuple[str, ...]:
    try:
        return tuple(f"matrixone/{name}.dl" for name in PROFILES[target])
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown MatrixOne target {target!r} (known: {known})") from None
