"""Spark SQL through PySpark: the same compiled program, for work beyond one machine.

On one machine DuckDB wins every measure (/work/shared/spec/spark.md: the large matrix in
5 s against 45-69 s, start-up 7-15 s); Spark is here for what does not fit one machine:
bulk materialisation, audits across many tenants, diffs between policy versions, answered
as joins on a cluster. Point decisions, proofs and incremental updates stay local.

The plan is :mod:`reasoner.backends.sql_compiler`'s, printed in the ``spark`` dialect. Each
relation is a temporary view over a DataFrame: inputs from Arrow batches, every derived
relation ``localCheckpoint``-ed once computed, so that a recursive component's lineage is
cut at every round of the semi-naive loop (Spark's own ``WITH RECURSIVE`` takes only
``UNION ALL``, enumerates paths, and stops at 100 levels or 1M rows).

Each backend works in its own ``SparkSession.newSession()``: temporary views are per
session, so several backends can share one SparkContext (and one JVM) without seeing each
other's tables.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from reasoner.backends.base import Value
from reasoner.backends.duckdb_backend import arrow_table
from reasoner.backends.sql_compiler import Relation, SqlBackend, SqlEngine

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkBackend", "SparkEngine", "default_master", "spark_session"]

DEFAULT_MASTER = "local[2]"


def default_master() -> str | None:
    """The master to ask for: ``SPARK_MASTER``, else None when ``spark.master`` is already
    configured (spark-defaults.conf, ``PYSPARK_SUBMIT_ARGS``), else ``local[2]``."""
    master = os.environ.get("SPARK_MASTER")
    if master:
        return master
    from pyspark import SparkConf

    if SparkConf().contains("spark.master"):
        return None
    return DEFAULT_MASTER


def spark_session(master: str | None = None, *, app_name: str = "reasoner",
                  config: dict[str, str] | None = None) -> SparkSession:
    """A SparkSession (the active one if there is one) set up for this project's plans.

    Local masters bind to loopback (``SPARK_LOCAL_IP``), the UI is off, shuffles use few
    partitions (the default 200 makes small relations much slower) and the log says only
    errors.
    """
    from pyspark.sql import SparkSession

    master = master or default_master()
    if master is None or master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    settings = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2",
                "spark.sql.adaptive.enabled": "true", "spark.driver.memory": "1g",
                "spark.ui.showConsoleProgress": "false"}
    settings.update(config or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine(SqlEngine):
    """The :class:`SqlEngine` operations on temporary views of one Spark session."""

    dialect = "spark"

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.frames: dict[str, DataFrame] = {}
        self.statements = 0

    def sql(self, expression: exp.Expression) -> str:
        return expression.sql(dialect=self.dialect)

    def _query(self, query: exp.Query) -> DataFrame:
        self.statements += 1
        return self.spark.sql(self.sql(query))

    def _keep(self, rel: Relation, frame: DataFrame, *, mode: str = "cache") -> None:
        """Register ``frame`` as ``rel``'s view. ``mode``: ``"cache"`` (lazy: computed once,
        at the first job that reads it), ``"checkpoint"`` (computed now, lineage cut) or
        ``"plain"`` (a local relation: nothing to keep)."""
        frame = frame.toDF(*rel.columns)
        if mode == "checkpoint":
            frame = frame.localCheckpoint(eager=True)
        elif mode == "cache":
            frame = frame.cache()
        old = self.frames.pop(rel.table, None)
        frame.createOrReplaceTempView(rel.table)
        self.frames[rel.table] = frame
        if old is not None:
            old.unpersist()

    def store(self, rel: Relation, query: exp.Query) -> None:
        # deltas and new facts of the semi-naive loop are checkpointed at once: the loop
        # asks whether they are empty right away, and their lineage must not grow by round
        eager = rel.table.startswith(("d_", "n_"))
        reads = bool(list(query.find_all(exp.Table)))
        mode = "checkpoint" if eager and reads else ("cache" if reads else "plain")
        self._keep(rel, self._query(query), mode=mode)

    def store_rows(self, rel: Relation, rows: Sequence[tuple[Value, ...]]) -> None:
        self._keep(rel, self.spark.createDataFrame(arrow_table(rel, rows)), mode="plain")

    def append(self, target: Relation, source: Relation) -> None:
        # the union of checkpointed pieces: a shallow lineage without another job
        frame = self.frames[target.table].unionAll(self.frames[source.table])
        self._keep(target, frame, mode="plain")

    def move(self, source: Relation, target: Relation) -> None:
        frame = self.frames.pop(source.table)
        self.spark.catalog.dropTempView(source.table)
        old = self.frames.pop(target.table, None)
        frame.createOrReplaceTempView(target.table)
        self.frames[target.table] = frame
        if old is not None:
            old.unpersist()

    def is_empty(self, rel: Relation) -> bool:
        return self.spark.table(rel.table).isEmpty()

    def drop(self, rel: Relation) -> None:
        self.spark.catalog.dropTempView(rel.table)
        frame = self.frames.pop(rel.table, None)
        if frame is not None:
            frame.unpersist()

    def fetch(self, query: exp.Query) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._query(query).collect()]

    def frame(self, table: str) -> DataFrame:
        return self.spark.table(table)

    def reset(self) -> None:
        for table in list(self.frames):
            self.spark.catalog.dropTempView(table)
            self.frames.pop(table).unpersist()


class SparkBackend(SqlBackend):
    """The whole program materialised as Spark temporary views.

    ``spark``: a session to work in (a new sub-session of it is used), else
    :func:`spark_session` with ``master``. ``targets``: materialise only what these
    predicates depend on (None: everything).
    """

    name = "spark"
    dialect = "spark"

    def __init__(self, spark: SparkSession | None = None, *, master: str | None = None,
                 targets: Iterable[str] | None = None, intern: bool = True) -> None:
        super().__init__(strategy="semi-naive", targets=targets, intern=intern)
        self._lock = threading.RLock()
        parent = spark if spark is not None else spark_session(master)
        self.spark = parent.newSession()
        self._db = SparkEngine(self.spark)

    def __repr__(self) -> str:
        return f"SparkBackend({len(self._program.rules)} rules)"

    def _guard(self) -> Any:
        return self._lock

    def _engine(self) -> SparkEngine:
        return self._db

    def _reset(self) -> None:
        self._db.reset()

    @property
    def engine(self) -> SparkEngine:
        return self._db

    def close(self) -> None:
        """Drop this backend's views (the shared SparkContext stays up)."""
        with self._lock:
            self._db.reset()
