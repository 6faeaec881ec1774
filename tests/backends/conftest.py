"""One SparkSession for the whole suite: a JVM start costs 10-60 s on this machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """``local[2]`` unless ``SPARK_MASTER`` / ``spark.master`` say otherwise; stopped at the
    end of the session (each backend works in its own sub-session of it)."""
    from reasoner.backends.spark_backend import spark_session

    # tiny relations: interpreting beats compiling (whole-stage codegen) and adaptive
    # re-planning, and one shuffle partition is plenty (measured ~35% faster here)
    session = spark_session(app_name="reasoner-tests", config={
        "spark.sql.codegen.wholeStage": "false", "spark.sql.adaptive.enabled": "false",
        "spark.sql.shuffle.partitions": "1"})
    yield session
    session.stop()
