"""Side by side with peers (issue 7, item 5): the library against casbin, cedarpy, pyDatalog.

    python benchmarks/peers.py --size small|medium|large|x4 [--engine NAME ...]
                               [--checks 1000] [--changes 5] [--pairs 20]
                               [--whocan-cap 30] [--whocan-budget 120] [--out DIR]
    python benchmarks/peers.py --render benchmarks/results/peers-*.json

One generated policy (``generate.py``, seed 42) and one plan (``harness.make_plan``: the
checks with the reference answers, the GRANT / REVOKE changes and the engines.md EDB) are fed
to every engine, each in its own subprocess, so that ``ru_maxrss`` is the engine's own:

- **reasoner**: ``Reasoner("matrixone", backend="incremental").load(script)`` of the SQL
  script; one session per checked user (SECONDARY ROLE ALL), ``session.check``;
  ``reasoner.who_can``; GRANT / REVOKE through ``admin.execute``.
- **casbin**: pycasbin ``FastEnforcer(cache_key_order=[1, 2])`` with the grants expanded
  (database grants to one line per table, owners to one line per privilege), and
  ``max_hierarchy_level`` raised to 100 (the default of 10 gives wrong answers, which are
  counted too); changes are ``add_policy`` / ``remove_grouping_policy``
  (/work/shared/spec/peers-perf.md, "casbin, fast").
- **cedar**: cedarpy, grants as entity attributes (five constant policies); every change
  rebuilds ``Entities``, since the handle is immutable (peers-perf.md, "cedarpy, attrs").
- **pydatalog**: the plain pyDatalog public API on the engines.md program
  (``harness.BASELINE_RULES``): ``load``, ``assert_fact`` / ``retract_fact``, ``ask``.

Per engine: load (everything before the first check, from the prepared rows for the peers
and from the SQL text for the library), check latency (CPU and wall, cold and warm pass),
who-can on the first ``--pairs`` distinct (privilege, table) pairs of the checks, a few
GRANTs and REVOKEs each followed by the check they change (and undone), peak memory, and
every answer compared with the generator's reference closure. ``gc.freeze()`` runs after
every load (``--no-gc-freeze`` to skip). ``--render`` prints the markdown tables.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import PRIVILEGES, Change, generate  # noqa: E402
from harness import (  # noqa: E402
    BASELINE_RULES,
    cpu,
    fmt,
    machine,
    make_plan,
    now,
    rss_mb,
    summary,
)

ENGINES = ("reasoner", "casbin", "cedar", "pydatalog")
SIZES = ("small", "medium", "large", "x4")
LABELS = {"reasoner": "reasoner (incremental)", "casbin": "casbin FastEnforcer",
          "cedar": "cedarpy, grants as attributes", "pydatalog": "pyDatalog public API"}
USER = re.compile(r"u\d+")

# --------------------------------------------------------------------------------------
# engines


@dataclass
class WhoCan:
    """One who-can answer. ``covered``: the users examined when a per-user loop stopped at
    its cap (None: all of them); ``timed_out``: no answer within the cap."""

    users: set[str]
    covered: set[str] | None = None
    timed_out: bool = False


WhoCanFn = Callable[[str, str, float], WhoCan]


class _Cap(BaseException):
    """Raised by the interval timer in an interruptible who-can that runs past its cap."""


def _alarm(signum: int, frame: Any) -> None:
    raise _Cap


def _users_only(names: Any) -> set[str]:
    """The generated users (``u<i>``) among the names an engine returns: the library also
    lists the account admin, casbin's helper lists any subject that is not a role target."""
    return {str(n) for n in names if USER.fullmatch(str(n))}


class Engine:
    """What the driver needs from one engine. ``load`` returns extra facts to report."""

    name = ""
    who_can_notes: dict[str, str] = {}

    def __init__(self, workdir: Path, plan: dict[str, Any]) -> None:
        self.workdir = workdir
        self.plan = plan

    def prepare(self) -> None:
        """Read the input (untimed)."""

    def load(self) -> dict[str, Any]:
        raise NotImplementedError

    def after_load(self) -> None:
        """Untimed set-up after load and GC freeze (sessions)."""

    def check(self, user: str, privilege: str, table: str) -> bool:
        raise NotImplementedError

    def change(self, ch: Change, undo: bool) -> None:
        raise NotImplementedError

    def who_can_methods(self) -> dict[str, WhoCanFn]:
        raise NotImplementedError

    def extras(self, checks: list[list[Any]]) -> dict[str, Any]:
        return {}

    def versions(self) -> dict[str, str]:
        return {}


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


