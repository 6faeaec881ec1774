"""MatrixOne's side of why-not: what the session has, and repairs as MatrixOne statements.

Candidates are read off the failed alternatives (which privilege on which object, which
grant option, which owner) and written as statements a DBA or the user can run; the core
verifies each one by applying it and checking again.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from itertools import product
from typing import Any

from reasoner.datalog.ast import Atom, Const, Var
from reasoner.decision import Alternative
from reasoner.explain.repairs import Candidate
from reasoner.explain.whynot import WhyNot

from .catalogue import AccountRec, SessionState
from .executor import MatrixOneExecutor

_KEYWORD = {"account all": "all", "database all": "all", "table all": "all",
            "database ownership": "ownership", "table ownership": "ownership"}
_SESSION_ATOMS = ("active", "active_via")


_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")


_P, _K, _O, _R = Var("P"), Var("K"), Var("O"), Var("R")
_OBJECT_KINDS = ("table", "view", "database")


def q(name: str) -> str:
    """A name as a statement must write it: bare when it is a plain identifier and no
    keyword, else back-quoted, so any name a user chose reads as one name and nothing else."""
    from .parser import keywords

    if _PLAIN.match(name) and name not in keywords():
        return name
    return "`" + name.replace("`", "``") + "`"


def qualified(name: str) -> str:
    return ".".join(q(part) for part in name.split(".", 1)) if name != "*" else name


def _value(term: object) -> object:
    return term.value if isinstance(term, Const) else None


class MatrixOneExplainer:
    def __init__(self, engine: MatrixOneExecutor, session: SessionState) -> None:
        self.engine = engine
        self.session = session
        self.catalogue = engine.catalogue
        self.account: AccountRec = engine.catalogue.account_of(session)
        self.user = self.account.users.get(session.user)

    # what the session has -------------------------------------------------------------

    def context(self) -> dict[str, Any]:
        backend = self.engine.backend
        s = Const(self.session.id)
        roots = sorted(str(r[1]) for r in backend.query(Atom("root_role", (s, Var("R")))))
        active = {}
        for _s, root, role in backend.query(Atom("active_via", (s, Var("Root"), Var("R")))):
            active.setdefault(self._name(str(role)), self._name(str(root)))
        granted = []
        if self.user is not None:
            granted = sorted(self._name(r) for r, _ in self.catalogue.user_roles(self.user.id))
        current = self._name(self.session.role)
        return {
            "user": f"{self.account.name}:{self.session.user}",
            "current_role": current,
            "secondary_all": self.session.secondary_all,
            "root_roles": [self._name(r) for r in roots],
            "active_roles": dict(sorted(active.items())),  # role -> the root it comes from
            "granted_roles": granted,
            "inactive_granted_roles": [r for r in granted if r not in active],
        }

    def _name(self, role_id: str) -> str:
        role = self.catalogue.role_by_id(role_id)
        return role.name if role else f"{role_id} (dropped)"

    # repairs --------------------------------------------------------------------------

    def candidates(self, why_not: WhyNot) -> list[Candidate]:
        """Per failed need its own candidates; with several failed needs, also their
        combinations (a repair must fix every need at once)."""
        per_need: list[list[Candidate]] = []
        for need in why_not.needs:
            found: list[Candidate] = []
            for failure in need.alternatives:
                found.extend(self._for_alternative(failure.alternative))
            per_need.append(found)
        if len(per_need) == 1:
            return per_need[0]
        combined: list[Candidate] = []
        for combo in product(*(c[:3] for c in per_need if c)):
            statements = tuple(dict.fromkeys(s for c in combo for s in c.statements))
            users = tuple(sorted({u for c in combo for u in c.affected_users}))
            run_as = "session" if all(c.run_as == "session" for c in combo) else "admin"
            combined.append(Candidate(statements, run_as, users, "; ".join(
                dict.fromkeys(c.note for c in combo if c.note))))
            if len(combined) >= 12:
                break
        return combined

    def unrepairable(self, why_not: WhyNot) -> str | None:
        """Why no statement can turn this deny into an allow, when that is so."""
        atoms = [lit for need in why_not.needs for alt in need.alternatives
                 for lit in alt.alternative.body if isinstance(lit, Atom)]
        system = {db.id for db in self.account.databases.values() if db.system}

        def into_system(alternative: Alternative) -> bool:
            return any(isinstance(a, Atom) and a.pred == "writable_database"
                       and _value(a.args[0]) in system for a in alternative.body)

        if any(all(into_system(alt.alternative) for alt in need.alternatives)
               for need in why_not.needs):
            return "writes into a system database are refused to everybody"
        sys_only = {"create account", "drop account", "alter account", "upgrade account"}
        if not self.account.is_sys and any(
                isinstance(a, Atom) and a.pred == "role_has" and _value(a.args[1]) in sys_only
                for a in atoms):
            return "only the sys account manages accounts"
        return None

    def _on(self, kind: str, obj: str) -> str | None:
        described = self.catalogue.describe(obj)
        if described is None:
            return None
        dkind, name = described
        if kind == "account":
            return "account *"
        if kind == "database":
            return f"database {q(name)}" if dkind == "database" else "database *"
        return f"{kind} {qualified(name)}"

    def _grantee(self) -> str | None:
        role = self.catalogue.role_by_id(self.session.role)
        if role is None or role.name == self.account.admin_role_name:
            return None
        return role.name

    def _users_reaching(self, role_name: str | None) -> tuple[str, ...]:
        role = self.account.roles.get(role_name or "")
        if role is None:
            return ()
        rows = self.engine.backend.query(Atom("user_reach", (Var("U"), Const(role.id))))
        return tuple(sorted({str(r[0]) for r in rows}))

    def _me(self) -> tuple[str, ...]:
        return (self.user.id,) if self.user else ()

    def _for_alternative(self, alternative: Alternative) -> list[Candidate]:
        # (privilege keyword, ON clause, the one object it names or None) for the role R
        items: list[tuple[str, str, str | None]] = []
        out: list[Candidate] = []
        grantee = self._grantee()
        for literal in alternative.body:
            if not isinstance(literal, Atom):
                continue
            args = [_value(a) for a in literal.args]
            if literal.pred == "role_has" and isinstance(literal.args[0], Var):
                on = self._on(str(args[2]), str(args[3]))
                if on:
                    items.append((_KEYWORD.get(str(args[1]), str(args[1])), on,
                                  self._one_object(str(args[2]), str(args[3]), on)))
                    if str(args[1]) not in _KEYWORD and str(args[2]) == "account":
                        # sys privileges are never granted, but ALL ON ACCOUNT covers them
                        # in sys; for account privileges ALL is the broader alternative
                        out.extend(self._privilege_candidates(
                            alternative, [("all", on, None)], grantee, holders=False))
            elif literal.pred == "role_has_database_wide" and isinstance(literal.args[0], Var):
                items.append((_KEYWORD.get(str(args[1]), str(args[1])), "database *", None))
            elif literal.pred in ("view_ok", "table_ok"):
                kind = "view" if literal.pred == "view_ok" else "table"
                on = self._on(kind, str(args[2]))
                if on and isinstance(literal.args[0], Var):
                    items.append((str(args[1]), on, self._one_object(kind, str(args[2]), on)))
                elif on:
                    definer = self._name(str(args[0]))
                    out.append(Candidate((f"grant {args[1]} on {on} to {q(definer)}",), "admin",
                                         self._users_reaching(definer),
                                         "the view's definer role reads the base table",
                                         self._objects([self._one_object(kind, str(args[2]),
                                                                         on)])))
            elif literal.pred == "owner_of":
                out.extend(self._switch_to_owner(str(args[1])))
            elif literal.pred == "session_admin":
                admin = self.account.roles.get(self.account.admin_role_name)
                if admin and self.user and self.catalogue.user_has_role(self.user.id, admin.id):
                    out.append(Candidate((f"set role {q(admin.name)}",), "session"))
            elif literal.pred == "may_grant" and grantee:
                priv, kind, scope, obj = (str(a) for a in args[1:5])
                level = self._level(kind, scope, obj)
                if level:
                    out.append(Candidate(
                        (f"grant {_KEYWORD.get(priv, priv)} on {kind} {level} to {q(grantee)} "
                         "with grant option",), "admin", self._users_reaching(grantee),
                        "the current role gets the privilege with grant option",
                        self._objects([obj if scope not in ("all", "db") and kind in
                                       _OBJECT_KINDS else None])))
            elif literal.pred == "may_grant_role" and grantee:
                role = self._name(str(args[1]))
                out.append(Candidate((f"grant {q(role)} to {q(grantee)} with grant option",),
                                     "admin",
                                     self._users_reaching(grantee),
                                     "the role is passed to the current role with grant option"))
        if items:
            out.extend(self._privilege_candidates(alternative, items, grantee))
        return out

    def _one_object(self, kind: str, obj: str, on: str) -> str | None:
        """The object id an ON clause names alone (a table, a view, a database), or None
        when it reaches further (``db.*``, ``*.*``, the account)."""
        described = self.catalogue.describe(obj)
        if kind not in _OBJECT_KINDS or described is None or described[0] != kind:
            return None
        return obj if on == self._on(kind, obj) else None

    @staticmethod
    def _objects(ids: list[str | None]) -> tuple[str, ...] | None:
        """The objects a candidate can open access on: None when one of them is unbounded."""
        if any(i is None for i in ids):
            return None
        return tuple(dict.fromkeys(i for i in ids if i is not None))

    def _level(self, kind: str, scope: str, obj: str) -> str | None:
        if scope == "all":
            return "*.*" if kind in ("table", "view") else "*"
        described = self.catalogue.describe(obj)
        if described is None:
            return None
        return f"{q(described[1])}.*" if scope == "db" else qualified(described[1])

    def _privilege_candidates(self, alternative: Alternative,
                              items: list[tuple[str, str, str | None]],
                              grantee: str | None, *, holders: bool = True
                              ) -> list[Candidate]:
        out: list[Candidate] = []
        by_on: dict[str, list[str]] = {}
        for keyword, on, _obj in items:
            by_on.setdefault(on, [])
            if keyword not in by_on[on]:
                by_on[on].append(keyword)
        grants = tuple(f"grant {', '.join(privs)} on {on} to {{role}}"
                       for on, privs in by_on.items())
        if grantee:
            out.append(Candidate(tuple(g.format(role=q(grantee)) for g in grants), "admin",
                                 self._users_reaching(grantee),
                                 "the current role gets the privilege",
                                 self._objects([obj for _k, _on, obj in items])))
        for holder in self._holders(alternative) if holders else []:
            name = self._name(holder)
            role = self.catalogue.role_by_id(holder)
            if role is None:
                continue
            held = self.user is not None and self.catalogue.user_has_role(self.user.id, holder)
            if held:
                out.append(Candidate((f"set role {q(name)}",), "session", (),
                                     f"{name} is granted to the user and holds it"))
            if name in ("public", self.account.admin_role_name):
                continue
            if grantee:
                out.append(Candidate((f"grant {q(name)} to {q(grantee)}",), "admin",
                                     self._users_reaching(grantee),
                                     f"the current role inherits {name}, which holds it"))
            if not held and self.user is not None:
                out.append(Candidate((f"grant {q(name)} to {q(self.user.name)}",
                                      f"set role {q(name)}"),
                                     "admin", self._me(), f"{name} holds it"))
        if holders and self.user is not None and not self.session.secondary_all:
            out.append(Candidate(("set secondary role all",), "session", (),
                                 "another role granted to the user holds it"))
        return out

    def _holders(self, alternative: Alternative) -> list[str]:
        """Roles that, alone, satisfy the alternative's per-role items."""
        body = [lit for lit in alternative.body
                if not (isinstance(lit, Atom) and lit.pred in _SESSION_ATOMS)]
        if not any(isinstance(lit, Atom) and any(isinstance(a, Var) and a.name == "R"
                                                  for a in lit.args) for lit in body):
            return []
        body.insert(0, Atom("role", (Var("R"), Const(self.account.id))))
        found = self.engine.backend.solve(body, limit=8)
        return sorted({str(b["R"]) for b in found if "R" in b})

    def _switch_to_owner(self, obj: str) -> list[Candidate]:
        rows = self.engine.backend.query(Atom("owner", (Const(obj), Var("R"))))
        out = []
        for _obj, owner in rows:
            role = self.catalogue.role_by_id(str(owner))
            if role and self.user and self.catalogue.user_has_role(self.user.id, role.id):
                out.append(Candidate((f"set role {q(role.name)}",), "session", (),
                                     f"{role.name} owns the object"))
        return out


