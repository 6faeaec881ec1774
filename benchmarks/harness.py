"""Benchmark harness: the reasoner library against a plain pyDatalog baseline.

    python benchmarks/harness.py --size small|medium|large [--checks 1000] [--changes 50]
                                 [--explain 200] [--seed 42] [--json FILE]
                                 [--only library|baseline] [--profile PART]

The parent process generates the policy (``generate.py``), writes the script and a plan
(checks with the reference answers, changes, the engines.md EDB) to a temporary
directory, and runs each side in a fresh subprocess, so that load time and peak memory
(``ru_maxrss``) of one side never include the other:

- **library**: ``Reasoner("matrixone").load(script)`` (parse + catalogue + facts), one
  session per checked user opened before timing (``secondary="all"``: SECONDARY ROLE ALL,
  so every role granted to the user counts, as in the reference closure), then
  ``session.check(privilege, "table db.t")``; GRANT / REVOKE through
  ``admin.execute(sql)`` followed by the next check; ``session.why`` / ``session.why_not``
  when the library has them (feature-detected), otherwise the explain layer directly.
- **baseline**: plain pyDatalog public API, the engines.md program (has_role / role_priv /
  can): ``pyDatalog.load(rules)``, ``pyDatalog.assert_fact``, ``pyDatalog.ask``.

``--profile PART`` (load, check, why, why_not, grant, revoke) runs that part of the
library side under cProfile and prints the top functions.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import Change, generate  # noqa: E402

BASELINE_RULES = """
has_role(U,R) <= user_role(U,R)
has_role(U,A) <= has_role(U,R) & inherits(R,A)
role_priv(R,P,T) <= grant_table(R,P,T)
role_priv(R,P,T) <= grant_db(R,P,D) & table_db(T,D)
role_priv(R,P,T) <= owns(R,T) & priv(P)
can(U,P,T) <= has_role(U,R) & role_priv(R,P,T)
"""

# --------------------------------------------------------------------------------------
# small helpers


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of a list of numbers; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def summary(values_ms: list[float]) -> dict[str, Any]:
    return {"n": len(values_ms), "p50_ms": pct(values_ms, 50), "p99_ms": pct(values_ms, 99),
            "mean_ms": sum(values_ms) / len(values_ms) if values_ms else None,
            "max_ms": max(values_ms) if values_ms else None}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def now() -> float:
    return time.perf_counter()


def cpu() -> float:
    """CPU time of this process: on a shared machine it moves far less than wall time."""
    return time.process_time()


def machine() -> dict[str, Any]:
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    out: dict[str, Any] = {"cores": os.cpu_count(), "memory_gib": mem,
                           "python": platform.python_version(),
                           "implementation": platform.python_implementation(),
                           "platform": platform.platform()}
    try:
        from importlib.metadata import version

        import pyDatalog.pyEngine

        out["pydatalog"] = version("pyDatalog")
        out["pydatalog_compiled"] = pyDatalog.pyEngine.__file__.endswith(".so")
        out["lark"] = version("lark")
    except Exception as exc:  # report, never fail the benchmark on metadata
        out["pydatalog_error"] = repr(exc)
    try:
        root = HERE.parent
        out["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                                       capture_output=True, text=True,
                                       timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "reasoner", "rules",
                                "grammar"], cwd=root, capture_output=True, text=True,
                               timeout=10).stdout.split("\n")
        out["uncommitted_library_files"] = [d[3:] for d in dirty if d.strip()]
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def _maybe_freeze(plan: dict[str, Any]) -> bool:
    """``--gc-freeze``: move everything alive after load out of the cyclic GC's reach, so
    that full collections do not walk the loaded policy during the timed parts."""
    if plan.get("gc_freeze"):
        import gc

        gc.collect()
        gc.freeze()
        return True
    return False


class Profiler:
    """cProfile around one named part, when that part was asked for."""

    def __init__(self, wanted: str | None, part: str) -> None:
        self.on = wanted == part
        self.part = part
        self.prof: Any = None

    def __enter__(self) -> Profiler:
        if self.on:
            import cProfile

            self.prof = cProfile.Profile()
            self.prof.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.on and self.prof is not None:
            import pstats

            self.prof.disable()
            print(f"\n### cProfile of {self.part} (library side)\n", file=sys.stderr)
            stats = pstats.Stats(self.prof, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(45)


# --------------------------------------------------------------------------------------
# the library side


def run_library(plan: dict[str, Any], script: str, profile: str | None) -> dict[str, Any]:
    from reasoner import Reasoner
    from reasoner.api import Session

    res: dict[str, Any] = {"rss_start_mb": rss_mb(), "loadavg_start": os.getloadavg()}
    t = now()
    reasoner = Reasoner("matrixone")
    res["init_s"] = now() - t
    with Profiler(profile, "load"):
        t, c = now(), cpu()
        outcomes = reasoner.load(script)
        res["load_s"] = now() - t
        res["load_cpu_s"] = cpu() - c
    failed = [o for o in outcomes if not o.ok]
    res["statements"] = len(outcomes)
    res["failed_statements"] = len(failed)
    res["failed_examples"] = [f"{o.line}: {o.statement[:80]} -> {o.error}" for o in failed[:5]]
    res["facts"] = reasoner.engine.facts.count()
    res["rss_after_load_mb"] = rss_mb()
    res["gc_freeze"] = _maybe_freeze(plan)

    checks = plan["checks"]
    changes = [Change(**c) for c in plan["grant_changes"] + plan["revoke_changes"]]
    users = sorted({c[0] for c in checks} | {c.user for c in changes})
    t = now()
    sessions = {u: reasoner.session(f"acc:{u}", secondary="all") for u in users}
    res["sessions"] = len(sessions)
    res["session_open_ms"] = (now() - t) * 1000 / max(1, len(sessions))
    res["session_mode"] = "SECONDARY ROLE ALL (default role current, all granted roles active)"

    def check(u: str, p: str, table: str) -> tuple[bool, float, bool, float]:
        t0, c0 = now(), cpu()
        d = sessions[u].check(p, f"table {table}")
        ms, cms = (now() - t0) * 1000, (cpu() - c0) * 1000
        return bool(d), ms, bool(d.errors), cms

    # checks: a cold pass (right after load) and a warm pass
    for name in ("cold", "warm"):
        lat: list[float] = []
        lat_cpu: list[float] = []
        wrong = errors = 0
        with Profiler(profile if name == "cold" else None, "check"):
            for u, p, table, expected in checks:
                got, ms, err, cms = check(u, p, table)
                lat.append(ms)
                lat_cpu.append(cms)
                wrong += got != expected
                errors += err
        if name == "cold":
            res["first_check_ms"] = lat[0] if lat else None
        res[f"check_{name}"] = summary(lat)
        res[f"check_{name}"]["wrong"] = wrong
        res[f"check_{name}"]["errors"] = errors
        res[f"check_{name}_cpu"] = summary(lat_cpu)
    res["check_allowed"] = summary([ms for (_, _, _, e), ms in zip(checks, lat, strict=True)
                                    if e])
    res["check_denied"] = summary([ms for (_, _, _, e), ms in zip(checks, lat, strict=True)
                                   if not e])

    # changes: GRANT / REVOKE as the account admin, then the next check
    admin = reasoner.session("acc:admin")
    for kind in ("grant", "revoke"):
        exec_ms: list[float] = []
        recheck_ms: list[float] = []
        total_ms: list[float] = []
        total_cpu: list[float] = []
        wrong = failed_changes = 0
        with Profiler(profile, kind):
            for ch in (c for c in changes if c.kind == kind):
                t0, c0 = now(), cpu()
                outcome = admin.execute(ch.statement)
                t1, c1 = now(), cpu()
                got, ms, _, cms = check(ch.user, ch.privilege, ch.table)
                exec_ms.append((t1 - t0) * 1000)
                recheck_ms.append(ms)
                total_ms.append((t1 - t0) * 1000 + ms)
                total_cpu.append((c1 - c0) * 1000 + cms)
                failed_changes += not outcome.ok
                wrong += got != ch.expected
                undo = admin.execute(ch.undo)
                failed_changes += not undo.ok
                back, _, _, _ = check(ch.user, ch.privilege, ch.table)
                wrong += back == ch.expected  # the undo must restore the old answer
        res[kind] = {"execute": summary(exec_ms), "recheck": summary(recheck_ms),
                     "total": summary(total_ms), "total_cpu": summary(total_cpu),
                     "wrong": wrong, "failed_statements": failed_changes}

    # why / why-not
    allowed = [c for c in checks if c[3]][: plan["explain"]]
    denied = [c for c in checks if not c[3]][: plan["explain"]]
    has_why = hasattr(Session, "why")
    has_why_not = hasattr(Session, "why_not")
    res["why_api"] = "Session.why" if has_why else "reasoner.explain.why.why (no Session.why yet)"
    res["why_not_api"] = ("Session.why_not" if has_why_not else
                          "reasoner.explain.whynot.WhyNotBuilder (no Session.why_not yet: "
                          "no repairs)")
    cap, budget = plan["explain_cap_s"], plan["explain_budget_s"]
    res["why"] = explain_run(reasoner, sessions, allowed, "why", has_why, profile,
                             cap_s=cap, budget_s=budget)
    if has_why_not and "repairs" in inspect.signature(Session.why_not).parameters:
        res["why_not_no_repairs"] = explain_run(reasoner, sessions, denied, "why_not", True,
                                                profile if profile == "why_not_no_repairs"
                                                else None, cap_s=cap, budget_s=budget,
                                                kwargs={"repairs": False})
    res["why_not"] = explain_run(reasoner, sessions, denied, "why_not", has_why_not, profile,
                                 cap_s=cap, budget_s=budget)
    res["rss_peak_mb"] = rss_mb()
    res["loadavg_end"] = os.getloadavg()
    return res


class _OverBudget(BaseException):
    """Raised by the interval timer inside an explanation that runs too long (a
    BaseException, so that no ``except Exception`` in the library swallows it; the
    library's journal rolls back on any BaseException)."""


def _alarm(signum: int, frame: Any) -> None:
    raise _OverBudget


def explain_run(reasoner: Any, sessions: dict[str, Any], sample: list[Any], kind: str,
                native: bool, profile: str | None, *, cap_s: float, budget_s: float,
                kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Time one explanation per sample. ``cap_s``: one call is stopped after this long and
    counted as ``timed_out`` (its time enters the percentiles as ``cap_s``, so a p50/p99
    that equals the cap is a lower bound); ``budget_s``: stop sampling after this long."""
    import signal

    lat: list[float] = []
    lat_cpu: list[float] = []
    errors: list[str] = []
    sizes: list[int] = []
    repairs: list[int] = []
    timed_out = 0
    fallback: Any = None
    if not native:
        backend = reasoner.engine.backend
        if kind == "why":
            from reasoner.explain.why import why as why_fn

            def fallback(s: Any, p: str, on: str) -> Any:
                return why_fn(s.check(p, on), backend, reasoner.engine.facts)
        else:
            from reasoner.explain.whynot import WhyNotBuilder

            def fallback(s: Any, p: str, on: str) -> Any:
                return WhyNotBuilder(backend).build(s.check(p, on))
    started = now()
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        with Profiler(profile, kind):
            for u, p, table, _ in sample:
                if now() - started > budget_s:
                    break
                s = sessions[u]
                t0, c0 = now(), cpu()
                try:
                    signal.setitimer(signal.ITIMER_REAL, cap_s)
                    try:
                        if native:
                            result = getattr(s, kind)(p, f"table {table}", **(kwargs or {}))
                        else:
                            result = fallback(s, p, f"table {table}")
                    finally:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                except _OverBudget:
                    timed_out += 1
                    lat.append(cap_s * 1000)
                    lat_cpu.append((cpu() - c0) * 1000)
                    continue
                except Exception as exc:  # a failing explanation is counted, not fatal
                    errors.append(f"{u} {p} {table}: {type(exc).__name__}: {exc}")
                    continue
                lat.append((now() - t0) * 1000)
                lat_cpu.append((cpu() - c0) * 1000)
                size = _size(result)
                if size is not None:
                    sizes.append(size)
                found = getattr(result, "repairs", None)
                if isinstance(found, list | tuple):
                    repairs.append(len(found))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    out = summary(lat)
    out["cpu"] = summary(lat_cpu)
    out["sampled"] = len(sample)
    out["timed_out"] = timed_out
    out["cap_s"] = cap_s
    out["errors"] = len(errors)
    out["error_examples"] = errors[:3]
    if sizes:
        out["avg_nodes"] = sum(sizes) / len(sizes)
    if repairs:
        out["avg_repairs"] = sum(repairs) / len(repairs)
        out["with_repairs"] = sum(1 for r in repairs if r)
    return out


def _size(result: Any) -> int | None:
    for name in ("nodes", "size"):
        fn = getattr(result, name, None)
        if callable(fn):
            try:
                value = fn()
            except Exception:
                return None
            return value if isinstance(value, int) else None
    return None


# --------------------------------------------------------------------------------------
# the baseline side


def run_baseline(plan: dict[str, Any]) -> dict[str, Any]:
    from pyDatalog import pyDatalog

    res: dict[str, Any] = {"rss_start_mb": rss_mb(), "loadavg_start": os.getloadavg()}
    edb: dict[str, list[list[str]]] = plan["edb"]
    t, c = now(), cpu()
    pyDatalog.load(BASELINE_RULES)
    for pred, rows in edb.items():
        for row in rows:
            pyDatalog.assert_fact(pred, *row)
    res["load_s"] = now() - t
    res["load_cpu_s"] = cpu() - c
    res["facts"] = sum(len(v) for v in edb.values())
    res["rss_after_load_mb"] = rss_mb()
    res["gc_freeze"] = _maybe_freeze(plan)

    def ask(u: str, p: str, table: str) -> tuple[bool, float, float]:
        t0, c0 = now(), cpu()
        answer = pyDatalog.ask(f"can('{u}','{p}','{table}')")
        return answer is not None, (now() - t0) * 1000, (cpu() - c0) * 1000

    for name in ("cold", "warm"):
        lat: list[float] = []
        lat_cpu: list[float] = []
        wrong = 0
        for u, p, table, expected in plan["checks"]:
            got, ms, cms = ask(u, p, table)
            lat.append(ms)
            lat_cpu.append(cms)
            wrong += got != expected
        if name == "cold":
            res["first_check_ms"] = lat[0] if lat else None
        res[f"check_{name}"] = summary(lat)
        res[f"check_{name}"]["wrong"] = wrong
        res[f"check_{name}_cpu"] = summary(lat_cpu)
    for kind in ("grant", "revoke"):
        update_ms: list[float] = []
        recheck_ms: list[float] = []
        total_ms: list[float] = []
        total_cpu: list[float] = []
        wrong = 0
        for c in plan[f"{kind}_changes"]:
            pred, args = c["fact"]
            change, undo = ((pyDatalog.assert_fact, pyDatalog.retract_fact) if kind == "grant"
                            else (pyDatalog.retract_fact, pyDatalog.assert_fact))
            t0, c0 = now(), cpu()
            change(pred, *args)
            t1, c1 = now(), cpu()
            got, ms, cms = ask(c["user"], c["privilege"], c["table"])
            update_ms.append((t1 - t0) * 1000)
            recheck_ms.append(ms)
            total_ms.append((t1 - t0) * 1000 + ms)
            total_cpu.append((c1 - c0) * 1000 + cms)
            wrong += got != c["expected"]
            undo(pred, *args)
            back, _, _ = ask(c["user"], c["privilege"], c["table"])
            wrong += back == c["expected"]
        res[kind] = {"execute": summary(update_ms), "recheck": summary(recheck_ms),
                     "total": summary(total_ms), "total_cpu": summary(total_cpu),
                     "wrong": wrong}
    res["rss_peak_mb"] = rss_mb()
    res["loadavg_end"] = os.getloadavg()
    return res


# --------------------------------------------------------------------------------------
# the parent: plan, run both sides, report


def make_plan(size: str, seed: int, checks: int, changes: int, explain: int,
              with_can: bool, explain_cap_s: float = 120, explain_budget_s: float = 600
              ) -> tuple[dict[str, Any], str]:
    t = now()
    policy = generate(size, seed)
    triples = policy.sample_checks(checks, seed)
    plan = {
        "size": size, "seed": seed, "explain": explain, "explain_cap_s": explain_cap_s,
        "explain_budget_s": explain_budget_s,
        "checks": [[u, p, tb, policy.allowed(u, p, tb)] for u, p, tb in triples],
        "grant_changes": [asdict(c) for c in policy.grant_changes(changes, seed)],
        "revoke_changes": [asdict(c) for c in policy.revoke_changes(changes, seed)],
        "edb": policy.edb(),
        "stats": policy.stats(with_can=with_can),
    }
    script = policy.script()
    plan["stats"]["script_lines"] = script.count("\n")
    plan["stats"]["script_statements"] = script.count(";")
    plan["generate_s"] = now() - t
    return plan, script


def run_side(side: str, workdir: Path, profile: str | None, timeout: float | None
             ) -> dict[str, Any]:
    out = workdir / f"{side}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", side,
           "--workdir", str(workdir)]
    if profile:
        cmd += ["--profile", profile]
    t = now()
    try:
        proc = subprocess.run(cmd, timeout=timeout, stdout=subprocess.PIPE, text=True)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if proc.returncode != 0 or not out.exists():
        return {"error": f"worker exited with {proc.returncode}", "wall_s": now() - t}
    data = json.loads(out.read_text())
    data["wall_s"] = now() - t
    return data


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def p50_p99(d: dict[str, Any] | None) -> str:
    if not d or not d.get("n"):
        return "–"
    return f"{fmt(d['p50_ms'])} / {fmt(d['p99_ms'])}"


def markdown(result: dict[str, Any]) -> str:
    st = result["stats"]
    lib = result.get("library", {})
    base = result.get("baseline", {})
    m = result["machine"]
    lines = [
        f"### {result['size']} (U={st['users']:,} R={st['roles']:,} T={st['tables']:,} "
        f"D={st['databases']:,}; seed {result['seed']})",
        "",
        f"Policy: {st['script_statements']:,} statements, {st['edb_facts']:,} engines.md EDB "
        f"facts, depth {st['depth']}, {st['roles_per_user']:.1f} roles per user, "
        f"has_role {st['has_role']:,}, can/3 {fmt(st.get('can'))}. "
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
        f"pyDatalog {m.get('pydatalog')} compiled={m.get('pydatalog_compiled')}. "
        f"Load average at start / end (library): {_load(lib)}. "
        f"GC: {'frozen after load' if lib.get('gc_freeze') else 'as is'}.",
        "",
        "| measure | library (`Reasoner`) | baseline (pyDatalog public API) |",
        "|---|---|---|",
    ]

    def row(name: str, a: str, b: str) -> None:
        lines.append(f"| {name} | {a} | {b} |")

    for side in (lib, base):
        if "error" in side:
            lines.append(f"| error | {side['error']} | |")
    row("load s wall (CPU)", f"{fmt(lib.get('load_s'))} ({fmt(lib.get('load_cpu_s'))})"
        + (f" +{fmt(lib['init_s'])} rules" if "init_s" in lib else ""),
        f"{fmt(base.get('load_s'))} ({fmt(base.get('load_cpu_s'))})")
    row("statements / facts", f"{fmt(lib.get('statements'))} (failed "
        f"{fmt(lib.get('failed_statements'))}) / {fmt(lib.get('facts'))}",
        f"– / {fmt(base.get('facts'))}")
    row("1st check ms", fmt(lib.get("first_check_ms")), fmt(base.get("first_check_ms")))
    row("check cold p50 / p99 ms", p50_p99(lib.get("check_cold")),
        p50_p99(base.get("check_cold")))
    row("check warm p50 / p99 ms", p50_p99(lib.get("check_warm")),
        p50_p99(base.get("check_warm")))
    row("check cold p50 / p99 CPU ms", p50_p99(lib.get("check_cold_cpu")),
        p50_p99(base.get("check_cold_cpu")))
    row("check allowed / denied p50 ms (warm)",
        f"{fmt((lib.get('check_allowed') or {}).get('p50_ms'))} / "
        f"{fmt((lib.get('check_denied') or {}).get('p50_ms'))}", "–")
    row("wrong answers (cold + warm)",
        fmt(_wrong(lib)), fmt(_wrong(base)))
    for kind in ("grant", "revoke"):
        a, b = lib.get(kind) or {}, base.get(kind) or {}
        row(f"{kind}: update + recheck p50 ms",
            _change(a), _change(b))
        row(f"{kind}: total p99 ms; CPU p50; wrong",
            f"{fmt((a.get('total') or {}).get('p99_ms'))}; "
            f"{fmt((a.get('total_cpu') or {}).get('p50_ms'))}; {fmt(a.get('wrong'))}",
            f"{fmt((b.get('total') or {}).get('p99_ms'))}; "
            f"{fmt((b.get('total_cpu') or {}).get('p50_ms'))}; {fmt(b.get('wrong'))}")
    for kind in ("why", "why_not_no_repairs", "why_not"):
        if kind not in lib:
            continue
        d = lib.get(kind) or {}
        extra = [f"n={d.get('n', 0)}", f"CPU p50 {fmt((d.get('cpu') or {}).get('p50_ms'))}"]
        if d.get("timed_out"):
            extra.append(f"{d['timed_out']} stopped at the {fmt(d['cap_s'], 0)} s cap")
        if d.get("avg_nodes") is not None:
            extra.append(f"{d['avg_nodes']:.1f} nodes")
        if d.get("avg_repairs") is not None:
            extra.append(f"{d['avg_repairs']:.1f} repairs")
        if d.get("errors"):
            extra.append(f"{d['errors']} errors")
        api = lib.get(f"{kind}_api", "") if kind != "why_not_no_repairs" else (
            "Session.why_not(repairs=False)")
        label = {"why": "why", "why_not": "why-not (with verified repairs)",
                 "why_not_no_repairs": "why-not without repairs"}[kind]
        row(f"{label} p50 / p99 ms", f"{p50_p99(d)}"
            + (f" ({', '.join(extra)})" if extra else "") + (f" via {api}" if api else ""),
            "–")
    row("session open ms (each)", fmt(lib.get("session_open_ms")), "–")
    row("peak RSS MB (after load)", f"{fmt(lib.get('rss_peak_mb'), 0)} "
        f"({fmt(lib.get('rss_after_load_mb'), 0)})",
        f"{fmt(base.get('rss_peak_mb'), 0)} ({fmt(base.get('rss_after_load_mb'), 0)})")
    return "\n".join(lines) + "\n"


def _load(side: dict[str, Any]) -> str:
    a, b = side.get("loadavg_start"), side.get("loadavg_end")
    if not a or not b:
        return "–"
    return f"{a[0]:.1f} / {b[0]:.1f}"


def _wrong(side: dict[str, Any]) -> int | None:
    if "check_cold" not in side:
        return None
    return side["check_cold"]["wrong"] + side["check_warm"]["wrong"]


def _change(d: dict[str, Any]) -> str:
    if not d:
        return "–"
    return (f"{fmt(d['execute']['p50_ms'])} + {fmt(d['recheck']['p50_ms'])} "
            f"(total {fmt(d['total']['p50_ms'])})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="small", choices=("small", "medium", "large", "x4"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--checks", type=int, default=1000)
    ap.add_argument("--changes", type=int, default=50, help="GRANTs and REVOKEs, each")
    ap.add_argument("--explain", type=int, default=200,
                    help="why on this many allowed checks, why-not on as many denied")
    ap.add_argument("--explain-cap", type=float, default=120,
                    help="seconds: one why / why-not call is stopped (and counted) after this")
    ap.add_argument("--explain-budget", type=float, default=600,
                    help="seconds: stop sampling one explanation kind after this")
    ap.add_argument("--only", choices=("library", "baseline"))
    ap.add_argument("--profile", choices=("load", "check", "grant", "revoke", "why",
                                          "why_not", "why_not_no_repairs"))
    ap.add_argument("--timeout", type=float, default=None, help="per side, seconds")
    ap.add_argument("--no-can", action="store_true", help="skip counting can/3")
    ap.add_argument("--gc-freeze", action="store_true",
                    help="gc.freeze() after load on both sides (default: the GC as it is)")
    ap.add_argument("--json", help="write the raw numbers here")
    ap.add_argument("--keep", help="keep the script and plan in this directory")
    ap.add_argument("--render", nargs="+", metavar="JSON",
                    help="print the markdown of earlier --json files (sides of one size, e.g. "
                         "an --only library and an --only baseline run, are merged)")
    ap.add_argument("--worker", choices=("library", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.render:
        merged: dict[str, Any] = {}
        for name in args.render:
            data = json.loads(Path(name).read_text())
            for key, value in data.items():
                if key not in ("library", "baseline") or "error" not in value:
                    merged.setdefault(key, value)
                    if key in ("library", "baseline"):
                        merged[key] = value
        print(markdown(merged))
        return 0

    if args.worker:
        workdir = Path(args.workdir)
        plan = json.loads((workdir / "plan.json").read_text())
        if args.worker == "library":
            data = run_library(plan, (workdir / "script.sql").read_text(), args.profile)
        else:
            data = run_baseline(plan)
        (workdir / f"{args.worker}.json").write_text(json.dumps(data, indent=1))
        return 0

    with tempfile.TemporaryDirectory(prefix="reasoner-bench-") as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        plan, script = make_plan(args.size, args.seed, args.checks, args.changes,
                                 args.explain, with_can=not args.no_can,
                                 explain_cap_s=args.explain_cap,
                                 explain_budget_s=args.explain_budget)
        plan["gc_freeze"] = args.gc_freeze
        (workdir / "script.sql").write_text(script)
        (workdir / "plan.json").write_text(json.dumps(plan))
        result: dict[str, Any] = {"size": args.size, "seed": args.seed,
                                  "checks": args.checks, "changes": args.changes,
                                  "explain": args.explain, "machine": machine(),
                                  "stats": plan["stats"], "generate_s": plan["generate_s"],
                                  "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        for side in ("library", "baseline"):
            if args.only and side != args.only:
                continue
            print(f"[{args.size}] running {side} ...", file=sys.stderr, flush=True)
            result[side] = run_side(side, workdir, args.profile if side == "library" else
                                    None, args.timeout)
    text = markdown(result)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