class ReasonerEngine(Engine):
    name = "reasoner"
    who_can_notes = {"who_can": "Reasoner.who_can(p, 'table d.t', account='acc'), the reverse "
                                "question of the library (admin left out)"}

    def prepare(self) -> None:
        self.script = (self.workdir / "script.sql").read_text()

    def load(self) -> dict[str, Any]:
        from reasoner import Reasoner

        t, c = now(), cpu()
        self.r = Reasoner("matrixone", backend="incremental")
        init_wall, init_cpu = now() - t, cpu() - c
        outcomes = self.r.load(self.script)
        failed = [o for o in outcomes if not o.ok]
        return {"init_wall_s": init_wall, "init_cpu_s": init_cpu,
                "statements": len(outcomes), "failed_statements": len(failed),
                "failed_examples": [f"{o.line}: {o.error}" for o in failed[:3]],
                "facts": self.r.engine.facts.count()}

    def after_load(self) -> None:
        users = sorted({c[0] for c in self.plan["checks"]}
                       | {c["user"] for c in self.plan["grant_changes"]
                          + self.plan["revoke_changes"]})
        t = now()
        self.sessions = {u: self.r.session(f"acc:{u}", secondary="all") for u in users}
        self.session_open_ms = (now() - t) * 1000 / max(1, len(users))
        self.admin = self.r.session("acc:admin")

    def check(self, user: str, privilege: str, table: str) -> bool:
        return bool(self.sessions[user].check(privilege, f"table {table}"))

    def change(self, ch: Change, undo: bool) -> None:
        outcome = self.admin.execute(ch.undo if undo else ch.statement)
        if not outcome.ok:
            raise RuntimeError(f"{ch.statement}: {outcome.error}")

    def who_can_methods(self) -> dict[str, WhoCanFn]:
        def who_can(p: str, t: str, deadline: float) -> WhoCan:
            return WhoCan(_users_only(a.user for a in
                                      self.r.who_can(p, f"table {t}", account="acc")))
        return {"who_can": who_can}

    def extras(self, checks: list[list[Any]]) -> dict[str, Any]:
        return {"session_open_ms": self.session_open_ms, "backend": self.r.backend_name}

    def versions(self) -> dict[str, str]:
        return {"reasoner": _version("reasoner"), "pyDatalog": _version("pyDatalog"),
                "lark": _version("lark")}


CASBIN_MODEL = """
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
"""


class CasbinEngine(Engine):
    name = "casbin"
    who_can_notes = {
        "api": "get_filtered_policy(1, table, privilege) for the granting subjects, then a "
               "reverse walk with get_users_for_role (composed from the public API)",
        "builtin": "get_implicit_users_for_permission(table, privilege): one enforce() per "
                   "subject (users and roles)",
    }

    def prepare(self) -> None:
        self.edb = json.loads((self.workdir / "edb.json").read_text())

    def load(self) -> dict[str, Any]:
        from casbin import FastEnforcer
        from casbin.model import FastModel
        from casbin.persist.adapters.string_adapter import StringAdapter

        t, c = now(), cpu()
        edb = self.edb
        tables_of: dict[str, list[str]] = {}
        for table, db in edb["table_db"]:
            tables_of.setdefault(db, []).append(table)
        lines: set[tuple[str, str, str]] = {(r, t_, p) for r, p, t_ in edb["grant_table"]}
        lines.update((r, t_, p) for r, p, d in edb["grant_db"] for t_ in tables_of.get(d, []))
        lines.update((r, t_, p) for r, t_ in edb["owns"] for p in PRIVILEGES)
        text = "\n".join([f"p, {s}, {o}, {a}" for s, o, a in sorted(lines)]
                         + [f"g, {u}, {r}" for u, r in edb["user_role"]]
                         + [f"g, {r}, {a}" for r, a in edb["inherits"]])
        prep_wall, prep_cpu = now() - t, cpu() - c
        model = FastModel([1, 2])
        model.load_model_from_text(CASBIN_MODEL)
        self.e = FastEnforcer(model, StringAdapter(text), cache_key_order=[1, 2])
        self.e.enable_auto_save(False)  # StringAdapter.add_policy raises "not implemented"
        self.rm = self.e.get_role_manager()
        self.rm.max_hierarchy_level = 100  # the default 10 cuts deep hierarchies (wrong)
        return {"prepare_wall_s": prep_wall, "prepare_cpu_s": prep_cpu,
                "p_lines": len(lines),
                "g_lines": len(edb["user_role"]) + len(edb["inherits"]),
                "max_hierarchy_level": self.rm.max_hierarchy_level}

    def after_load(self) -> None:
        del self.edb

    def check(self, user: str, privilege: str, table: str) -> bool:
        return bool(self.e.enforce(user, table, privilege))

    def change(self, ch: Change, undo: bool) -> None:
        pred, args = ch.fact
        if pred == "grant_table":
            r, p, t = args
            ok = (self.e.remove_policy(r, t, p) if undo else self.e.add_policy(r, t, p))
        else:
            u, r = args
            ok = (self.e.add_grouping_policy(u, r) if undo
                  else self.e.remove_grouping_policy(u, r))
        if not ok:
            raise RuntimeError(f"casbin refused {pred}{args} (undo={undo})")

    def who_can_methods(self) -> dict[str, WhoCanFn]:
        def api(p: str, t: str, deadline: float) -> WhoCan:
            todo = [line[0] for line in self.e.get_filtered_policy(1, t, p)]
            seen: set[str] = set(todo)
            while todo:
                role = todo.pop()
                for member in self.e.get_users_for_role(role):
                    if member not in seen:
                        seen.add(member)
                        todo.append(member)
            return WhoCan(_users_only(seen))

        def builtin(p: str, t: str, deadline: float) -> WhoCan:
            old = signal.signal(signal.SIGALRM, _alarm)
            try:
                signal.setitimer(signal.ITIMER_REAL, max(0.001, deadline - now()))
                try:
                    found = self.e.get_implicit_users_for_permission(t, p)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _Cap:
                return WhoCan(set(), timed_out=True)
            finally:
                signal.signal(signal.SIGALRM, old)
            return WhoCan(_users_only(found))
        return {"api": api, "builtin": builtin}

    def extras(self, checks: list[list[Any]]) -> dict[str, Any]:
        """The checks again with casbin's default ``max_hierarchy_level`` (10)."""
        self.rm.max_hierarchy_level = 10
        wrong = sum(self.check(u, p, t) != want for u, p, t, want in checks)
        self.rm.max_hierarchy_level = 100
        return {"wrong_with_default_level_10": wrong}

    def versions(self) -> dict[str, str]:
        return {"casbin": _version("casbin"), "simpleeval": _version("simpleeval")}


