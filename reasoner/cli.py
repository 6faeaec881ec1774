"""The ``reasoner`` command: a thin front end over the library (no semantics here)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from reasoner import conformance
from reasoner.api import Reasoner
from reasoner.render.json import decision_to_dict
from reasoner.render.text import render_decision

EXIT_ALLOW, EXIT_DENY, EXIT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reasoner",
        description="Who can do what in your database, and why: replay the security "
                    "statements you ran and ask.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dialect", default="matrixone", help="matrixone (default)")
        p.add_argument("--target", default=None,
                       help="semantic profile, e.g. matrixone-v4.2.0 (default), "
                            "matrixone-main, matrixone-doc")

    run = sub.add_parser("run", help="execute a script and report each statement's outcome")
    run.add_argument("script", type=Path)
    common(run)
    run.add_argument("--quiet", action="store_true", help="report only failed statements")

    check = sub.add_parser("check", help="may a session use a privilege on an object?")
    check.add_argument("script", type=Path)
    common(check)
    check.add_argument("--as", dest="principal", required=True, help="ACCOUNT:USER")
    check.add_argument("--role", default=None)
    check.add_argument("--secondary", choices=["all", "none"], default=None)
    check.add_argument("--json", action="store_true", help="print the decision as JSON")
    check.add_argument("question", nargs="+", help="PRIVILEGE on KIND NAME, e.g. "
                                                   "select on table db1.t1")

    test = sub.add_parser("test", help="run conformance .test files")
    test.add_argument("paths", nargs="+", type=Path)
    common(test)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "check":
            return _check(args)
        return _test(args)
    except (OSError, ValueError) as exc:
        print(f"reasoner: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    reasoner = Reasoner(args.dialect, args.target)
    failed = 0
    for outcome in reasoner.run(args.script):
        if not outcome.ok:
            failed += 1
        if outcome.ok and args.quiet:
            continue
        text = " ".join(outcome.statement.split())
        text = text if len(text) <= 80 else text[:77] + "..."
        status = "ok" if outcome.ok else f"error: {outcome.error}"
        print(f"{outcome.source}:{outcome.line}: {status}" + (f"  [{text}]" if text else ""))
    print(f"{failed} statement(s) failed" if failed else "all statements ok")
    return EXIT_DENY if failed else EXIT_ALLOW


def split_question(words: Sequence[str]) -> tuple[str, str]:
    """``select on table db1.t1`` -> ("select", "table db1.t1")."""
    lowered = [w.lower() for w in words]
    if "on" not in lowered:
        raise ValueError("the question must read PRIVILEGE on KIND NAME")
    at = len(lowered) - 1 - lowered[::-1].index("on")
    privilege, target = " ".join(words[:at]), " ".join(words[at + 1:])
    if not privilege or len(target.split()) < 2:
        raise ValueError("the question must read PRIVILEGE on KIND NAME")
    return privilege, target


def _check(args: argparse.Namespace) -> int:
    privilege, target = split_question(args.question)
    reasoner = Reasoner(args.dialect, args.target)
    for outcome in reasoner.run(args.script):
        if not outcome.ok:
            print(f"note: {outcome.source}:{outcome.line}: {outcome.error}", file=sys.stderr)
    try:
        session = reasoner.session(args.principal, args.role, args.secondary)
    except Exception as exc:
        print(f"reasoner: cannot log in as {args.principal}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    decision = session.check(privilege, target)
    if args.json:
        print(json.dumps(decision_to_dict(decision), indent=2, sort_keys=True))
    else:
        print(render_decision(decision))
    if decision.errors:
        return EXIT_ERROR
    return EXIT_ALLOW if decision.allowed else EXIT_DENY


def _test(args: argparse.Namespace) -> int:
    target = args.target or "matrixone-v4.2.0"
    passed = failed = 0
    for path in conformance.collect(args.paths):
        result = conformance.run_file(path, target)
        if result.skipped:
            print(f"{result.path}: skipped ({result.skipped}, not {target})")
            continue
        for line in result.failures:
            print(line)
        passed += result.passed
        failed += len(result.failures)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
