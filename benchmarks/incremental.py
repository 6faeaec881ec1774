"""The incremental backend next to pyDatalog, through the public library API.

    python benchmarks/incremental.py --size small|medium|large [--backend incremental]
                                     [--backend pydatalog] [--checks 1000] [--changes 50]
                                     [--drops 20] [--no-gc-freeze] [--json FILE]

Each (size, backend) runs in a fresh subprocess, so that load time and peak RSS of one never
include another. In it:

- **load**: ``Reasoner("matrixone", backend=...).load(script)`` of the generated policy
  (``generate.py``: parse, catalogue, facts, and for the incremental backend the
  maintenance of every kept relation); then ``gc.freeze()`` (engines.md: cyclic GC over
  millions of tuples is what makes later updates slow), unless ``--no-gc-freeze``;
- **checks**: one session per checked user (SECONDARY ROLE ALL), ``session.check(p,
  "table db.t")`` over the sampled checks, a cold pass (right after load: nothing memoised)
  and a warm one; every answer compared with the generator's reference closure. ``solve``
  is also timed alone (the backend's share of a check);
- **grant / revoke**: ``admin.execute(GRANT | REVOKE ...)`` then the next check (which must
  see the change), then the undo statement; **drop role**: ``DROP ROLE r`` of a role some
  user's access depends on, then that user's check (must be denied); drops are not undone;
- **memory**: ``ru_maxrss`` after load and at the end, interpreter included.

Latencies are wall-clock p50/p99 (nearest rank) over the checks; on a shared 2-core VM,
reruns differ by 20-30% (engines.md), so the CPU load average is reported beside them.
"""

from __future__ import annotations

import argparse
import gc
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

