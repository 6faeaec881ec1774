"""Safe concurrent embedding: a web-service-like load on one Reasoner.

The invariant the readers can observe: the administrator only ever grants or revokes
``select`` and ``insert`` on db1.t1 to ``dev`` *together, in one statement* (WITH GRANT
OPTION), and each statement is slowed down between its facts to widen any window. So:

- a reader holding ``reasoner.lock`` across two checks sees both privileges or neither;
- a single compound decision (joe passing both privileges on, two needs judged in one
  decision) never finds exactly one of them -- never half a statement;
- writers on disjoint objects, interleaved by the scheduler, end in the state a serial
  replay of each one's statements reaches.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from reasoner import Reasoner
from tests.strategies.matrixone import facts

SETUP = """
create account acc admin_name 'admin' identified by '1';
-- connect acc:admin
create database db1;
create table db1.t1 (a int);
create role dev, helper;
create user joe identified by '1' default role dev;
"""
BOTH = "grant select, insert on table db1.t1 to dev with grant option"
NEITHER = "revoke select, insert on table db1.t1 from dev"
PASS_ON = "grant select, insert on table db1.t1 to helper"  # two needs, one decision


def _world() -> Reasoner:
    reasoner = Reasoner("matrixone")
    assert all(o.ok for o in reasoner.load(SETUP))
    return reasoner


def _slow_facts(reasoner: Reasoner) -> None:
    """Every fact added sleeps a little afterwards: a statement's two privilege rows are
    milliseconds apart, so an unserialised reader would land between them."""
    store = reasoner.engine.facts
    real = store.add

    def add(pred: str, args: tuple, origin: Any) -> None:
        real(pred, args, origin)
        if pred in ("privilege", "grant_option"):
            time.sleep(0.0005)

    store.add = add  # type: ignore[method-assign]


def _run(threads: list[threading.Thread], seconds: float) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds)
    assert not any(t.is_alive() for t in threads), "a thread hung"


def test_readers_see_whole_statements_while_an_admin_writes() -> None:
    reasoner = _world()
    _slow_facts(reasoner)
    stop = threading.Event()
    errors: list[str] = []
    counts = {"statements": 0, "pairs": 0, "compound": 0, "checks": 0}
    lock = threading.Lock()

    def count(key: str) -> None:
        with lock:
            counts[key] += 1

    def admin() -> None:
        session = reasoner.session("acc:admin")
        for i in range(400):
            outcome = session.execute(BOTH if i % 2 == 0 else NEITHER)
            if not outcome.ok:
                errors.append(f"admin: {outcome.error}")
            count("statements")
        stop.set()

    def pair_reader() -> None:
        session = reasoner.session("acc:joe")
        while not stop.is_set():
            with reasoner.lock:  # both checks see the same state
                select = bool(session.check("select", "table db1.t1"))
                insert = bool(session.check("insert", "table db1.t1"))
            if select != insert:
                errors.append(f"half a statement: select={select} insert={insert}")
            count("pairs")

    def compound_reader() -> None:
        session = reasoner.session("acc:joe")
        while not stop.is_set():
            outcome = session.execute(PASS_ON)
            decision = outcome.decision
            if decision is None:
                errors.append(f"no decision: {outcome.error}")
                continue
            if len(decision.satisfied) == 1:
                errors.append(f"half a statement in one decision: {decision.summary()}")
            if decision.errors:
                errors.append(f"decision error: {decision.errors}")
            count("compound")

    def plain_reader() -> None:
        session = reasoner.session("acc:joe")
        while not stop.is_set():
            decision = session.check(random.choice(("select", "insert", "update")),
                                     "table db1.t1")
            if decision.errors:
                errors.append(f"check error: {decision.errors}")
            count("checks")

    threads = [threading.Thread(target=admin)] + [
        threading.Thread(target=f) for f in (pair_reader, pair_reader, compound_reader,
                                             compound_reader, plain_reader, plain_reader,
                                             plain_reader)]
    _run(threads, 240)
    assert errors == [], errors[:5]
    assert counts["statements"] == 400 and counts["pairs"] > 0 and counts["compound"] > 0
    print(f"\nconcurrency: {counts}")


def _writer_ops(i: int, rng: random.Random, n: int) -> list[str]:
    """Statements on objects only writer ``i`` touches (its role, user and table)."""
    role, user, table = f"w{i}", f"wu{i}", f"db1.wt{i}"
    ops = [f"create role {role}", f"create user {user} identified by '1'",
           f"grant {role} to {user}"]
    choices: list[Callable[[], str]] = [
        lambda: f"create table {table} (a int)", lambda: f"drop table {table}",
        lambda: f"grant {rng.choice(('select', 'insert', 'all'))} on table {table} to {role}",
        lambda: f"revoke {rng.choice(('select', 'insert', 'all'))} on table {table} from "
                f"{role}",
        lambda: f"grant {role} to {user}", lambda: f"revoke {role} from {user}",
        lambda: f"grant select on table db1.t1 to {role}",
        lambda: f"revoke select on table db1.t1 from {role}",
    ]
    ops += [rng.choice(choices)() for _ in range(n)]
    return ops


SESSION_FACTS = ("session", "session_role", "secondary_all")


def _state(reasoner: Reasoner, writers: int) -> tuple:
    return (facts(reasoner, ignore=SESSION_FACTS),
            {u: frozenset(reasoner.what_can(f"acc:wu{u}")) for u in range(writers)})


def test_disjoint_writers_end_where_a_serial_replay_ends() -> None:
    """Thousands of statements by several writer threads (each on its own objects), with
    readers checking all along: the final facts and access equal a serial replay's."""
    writers, per_writer = 4, 500
    plans = [_writer_ops(i, random.Random(i), per_writer) for i in range(writers)]
    reasoner = _world()
    outcomes: dict[int, list[tuple[bool, str | None]]] = {}
    stop = threading.Event()
    errors: list[str] = []

    def writer(i: int) -> None:
        session = reasoner.session("acc:admin")
        outcomes[i] = [(o.ok, o.error) for o in map(session.execute, plans[i])]

    def reader() -> None:
        session = reasoner.session("acc:joe")
        while not stop.is_set():
            if session.check("select", "table db1.t1").errors:
                errors.append("reader saw an error")

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    _run([threading.Thread(target=writer, args=(i,)) for i in range(writers)], 600)
    stop.set()
    for thread in readers:
        thread.join(60)
    assert errors == []
    serial = _world()
    admin = serial.session("acc:admin")
    for i in range(writers):
        replayed = [(o.ok, o.error) for o in map(admin.execute, plans[i])]
        assert replayed == outcomes[i], i
    assert _state(reasoner, writers) == _state(serial, writers)
    print(f"\nconcurrency: {writers * (per_writer + 3)} writer statements, serial replay equal")