def _ref(kind: str, ident: str) -> dict[str, Any]:
    return {"__entity": {"type": kind, "id": ident}}


class CedarEngine(Engine):
    name = "cedar"
    chunk = 500
    who_can_notes = {"batch": "is_authorized_batch over every user, in chunks of 500 (the "
                              "only route without residual policies)"}

    def prepare(self) -> None:
        self.edb = json.loads((self.workdir / "edb.json").read_text())

    def load(self) -> dict[str, Any]:
        import cedarpy

        t, c = now(), cpu()
        edb = self.edb
        self.user_parents: dict[str, list[dict[str, str]]] = {}
        for u, r in edb["user_role"]:
            self.user_parents.setdefault(u, []).append({"type": "Role", "id": r})
        role_parents: dict[str, list[dict[str, str]]] = {}
        for r, a in edb["inherits"]:
            role_parents.setdefault(r, []).append({"type": "Role", "id": a})
        roles = {r for rs in self.user_parents.values() for r in (x["id"] for x in rs)}
        roles |= set(role_parents) | {a for _, a in edb["inherits"]}
        roles |= {r for r, _ in edb["owns"]} | {r for r, _, _ in edb["grant_table"]}
        roles |= {r for r, _, _ in edb["grant_db"]}
        dbs: dict[str, dict[str, Any]] = {}
        self.tables: dict[str, dict[str, Any]] = {}
        for table, db in edb["table_db"]:
            dbs.setdefault(db, {p: [] for p in PRIVILEGES})
            self.tables[table] = {**{p: [] for p in PRIVILEGES}, "db": _ref("Database", db)}
        for r, table in edb["owns"]:
            self.tables[table]["owner"] = _ref("Role", r)
        for r, p, table in edb["grant_table"]:
            self.tables[table][p].append(_ref("Role", r))
        for r, p, db in edb["grant_db"]:
            dbs[db][p].append(_ref("Role", r))
        self.entities: list[dict[str, Any]] = (
            [{"uid": {"type": "User", "id": u}, "attrs": {}, "parents": ps}
             for u, ps in self.user_parents.items()]
            + [{"uid": {"type": "Role", "id": r}, "attrs": {},
                "parents": role_parents.get(r, [])} for r in sorted(roles)]
            + [{"uid": {"type": "Database", "id": d}, "attrs": a, "parents": []}
               for d, a in dbs.items()]
            + [{"uid": {"type": "Table", "id": t_}, "attrs": a, "parents": []}
               for t_, a in self.tables.items()])
        policies = "\n".join(
            f'permit(principal, action == Action::"{p}", resource is Table) when '
            f"{{ principal in resource.{p} || principal in resource.db.{p} }};"
            for p in PRIVILEGES) + ("\npermit(principal, action, resource is Table) "
                                    "when { principal in resource.owner };")
        prep_wall, prep_cpu = now() - t, cpu() - c
        self.cedarpy = cedarpy
        self.policies = cedarpy.PolicySet.from_str(policies)
        self._rebuild()
        self.users = list(self.user_parents)
        return {"prepare_wall_s": prep_wall, "prepare_cpu_s": prep_cpu,
                "entities": len(self.entities), "policies": len(self.policies)}

    def _rebuild(self) -> None:
        self.ents = self.cedarpy.Entities.from_json_str(json.dumps(self.entities))

    def after_load(self) -> None:
        del self.edb

    @staticmethod
    def _request(user: str, privilege: str, table: str) -> dict[str, Any]:
        return {"principal": f'User::"{user}"', "action": f'Action::"{privilege}"',
                "resource": f'Table::"{table}"', "context": {}}

    def check(self, user: str, privilege: str, table: str) -> bool:
        return self.cedarpy.is_authorized(self._request(user, privilege, table),
                                          self.policies, self.ents).allowed

    def change(self, ch: Change, undo: bool) -> None:
        pred, args = ch.fact
        if pred == "grant_table":
            r, p, t = args
            held = self.tables[t][p]
            if undo:
                held.remove(_ref("Role", r))
            else:
                held.append(_ref("Role", r))
        else:
            u, r = args
            parents = self.user_parents[u]
            if undo:
                parents.append({"type": "Role", "id": r})
            else:
                parents.remove({"type": "Role", "id": r})
        self._rebuild()  # Entities is immutable: nothing removes or replaces an entity

    def who_can_methods(self) -> dict[str, WhoCanFn]:
        def batch(p: str, t: str, deadline: float) -> WhoCan:
            found: set[str] = set()
            covered: set[str] = set()
            for i in range(0, len(self.users), self.chunk):
                part = self.users[i:i + self.chunk]
                answers = self.cedarpy.is_authorized_batch(
                    [self._request(u, p, t) for u in part], self.policies, self.ents)
                found.update(u for u, a in zip(part, answers, strict=True) if a.allowed)
                covered.update(part)
                if now() > deadline and len(covered) < len(self.users):
                    return WhoCan(found, covered=covered)
            return WhoCan(_users_only(found))
        return {"batch": batch}

    def versions(self) -> dict[str, str]:
        return {"cedarpy": _version("cedarpy")}


