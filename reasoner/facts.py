"""The fact store: facts in the engine, each remembering the statement that made it.

Every change goes through a journal so that a statement that fails half-way leaves no
trace (a rejected statement has no effect, as in the real system).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from reasoner.backends.base import Backend, Value
from reasoner.source import Span

FactKey = tuple[str, tuple[Value, ...]]


class Journal:
    """Undo actions of the statement being applied; rolled back on any exception."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] | None = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._undo is not None:  # nested: the outer transaction owns the undo list
            yield
            return
        self._undo = []
        try:
            yield
        except BaseException:
            undo, self._undo = self._undo, None
            for action in reversed(undo):
                action()
            raise
        self._undo = None

    def record(self, action: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.append(action)

    # journaled container edits -------------------------------------------------------

    def set_item(self, mapping: dict[Any, Any], key: Any, value: Any) -> None:
        if key in mapping:
            old = mapping[key]
            self.record(lambda: mapping.__setitem__(key, old))
        else:
            self.record(lambda: mapping.pop(key, None))
        mapping[key] = value

    def del_item(self, mapping: dict[Any, Any], key: Any) -> None:
        if key not in mapping:
            return
        old = mapping.pop(key)
        self.record(lambda: mapping.__setitem__(key, old))

    def add_to(self, index: dict[Any, set[Any]], key: Any, member: Any) -> None:
        """Add to a set-valued index entry (created when missing)."""
        members = index.setdefault(key, set())
        if member not in members:
            members.add(member)
            self.record(lambda: members.discard(member))

    def remove_from(self, index: dict[Any, set[Any]], key: Any, member: Any) -> None:
        members = index.get(key)
        if members is not None and member in members:
            members.discard(member)
            self.record(lambda: members.add(member))

    def set_attr(self, obj: object, name: str, value: Any) -> None:
        old = getattr(obj, name)
        self.record(lambda: setattr(obj, name, old))
        setattr(obj, name, value)


class FactStore:
    """Facts asserted into a backend, with their origin (statement span) kept beside."""

    def __init__(self, backend: Backend, journal: Journal) -> None:
        self.backend = backend
        self.journal = journal
        self._origin: dict[FactKey, Span] = {}
        # per predicate, the XOR of the hashes of its stored facts: equal after any changes
        # that are undone (a repair's trial), different after any that are not
        self._fingerprint: dict[str, int] = {}

    def add(self, pred: str, args: tuple[Value, ...], origin: Span) -> None:
        key = (pred, args)
        if key in self._origin:
            old = self._origin[key]
            self._origin[key] = origin
            self.journal.record(lambda: self._origin.__setitem__(key, old))
            return
        self.backend.add_fact(pred, args)
        self._origin[key] = origin
        self._toggle(key)

        def undo() -> None:
            self.backend.remove_fact(pred, args)
            self._origin.pop(key, None)
            self._toggle(key)

        self.journal.record(undo)

    def remove(self, pred: str, args: tuple[Value, ...]) -> None:
        key = (pred, args)
        if key not in self._origin:
            return
        origin = self._origin.pop(key)
        self.backend.remove_fact(pred, args)
        self._toggle(key)

        def undo() -> None:
            self.backend.add_fact(pred, args)
            self._origin[key] = origin
            self._toggle(key)

        self.journal.record(undo)

    def _toggle(self, key: FactKey) -> None:
        self._fingerprint[key[0]] = self._fingerprint.get(key[0], 0) ^ hash(key)

    def fingerprint(self, preds: Iterable[str]) -> tuple[int, ...]:
        """The stored facts of ``preds`` summarised (sorted by name): a cache keyed on it
        is valid exactly while those facts are the same set (up to a 64-bit hash clash)."""
        return tuple(self._fingerprint.get(p, 0) for p in sorted(preds))

    def has(self, pred: str, args: tuple[Value, ...]) -> bool:
        return (pred, args) in self._origin

    def origin(self, pred: str, args: tuple[Value, ...]) -> Span | None:
        return self._origin.get((pred, args))

    def all_facts(self) -> Iterator[tuple[str, tuple[Value, ...], Span]]:
        for (pred, args), span in self._origin.items():
            yield pred, args, span

    def count(self) -> int:
        return len(self._origin)
