"""The wheel carries the grammar and the rules, and works outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_grammar_and_rules_and_runs_elsewhere(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(ROOT)], check=True,
                   capture_output=True)
    wheel = next((tmp_path / "dist").glob("reasoner-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for inside in ("reasoner/_data/grammar/matrixone.lark",
                   "reasoner/_data/grammar/maxcompute.lark",
                   "reasoner/_data/grammar/datalog.lark",
                   "reasoner/_data/rules/matrixone/schema.dl",
                   "reasoner/_data/rules/maxcompute/schema.dl",
                   "reasoner/py.typed"):
        assert inside in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    code = ("import reasoner, pathlib; r = reasoner.Reasoner(); "
            "assert pathlib.Path(reasoner.__file__).is_relative_to(pathlib.Path.cwd()), "
            "reasoner.__file__; "
            "r.load('create database d; create table d.t (a int);'); "
            "print(bool(r.initial_session.check('select', 'table d.t')))")
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", code.replace("pathlib.Path.cwd()",
                                                             f"pathlib.Path({str(target)!r})")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