class PyDatalogEngine(Engine):
    name = "pydatalog"
    who_can_notes = {"ask": "pyDatalog.ask(\"can(U,'p','d.t')\") with U free (top-down, "
                            "cannot be interrupted: only the overall budget applies)"}

    def prepare(self) -> None:
        self.edb = json.loads((self.workdir / "edb.json").read_text())

    def load(self) -> dict[str, Any]:
        from pyDatalog import pyDatalog

        self.pd = pyDatalog
        pyDatalog.load(BASELINE_RULES)
        for pred, rows in self.edb.items():
            for row in rows:
                pyDatalog.assert_fact(pred, *row)
        return {"facts": sum(len(v) for v in self.edb.values())}

    def after_load(self) -> None:
        del self.edb

    def check(self, user: str, privilege: str, table: str) -> bool:
        return self.pd.ask(f"can('{user}','{privilege}','{table}')") is not None

    def change(self, ch: Change, undo: bool) -> None:
        pred, args = ch.fact
        add = (pred == "grant_table") != undo
        (self.pd.assert_fact if add else self.pd.retract_fact)(pred, *args)

    def who_can_methods(self) -> dict[str, WhoCanFn]:
        def ask(p: str, t: str, deadline: float) -> WhoCan:
            answer = self.pd.ask(f"can(U,'{p}','{t}')")
            return WhoCan(_users_only(row[0] for row in (answer.answers if answer else [])))
        return {"ask": ask}

    def versions(self) -> dict[str, str]:
        import pyDatalog.pyEngine

        return {"pyDatalog": _version("pyDatalog"),
                "compiled": str(pyDatalog.pyEngine.__file__.endswith(".so"))}


ENGINE_CLASSES: dict[str, type[Engine]] = {
    "reasoner": ReasonerEngine, "casbin": CasbinEngine, "cedar": CedarEngine,
    "pydatalog": PyDatalogEngine}

