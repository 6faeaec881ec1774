"""Loads, checks and caches rule programs; builds an engine backend holding one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from reasoner.backends.base import Backend
from reasoner.datalog import Program, load_program
from reasoner.resources import data_dir

_LOCK = threading.Lock()
# set by rules_from(): another rules folder, for this thread or task only
_RULES_FOLDER: ContextVar[Path | None] = ContextVar("reasoner_rules", default=None)


def rules_root() -> Path:
    """The folder rule files are named relative to: the installed ``rules`` folder, or the
    one :func:`rules_from` points at."""
    return _RULES_FOLDER.get() or data_dir("rules")


@contextmanager
def rules_from(folder: Path) -> Iterator[None]:
    """Within the block (this thread or task), reasoners are built from the rule files
    under ``folder`` (the layout of ``rules/``): the seam for testing a broken or
    hand-edited rule set, and for trying rule changes without reinstalling."""
    token = _RULES_FOLDER.set(Path(folder))
    try:
        yield
    finally:
        _RULES_FOLDER.reset(token)


@cache
def _program(root: Path, files: tuple[str, ...]) -> Program:
    return load_program([root / name for name in files], root=root.parent)


def program_for(files: tuple[str, ...], root: Path | None = None) -> Program:
    """The checked program of these rule files (parsed once per process and folder).

    ``root``: the rules folder (default :func:`rules_root`). A missing, unreadable,
    undecodable, malformed, unsafe or unstratified file raises :class:`RuleError`.
    """
    folder = Path(root) if root is not None else rules_root()
    with _LOCK:
        return _program(folder.resolve(), files)


BACKENDS = ("incremental", "pydatalog")
# The fast path (bottom-up, maintained as facts change) answers by default; pyDatalog is the
# reference evaluation of the same rules, which the test suite compares it with.
DEFAULT_BACKEND = "incremental"
REFERENCE_BACKEND = "pydatalog"
# The backend dialect engines get when they do not name one: a Reasoner sets it around
# building its engine (dialects call new_backend(files) without knowing the choice).
_DEFAULT_BACKEND: ContextVar[str] = ContextVar("reasoner_backend", default=DEFAULT_BACKEND)


def check_backend(backend: str) -> str:
    """The name, if it is a known backend; ValueError otherwise."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r} (known: {', '.join(BACKENDS)})")
    return backend


@contextmanager
def default_backend(backend: str) -> Iterator[None]:
    """Within the block (this thread or task), ``new_backend(files)`` builds ``backend``."""
    token = _DEFAULT_BACKEND.set(check_backend(backend))
    try:
        yield
    finally:
        _DEFAULT_BACKEND.reset(token)


def new_backend(files: tuple[str, ...], backend: str | None = None) -> Backend:
    name = check_backend(backend or _DEFAULT_BACKEND.get())
    engine: Backend
    if name == "incremental":
        from reasoner.backends.incremental import IncrementalBackend

        engine = IncrementalBackend()
    else:
        from reasoner.backends.pydatalog_backend import PyDatalogBackend

        engine = PyDatalogBackend()
    engine.load_program(program_for(files))
    return engine