def test_asyncio_callers_use_threads_and_the_loop_stays_responsive() -> None:
    """From asyncio, call the library through ``asyncio.to_thread``: many checks run
    concurrently, the answers are the same as direct calls, and the event loop keeps
    ticking (no call blocks it for longer than one engine call)."""
    reasoner = _world()
    reasoner.session("acc:admin").execute(BOTH)
    joe = reasoner.session("acc:joe")
    expected = {p: bool(joe.check(p, "table db1.t1")) for p in ("select", "insert", "update")}

    async def main() -> tuple[list[tuple[str, bool]], float]:
        gaps: list[float] = []
        done = asyncio.Event()

        async def heartbeat() -> None:
            last = time.monotonic()
            while not done.is_set():
                await asyncio.sleep(0.005)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        beat = asyncio.create_task(heartbeat())
        privileges = [random.Random(i).choice(sorted(expected)) for i in range(300)]
        answers = await asyncio.gather(*(asyncio.to_thread(joe.check, p, "table db1.t1")
                                         for p in privileges))
        done.set()
        await beat
        return list(zip(privileges, map(bool, answers), strict=True)), max(gaps)

    answers, worst_gap = asyncio.run(main())
    assert all(expected[p] == got for p, got in answers)
    assert worst_gap < 1.0, f"the event loop stalled for {worst_gap:.3f} s"
    print(f"\nasyncio: 300 checks through to_thread, longest loop stall {worst_gap * 1000:.0f} ms")
