"""Hypothesis profiles for every property and fuzz test.

``ci`` (the default): derandomized -- the same examples on every run, so CI is
reproducible and its time fixed -- with no example database and no deadline (a decision
takes milliseconds, a generated history a second; wall time on a shared machine is noise).
``long``: ``HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/properties tests/fuzz``
explores new random examples, about 25 times as many per test (24 minutes on the 2-core
machine on 2026-12-02; docs/reliability.md has the figures). Tests size themselves with
:func:`tests.strategies.budget`, which scales with the profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
         HealthCheck.function_scoped_fixture]

settings.register_profile("ci", derandomize=True, max_examples=20, deadline=None,
                          database=None, suppress_health_check=_SLOW, print_blob=False)
settings.register_profile("long", derandomize=False, max_examples=500, deadline=None,
                          database=None, suppress_health_check=_SLOW, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
