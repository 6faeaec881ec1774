"""Benchmark: building the access matrix (every user x privilege x object, with the role it
flows through) from a generated MatrixOne policy, on the bulk backends.

    python benchmarks/matrix.py --size small|medium|large [--backend duckdb|spark]
                                [--strategy semi-naive|recursive-cte] [--seed 42]
                                [--json FILE]

Each run is a fresh subprocess, so that peak memory (``ru_maxrss``, plus the JVM's
``VmHWM`` for Spark) belongs to that run alone. The worker replays the generated script
through ``Reasoner`` (the point path: parse, catalogue, facts; timed apart, it is not part
of the matrix build), then times ``reasoner.materialize.materialize`` (facts to the engine,
the compiled rules, the names), a Parquet export, and a few who-can / what-can questions
answered from the matrix.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _jvm_peak_mb() -> float:
    """Peak resident memory (VmHWM) of this process's child processes (the Spark JVM)."""
    me, total = str(os.getpid()), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[1] != me:
                continue
            for line in (stat.parent / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except (OSError, IndexError, ValueError):
            continue
    return total


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(size: str, backend: str, strategy: str, seed: int) -> dict[str, Any]:
    """One measurement, in this process."""
    from generate import generate

    from reasoner import Reasoner
    from reasoner.materialize import materialize

    policy = generate(size, seed)
    reasoner = Reasoner("matrixone")
    started = time.perf_counter()
    outcomes = reasoner.load(policy.script())
    replay = time.perf_counter() - started
    out: dict[str, Any] = {
        "size": size, "backend": backend, "strategy": strategy, "seed": seed,
        "statements": len(outcomes), "failed": sum(not o.ok for o in outcomes),
        "facts": reasoner.engine.facts.count(), "replay_s": round(replay, 2),
        "rss_before_mb": round(_rss_mb(), 1)}
    spark = None
    if backend == "spark":
        from reasoner.backends.spark_backend import spark_session

        started = time.perf_counter()
        spark = spark_session(config={"spark.driver.memory": "8g"})
        spark.range(1).count()
        out["spark_start_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    matrix = materialize(reasoner, backend=backend, strategy=strategy, spark=spark)
    out["matrix_s"] = round(time.perf_counter() - started, 2)
    out["parts_s"] = {k: round(v, 2) for k, v in matrix.seconds.items()}
    assert matrix.evaluation is not None
    out["rounds"] = matrix.evaluation.rounds
    slowest = sorted(matrix.evaluation.seconds.items(), key=lambda kv: -kv[1])[:3]
    out["slowest_s"] = {k: round(v, 2) for k, v in slowest}
    started = time.perf_counter()
    out["rows"] = matrix.count()
    out["count_s"] = round(time.perf_counter() - started, 2)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "matrix.parquet"
        started = time.perf_counter()
        matrix.to_parquet(target)
        out["parquet_s"] = round(time.perf_counter() - started, 2)
        out["parquet_mb"] = round(target.stat().st_size / 2**20, 1)
    who, what = [], []
    for user, privilege, table in policy.sample_checks(10, seed):
        started = time.perf_counter()
        matrix.who_can(privilege, "table", table, account="acc")
        who.append(time.perf_counter() - started)
        started = time.perf_counter()
        matrix.what_can(f"acc:{user}")
        what.append(time.perf_counter() - started)
    out["who_can_ms_median"] = round(sorted(who)[len(who) // 2] * 1000, 1)
    out["what_can_ms_median"] = round(sorted(what)[len(what) // 2] * 1000, 1)
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    if spark is not None:
        out["jvm_peak_mb"] = round(_jvm_peak_mb(), 1)
        spark.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=["small", "medium", "large", "x4"], default="small")
    ap.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb")
    ap.add_argument("--strategy", choices=["semi-naive", "recursive-cte"],
                    default="semi-naive")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", type=Path, default=None, help="append the result to this file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.size, args.backend, args.strategy, args.seed)))
        return 0
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--size", args.size,
               "--backend", args.backend, "--strategy", args.strategy, "--seed",
               str(args.seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return done.returncode
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result, indent=2))
    if args.json is not None:
        with args.json.open("a", encoding="utf-8") as f:
            f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
