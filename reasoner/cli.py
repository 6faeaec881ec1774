"""The ``reasoner`` command: a thin front end over the library (no semantics here)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from reasoner import conformance
from reasoner.api import Reasoner, Session
from reasoner.explain.why import Why
from reasoner.explain.whynot import WhyNot
from reasoner.render.dot import why_not_to_dot, why_to_dot, write_picture
from reasoner.render.json import decision_to_dict, why_not_to_dict, why_to_dict
from reasoner.render.text import render_decision, render_why, render_why_not

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
    run.add_argument("--explain", action="store_true",
                     help="explain each statement the authorization step rejected")

    check = sub.add_parser("check", help="may a session use a privilege on an object?")
    def question(p: argparse.ArgumentParser) -> None:
        p.add_argument("script", type=Path)
        common(p)
        p.add_argument("--as", dest="principal", required=True, help="ACCOUNT:USER")
        p.add_argument("--role", default=None)
        p.add_argument("--secondary", choices=["all", "none"], default=None)
        p.add_argument("question", nargs="+", help="PRIVILEGE on KIND NAME, e.g. "
                                                   "select on table db1.t1")

    question(check)
    check.add_argument("--json", action="store_true", help="print the decision as JSON")
    for name, text in (("why", "prove an allow, down to the lines of the script"),
                       ("why-not", "explain a deny, with verified repairs")):
        p = sub.add_parser(name, help=text)
        question(p)
        p.add_argument("--format", choices=["text", "json", "dot", "svg", "png"],
                       default="text")
        p.add_argument("-o", "--output", type=Path, default=None,
                       help="write to this file (required for svg and png)")
        p.add_argument("--force", action="store_true", help="overwrite the output file")
        if name == "why-not":
            p.add_argument("--verbose", action="store_true",
                           help="show every rule step of each failure")
        if name == "why":
            p.add_argument("--more", type=int, default=0, help="also show N other proofs")

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
        if args.command in ("why", "why-not"):
            return _explain(args)
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
        if args.explain and outcome.decision is not None and not outcome.decision.allowed:
            session = reasoner.last_session
            explanation = session.why_not_statement(outcome)
            print("\n".join("    " + line for line in render_why_not(explanation).splitlines()))
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


def _session(args: argparse.Namespace) -> Session | None:
    reasoner = Reasoner(args.dialect, args.target)
    for outcome in reasoner.run(args.script):
        if not outcome.ok:
            print(f"note: {outcome.source}:{outcome.line}: {outcome.error}", file=sys.stderr)
    try:
        return reasoner.session(args.principal, args.role, args.secondary)
    except Exception as exc:
        print(f"reasoner: cannot log in as {args.principal}: {exc}", file=sys.stderr)
        return None


def _check(args: argparse.Namespace) -> int:
    privilege, target = split_question(args.question)
    session = _session(args)
    if session is None:
        return EXIT_ERROR
    decision = session.check(privilege, target)
    if args.json:
        print(json.dumps(decision_to_dict(decision), indent=2, sort_keys=True))
    else:
        print(render_decision(decision))
    if decision.errors:
        return EXIT_ERROR
    return EXIT_ALLOW if decision.allowed else EXIT_DENY


def _explain(args: argparse.Namespace) -> int:
    privilege, target = split_question(args.question)
    if args.format in ("svg", "png") and args.output is None:
        raise ValueError(f"--format {args.format} needs -o FILE")
    if args.output is not None and args.output.exists() and not args.force:
        raise ValueError(f"{args.output} exists; add --force to overwrite it")
    session = _session(args)
    if session is None:
        return EXIT_ERROR
    decision = session.check(privilege, target)
    if args.command == "why" and not decision.allowed:
        print(f"DENY  {privilege} on {target}: nothing to prove; ask why-not", file=sys.stderr)
        return EXIT_DENY
    if args.command == "why-not" and decision.allowed:
        print(f"ALLOW  {privilege} on {target}: nothing fails; ask why", file=sys.stderr)
        return EXIT_ALLOW
    if args.command == "why":
        explanation: Why | WhyNot = session.why(privilege, target, more=args.more)
    else:
        explanation = session.why_not(privilege, target)
    code = EXIT_ALLOW if decision.allowed else EXIT_DENY
    if args.format in ("text", "json"):
        if args.format == "text":
            text = (render_why(explanation) if isinstance(explanation, Why)
                    else render_why_not(explanation, verbose=args.verbose))
        else:
            data = (why_to_dict(explanation) if isinstance(explanation, Why)
                    else why_not_to_dict(explanation))
            text = json.dumps(data, indent=2, sort_keys=True, default=str)
        if args.output is None:
            print(text)
        else:
            args.output.write_text(text + "\n", encoding="utf-8")
        return code
    graph = why_to_dot(explanation) if isinstance(explanation, Why) else why_not_to_dot(
        explanation)
    if args.output is None:
        print(graph.source)
        return code
    written, message = write_picture(graph, args.output, args.format)
    if message:
        print(f"reasoner: {message}", file=sys.stderr)
        return EXIT_ERROR
    print(f"wrote {written}")
    return code


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