# --------------------------------------------------------------------------------------
# the driver (one engine, in its own process)


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``fn()``, its wall and CPU time in ms."""
    t, c = now(), cpu()
    out = fn()
    return out, (now() - t) * 1000, (cpu() - c) * 1000


def run_engine(name: str, workdir: Path) -> dict[str, Any]:
    """Every measurement of one engine, in this process."""
    plan = json.loads((workdir / "plan.json").read_text())
    engine = ENGINE_CLASSES[name](workdir, plan)
    engine.prepare()
    res: dict[str, Any] = {"engine": name, "label": LABELS[name],
                           "versions": engine.versions(), "rss_start_mb": rss_mb(),
                           "loadavg": {"start": os.getloadavg()}}
    t, c = now(), cpu()
    res["load"] = engine.load()
    res["load"]["wall_s"], res["load"]["cpu_s"] = now() - t, cpu() - c
    res["rss_after_load_mb"] = rss_mb()
    res["loadavg"]["after_load"] = os.getloadavg()
    if plan["gc_freeze"]:
        gc.collect()
        gc.freeze()
    res["gc_freeze"] = plan["gc_freeze"]
    engine.after_load()
    checks: list[list[Any]] = plan["checks"]

    for name_ in ("cold", "warm"):
        wall: list[float] = []
        cpus: list[float] = []
        wrong = 0
        for u, p, table, want in checks:
            got, ms, cms = timed(lambda u=u, p=p, table=table: engine.check(u, p, table))
            wall.append(ms)
            cpus.append(cms)
            wrong += got != want
        res[f"check_{name_}"] = {"wall": summary(wall), "cpu": summary(cpus), "wrong": wrong,
                                 "first_ms": wall[0] if wall else None}
    res["loadavg"]["checks"] = os.getloadavg()

    res["who_can"] = {m: who_can_run(fn, plan, engine.who_can_notes.get(m, ""))
                      for m, fn in engine.who_can_methods().items()}
    res["loadavg"]["who_can"] = os.getloadavg()

    for kind in ("grant", "revoke"):
        res[kind] = change_run(engine, [Change(**c) for c in plan[f"{kind}_changes"]])
    res["extras"] = engine.extras(checks)
    res["rss_peak_mb"] = rss_mb()
    res["loadavg"]["end"] = os.getloadavg()
    return res


def who_can_run(fn: WhoCanFn, plan: dict[str, Any], note: str) -> dict[str, Any]:
    """One who-can method over the plan's pairs: a pair past ``cap`` seconds is stopped
    (loops: extrapolated from the users done; otherwise counted at the cap), and no new pair
    starts after ``budget`` seconds."""
    cap, budget = plan["whocan_cap_s"], plan["whocan_budget_s"]
    wall: list[float] = []
    cpus: list[float] = []
    extrapolated = timed_out = wrong = 0
    sizes: list[int] = []
    started = now()
    for p, table, expected_list in plan["pairs"]:
        if now() - started > budget:
            break
        expected = set(expected_list)
        ans, ms, cms = timed(lambda p=p, table=table: fn(p, table, now() + cap))
        if ans.timed_out:
            timed_out += 1
            wall.append(max(ms, cap * 1000))
            cpus.append(max(cms, cap * 1000))
            continue
        if ans.covered is not None:  # a loop stopped early: scale up, check what it did
            extrapolated += 1
            share = len(ans.covered) / plan["users"]
            wall.append(ms / share)
            cpus.append(cms / share)
            wrong += _users_only(ans.users) != expected & ans.covered
            continue
        wall.append(ms)
        cpus.append(cms)
        sizes.append(len(ans.users))
        wrong += ans.users != expected
    return {"wall": summary(wall), "cpu": summary(cpus), "pairs": len(wall),
            "of_pairs": len(plan["pairs"]), "extrapolated": extrapolated,
            "timed_out": timed_out, "cap_s": cap, "wrong": wrong,
            "avg_users": sum(sizes) / len(sizes) if sizes else None, "method": note,
            "seconds": now() - started}


def change_run(engine: Engine, changes: list[Change]) -> dict[str, Any]:
    """Each change, the check it must flip, its undo, and the check back."""
    upd_w: list[float] = []
    upd_c: list[float] = []
    re_w: list[float] = []
    re_c: list[float] = []
    undo_c: list[float] = []
    wrong = 0
    failures: list[str] = []
    for ch in changes:
        try:
            _, ms, cms = timed(lambda ch=ch: engine.change(ch, False))
            got, rms, rcms = timed(lambda ch=ch: engine.check(ch.user, ch.privilege,
                                                              ch.table))
            _, _, ucms = timed(lambda ch=ch: engine.change(ch, True))
        except Exception as exc:  # a refused change is reported, not fatal
            failures.append(f"{ch.statement}: {type(exc).__name__}: {exc}")
            continue
        upd_w.append(ms)
        upd_c.append(cms)
        re_w.append(rms)
        re_c.append(rcms)
        undo_c.append(ucms)
        wrong += got != ch.expected
        wrong += engine.check(ch.user, ch.privilege, ch.table) == ch.expected
    return {"update": {"wall": summary(upd_w), "cpu": summary(upd_c)},
            "recheck": {"wall": summary(re_w), "cpu": summary(re_c)},
            "total_cpu": summary([a + b for a, b in zip(upd_c, re_c, strict=True)]),
            "total_wall": summary([a + b for a, b in zip(upd_w, re_w, strict=True)]),
            "undo_cpu": summary(undo_c), "wrong": wrong, "failures": failures,
            "first": {"update_cpu_ms": upd_c[0] if upd_c else None,
                      "recheck_cpu_ms": re_c[0] if re_c else None}}


# --------------------------------------------------------------------------------------
# the parent: plan, one subprocess per engine, results


def build_plan(size: str, seed: int, n_checks: int, n_changes: int, n_pairs: int,
               with_can: bool) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The harness's plan plus the who-can pairs and their reference user sets; returns
    (plan, edb, script)."""
    plan, script = make_plan(size, seed, n_checks, n_changes, 0, with_can)
    edb = plan.pop("edb")
    policy = generate(size, seed)
    closures = [policy.user_closure(u) for u in range(policy.size.users)]
    pairs: list[list[Any]] = []
    seen: set[tuple[str, str]] = set()
    for _, p, table, _ in plan["checks"]:
        if (p, table) in seen or len(pairs) >= n_pairs:
            continue
        seen.add((p, table))
        pi, ti = PRIVILEGES.index(p), policy.parse_table(table)
        granting = {r for r in range(policy.size.roles) if policy.role_allows(r, pi, ti)}
        pairs.append([p, table, sorted(f"u{u}" for u, c in enumerate(closures)
                                       if c & granting)])
    plan["pairs"] = pairs
    plan["users"] = policy.size.users
    return plan, edb, script