class AccessIndex:
    """The blast-radius counts of ``user_may``, made from the two relations its one rule
    joins (rules/matrixone/reverse.dl, ``user_may_use``: ``user_reach`` x ``effective``).

    Whole count: what each role reaches as a bit set, so a user's count is one OR per
    reached role and a popcount. On named objects: the roles' rows on each object, so a
    user's count is a lookup per reached role. Both are cached while the stored facts the
    relation reads are the same set (:meth:`FactStore.fingerprint`): a repair's trial is
    undone before the next one, so every candidate of a why-not, and why-nots in a row,
    share them (tests/properties: equal to counting ``user_may`` itself)."""

    LIMIT = 2_000_000  # encoded (privilege, kind, object) triples before starting over
    STATES = 4  # states cached at once: the current one, and a few repairs' trials

    def __init__(self, engine: MatrixOneExecutor) -> None:
        self.engine = engine
        program = engine.backend.program
        self._effective_inputs = program.inputs_read_by("effective")
        self._reach_inputs = program.inputs_read_by("user_reach")
        self._bits: dict[tuple[Any, ...], int] = {}  # an encoding, valid in every state
        # per state of effective's facts: role -> bit set; object -> role -> (priv, kind)s
        self._effective: OrderedDict[tuple[int, ...], tuple[dict[Any, int], dict[
            str, dict[Any, frozenset[tuple[Any, ...]]]]]] = OrderedDict()
        self._reaches: OrderedDict[tuple[int, ...], dict[str, tuple[Any, ...]]] = OrderedDict()
        self._masks: dict[Any, int] = {}
        self._on_object: dict[str, dict[Any, frozenset[tuple[Any, ...]]]] = {}
        self._reach: dict[str, tuple[Any, ...]] = {}

    def count(self, users: Sequence[str], objects: Sequence[str] | None = None) -> int:
        """How many (privilege, kind, object) these users may reach, summed (on
        ``objects`` only, when given)."""
        self._refresh()
        total = 0
        if objects is None:
            for user in users:
                reached = 0
                for role in self._roles(user):
                    mask = self._masks.get(role)
                    if mask is None:
                        mask = self._masks[role] = self._mask(role)
                    reached |= mask
                total += reached.bit_count()
            return total
        for obj in objects:
            by_role = self._on_object.get(obj)
            if by_role is None:
                by_role = self._on_object[obj] = self._rows_on(obj)
            for user in users:
                seen: set[tuple[Any, ...]] = set()
                for role in self._roles(user):
                    rows = by_role.get(role)
                    if rows:
                        seen |= rows
                total += len(seen)
        return total

    def _refresh(self) -> None:
        """Point the caches at the current state's (kept for a few states, most recent
        last): a trial's state is left for the original, then comes back no more."""
        facts = self.engine.facts
        if len(self._bits) > self.LIMIT:
            self._bits.clear()
            self._effective.clear()
        self._masks, self._on_object = self._state(
            self._effective, facts.fingerprint(self._effective_inputs), lambda: ({}, {}))
        self._reach = self._state(self._reaches, facts.fingerprint(self._reach_inputs), dict)

    def _state(self, states: OrderedDict[tuple[int, ...], Any], stamp: tuple[int, ...],
               new: Any) -> Any:
        """The caches of one state (made when missing), the least recently used past
        :attr:`STATES` forgotten."""
        if stamp not in states:
            states[stamp] = new()
            while len(states) > self.STATES:
                states.popitem(last=False)
        states.move_to_end(stamp)
        return states[stamp]

    def _roles(self, user: str) -> tuple[Any, ...]:
        roles = self._reach.get(user)
        if roles is None:
            roles = self._reach[user] = tuple(role for _u, role in self.engine.backend.answers(
                Atom("user_reach", (Const(user), _R))))
        return roles

    def _mask(self, role: Any) -> int:
        bits = self._bits
        positions = []
        for row in self.engine.backend.answers(Atom("effective", (Const(role), _P, _K, _O))):
            key = row[1:]
            bit = bits.get(key)
            if bit is None:
                bit = bits[key] = len(bits)
            positions.append(bit)
        if not positions:
            return 0
        bitmap = bytearray((max(positions) >> 3) + 1)
        for bit in positions:
            bitmap[bit >> 3] |= 1 << (bit & 7)
        return int.from_bytes(bitmap, "little")

    def _rows_on(self, obj: str) -> dict[Any, frozenset[tuple[Any, ...]]]:
        by_role: dict[Any, set[tuple[Any, ...]]] = {}
        for role, privilege, kind, _o in self.engine.backend.answers(
                Atom("effective", (_R, _P, _K, Const(obj)))):
            by_role.setdefault(role, set()).add((privilege, kind))
        return {role: frozenset(rows) for role, rows in by_role.items()}


def access_count(engine: Any, users: Sequence[str],
                 objects: Sequence[str] | None = None) -> int:
    """How many (privilege, kind, object) each of these users may reach, summed; only on
    ``objects`` when given (object ids). Counted by the engine's :class:`AccessIndex`."""
    return engine.access_index.count(users, objects)
