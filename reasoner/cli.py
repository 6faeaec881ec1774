"""The ``reasoner`` command: a thin front end over the library (no semantics here)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from reasoner import conformance
from reasoner.api import Reasoner, Session
from reasoner.errors import ReasonerError
from reasoner.explain.why import Why
from reasoner.explain.whynot import WhyNot
from reasoner.render.dot import why_not_to_dot, why_to_dot, write_picture
from reasoner.render.json import decision_to_dict, why_not_to_dict, why_to_dict
from reasoner.render.text import render_decision, render_why, render_why_not
from reasoner.rulebase import BACKENDS

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
        p.add_argument("--engine", choices=BACKENDS, default=None,
                       help="rule evaluator: incremental (default, the fast path) or "
                            "pydatalog (the reference)")

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

    _bulk_parsers(sub, common)

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
        if args.command == "matrix":
            return _matrix(args)
        if args.command == "who-can":
            return _who_can(args)
        if args.command == "what-can":
            return _what_can(args)
        return _test(args)
    except (OSError, ValueError) as exc:
        print(f"reasoner: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    reasoner = Reasoner(args.dialect, args.target, args.engine)
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
    reasoner = Reasoner(args.dialect, args.target, args.engine)
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
        else:  # "x": never replace a file that appeared since the check above
            with args.output.open("w" if args.force else "x", encoding="utf-8") as out:
                out.write(text + "\n")
        return code
    graph = why_to_dot(explanation) if isinstance(explanation, Why) else why_not_to_dot(
        explanation)
    if args.output is None:
        print(graph.source)
        return code
    written, message = write_picture(graph, args.output, args.format, force=args.force)
    if message:
        print(f"reasoner: {message}", file=sys.stderr)
        return EXIT_ERROR
    print(f"wrote {written}")
    return code


POINT = "point"  # who-can / what-can through the library's exact point path


def _bulk_parsers(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """``matrix``, ``who-can`` and ``what-can``: questions about everyone at once."""
    matrix = sub.add_parser("matrix", help="export the access matrix: every user x privilege "
                                           "x object, with the role it flows through")
    matrix.add_argument("script", type=Path)
    common(matrix)
    matrix.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb",
                        help="the bulk engine (default duckdb, embedded)")
    matrix.add_argument("--format", choices=["parquet", "csv"], required=True)
    matrix.add_argument("-o", "--output", type=Path, required=True)
    matrix.add_argument("--force", action="store_true", help="overwrite the output file")
    backend_help = ("point (default): the library's exact point path; duckdb, spark: "
                    "look it up in the materialised access matrix")
    who = sub.add_parser("who-can", help="every user who may use a privilege on an object")
    who.add_argument("script", type=Path)
    common(who)
    who.add_argument("--account", default="sys", help="the account (default sys)")
    who.add_argument("--backend", choices=[POINT, "duckdb", "spark"], default=POINT,
                     help=backend_help)
    who.add_argument("question", nargs="+", help="PRIVILEGE on KIND NAME, e.g. "
                                                 "select on table db1.t1")
    what = sub.add_parser("what-can", help="everything a user may reach, and through which "
                                           "roles")
    what.add_argument("script", type=Path)
    what.add_argument("principal", help="ACCOUNT:USER")
    common(what)
    what.add_argument("--backend", choices=[POINT, "duckdb", "spark"], default=POINT,
                      help=backend_help)


def _loaded(args: argparse.Namespace) -> Reasoner:
    """The reasoner after the script; failed statements are noted on stderr."""
    reasoner = Reasoner(args.dialect, args.target, args.engine)
    for outcome in reasoner.run(args.script):
        if not outcome.ok:
            print(f"note: {outcome.source}:{outcome.line}: {outcome.error}", file=sys.stderr)
    return reasoner


def _matrix(args: argparse.Namespace) -> int:
    from reasoner.materialize import materialize

    if args.output.exists() and not args.force:
        raise ValueError(f"{args.output} exists; add --force to overwrite it")
    matrix = materialize(_loaded(args), backend=args.backend)
    if args.format == "parquet":
        matrix.to_parquet(args.output)
    else:
        matrix.to_csv(args.output)
    print(f"wrote {matrix.count()} row(s) to {args.output}")
    return EXIT_ALLOW


def _who_can(args: argparse.Namespace) -> int:
    privilege, target = split_question(args.question)
    reasoner = _loaded(args)
    if args.backend == POINT:
        try:
            found = reasoner.who_can(privilege, target, account=args.account)
        except ReasonerError as exc:
            print(f"reasoner: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        users = [(a.user, tuple(a.roles)) for a in found]
    else:
        from reasoner.materialize import materialize

        kind, _, name = target.partition(" ")
        roles: dict[str, set[str]] = {}
        for row in materialize(reasoner, backend=args.backend).who_can(
                privilege, kind, name, account=args.account):
            roles.setdefault(row.user, set()).add(row.via_role)
        users = [(user, tuple(sorted(r))) for user, r in sorted(roles.items())]
    for user, via in users:
        print(f"{user}  via {', '.join(via)}")
    if not users:
        print(f"nobody may use {privilege} on {target} in account {args.account}")
    return EXIT_ALLOW if users else EXIT_DENY


def _what_can(args: argparse.Namespace) -> int:
    reasoner = _loaded(args)
    if args.backend == POINT:
        try:
            items = reasoner.what_can(args.principal)
        except ReasonerError as exc:
            print(f"reasoner: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
    else:
        from reasoner.materialize import materialize

        grouped: dict[tuple[str, str, str], set[str]] = {}
        for row in materialize(reasoner, backend=args.backend).what_can(args.principal):
            grouped.setdefault((row.privilege, row.kind, row.object), set()).add(row.via_role)
        items = [(p, k, o, tuple(sorted(r))) for (p, k, o), r in sorted(grouped.items())]
    for privilege, kind, name, via in items:
        print(f"{privilege} on {kind} {name}  via {', '.join(via)}")
    if not items:
        print(f"{args.principal} may use nothing")
    return EXIT_ALLOW if items else EXIT_DENY


def _test(args: argparse.Namespace) -> int:
    target = args.target or "matrixone-v4.2.0"
    passed = failed = 0
    for path in conformance.collect(args.paths):
        result = conformance.run_file(path, target, backend=args.engine)
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
