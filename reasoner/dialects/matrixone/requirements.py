"""What each MatrixOne statement needs (spec §4), as needs and alternatives over the
rule base's predicates. Python decides what is needed here; the rules decide who has it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reasoner.datalog.ast import Atom, Const, Var
from reasoner.decision import Alternative, BodyLiteral, Need, Requirement

from .catalogue import AccountRec, DatabaseRec, ObjectRec, SessionState

R = Var("R")
ROOT = Var("Root")


def atom(pred: str, *args: object) -> Atom:
    return Atom(pred, tuple(a if isinstance(a, Var) else Const(a) for a in args))  # type: ignore[arg-type]


def _label(privilege: str, where: str) -> str:
    return f"a role holds {privilege} on {where}"


@dataclass(frozen=True)
class Tip:
    """One privilege the plan of a statement needs on one table or view (spec §4.3).

    ``chain``: for a base table reached through views, the views from the outermost in.
    """

    privilege: str
    target: ObjectRec
    chain: tuple[ObjectRec, ...] = ()
    write_database: DatabaseRec | None = None


def _tip_key(tip: Tip) -> tuple[object, ...]:
    target, db = tip.target, tip.write_database
    return (tip.privilege, target.id, target.kind, target.db_name, target.name,
            tuple((v.id, v.kind, v.security, v.owner) for v in tip.chain),
            db.id if db else None)


_TABLE_NEEDS: dict[tuple[object, ...], Need] = {}
_TABLE_NEEDS_LIMIT = 50_000


class Requirements:
    """Builds the Requirement of a statement for one session of one account."""

    def __init__(self, session: SessionState, account: AccountRec) -> None:
        self.session = session
        self.account = account
        self.s = session.id
        self.a = account.id

    def _active(self, with_root: bool = False) -> Atom:
        return atom("active_via", self.s, ROOT, R) if with_root else atom("active", self.s, R)

    # building blocks ------------------------------------------------------------------

    def account_need(self, what: str, privileges: tuple[str, ...], *,
                     with_root: bool = False) -> Need:
        return Need(what, tuple(
            Alternative(_label(p, "the account"),
                        (self._active(with_root), atom("role_has", R, p, "account", self.a)))
            for p in privileges))

    def database_alternatives(self, privileges: tuple[str, ...], db: DatabaseRec | None,
                              *, write: bool = False, with_root: bool = False
                              ) -> tuple[Alternative, ...]:
        out = []
        for p in privileges:
            if db is None:
                body: tuple[BodyLiteral, ...] = (
                    self._active(with_root), atom("role_has_database_wide", R, p, self.a))
                where = "every database (*)"
            else:
                body = (self._active(with_root), atom("role_has", R, p, "database", db.id))
                if write:
                    body += (atom("writable_database", db.id),)
                where = f"database {db.name}"
            out.append(Alternative(_label(p, where), body))
        return tuple(out)

    def owner_alternative(self, obj_id: str, name: str) -> Alternative:
        return Alternative(f"the current role owns {name}", (atom("owner_of", self.s, obj_id),))

    def admin_alternative(self) -> Alternative:
        return Alternative("the current role is an admin role", (atom("session_admin", self.s),))

    # table access ---------------------------------------------------------------------

    def _tip_literals(self, tip: Tip, role: Var | str) -> tuple[BodyLiteral, ...]:
        """The per-role items of one tip; a DEFINER view switches to its owner role."""
        literals: list[BodyLiteral] = []
        current: Var | str = role
        for view in tip.chain:
            literals.append(atom("view_ok", current, tip.privilege, view.id))
            if (view.security or "definer") == "definer":
                current = view.owner
        if tip.target.kind == "view":
            literals.append(atom("view_ok", current, tip.privilege, tip.target.id))
        elif tip.chain:
            literals.append(atom("table_ok", current, tip.privilege, tip.target.id))
        else:
            literals.append(atom("role_has", current, tip.privilege, "table", tip.target.id))
        return tuple(literals)

    def table_need(self, what: str, tips: list[Tip]) -> Need:
        """One role holds every tip; or ALL / OWNERSHIP on any one table involved.

        Memoised on everything the need is built from (the session id, the text, each
        tip's privilege, object names and ids, views' security and owner): the hot path of
        a point check, and a pure function of that key, so never stale."""
        key = (self.s, what, tuple(_tip_key(t) for t in tips))
        need = _TABLE_NEEDS.get(key)
        if need is None:
            if len(_TABLE_NEEDS) >= _TABLE_NEEDS_LIMIT:
                _TABLE_NEEDS.clear()
            need = _TABLE_NEEDS[key] = self._table_need(what, tips)
        return need

    def _table_need(self, what: str, tips: list[Tip]) -> Need:
        writes = tuple(dict.fromkeys(t.write_database.id for t in tips if t.write_database))
        guard = tuple(atom("writable_database", d) for d in writes)
        body: list[BodyLiteral] = [self._active()]
        for tip in tips:
            body.extend(self._tip_literals(tip, R))
        names = ", ".join(f"{t.privilege} on {t.target.db_name}.{t.target.name}" for t in tips)
        alternatives = [Alternative(f"one role holds {names}", tuple(body) + guard)]
        direct = [t.target for t in tips if not t.chain and t.target.kind == "table"]
        for privilege in ("table all", "table ownership"):
            for obj in dict.fromkeys(direct):
                alternatives.append(Alternative(
                    _label(privilege, f"table {obj.db_name}.{obj.name}"),
                    (self._active(), atom("role_has", R, privilege, "table", obj.id)) + guard))
        return Need(what, tuple(alternatives))

    # grants ---------------------------------------------------------------------------

    def grant_privilege_need(self, what: str, privilege: str, kind: str, scope: str,
                             obj: str | None) -> Need:
        alternatives = [self.admin_alternative()]
        if obj is not None:
            alternatives.append(Alternative(
                f"the session may grant {privilege} (grant option, ALL or OWNERSHIP)",
                (atom("may_grant", self.s, privilege, kind, scope, obj),)))
        return Need(what, tuple(alternatives))

    def grant_role_need(self, what: str, role_id: str | None) -> Need:
        base = self.account_need(what, ("manage grants", "account all")).alternatives
        if role_id is not None:
            base += (Alternative("the role can be passed on (granted WITH GRANT OPTION)",
                                 (atom("may_grant_role", self.s, role_id),)),)
        return Need(what, base)

    def create_user_with_role_need(self, what: str, role_id: str | None) -> Need:
        """spec §4.1 and §13.7: the compound items are looked up as database-type rows."""
        alternatives = list(self.account_need(what, ("account all",)).alternatives)
        alternatives.append(Alternative(
            "one role holds create user and manage grants (looked up as database rows)",
            (self._active(), atom("role_has_database_wide", R, "create user", self.a),
             atom("role_has_database_wide", R, "manage grants", self.a))))
        if role_id is not None:
            alternatives.append(Alternative(
                "one role holds create user (looked up as a database row) and may grant the role",
                (self._active(), atom("role_has_database_wide", R, "create user", self.a),
                 atom("may_grant_role", self.s, role_id))))
        return Need(what, tuple(alternatives))


def requirement(statement: str, *needs: Need) -> Requirement:
    return Requirement(statement=statement, needs=tuple(needs))
