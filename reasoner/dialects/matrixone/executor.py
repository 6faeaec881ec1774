"""Runs MatrixOne statements: plan, authorize (rules), apply (catalogue).

The order follows MatrixOne (spec §3.1): account- and database-level statements are
authorized before anything else; DML is planned first (a missing table is reported before
the privilege check), then authorized. A statement that fails changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reasoner import sql
from reasoner.authorizer import decide
from reasoner.backends.base import Backend
from reasoner.decision import Decision, Need, Requirement
from reasoner.errors import StatementError
from reasoner.facts import FactStore, Journal
from reasoner.source import Span

from . import privileges as pv
from . import statements as st
from .catalogue import SYS, AccountRec, Catalogue, DatabaseRec, ObjectRec, RoleRec, SessionState
from .requirements import Requirements, Tip, requirement

DENIED = "do not have privilege to execute the statement"
BOOTSTRAP = Span("<builtin>", 0, 0, "bootstrap of the cluster: account sys, users root and dump, "
                 "roles moadmin and public")

Effect = Callable[[Decision], None]


@dataclass
class Plan:
    requirement: Requirement
    effect: Effect | None = None
    all_bindings: bool = False


class MatrixOneExecutor:
    """One cluster's catalogue and facts, and how statements change them."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.journal = Journal()
        self.facts = FactStore(backend, self.journal)
        self.catalogue = Catalogue(self.facts, self.journal)
        self._sessions = 0
        with self.journal.transaction():
            self.catalogue.create_account(SYS, "root", "111", BOOTSTRAP)

    # sessions -------------------------------------------------------------------------

    def connect(self, account: str, user: str, role: str | None, secondary: bool,
                span: Span) -> SessionState:
        """Log in as MatrixOne does (S ``AuthenticateUser``); errors as its login texts."""
        acc = self.catalogue.account(account)
        if acc is None:
            raise StatementError(f"there is no tenant {account}")
        user_rec = acc.users.get(user)
        if user_rec is None:
            raise StatementError(f"there is no user {user}")
        role_name = role or user_rec.default_role
        role_rec = acc.roles.get(role_name)
        if role_rec is None:
            raise StatementError(f"there is no role {role_name}")
        if not self.catalogue.user_has_role(user_rec.id, role_rec.id):
            raise StatementError(f"the role {role_name} has not been granted to the user {user}")
        self._sessions += 1
        session = SessionState(id=f"s{self._sessions}", account=account, user=user,
                               role=role_rec.id, secondary_all=secondary)
        login = Span(span.source, span.line, span.column,
                     f"{span.text} (logged in as {account}:{user}, current role {role_name}"
                     f"{', secondary role all' if secondary else ''})")
        with self.journal.transaction():
            self.catalogue.open_session(session, login)
        return session

    def disconnect(self, session: SessionState) -> None:
        with self.journal.transaction():
            self.catalogue.close_session(session)

    # statements -----------------------------------------------------------------------

    def execute(self, session: SessionState, statement: st.Statement) -> Decision:
        """Authorize and apply; raises StatementError with MatrixOne's text on failure."""
        with self.journal.transaction():
            plan = self.plan(session, statement)
            decision = decide(self.backend, plan.requirement, all_bindings=plan.all_bindings)
            if not decision.allowed:
                raise DeniedError(decision)
            if plan.effect is not None:
                plan.effect(decision)
            return decision

    def plan(self, session: SessionState, stmt: st.Statement) -> Plan:
        handler = getattr(self, f"_plan_{type(stmt).__name__}", None)
        if handler is None:
            raise StatementError(f"statement not supported by the reasoner: "
                                 f"{type(stmt).__name__}")
        return handler(session, stmt)

    def check(self, session: SessionState, privilege: str, kind: str, name: str) -> Decision:
        """Would a statement needing exactly this privilege on this object pass?"""
        return decide(self.backend, self.check_requirement(session, privilege, kind, name))

    def check_requirement(self, session: SessionState, privilege: str, kind: str,
                          name: str) -> Requirement:
        acc = self.catalogue.account_of(session)
        req = Requirements(session, acc)
        text = f"{privilege} on {kind} {name}"
        privilege = privilege.lower()
        if kind == "account":
            return requirement(text, req.account_need(text, (privilege, "account all")))
        if kind == "database":
            db = acc.databases.get(name.lower())
            return requirement(text, Need(text, req.database_alternatives(
                (privilege, "database all", "database ownership"), db)))
        obj = self._resolve_object(session, acc, _split_name(name), "select")
        tips = self._tips(acc, privilege, obj, ())
        return requirement(text, req.table_need(text, tips))

    # helpers --------------------------------------------------------------------------

    def _role(self, session: SessionState) -> RoleRec | None:
        return self.catalogue.role_by_id(session.role)

    def _db_name(self, session: SessionState, name: str | None) -> str:
        db = name or session.database
        if not db:
            raise StatementError("No database selected")
        return db

    def _resolve_object(self, session: SessionState, acc: AccountRec, name: st.ObjectName,
                        action: str) -> ObjectRec:
        db_name = self._db_name(session, name.database)
        obj = self.catalogue.object(acc, db_name, name.name)
        if obj is None:
            if action == "select":
                raise StatementError(f'table "{name.name}" does not exist')
            raise StatementError(f"no such table {db_name}.{name.name}")
        return obj

    def _tips(self, acc: AccountRec, privilege: str, obj: ObjectRec,
              chain: tuple[ObjectRec, ...], write_db: DatabaseRec | None = None) -> list[Tip]:
        """Expand views into the base tables they read, remembering the chain of views."""
        if obj.kind != "view" or not obj.refs:
            return [Tip(privilege, obj, chain, write_db)]
        tips: list[Tip] = []
        for db_name, name in obj.refs:
            inner = self.catalogue.object(acc, db_name, name)
            if inner is None:
                raise StatementError(f'table "{name}" does not exist')
            if inner is obj or inner in chain:
                continue
            tips.extend(self._tips(acc, privilege, inner, chain + (obj,), write_db))
        return tips or [Tip(privilege, obj, chain, write_db)]

    def _query_tips(self, session: SessionState, acc: AccountRec, text: str,
                    span: Span | None = None) -> list[Tip]:
        try:
            access = sql.read_access(text)
        except sql.SqlSyntaxError as exc:
            raise _sql_error(exc, text, span) from exc
        tips: list[Tip] = []
        for use in access.uses:
            obj = self._resolve_object(session, acc, st.ObjectName(use.database, use.name),
                                       use.action)
            write_db = None
            if use.action != "select":
                write_db = acc.databases[obj.db_name]
            tips.extend(self._tips(acc, use.action, obj, (), write_db))
        return tips

    def _owner_from(self, session: SessionState, decision: Decision) -> RoleRec:
        """The role recorded as owner of a new database or table (spec §6, §8): the current
        role, or under SECONDARY ROLE ALL the root role that supplied the privilege
        (primary first, then by role id)."""
        current = self._role(session)
        roots: list[RoleRec] = []
        for item in decision.satisfied:
            for binding in item.bindings:
                root = binding.get("Root")
                role = self.catalogue.role_by_id(str(root)) if root is not None else None
                if role is not None:
                    roots.append(role)
        if current is not None and (not roots or current in roots):
            return current
        if roots:
            return min(roots, key=lambda r: r.number)
        raise StatementError("the current role no longer exists")

    def _acc(self, session: SessionState) -> tuple[AccountRec, Requirements]:
        acc = self.catalogue.account_of(session)
        return acc, Requirements(session, acc)

    # accounts -------------------------------------------------------------------------

    def _plan_CreateAccount(self, session: SessionState, s: st.CreateAccount) -> Plan:
        acc, req = self._acc(session)

        def effect(_: Decision) -> None:
            if not acc.is_sys:
                raise StatementError(f"tenant {acc.name} user {session.user} role "
                                     f"{self._role_name(session)} do not have the privilege to "
                                     "create the new account")
            self.catalogue.create_account(s.name, s.admin_name, s.password, s.span,
                                          if_not_exists=s.if_not_exists)

        text = s.span.text
        return Plan(requirement(text, req.account_need("CREATE ACCOUNT", ("create account",))),
                    effect)

    def _role_name(self, session: SessionState) -> str:
        role = self._role(session)
        return role.name if role else session.role

    def _plan_DropAccount(self, session: SessionState, s: st.DropAccount) -> Plan:
        acc, req = self._acc(session)
        return Plan(requirement(s.span.text, req.account_need("DROP ACCOUNT", ("drop account",))),
                    lambda _: self.catalogue.drop_account(s.name, s.span, if_exists=s.if_exists))

    def _plan_AlterAccount(self, session: SessionState, s: st.AlterAccount) -> Plan:
        acc, req = self._acc(session)

        def effect(_: Decision) -> None:
            if s.name not in self.catalogue.accounts and not s.if_exists:
                raise StatementError(f"there is no account {s.name}")

        return Plan(requirement(s.span.text, req.account_need("ALTER ACCOUNT",
                                                              ("alter account",))), effect)

    # users and roles ------------------------------------------------------------------

    def _plan_CreateUser(self, session: SessionState, s: st.CreateUser) -> Plan:
        acc, req = self._acc(session)
        if s.default_role is None:
            need = req.account_need("CREATE USER", ("create user", "account all"))
        else:
            role = acc.roles.get(s.default_role)
            need = req.create_user_with_role_need("CREATE USER ... DEFAULT ROLE",
                                                  role.id if role else None)
        return Plan(requirement(s.span.text, need), lambda _: self.catalogue.create_users(
            acc, [(u.name, u.password) for u in s.users], s.default_role, s.span,
            if_not_exists=s.if_not_exists))

    def _plan_DropUser(self, session: SessionState, s: st.DropUser) -> Plan:
        acc, req = self._acc(session)
        return Plan(requirement(s.span.text, req.account_need("DROP USER",
                                                              ("drop user", "account all"))),
                    lambda _: self.catalogue.drop_users(acc, s.names, if_exists=s.if_exists))

    def _plan_AlterUser(self, session: SessionState, s: st.AlterUser) -> Plan:
        acc, req = self._acc(session)

        def effect(_: Decision) -> None:
            if s.default_role is not None:
                raise StatementError("not support alter role")
            if s.name not in acc.users and not s.if_exists:
                raise StatementError(f"there is no user {s.name}")

        return Plan(requirement(s.span.text, req.account_need("ALTER USER",
                                                              ("alter user", "account all"))),
                    effect)

    def _plan_CreateRole(self, session: SessionState, s: st.CreateRole) -> Plan:
        acc, req = self._acc(session)
        return Plan(requirement(s.span.text, req.account_need("CREATE ROLE",
                                                              ("create role", "account all"))),
                    lambda _: self.catalogue.create_roles(acc, s.names, s.span,
                                                          if_not_exists=s.if_not_exists,
                                                          creator=session.role))

    def _plan_DropRole(self, session: SessionState, s: st.DropRole) -> Plan:
        acc, req = self._acc(session)
        return Plan(requirement(s.span.text, req.account_need("DROP ROLE",
                                                              ("drop role", "account all"))),
                    lambda _: self.catalogue.drop_roles(acc, s.names, s.span,
                                                        if_exists=s.if_exists))

    def _plan_AlterRole(self, session: SessionState, s: st.AlterRole) -> Plan:
        acc, req = self._acc(session)

        def effect(_: Decision) -> None:
            if s.name in ("moadmin", "accountadmin", "public"):
                raise StatementError(f"can not rename the role {s.name}")
            if s.name not in acc.roles:
                raise StatementError(f"there is no role {s.name}")

        return Plan(requirement(s.span.text, req.account_need("ALTER ROLE",
                                                              ("alter role", "account all"))),
                    effect)

    # grants ---------------------------------------------------------------------------

    def _grant_scope(self, session: SessionState, acc: AccountRec, on: st.PrivilegeLevel
                     ) -> tuple[str, str, str | None, str]:
        """(kind, scope, object id or None when missing, stored level) of GRANT ... ON."""
        kind = on.object_type
        if kind in ("function", "procedure"):
            raise StatementError(f'the object type "{kind}" is unsupported')
        level = on.level
        if kind == "account":
            if level != "*":
                raise StatementError(f'in the object type "account" the privilege level '
                                     f'"{level}" is unsupported')
            return kind, "all", acc.id, "*"
        if kind == "database":
            if level in ("*", "*.*"):
                return kind, "all", acc.id, level
            if on.database is not None:
                raise StatementError(f'in the object type "database" the privilege level '
                                     f'"{level}" is unsupported')
            db = acc.databases.get(on.name)
            if db is None:
                raise StatementError(f'there is no database "{on.name}"')
            return kind, "one", db.id, "d"
        if level == "*.*":
            return kind, "all", acc.id, "*.*"
        if on.name == "*":
            db_name = on.database or self._db_name(session, None)
            db = acc.databases.get(db_name)
            if db is None:
                raise StatementError(f'there is no database "{db_name}"')
            return kind, "db", db.id, "d.*" if on.database else "*"
        db_name = on.database or self._db_name(session, None)
        obj = self.catalogue.object(acc, db_name, on.name)
        if obj is None or obj.kind != kind:
            raise StatementError(f'there is no {kind} "{on.name}" in database "{db_name}"')
        return kind, "one", obj.id, "d.t" if on.database else "t"

    def _plan_GrantPrivilege(self, session: SessionState, s: st.GrantPrivilege) -> Plan:
        acc, req = self._acc(session)
        needs = []
        try:
            kind, scope, obj, _level = self._grant_scope(session, acc, s.on)
        except StatementError:
            kind, scope, obj = s.on.object_type, "", None
        for p in s.privileges:
            try:
                name = pv.stored_name(p.keyword, kind)
            except (StatementError, KeyError):
                name = p.keyword
            needs.append(req.grant_privilege_need(f"GRANT {p.keyword}", name, kind, scope, obj))

        def effect(_: Decision) -> None:
            roles = self._target_roles(acc, s.roles, grant=True, if_exists=False)
            rows = self._privilege_rows(session, acc, s.privileges, s.on, grant=True)
            self.catalogue.grant_privilege_rows(roles, rows, s.with_grant_option, s.span)

        return Plan(requirement(s.span.text, *needs), effect)

    def _target_roles(self, acc: AccountRec, names: tuple[str, ...], *, grant: bool,
                      if_exists: bool) -> list[RoleRec]:
        roles = []
        for name in names:
            role = acc.roles.get(name)
            if role is None:
                if if_exists:
                    continue
                raise StatementError(f"there is no role {name}")
            if role.name == acc.admin_role_name:
                word = "granted to" if grant else "revoked from"
                raise StatementError(f"the privilege can not be {word} the role {role.name}")
            roles.append(role)
        return roles

    def _privilege_rows(self, session: SessionState, acc: AccountRec,
                        privileges: tuple[st.Privilege, ...], on: st.PrivilegeLevel, *,
                        grant: bool) -> list[tuple[str, str, str, str, str]]:
        rows = []
        kind = on.object_type
        names = []
        for p in privileges:
            if kind in ("function", "procedure"):
                raise StatementError(f'the object type "{kind}" is unsupported')
            if grant and p.keyword in pv.SYS_PRIVILEGES:
                raise StatementError(f"the privilege {p.keyword} can not be granted")
            names.append(pv.stored_name(p.keyword, kind))
        kind, scope, obj, level = self._grant_scope(session, acc, on)
        assert obj is not None
        for name in names:
            if not grant and name in pv.SYS_PRIVILEGES:
                continue  # accepted and deletes nothing
            rows.append((name, kind, scope, obj, level))
        return rows

    def _plan_RevokePrivilege(self, session: SessionState, s: st.RevokePrivilege) -> Plan:
        acc, req = self._acc(session)

        def effect(_: Decision) -> None:
            roles = self._target_roles(acc, s.roles, grant=False, if_exists=s.if_exists)
            rows = self._privilege_rows(session, acc, s.privileges, s.on, grant=False)
            for role in roles:
                if role.name == "public" and any(r[0] == "connect" for r in rows):
                    raise StatementError("the privilege connect can not be revoked from the "
                                         "role public")
            self.catalogue.revoke_privilege_rows(roles, rows)

        need = Need("REVOKE privileges", (req.admin_alternative(),))
        return Plan(requirement(s.span.text, need), effect)

    def _plan_GrantRole(self, session: SessionState, s: st.GrantRole) -> Plan:
        acc, req = self._acc(session)
        needs = []
        for name in s.roles:
            role = acc.roles.get(name)
            needs.append(req.grant_role_need(f"GRANT {name}", role.id if role else None))
        return Plan(requirement(s.span.text, *needs),
                    lambda _: self.catalogue.grant_roles(acc, s.roles, s.grantees,
                                                         s.with_grant_option, s.span))

    def _plan_RevokeRole(self, session: SessionState, s: st.RevokeRole) -> Plan:
        acc, req = self._acc(session)
        return Plan(requirement(s.span.text, req.account_need(
            "REVOKE role", ("manage grants", "account all"))),
            lambda _: self.catalogue.revoke_roles(acc, s.roles, s.grantees,
                                                  if_exists=s.if_exists))

    # session statements ---------------------------------------------------------------

    def _nothing(self, text: str, effect: Effect | None = None) -> Plan:
        return Plan(requirement(text), effect)

    def _plan_SetRole(self, session: SessionState, s: st.SetRole) -> Plan:
        acc = self.catalogue.account_of(session)

        def effect(_: Decision) -> None:
            role = acc.roles.get(s.role)
            if role is None:
                raise StatementError(f"there is no role {s.role}")
            user = acc.users.get(session.user)
            if user is None or not self.catalogue.user_has_role(user.id, role.id):
                raise StatementError(f"the role {s.role} has not be granted to the user "
                                     f"{session.user}")
            self.catalogue.set_session_role(session, role.id, s.span)

        return self._nothing(s.span.text, effect)

    def _plan_SetSecondaryRole(self, session: SessionState, s: st.SetSecondaryRole) -> Plan:
        # The fact is recorded on every target; only profiles loading secondary.dl use it.
        return self._nothing(s.span.text,
                             lambda _: self.catalogue.set_secondary(session, s.all, s.span))

    def _plan_SetDefaultRole(self, session: SessionState, s: st.SetDefaultRole) -> Plan:
        return self._nothing(s.span.text)

    def _plan_SetVariable(self, session: SessionState, s: st.SetVariable) -> Plan:
        def effect(_: Decision) -> None:
            if not s.is_global:
                self.journal.set_item(session.variables, s.name, s.value.lower())

        return self._nothing(s.span.text, effect)

    def _plan_Use(self, session: SessionState, s: st.Use) -> Plan:
        acc, req = self._acc(session)

        def effect(_: Decision) -> None:
            if s.database not in acc.databases:
                raise StatementError(f"Unknown database {s.database}")
            self.journal.set_attr(session, "database", s.database)

        return Plan(requirement(s.span.text, req.account_need("USE", ("connect", "account all"))),
                    effect)

    def _plan_Other(self, session: SessionState, s: st.Other) -> Plan:
        return self._nothing(s.span.text)

    def _plan_Show(self, session: SessionState, s: st.Show) -> Plan:
        acc, req = self._acc(session)
        what = s.what
        text = s.span.text
        if what == "databases":
            return Plan(requirement(text, req.account_need(
                "SHOW DATABASES", ("show databases", "account all"))))
        if what in ("snapshots", "pitr", "publications", "subscriptions", "stages"):
            return Plan(requirement(text, req.account_need(f"SHOW {what.upper()}",
                                                           ("account all",))))
        if what == "accounts":
            return Plan(requirement(text, Need("SHOW ACCOUNTS", (req.admin_alternative(),))))
        if what in ("tables", "create table", "create view", "create database", "columns",
                    "index", "table status", "full tables"):
            if what == "tables":
                db_name = session.database  # spec §14.7: the current database is checked
            elif s.table is not None:
                db_name = s.table.database or session.database
            else:
                db_name = s.database or session.database
            db = acc.databases.get(db_name) if db_name else None

            def effect(_: Decision) -> None:
                if not db_name:
                    raise StatementError("No database selected")
                if db is None:
                    raise StatementError(f"Unknown database {db_name}")

            return Plan(requirement(text, Need(f"SHOW {what.upper()}", req.database_alternatives(
                ("show tables", "database all", "database ownership"), db))), effect)
        return self._nothing(text)

    # databases and tables -------------------------------------------------------------

    def _plan_CreateDatabase(self, session: SessionState, s: st.CreateDatabase) -> Plan:
        acc, req = self._acc(session)

        def effect(decision: Decision) -> None:
            self.catalogue.create_database(acc, s.name, self._owner_from(session, decision),
                                           s.span, if_not_exists=s.if_not_exists)

        need = req.account_need("CREATE DATABASE", ("create database", "account all"),
                                with_root=True)
        return Plan(requirement(s.span.text, need), effect, all_bindings=True)

    def _plan_DropDatabase(self, session: SessionState, s: st.DropDatabase) -> Plan:
        acc, req = self._acc(session)
        need = req.account_need("DROP DATABASE", ("drop database", "account all"))
        db = acc.databases.get(s.name)
        if db is not None:
            need = Need(need.what, need.alternatives + (
                req.owner_alternative(db.id, f"database {db.name}"),))
        return Plan(requirement(s.span.text, need),
                    lambda _: self.catalogue.drop_database(acc, s.name, if_exists=s.if_exists))

    def _database_for(self, session: SessionState, acc: AccountRec, name: str | None
                      ) -> DatabaseRec | None:
        db_name = name or session.database
        return acc.databases.get(db_name) if db_name else None

    def _plan_CreateTable(self, session: SessionState, s: st.CreateTable) -> Plan:
        acc, req = self._acc(session)
        db = self._database_for(session, acc, s.table.database)
        needs = [Need("CREATE TABLE", req.database_alternatives(
            ("create table", "database all", "database ownership"), db, write=True,
            with_root=True))]
        if s.as_select:
            tips = self._query_tips(session, acc, s.as_select, s.span)
            if tips:
                needs.append(req.table_need("SELECT of CREATE TABLE ... AS SELECT", tips))
        if s.like is not None:
            source = self._resolve_object(session, acc, s.like, "select")
            needs.append(req.table_need("CREATE TABLE ... LIKE", self._tips(
                acc, "select", source, ())))

        def effect(decision: Decision) -> None:
            db_name = self._db_name(session, s.table.database)
            target = acc.databases.get(db_name)
            if target is None:
                raise StatementError(f"Unknown database {db_name}")
            self.catalogue.create_table(acc, target, s.table.name,
                                        self._owner_from(session, decision), s.span,
                                        if_not_exists=s.if_not_exists, temporary=s.temporary)

        return Plan(requirement(s.span.text, *needs), effect, all_bindings=True)

    def _drop_object_plan(self, session: SessionState, s: st.Statement,
                          names: tuple[st.ObjectName, ...], kind: str, if_exists: bool) -> Plan:
        acc, req = self._acc(session)
        needs = []
        privilege = "drop table" if kind == "table" else "drop view"
        for name in names:
            db = self._database_for(session, acc, name.database)
            alternatives = req.database_alternatives(
                (privilege, "drop object", "database all", "database ownership"), db)
            obj = db.objects.get(name.name) if db else None
            if kind == "table" and obj is not None:
                alternatives += (req.owner_alternative(obj.id, f"table {db.name}.{obj.name}"),)
            needs.append(Need(f"DROP {kind.upper()} {name}", alternatives))

        def effect(_: Decision) -> None:
            for name in names:
                db_name = self._db_name(session, name.database)
                db = acc.databases.get(db_name)
                obj = db.objects.get(name.name) if db else None
                if obj is None or obj.kind != kind:
                    if if_exists:
                        continue
                    if kind == "view":
                        raise StatementError(f"no such view {db_name}.{name.name}")
                    raise StatementError(f"no such table {db_name}.{name.name}")
                assert db is not None
                self.catalogue.drop_object(acc, db, obj)

        return Plan(requirement(s.span.text, *needs), effect)

    def _plan_DropTable(self, session: SessionState, s: st.DropTable) -> Plan:
        return self._drop_object_plan(session, s, s.tables, "table", s.if_exists)

    def _plan_DropView(self, session: SessionState, s: st.DropView) -> Plan:
        return self._drop_object_plan(session, s, s.views, "view", s.if_exists)

    def _plan_AlterTable(self, session: SessionState, s: st.AlterTable) -> Plan:
        acc, req = self._acc(session)
        db = self._database_for(session, acc, s.table.database)

        def effect(_: Decision) -> None:
            self._resolve_object(session, acc, s.table, "alter")

        return Plan(requirement(s.span.text, Need("ALTER TABLE", req.database_alternatives(
            ("alter table", "database all", "database ownership"), db))), effect)

    def _plan_RenameTable(self, session: SessionState, s: st.RenameTable) -> Plan:
        acc, req = self._acc(session)
        needs = []
        for old, _new in s.pairs:
            db = self._database_for(session, acc, old.database)
            needs.append(Need(f"RENAME TABLE {old}", req.database_alternatives(
                ("alter table", "database all", "database ownership"), db)))

        def effect(_: Decision) -> None:
            for old, new in s.pairs:
                obj = self._resolve_object(session, acc, old, "alter")
                new_db_name = self._db_name(session, new.database)
                new_db = acc.databases.get(new_db_name)
                if new_db is None:
                    raise StatementError(f"Unknown database {new_db_name}")
                self.catalogue.rename_object(acc, acc.databases[obj.db_name], obj, new_db,
                                             new.name)

        return Plan(requirement(s.span.text, *needs), effect)

    def _view_refs(self, session: SessionState, acc: AccountRec, body: str,
                   span: Span | None = None) -> tuple[tuple[str, str], ...]:
        try:
            uses = sql.view_references(body)
        except sql.SqlSyntaxError as exc:
            raise _sql_error(exc, body, span) from exc
        refs = []
        for use in uses:
            db_name = self._db_name(session, use.database)
            if self.catalogue.object(acc, db_name, use.name) is None:
                raise StatementError(f'table "{use.name}" does not exist')
            refs.append((db_name, use.name))
        return tuple(dict.fromkeys(refs))

    def _plan_CreateView(self, session: SessionState, s: st.CreateView) -> Plan:
        acc, req = self._acc(session)
        db = self._database_for(session, acc, s.view.database)

        def effect(_: Decision) -> None:
            db_name = self._db_name(session, s.view.database)
            target = acc.databases.get(db_name)
            if target is None:
                raise StatementError(f"Unknown database {db_name}")
            owner = self._role(session)
            if owner is None:
                raise StatementError("the current role no longer exists")
            security = s.security or session.variables.get("view_security_type", "definer")
            self.catalogue.create_view(acc, target, s.view.name, owner, security,
                                       self._view_refs(session, acc, s.body, s.span), s.span,
                                       replace=s.or_replace, if_not_exists=s.if_not_exists)

        return Plan(requirement(s.span.text, Need("CREATE VIEW", req.database_alternatives(
            ("create view", "database all", "database ownership"), db, write=True))), effect)

    def _plan_AlterView(self, session: SessionState, s: st.AlterView) -> Plan:
        acc, req = self._acc(session)
        db = self._database_for(session, acc, s.view.database)
        return Plan(requirement(s.span.text, Need("ALTER VIEW", req.database_alternatives(
            ("alter view", "database all", "database ownership"), db))))

    def _plan_RoutineDDL(self, session: SessionState, s: st.RoutineDDL) -> Plan:
        """Functions and procedures are checked with CREATE VIEW (sic, spec §4.2);
        sequences with database ALL / OWNERSHIP (DROP also with DROP OBJECT). The reasoner
        does not keep routines or sequences in its catalogue: their statements change
        nothing it reasons about."""
        acc, req = self._acc(session)
        db = self._database_for(session, acc, s.name.database)
        if s.kind == "sequence":
            privileges: tuple[str, ...] = ("database all", "database ownership")
            if s.action == "drop":
                privileges += ("drop object",)
        else:
            privileges = ("create view", "database all", "database ownership")
        what = f"{s.action.upper()} {s.kind.upper()} {s.name}"
        return Plan(requirement(s.span.text, Need(what, req.database_alternatives(
            privileges, db, write=s.action != "call"))))

    def _plan_IndexDDL(self, session: SessionState, s: st.IndexDDL) -> Plan:
        acc, req = self._acc(session)
        obj = self._resolve_object(session, acc, s.table, "index")
        tips = self._tips(acc, "index", obj, (), acc.databases[obj.db_name])
        return Plan(requirement(s.span.text, req.table_need(f"{s.action.upper()} INDEX", tips)))

    def _plan_AccountObjectDDL(self, session: SessionState, s: st.AccountObjectDDL) -> Plan:
        acc, req = self._acc(session)
        return Plan(requirement(s.span.text, req.account_need(
            f"{s.action.upper()} {s.kind.upper()}", ("account all",))))

    def _plan_Truncate(self, session: SessionState, s: st.Truncate) -> Plan:
        acc, req = self._acc(session)
        obj = self._resolve_object(session, acc, s.table, "truncate")
        tips = self._tips(acc, "truncate", obj, (), acc.databases[obj.db_name])
        return Plan(requirement(s.span.text, req.table_need("TRUNCATE", tips)))

    def _plan_Query(self, session: SessionState, s: st.Query) -> Plan:
        acc, req = self._acc(session)
        tips = self._query_tips(session, acc, s.text, s.span)
        if not tips:
            return self._nothing(s.span.text)
        return Plan(requirement(s.span.text, req.table_need(s.kind.upper(), tips)))


