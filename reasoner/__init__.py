"""reasoner: who can do what in your database, and why.

The public API: ``Reasoner`` (load scripts, open sessions), ``Session`` (execute, check),
``Decision`` and ``Outcome``, and the documented errors.
"""

from reasoner.api import Reasoner, Session
from reasoner.decision import Decision, Outcome, Requirement
from reasoner.errors import ParseError, ReasonerError, RuleError, StatementError

__all__ = ["Decision", "Outcome", "ParseError", "Reasoner", "ReasonerError", "Requirement",
           "RuleError", "Session", "StatementError"]
__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext reasoner``: the notebook magics (IPython is imported only here)."""
    from reasoner.notebook import load_ipython_extension as load

    load(ipython)
