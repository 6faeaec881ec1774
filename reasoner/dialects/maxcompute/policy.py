"""Policy documents (spec §5.2): the JSON a ``put policy`` / ``with exception`` file holds.

Only the shape is checked here, with MaxCompute's own error texts; what a statement means
for an access is decided by the rules (rules/maxcompute/policies.dl), from the facts the
catalogue writes for each statement. Patterns are kept lower-cased, ``odps:`` removed
from actions, so that the rules compare like with like.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from reasoner.errors import StatementError

# request task types the reasoner can tell apart, by the names policies use for them
TASK_TYPES = {"sql": "sql", "dt": "dt", "mapreduce": "mapreduce", "mr": "mapreduce"}
ALL_TASKS = ("sql", "dt", "mapreduce")
# one tenant, one region: a region written in a resource pattern is read as any region
_REGION = re.compile(r"^acs:odps:[^:]*:")


@dataclass(frozen=True)
class PolicyStatement:
    """One statement of a policy: patterns lower case, actions without ``odps:``."""

    effect: str  # allow | deny
    principals: tuple[str, ...]
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    tasks: tuple[str, ...] = ALL_TASKS  # the task types its condition admits
    opaque: bool = False  # a condition the reasoner cannot evaluate


def glob(pattern: str) -> re.Pattern[str]:
    """``*`` matches any run of characters; everything else stands for itself."""
    return re.compile("".join(".*" if part == "*" else re.escape(part)
                              for part in re.split(r"(\*)", pattern)) + r"\Z", re.DOTALL)


def _strings(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise StatementError(f"failed to check policy format: invalid {what} value - {value!r}")


def _principals(value: object) -> tuple[str, ...]:
    if isinstance(value, dict):  # {"ALIYUN": [...]} / {"RAM": [...]}
        out: list[str] = []
        for items in value.values():
            out.extend(_strings(items, "Principal"))
        return tuple(p.strip().lower() for p in out)
    return tuple(p.strip().lower() for p in _strings(value, "Principal"))


def _condition(value: object) -> tuple[tuple[str, ...], bool]:
    """The task types a Condition admits, and whether any part of it is opaque here."""
    if value in (None, {}):
        return ALL_TASKS, False
    if not isinstance(value, dict):
        raise StatementError(f"failed to check policy format: invalid Condition value - "
                             f"{value!r}")
    tasks: set[str] = set(ALL_TASKS)
    opaque = False
    for operator, clauses in value.items():
        if not isinstance(clauses, dict):
            raise StatementError(f"failed to check policy format: invalid Condition value - "
                                 f"{clauses!r}")
        for key, wanted in clauses.items():
            if operator.lower() == "stringequals" and key.lower() == "odps:tasktype":
                names = {TASK_TYPES.get(v.strip().lower(), "") for v in
                         _strings(wanted, "Condition")}
                tasks &= names - {""}
            else:
                opaque = True
    return tuple(sorted(tasks)), opaque


def parse_document(text: str, actions: Iterable[str], *, principals: bool
                   ) -> list[PolicyStatement]:
    """The statements of a policy document. ``actions``: the known action names (for the
    ``invalid Action value`` check); ``principals``: whether statements name principals
    (project and exception policies) or not (role policies)."""
    known = tuple(actions)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StatementError(f"failed to check policy format: {exc.msg} at line {exc.lineno} "
                             f"column {exc.colno}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), list):
        raise StatementError("failed to check policy format: a policy needs a Statement list")
    out: list[PolicyStatement] = []
    for item in doc["Statement"]:
        if not isinstance(item, dict):
            raise StatementError("failed to check policy format: invalid Statement value")
        effect = str(item.get("Effect", "")).strip().lower()
        if effect not in ("allow", "deny"):
            raise StatementError(f"failed to check policy format: invalid Effect value - "
                                 f"{item.get('Effect')}")
        acts = []
        for action in _strings(item.get("Action", []), "Action"):
            name = action.strip().lower()
            bare = name[5:] if name.startswith("odps:") else ""
            if not bare or not any(glob(bare).match(a) for a in known):
                raise StatementError(f"failed to check policy format: invalid Action value - "
                                     f"{action}")
            acts.append(bare)
        resources = tuple(_REGION.sub("acs:odps:*:", r.strip().lower())
                          for r in _strings(item.get("Resource", []), "Resource"))
        who: tuple[str, ...] = ()
        if principals:
            who = _principals(item.get("Principal", []))
            if not who and effect == "deny":  # a Deny naming nobody is read as one for all
                who = ("*",)
        tasks, opaque = _condition(item.get("Condition"))
        out.append(PolicyStatement(effect, who, tuple(acts), resources, tasks, opaque))
    return out
