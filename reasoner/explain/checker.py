"""An independent check of a proof: every inner node is an instance of the rule it names,
every leaf is a current fact, heights strictly decrease.

It does not ask the engine to re-derive anything it is shown: it matches rules and facts
itself. The only question put to the engine is the absence of a *derived* atom under a
negation (absence of a stored fact is checked against the fact store).
"""

from __future__ import annotations

from reasoner.backends.base import Backend, Value
from reasoner.datalog.ast import Atom, Comparison, Const, Literal, Negation, Program, Var
from reasoner.explain.proof import ProofNode
from reasoner.explain.why import Why
from reasoner.facts import FactStore


def _match(pattern: Literal, ground: Literal, env: dict[str, Value]) -> bool:
    """Extend ``env`` so that ``pattern`` equals ``ground``; False when impossible."""
    if type(pattern) is not type(ground):
        return False
    if isinstance(pattern, Negation):
        return _match(pattern.atom, ground.atom, env)  # type: ignore[union-attr]
    if isinstance(pattern, Comparison):
        assert isinstance(ground, Comparison)
        return pattern.op == ground.op and _terms(
            (pattern.left, pattern.right), (ground.left, ground.right), env)
    assert isinstance(pattern, Atom) and isinstance(ground, Atom)
    return pattern.pred == ground.pred and _terms(pattern.args, ground.args, env)


def _terms(patterns: tuple, grounds: tuple, env: dict[str, Value]) -> bool:
    if len(patterns) != len(grounds):
        return False
    for p, g in zip(patterns, grounds, strict=True):
        if isinstance(g, Var):
            if not (isinstance(p, Var) and p.anonymous):  # only `_` stays open in a negation
                return False
            continue
        value = g.value
        if isinstance(p, Const):
            if p.value != value:
                return False
        elif p.anonymous:
            continue
        elif p.name in env:
            if env[p.name] != value:
                return False
        else:
            env[p.name] = value
    return True


def _compare(op: str, left: Value, right: Value) -> bool:
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if type(left) is not type(right):
        return False
    return {"<": left < right, "<=": left <= right, ">": left > right,  # type: ignore[operator]
            ">=": left >= right}[op]  # type: ignore[operator]


class ProofChecker:
    def __init__(self, program: Program, facts: FactStore, backend: Backend) -> None:
        self.program = program
        self.facts = facts
        self.backend = backend
        self._rules = {rule.name: rule for rule in program.rules}
        self._vocabulary = {(f.atom.pred, f.atom.args) for f in program.facts}

    def check(self, node: ProofNode) -> list[str]:
        """Problems found (empty: the proof is valid)."""
        problems: list[str] = []
        self._check(node, problems)
        return problems

    def check_why(self, explanation: Why) -> list[str]:
        problems: list[str] = []
        for need in explanation.needs:
            if len(need.steps) != len(need.alternative.body):
                problems.append(f"{need.need.what}: proof does not cover the alternative")
            env = dict(need.binding)
            for pattern, step in zip(need.alternative.body, need.steps, strict=False):
                if not _match(pattern, step.literal, env):
                    problems.append(f"{need.need.what}: {step.literal} is not an instance of "
                                    f"{pattern}")
                self._check(step, problems)
        return problems

    def _check(self, root: ProofNode, problems: list[str]) -> None:
        """Every node of the tree, depth first, with an explicit stack: a proof through a
        chain of 2,000 roles is 4,000 nodes deep, far past Python's recursion limit."""
        stack = [root]
        while stack:
            node = stack.pop()
            if node.kind == "rule":
                stack.extend(reversed(self._check_rule(node, problems)))
            else:
                self._check_leaf(node, problems)

    def _check_leaf(self, node: ProofNode, problems: list[str]) -> None:
        literal = node.literal
        if node.kind == "fact":
            assert isinstance(literal, Atom)
            args = _values(literal)
            if args is None or not self.facts.has(literal.pred, args):
                problems.append(f"leaf {literal} is not a current fact")
            return
        if node.kind == "vocabulary":
            assert isinstance(literal, Atom)
            if (literal.pred, literal.args) not in self._vocabulary:
                problems.append(f"leaf {literal} is not a fact of the rule files")
            return
        if node.kind == "comparison":
            assert isinstance(literal, Comparison)
            if not (isinstance(literal.left, Const) and isinstance(literal.right, Const)
                    and _compare(literal.op, literal.left.value, literal.right.value)):
                problems.append(f"comparison {literal} does not hold")
            return
        if node.kind == "negation":
            assert isinstance(literal, Negation)
            self._check_absent(literal.atom, problems)
            return
        problems.append(f"node {literal} has unknown kind {node.kind}")

    def _check_absent(self, atom: Atom, problems: list[str]) -> None:
        args = _values(atom)
        if atom.pred in self.program.inputs:
            if args is not None:
                if self.facts.has(atom.pred, args):
                    problems.append(f"negation {atom} fails: the fact is stored")
            elif self.backend.solve([atom], limit=1):
                problems.append(f"negation {atom} fails: a matching fact is stored")
        elif self.backend.solve([atom], limit=1):
            problems.append(f"negation {atom} fails: the atom is derivable")

    def _check_rule(self, node: ProofNode, problems: list[str]) -> list[ProofNode]:
        """Check one rule instance; return the children still to check."""
        rule = node.rule
        if rule is None or self._rules.get(rule.name) != rule:
            problems.append(f"node {node.literal} names a rule that is not in the program")
            return []
        env: dict[str, Value] = {}
        if not _match(rule.head, node.literal, env):
            problems.append(f"{node.literal} is not an instance of the head of {rule.name}")
            return []
        if len(rule.body) != len(node.children):
            problems.append(f"{node.literal}: {rule.name} has {len(rule.body)} body literals, "
                            f"the proof {len(node.children)}")
            return []
        for pattern, child in zip(rule.body, node.children, strict=True):
            if not _match(pattern, child.literal, env):
                problems.append(f"{child.literal} is not an instance of {pattern} in "
                                f"{rule.name}")
            if child.kind == "rule" and child.height >= node.height:
                problems.append(f"height does not decrease at {child.literal}")
        return list(node.children)


def _values(atom: Atom) -> tuple[Value, ...] | None:
    if all(isinstance(a, Const) for a in atom.args):
        return tuple(a.value for a in atom.args)  # type: ignore[union-attr]
    return None
