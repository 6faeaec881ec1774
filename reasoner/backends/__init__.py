"""Reasoning engines behind one interface (:class:`Backend`)."""

from reasoner.backends.base import Backend, BaseBackend, Binding, Value, sorted_rows, value_key
from reasoner.backends.pydatalog_backend import PyDatalogBackend

__all__ = [
    "Backend",
    "BaseBackend",
    "Binding",
    "PyDatalogBackend",
    "Value",
    "sorted_rows",
    "value_key",
]
