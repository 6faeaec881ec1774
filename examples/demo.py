"""The main demo: replay the seed scenario, then ask the reasoner who may do what."""

from __future__ import annotations

from pathlib import Path

from demo_maxcompute import main as maxcompute_demo

from reasoner import Reasoner
from reasoner.render.dot import why_to_dot, write_picture
from reasoner.render.text import render_decision, render_why, render_why_not

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

    print("\n== why may joe_g read orders? (a proof down to the script's lines)")
    why = joe.why("select", "table business_db.orders")
    print(render_why(why))

    print("\n== why may joe_g not create a database? (and what would fix it)")
    print(render_why_not(joe.why_not("create database", "account *")))

    out = Path("out")
    out.mkdir(exist_ok=True)
    written, message = write_picture(why_to_dot(why), out / "why-joe-reads-orders.svg", "svg")
    print(f"\n== picture of the proof: {written}" + (f" ({message})" if message else ""))
    maxcompute_demo()


if __name__ == "__main__":
    main()