class DeniedError(StatementError):
    """The authorization step said no; carries the decision for why-not."""

    def __init__(self, decision: Decision) -> None:
        message = DENIED
        if decision.errors:
            message = f"{DENIED} ({'; '.join(decision.errors)})"
        super().__init__(message)
        self.decision = decision


def _sql_error(exc: sql.SqlSyntaxError, text: str, span: Span | None) -> StatementError:
    """sqlglot's complaint about ``text`` (a statement, or the query part of one) as
    ``file:line:col: syntax error: ...``, the position made absolute through the span."""
    if span is None:
        return StatementError(f"syntax error: {exc}")
    offset = max(span.text.rfind(text), 0)  # the query part is the statement's last part
    before = span.text[:offset]
    line, column = span.line, span.column
    if "\n" in before:
        line, column = line + before.count("\n"), len(before) - before.rfind("\n")
    else:
        column += len(before)
    if exc.line > 1:
        line, column = line + exc.line - 1, exc.column
    else:
        column += exc.column - 1
    return StatementError(f"{span.source}:{line}:{column}: syntax error: {exc.message}")


def _split_name(name: str) -> st.ObjectName:
    name = name.strip().lower()
    if "(" in name:
        name = name.split("(", 1)[0].strip()
    if "." in name:
        db, _, table = name.partition(".")
        return st.ObjectName(db.strip("`"), table.strip("`"))
    return st.ObjectName(None, name.strip("`"))