from generate import generate  # noqa: E402


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of ``values`` (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def summary(ms: list[float]) -> dict[str, Any]:
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99),
            "max_ms": max(ms) if ms else None}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(size: str, backend: str, n_checks: int, n_changes: int, n_drops: int,
        freeze: bool) -> dict[str, Any]:
    """One (size, backend) measurement, in this process."""
    from reasoner import Reasoner

    policy = generate(size)
    script = policy.script()
    checks = policy.sample_checks(n_checks)
    expected = [policy.allowed(*c) for c in checks]
    grants = policy.grant_changes(n_changes)
    revokes = policy.revoke_changes(n_changes)
    drops = policy.revoke_changes(n_drops, seed=7)
    out: dict[str, Any] = {"size": size, "backend": backend, "rss_start_mb": rss_mb(),
                           "loadavg_start": os.getloadavg()}
    reasoner = Reasoner("matrixone", backend=backend)
    t = time.perf_counter()
    outcomes = reasoner.load(script)
    out["load_s"] = time.perf_counter() - t
    out["failed_statements"] = sum(not o.ok for o in outcomes)
    engine = reasoner.engine
    out["facts"] = engine.facts.count()
    sizes = getattr(engine.backend, "sizes", None)
    if sizes is not None:
        kept = sizes()
        out["kept_rows"] = sum(kept.values())
        out["largest_kept"] = sorted(kept.items(), key=lambda kv: -kv[1])[:6]
        out["on_demand"] = sorted(engine.backend.on_demand())
        out["indexes"] = engine.backend.index_count()
    if freeze:
        gc.collect()
        gc.freeze()
    out["gc_freeze"] = freeze
    out["rss_after_load_mb"] = rss_mb()

    users = sorted({c[0] for c in checks} | {c.user for c in grants + revokes + drops})
    sessions = {u: reasoner.session(f"acc:{u}", secondary="all") for u in users}

    backend_obj = engine.backend
    solve = backend_obj.solve
    in_solve = [0.0]

    def timed_solve(body: Any, limit: int | None = None) -> Any:
        t0 = time.perf_counter()
        try:
            return solve(body, limit)
        finally:
            in_solve[0] += time.perf_counter() - t0

    def check(user: str, privilege: str, table: str) -> tuple[bool, float]:
        t0 = time.perf_counter()
        decision = sessions[user].check(privilege, f"table {table}")
        return bool(decision), (time.perf_counter() - t0) * 1000

    for name in ("cold", "warm", "solve_share"):
        if name == "solve_share":
            backend_obj.solve = timed_solve  # type: ignore[method-assign]
        lat: list[float] = []
        wrong = 0
        for (u, p, table), want in zip(checks, expected, strict=True):
            got, ms = check(u, p, table)
            lat.append(ms)
            wrong += got != want
        if name == "solve_share":
            backend_obj.solve = solve  # type: ignore[method-assign]
            out["solve_ms_per_check"] = in_solve[0] * 1000 / len(checks)
            out["check_ms_per_check_timed"] = sum(lat) / len(lat)
        else:
            out[f"check_{name}"] = summary(lat) | {"wrong": wrong}
    out["loadavg_checks"] = os.getloadavg()

    admin = reasoner.session("acc:admin")
    for kind, changes in (("grant", grants), ("revoke", revokes)):
        execute: list[float] = []
        recheck: list[float] = []
        total: list[float] = []
        wrong = failed = 0
        for ch in changes:
            t0 = time.perf_counter()
            outcome = admin.execute(ch.statement)
            ms = (time.perf_counter() - t0) * 1000
            got, check_ms = check(ch.user, ch.privilege, ch.table)
            execute.append(ms)
            recheck.append(check_ms)
            total.append(ms + check_ms)
            failed += not outcome.ok
            wrong += got != ch.expected
            failed += not admin.execute(ch.undo).ok
            wrong += check(ch.user, ch.privilege, ch.table)[0] == ch.expected
        out[kind] = {"execute": summary(execute), "recheck": summary(recheck),
                     "total": summary(total), "wrong": wrong, "failed": failed}
    execute, recheck, total = [], [], []
    wrong = failed = 0
    dropped: set[str] = set()
    for ch in drops:
        role = ch.statement.split()[1]  # "revoke rX from uY"
        if role in dropped:
            continue
        dropped.add(role)
        t0 = time.perf_counter()
        outcome = admin.execute(f"drop role {role}")
        ms = (time.perf_counter() - t0) * 1000
        got, check_ms = check(ch.user, ch.privilege, ch.table)
        execute.append(ms)
        recheck.append(check_ms)
        total.append(ms + check_ms)
        failed += not outcome.ok
        wrong += got  # access only came through the dropped role
    out["drop_role"] = {"execute": summary(execute), "recheck": summary(recheck),
                        "total": summary(total), "wrong": wrong, "failed": failed}
    out["rss_peak_mb"] = rss_mb()
    out["loadavg_end"] = os.getloadavg()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", action="append", choices=["small", "medium", "large"])
    ap.add_argument("--backend", action="append", choices=["incremental", "pydatalog"])
    ap.add_argument("--checks", type=int, default=1000)
    ap.add_argument("--changes", type=int, default=50)
    ap.add_argument("--drops", type=int, default=20)
    ap.add_argument("--no-gc-freeze", action="store_true")
    ap.add_argument("--json", help="write every result here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sizes = args.size or ["small"]
    backends = args.backend or ["incremental", "pydatalog"]
    if args.child:
        result = run(sizes[0], backends[0], args.checks, args.changes, args.drops,
                     not args.no_gc_freeze)
        print(json.dumps(result))
        return 0
    results = []
    for size in sizes:
        for backend in backends:
            with tempfile.TemporaryDirectory():
                cmd = [sys.executable, __file__, "--child", "--size", size, "--backend", backend,
                       "--checks", str(args.checks), "--changes", str(args.changes),
                       "--drops", str(args.drops)] + (["--no-gc-freeze"] if args.no_gc_freeze
                                                      else [])
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode != 0:
                    print(done.stderr, file=sys.stderr)
                    continue
                result = json.loads(done.stdout.strip().splitlines()[-1])
            results.append(result)
            print(_line(result), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


def _line(r: dict[str, Any]) -> str:
    def f(x: Any) -> str:
        return "-" if x is None else f"{x:.3f}"

    c, w = r["check_cold"], r["check_warm"]
    return (f"{r['size']:6} {r['backend']:11} load {r['load_s']:.1f}s "
            f"cold {f(c['p50_ms'])}/{f(c['p99_ms'])} warm {f(w['p50_ms'])}/{f(w['p99_ms'])} ms "
            f"(wrong {c['wrong']}+{w['wrong']}; solve {r['solve_ms_per_check']:.3f} of "
            f"{r['check_ms_per_check_timed']:.3f} ms) "
            f"grant {f(r['grant']['total']['p50_ms'])} revoke {f(r['revoke']['total']['p50_ms'])}"
            f" drop {f(r['drop_role']['total']['p50_ms'])} ms p50 "
            f"(wrong {r['grant']['wrong']}/{r['revoke']['wrong']}/{r['drop_role']['wrong']}) "
            f"RSS {r['rss_after_load_mb']:.0f}/{r['rss_peak_mb']:.0f} MB")


if __name__ == "__main__":
    raise SystemExit(main())
