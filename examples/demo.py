"""The main demo: replay the seed scenario, then ask the reasoner who may do what."""

from __future__ import annotations

from pathlib import Path

from reasoner import Reasoner
from reasoner.render.text import render_decision

SCRIPT = Path(__file__).with_name("seed_scenario.sql")


def main() -> None:
    reasoner = Reasoner("matrixone")  # target matrixone-v4.2.0, the latest release
    print(f"== replaying {SCRIPT.name}")
    for outcome in reasoner.load(SCRIPT):
        status = "ok" if outcome.ok else f"error: {outcome.error}"
        print(f"  line {outcome.line:>3}: {status:<60} {' '.join(outcome.statement.split())[:60]}")

    joe = reasoner.session("businessaccount:joe_g")
    robert = reasoner.session("businessaccount:robert")
    other = reasoner.session("elseaccount:else_admin")
    questions = [
        (joe, "select", "table business_db.orders"),
        (joe, "drop table", "database business_db"),
        (joe, "create database", "account *"),
        (robert, "create user", "account *"),
        (other, "select", "table business_db.orders"),
    ]
    print("\n== decisions")
    for session, privilege, target in questions:
        print(f"\n{session.principal} asks: {privilege} on {target}")
        print(render_decision(session.check(privilege, target)))


if __name__ == "__main__":
    main()
