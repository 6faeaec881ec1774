"""Loads, checks and caches rule programs; builds an engine backend holding one."""

from __future__ import annotations

import threading
from functools import cache

from reasoner.backends.base import Backend
from reasoner.datalog import Program, load_program
from reasoner.resources import data_dir

_LOCK = threading.Lock()


@cache
def _program(files: tuple[str, ...]) -> Program:
    rules = data_dir("rules")
    return load_program([rules / name for name in files], root=rules.parent)


def program_for(files: tuple[str, ...]) -> Program:
    """The checked program of these rule files (parsed once per process)."""
    with _LOCK:
        return _program(files)


def new_backend(files: tuple[str, ...], backend: str = "pydatalog") -> Backend:
    if backend != "pydatalog":
        raise ValueError(f"unknown backend {backend!r} (known: pydatalog)")
    from reasoner.backends.pydatalog_backend import PyDatalogBackend

    engine = PyDatalogBackend()
    engine.load_program(program_for(files))
    return engine
