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
