"""The MaxCompute demo: replay a tenant with a label-protected column and a protected
project, then ask who may read what, why, and what would fix a deny."""

from __future__ import annotations

from pathlib import Path

from reasoner import Reasoner
from reasoner.explain.whynot import WhyNot
from reasoner.render.text import render_decision, render_why

SCRIPT = Path(__file__).with_name("maxcompute_scenario.sql")
ALICE = "ALIYUN$alice@aliyun.com"
BOB = "ALIYUN$bob@aliyun.com"


def show_why_not(explanation: WhyNot) -> None:
    """The dialect's own account of a deny: session, failing layer, verified repairs."""
    ctx = explanation.context
    print(f"DENY  {explanation.decision.requirement.statement}")
    print(ctx["summary"])  # the session, then "failing layer: <layer> -- <what is missing>"
    for number, repair in enumerate(explanation.repairs, 1):
        mark = "best repair" if number == 1 else f"repair {number}"
        print(f"  {mark}: {'; '.join(repair.statements)}")
        print(f"      run by {repair.run_as}; blast radius {repair.blast_radius}"
              + (f"; {repair.note}" if repair.note else ""))


def main() -> None:
    reasoner = Reasoner("maxcompute")
    print(f"\n== replaying {SCRIPT.name} (MaxCompute)")
    for outcome in reasoner.load(SCRIPT):
        status = "ok" if outcome.ok else f"error: {outcome.error}"
        print(f"  line {outcome.line:>3}: {status[:60]:<60} "
              f"{' '.join(outcome.statement.split())[:60]}")

    in_a = reasoner.session(f"prj_a {ALICE}")
    in_report = reasoner.session(f"prj_report {ALICE}")
    in_dev = reasoner.session(f"prj_dev {ALICE}")
    owner = reasoner.session(f"prj_a {BOB}")
    questions = [
        (in_a, "select", "table prj_a.customers(id, name)"),
        (in_a, "select", "table prj_a.customers(mobile)"),
        (owner, "select", "table prj_a.customers(mobile)"),
        (in_report, "select", "table prj_a.customers(id, name)"),
        (in_dev, "select", "table prj_a.customers(id, name)"),
    ]
    print("\n== decisions")
    for session, privilege, target in questions:
        print(f"\n{session.principal} asks: {privilege} on {target}")
        print(render_decision(session.check(privilege, target)))

    print("\n== why may alice read customers.id from prj_report? (the trusted project)")
    print(render_why(in_report.why("select", "table prj_a.customers(id)")))

    print("\n== why may alice not read the mobile column? (LabelSecurity)")
    show_why_not(in_a.why_not("select", "table prj_a.customers(mobile)"))

    print("\n== why may alice not copy customers into prj_dev? (ProjectProtection)")
    outcome = in_dev.execute("create table dev_copy2 as select id, name from prj_a.customers")
    print(f"  {outcome.error}")
    show_why_not(in_dev.why_not_statement(outcome))


if __name__ == "__main__":
    main()