def run_worker(name: str, workdir: Path, timeout: float | None) -> dict[str, Any]:
    out = workdir / f"{name}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name,
           "--workdir", str(workdir)]
    t = now()
    try:
        proc = subprocess.run(cmd, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"engine": name, "error": f"timed out after {timeout} s"}
    if proc.returncode != 0 or not out.exists():
        return {"engine": name, "error": f"worker exited with {proc.returncode}"}
    data: dict[str, Any] = json.loads(out.read_text())
    data["process_wall_s"] = now() - t
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=SIZES, default="small")
    ap.add_argument("--engine", action="append", choices=ENGINES,
                    help="repeatable; default: all four")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--checks", type=int, default=1000)
    ap.add_argument("--changes", type=int, default=5, help="GRANTs and REVOKEs, each")
    ap.add_argument("--pairs", type=int, default=20, help="who-can (privilege, table) pairs")
    ap.add_argument("--whocan-cap", type=float, default=30, help="seconds per who-can call")
    ap.add_argument("--whocan-budget", type=float, default=120,
                    help="seconds per who-can method: no new pair starts after this")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per engine")
    ap.add_argument("--no-gc-freeze", action="store_true")
    ap.add_argument("--no-can", action="store_true", help="skip counting can/3 in the stats")
    ap.add_argument("--out", default=str(HERE / "results"),
                    help="writes peers-<size>.json here (merged with an earlier run)")
    ap.add_argument("--render", nargs="+", metavar="JSON", help="print the markdown tables")
    ap.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.render:
        print(render([json.loads(Path(f).read_text()) for f in args.render]))
        return 0
    if args.worker:
        workdir = Path(args.workdir)
        data = run_engine(args.worker, workdir)
        (workdir / f"{args.worker}.json").write_text(json.dumps(data, indent=1))
        return 0

    target = Path(args.out) / f"peers-{args.size}.json"
    with tempfile.TemporaryDirectory(prefix="reasoner-peers-") as tmp:
        workdir = Path(tmp)
        plan, edb, script = build_plan(args.size, args.seed, args.checks, args.changes,
                                       args.pairs, with_can=not args.no_can)
        plan.update(whocan_cap_s=args.whocan_cap, whocan_budget_s=args.whocan_budget,
                    gc_freeze=not args.no_gc_freeze)
        (workdir / "script.sql").write_text(script)
        (workdir / "edb.json").write_text(json.dumps(edb))
        (workdir / "plan.json").write_text(json.dumps(plan))
        result: dict[str, Any] = json.loads(target.read_text()) if target.exists() else {}
        result.update(size=args.size, seed=args.seed, machine=machine(), stats=plan["stats"],
                      settings={"checks": args.checks, "changes": args.changes,
                                "pairs": len(plan["pairs"]), "whocan_cap_s": args.whocan_cap,
                                "whocan_budget_s": args.whocan_budget,
                                "gc_freeze": not args.no_gc_freeze},
                      pair_users=sum(len(p[2]) for p in plan["pairs"])
                      / max(1, len(plan["pairs"])))
        result.setdefault("engines", {})
        for name in args.engine or ENGINES:
            print(f"[{args.size}] {name} ...", file=sys.stderr, flush=True)
            data = run_worker(name, workdir, args.timeout)
            data["started"] = time.strftime("%Y-%m-%d %H:%M:%S")
            result["engines"][name] = data
            print(f"[{args.size}] {name}: {_one_line(data)}", file=sys.stderr, flush=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(result, indent=1))
    print(render([result]))
    return 0


