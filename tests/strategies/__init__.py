"""Hypothesis strategies shared by every property test, and the per-test budget."""

from __future__ import annotations

import os

from hypothesis import settings

LONG_FACTOR = 25  # the long profile runs this many times the CI examples of each test


def profile() -> str:
    return os.environ.get("HYPOTHESIS_PROFILE", "ci")


def budget(ci: int) -> settings:
    """``ci`` examples under the default profile (tests/conftest.py), ``LONG_FACTOR`` times
    as many under ``HYPOTHESIS_PROFILE=long``; everything else from the profile."""
    return settings(max_examples=ci * LONG_FACTOR if profile() == "long" else ci)