# --------------------------------------------------------------------------------------
# rendering


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def best_who_can(e: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """The method with the lowest CPU median among those with no wrong answer (the
    natural, fastest correct way for that engine)."""
    methods = [(m, d) for m, d in (e.get("who_can") or {}).items() if d["pairs"]]
    ok = [(m, d) for m, d in methods if not d["wrong"]] or methods
    if not ok:
        return None, None
    return min(ok, key=lambda md: md[1]["cpu"]["p50_ms"])


def figures(e: dict[str, Any]) -> dict[str, float | None]:
    """The compared figures of one engine at one size (CPU, ms or s or MB)."""
    _, wc = best_who_can(e)
    return {"load_s": _get(e, "load", "cpu_s"),
            "check_p50": _get(e, "check_cold", "cpu", "p50_ms"),
            "check_p99": _get(e, "check_cold", "cpu", "p99_ms"),
            "who_can": _get(wc, "cpu", "p50_ms"),
            "grant": _get(e, "grant", "total_cpu", "p50_ms"),
            "revoke": _get(e, "revoke", "total_cpu", "p50_ms"),
            "rss_peak": e.get("rss_peak_mb")}


FIGURES = {"load_s": "load s", "check_p50": "check p50 ms", "check_p99": "check p99 ms",
           "who_can": "who-can p50 ms", "grant": "grant + recheck ms",
           "revoke": "revoke + recheck ms", "rss_peak": "peak RSS MB"}


def _num(x: float | None) -> str:
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "–"
    r = a / b
    return f"{r:,.0f}×" if r >= 100 else f"{r:.1f}×" if r >= 1 else f"{r:.2f}×"


def _wc_cell(e: dict[str, Any]) -> str:
    m, d = best_who_can(e)
    if d is None:
        return "–"
    cell = f"{_num(d['cpu']['p50_ms'])} ({m}; n={d['pairs']}/{d['of_pairs']}"
    if d["extrapolated"]:
        cell += f", {d['extrapolated']} extrapolated"
    if d["timed_out"]:
        cell += f", {d['timed_out']} at the {d['cap_s']:.0f} s cap"
    return cell + ")"


def _others_wc(e: dict[str, Any]) -> list[str]:
    best, _ = best_who_can(e)
    out = []
    for m, d in (e.get("who_can") or {}).items():
        if m == best:
            continue
        txt = f"{m}: {_num(_get(d, 'cpu', 'p50_ms'))} ms (n={d['pairs']}/{d['of_pairs']}"
        if d["timed_out"]:
            txt += f", {d['timed_out']} stopped at {d['cap_s']:.0f} s"
        if d["wrong"]:
            txt += f", {d['wrong']} wrong"
        out.append(txt + ")")
    return out


def size_table(result: dict[str, Any]) -> str:
    st, engines = result["stats"], result["engines"]
    lines = [f"#### {result['size']} (U={st['users']:,} R={st['roles']:,} T={st['tables']:,}; "
             f"{st['script_statements']:,} statements, {st['edb_facts']:,} EDB facts, "
             f"depth {st['depth']}, can/3 {fmt(st.get('can'))}; "
             f"{result.get('pair_users', 0):.0f} users per who-can pair)", "",
             "| engine | load s CPU (wall) | check p50 / p99 ms CPU (wall) | who-can p50 ms "
             "CPU (method; pairs) | grant: update + recheck ms CPU | revoke: update + "
             "recheck ms CPU | RSS MB after load / peak | wrong: checks / who-can / changes "
             "| load avg |",
             "|---|---|---|---|---|---|---|---|---|"]
    notes: list[str] = []
    for name in ENGINES:
        e = engines.get(name)
        if e is None:
            continue
        if "error" in e:
            lines.append(f"| {LABELS[name]} | error: {e['error']} |" + " |" * 7)
            continue
        cc, load = e["check_cold"], e["load"]
        wc_wrong = sum(d["wrong"] for d in e["who_can"].values())
        ch_wrong = e["grant"]["wrong"] + e["revoke"]["wrong"]

        def upd(k: str, e: dict[str, Any] = e) -> str:
            d = e[k]
            return (f"{_num(d['update']['cpu']['p50_ms'])} + "
                    f"{_num(d['recheck']['cpu']['p50_ms'])} (n={d['update']['cpu']['n']})")
        la = e["loadavg"]
        lines.append(
            f"| {LABELS[name]} | {_num(load['cpu_s'])} ({_num(load['wall_s'])}) | "
            f"{_num(cc['cpu']['p50_ms'])} / {_num(cc['cpu']['p99_ms'])} "
            f"({_num(cc['wall']['p50_ms'])} / {_num(cc['wall']['p99_ms'])}) | {_wc_cell(e)} | "
            f"{upd('grant')} | {upd('revoke')} | {_num(e['rss_after_load_mb'])} / "
            f"{_num(e['rss_peak_mb'])} | {cc['wrong'] + e['check_warm']['wrong']} / "
            f"{wc_wrong} / {ch_wrong} | {la['start'][0]:.1f}–{la['end'][0]:.1f} |")
        other = _others_wc(e)
        extra = e.get("extras") or {}
        if other:
            notes.append(f"{LABELS[name]} other who-can: " + "; ".join(other))
        if "wrong_with_default_level_10" in extra:
            notes.append(f"casbin with its default max_hierarchy_level=10: "
                         f"{extra['wrong_with_default_level_10']} wrong of "
                         f"{cc['cpu']['n']} checks")
        warm = e["check_warm"]["cpu"]
        notes.append(f"{LABELS[name]} warm pass: {_num(warm['p50_ms'])} / "
                     f"{_num(warm['p99_ms'])} ms CPU")
    return "\n".join(lines + [""] + [f"- {n}" for n in notes]) + "\n"


def ratio_table(results: list[dict[str, Any]]) -> str:
    sizes = [r["size"] for r in results]
    head = " / ".join(s if s != "x4" else "x4" for s in sizes)
    lines = [f"Peer ÷ reasoner, CPU, per size ({head}); above 1× the library is faster or "
             "smaller, below 1× the peer is.", "",
             "| peer | " + " | ".join(FIGURES.values()) + " |",
             "|---|" + "---|" * len(FIGURES)]
    for name in ENGINES[1:]:
        cells = []
        for key in FIGURES:
            per = []
            for r in results:
                ours, theirs = r["engines"].get("reasoner"), r["engines"].get(name)
                if not ours or not theirs or "error" in ours or "error" in theirs:
                    per.append("–")
                    continue
                per.append(_ratio(figures(theirs)[key], figures(ours)[key]))
            cells.append(" / ".join(per))
        lines.append(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def scaling_table(results: list[dict[str, Any]]) -> str:
    order = {s: i for i, s in enumerate(SIZES)}
    results = sorted(results, key=lambda r: order[r["size"]])
    sizes = [r["size"] for r in results]
    steps = [f"×{b}/{a}" for a, b in zip(sizes, sizes[1:], strict=False)]
    lines = ["Policy growth per step: ×10 (small→medium), ×10 (medium→large), ×4 (large→x4). "
             "Cells: the figure (CPU), then how much it grew at each step.", "",
             "| engine | figure | " + " | ".join(sizes) + " | growth " + " · ".join(steps)
             + " |", "|---|---|" + "---|" * (len(sizes) + 1)]
    for name in ENGINES:
        for key, label in FIGURES.items():
            vals: list[float | None] = []
            for r in results:
                e = r["engines"].get(name)
                vals.append(None if not e or "error" in e else figures(e)[key])
            if all(v is None for v in vals):
                continue
            growth = " · ".join(_ratio(b, a) for a, b in zip(vals, vals[1:], strict=False))
            lines.append(f"| {LABELS[name]} | {label} | "
                         + " | ".join(_num(v) for v in vals) + f" | {growth} |")
    return "\n".join(lines) + "\n"


def render(results: list[dict[str, Any]]) -> str:
    order = {s: i for i, s in enumerate(SIZES)}
    results = sorted(results, key=lambda r: order[r["size"]])
    parts = [size_table(r) for r in results]
    parts.append("#### Ratios against the library\n\n" + ratio_table(results))
    if len(results) > 1:
        parts.append("#### Scaling\n\n" + scaling_table(results))
    return "\n".join(parts)


def _one_line(e: dict[str, Any]) -> str:
    if "error" in e:
        return e["error"]
    f = figures(e)
    return " ".join(f"{k}={_num(v)}" for k, v in f.items()) + (
        f" wrong={e['check_cold']['wrong'] + e['check_warm']['wrong']}")


if __name__ == "__main__":
    raise SystemExit(main())
