"""The MatrixOne catalogue: accounts, users, roles, grants, databases, tables, views.

It applies each statement's effect with MatrixOne's own checks and error texts (names,
existence, cycles, protected built-ins) and records every row as a fact that remembers
the statement that made it. It never decides authorization: that is the rules' job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from reasoner.errors import StatementError
from reasoner.facts import FactStore, Journal
from reasoner.source import Span

from . import privileges as pv

SYS = "sys"
ADMIN_ROLE = {True: "moadmin", False: "accountadmin"}  # keyed by "is the sys account"
PREDEFINED_ROLES = ("moadmin", "accountadmin", "public")


@dataclass(eq=False)
class RoleRec:
    id: str
    name: str
    account: str
    number: int
    creator: str | None = None


@dataclass(eq=False)
class UserRec:
    id: str
    name: str
    account: str
    default_role: str  # role name


@dataclass(eq=False)
class ObjectRec:
    """A table or a view. ``refs``: for a view, the (database, name) pairs its body reads."""

    id: str
    name: str
    kind: str
    database: str  # database id
    db_name: str
    owner: str  # role id of the creating role (the owner column)
    security: str | None = None
    refs: tuple[tuple[str, str], ...] = ()


@dataclass(eq=False)
class DatabaseRec:
    id: str
    name: str
    account: str
    owner: str
    system: bool = False
    objects: dict[str, ObjectRec] = field(default_factory=dict)


@dataclass(eq=False)
class AccountRec:
    id: str
    name: str
    roles: dict[str, RoleRec] = field(default_factory=dict)
    users: dict[str, UserRec] = field(default_factory=dict)
    databases: dict[str, DatabaseRec] = field(default_factory=dict)

    @property
    def is_sys(self) -> bool:
        return self.name == SYS

    @property
    def admin_role_name(self) -> str:
        return ADMIN_ROLE[self.is_sys]


@dataclass
class PrivRow:
    level: str
    wgo: bool


PrivKey = tuple[str, str, str, str, str]  # role, privilege, kind, scope, object


@dataclass
class SessionState:
    """What MatrixOne keeps per connection: who, current role, secondary mode, database."""

    id: str
    account: str  # account name
    user: str  # user name
    role: str  # current role id
    secondary_all: bool = False
    database: str | None = None
    variables: dict[str, str] = field(default_factory=dict)


def check_name(name: str) -> str:
    """MatrixOne's user/role name rule (A ``nameIsInvalid``)."""
    if not name or ":" in name or "#" in name:
        raise StatementError(f'the name "{name}" is invalid')
    return name


_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class Catalogue:
    """All accounts of one cluster, mirrored into facts."""

    def __init__(self, facts: FactStore, journal: Journal) -> None:
        self.facts = facts
        self.journal = journal
        self.accounts: dict[str, AccountRec] = {}
        self.user_grants: dict[tuple[str, str], bool] = {}  # (user id, role id) -> wgo
        self.role_grants: dict[tuple[str, str], bool] = {}  # (role id, grantee id) -> wgo
        self.priv_rows: dict[PrivKey, PrivRow] = {}
        # indexes over the rows above, so that no statement scans the whole catalogue
        self.by_id: dict[str, object] = {}
        self.roles_of_user: dict[str, set[str]] = {}
        self.users_of_role: dict[str, set[str]] = {}
        self.granted_to: dict[str, set[str]] = {}  # grantee role -> roles granted to it
        self.grantees_of: dict[str, set[str]] = {}  # role -> roles it is granted to
        self.privs_of_role: dict[str, set[PrivKey]] = {}
        self._incarnations: dict[str, int] = {}
        self._role_numbers = 1000
        self._transfers = 0

    # ids ------------------------------------------------------------------------------

    def _new_id(self, base: str) -> str:
        count = self._incarnations.get(base, 0) + 1
        self.journal.set_item(self._incarnations, base, count)
        return base if count == 1 else f"{base}#{count}"

    def _next_role_number(self) -> int:
        self.journal.set_attr(self, "_role_numbers", self._role_numbers + 1)
        return self._role_numbers

    # lookups --------------------------------------------------------------------------

    def account(self, name: str) -> AccountRec | None:
        return self.accounts.get(name)

    def account_of(self, session: SessionState) -> AccountRec:
        acc = self.accounts.get(session.account)
        if acc is None:
            raise StatementError(f"there is no account {session.account}")
        return acc

    def role_by_id(self, role_id: str) -> RoleRec | None:
        found = self.by_id.get(role_id)
        return found if isinstance(found, RoleRec) else None

    def _register(self, rec: AccountRec | RoleRec | UserRec | DatabaseRec | ObjectRec) -> None:
        self.journal.set_item(self.by_id, rec.id, rec)

    def _unregister(self, rec_id: str) -> None:
        self.journal.del_item(self.by_id, rec_id)

    def describe(self, obj_id: str) -> tuple[str, str] | None:
        """(kind, name) of an id as statements write it: ("table", "db1.t1"),
        ("database", "db1"), ("account", "*"), ("role", "dev"), ("user", "joe")."""
        rec = self.by_id.get(obj_id)
        if isinstance(rec, AccountRec):
            return "account", "*"
        if isinstance(rec, RoleRec):
            return "role", rec.name
        if isinstance(rec, UserRec):
            return "user", rec.name
        if isinstance(rec, DatabaseRec):
            return "database", rec.name
        if isinstance(rec, ObjectRec):
            return rec.kind, f"{rec.db_name}.{rec.name}"
        return None

    def database(self, acc: AccountRec, name: str | None) -> DatabaseRec | None:
        return acc.databases.get(name) if name else None

    def object(self, acc: AccountRec, db_name: str | None, name: str) -> ObjectRec | None:
        db = self.database(acc, db_name)
        return db.objects.get(name) if db else None

    def user_roles(self, user_id: str) -> list[tuple[str, bool]]:
        return sorted((r, self.user_grants[(user_id, r)])
                      for r in self.roles_of_user.get(user_id, ()))

    def user_has_role(self, user_id: str, role_id: str) -> bool:
        return (user_id, role_id) in self.user_grants

    # fact helpers ---------------------------------------------------------------------

    def _fact(self, pred: str, args: tuple[str | int, ...], span: Span) -> None:
        self.facts.add(pred, args, span)

    def _unfact(self, pred: str, args: tuple[str | int, ...]) -> None:
        self.facts.remove(pred, args)

    # accounts -------------------------------------------------------------------------

    def create_account(self, name: str, admin_name: str, password: str, span: Span,
                       *, if_not_exists: bool = False, creator_role: str | None = None) -> None:
        if not _ACCOUNT_NAME.match(name):
            raise StatementError(f'the name "{name}" is invalid')
        if name in self.accounts:
            if if_not_exists:
                return
            raise StatementError(f"the tenant {name} exists")
        check_name(admin_name)
        if password == "":
            raise StatementError("password is empty string")
        acc = AccountRec(id=self._new_id(name), name=name)
        self.journal.set_item(self.accounts, name, acc)
        self._register(acc)
        self._fact("account", (acc.id,), span)
        if acc.is_sys:
            self._fact("sys_account", (acc.id,), span)
        admin = self._add_role(acc, acc.admin_role_name, span, number=0 if acc.is_sys else 2,
                               creator=creator_role)
        public = self._add_role(acc, "public", span, number=1, creator=creator_role)
        self._fact("admin_role", (admin.id,), span)
        self._grant_builtin_privileges(acc, admin, public, span)
        for db_name in pv.SYSTEM_DATABASES:
            db = self._add_database(acc, db_name, admin.id, span, system=True)
            for table in pv.SYSTEM_TABLES.get(db_name, ()):
                self._add_object(acc, db, table, "table", admin.id, span)
        if acc.is_sys:
            for user_name in ("root", "dump"):
                user = self._add_user(acc, user_name, admin.name, span)
                self._grant_role_to_user(user, admin, False, span)
                self._grant_role_to_user(user, public, False, span)
        else:
            user = self._add_user(acc, admin_name, admin.name, span)
            self._grant_role_to_user(user, admin, True, span)
            self._grant_role_to_user(user, public, True, span)

    def _grant_builtin_privileges(self, acc: AccountRec, admin: RoleRec, public: RoleRec,
                                  span: Span) -> None:
        a = acc.id
        if acc.is_sys:
            for priv in sorted(pv.SYS_PRIVILEGES):
                self._put_priv(admin.id, priv, "account", "all", a, "*", False, span)
        for priv in sorted(pv.ACCOUNT_PRIVILEGES - {"alter role"}) + ["account all"]:
            self._put_priv(admin.id, priv, "account", "all", a, "*", True, span)
        for priv in sorted(pv.DATABASE_PRIVILEGES) + ["database all", "database ownership"]:
            self._put_priv(admin.id, priv, "database", "all", a, "*", True, span)
        for priv in sorted(pv.TABLE_PRIVILEGES - {"execute"}) + ["table all", "table ownership",
                                                                 "values"]:
            self._put_priv(admin.id, priv, "table", "all", a, "*.*", True, span)
        self._put_priv(public.id, "connect", "account", "all", a, "*", True, span)

    def drop_account(self, name: str, span: Span, *, if_exists: bool = False) -> None:
        if name == SYS:
            raise StatementError("can not delete the account sys")
        acc = self.accounts.get(name)
        if acc is None:
            if if_exists:
                return
            raise StatementError(f"there is no account {name}")
        for db in list(acc.databases.values()):
            self._remove_database(acc, db)
        for user in list(acc.users.values()):
            self._remove_user(acc, user)
        for role in list(acc.roles.values()):
            self._remove_role(acc, role)
        self._unfact("account", (acc.id,))
        self._unfact("sys_account", (acc.id,))
        self.journal.del_item(self.accounts, name)
        self._unregister(acc.id)

    # roles ----------------------------------------------------------------------------

    def _add_role(self, acc: AccountRec, name: str, span: Span, *, number: int | None = None,
                  creator: str | None = None) -> RoleRec:
        role = RoleRec(id=self._new_id(f"{acc.id}:role:{name}"), name=name, account=acc.id,
                       number=self._next_role_number() if number is None else number,
                       creator=creator)
        self.journal.set_item(acc.roles, name, role)
        self._register(role)
        self._fact("role", (role.id, acc.id), span)
        if creator:
            self._fact("role_created_by", (role.id, creator), span)
        return role

    def create_roles(self, acc: AccountRec, names: Iterable[str], span: Span, *,
                     if_not_exists: bool, creator: str) -> None:
        todo: list[str] = []
        for name in names:
            check_name(name)
            if name in PREDEFINED_ROLES:
                raise StatementError(f"can not use the name {name}. it is the name of the "
                                     "predefined role")
            if name in acc.roles or name in todo:
                if if_not_exists:
                    continue
                raise StatementError(f"the role {name} exists")
            if name in acc.users:
                raise StatementError(f"there is a user with the same name as the role {name}")
            todo.append(name)
        for name in todo:
            self._add_role(acc, name, span, creator=creator)

    def drop_roles(self, acc: AccountRec, names: Iterable[str], span: Span, *,
                   if_exists: bool) -> None:
        todo: list[RoleRec] = []
        for name in names:
            check_name(name)
            if name in PREDEFINED_ROLES:
                raise StatementError(f"can not delete the role {name}")
            role = acc.roles.get(name)
            if role is None:
                if if_exists:
                    continue
                raise StatementError(f"there is no role {name}")
            if role not in todo:
                todo.append(role)
        for role in todo:
            self._remove_role(acc, role)
            self._fact("dropped_role", (role.id,), span)

    def _remove_role(self, acc: AccountRec, role: RoleRec) -> None:
        for user_id in list(self.users_of_role.get(role.id, ())):
            self._remove_user_grant((user_id, role.id))
        for granted in list(self.granted_to.get(role.id, ())):
            self._remove_role_grant((granted, role.id))
        for grantee in list(self.grantees_of.get(role.id, ())):
            self._remove_role_grant((role.id, grantee))
        for key in list(self.privs_of_role.get(role.id, ())):
            self._remove_priv(key)
        self._unfact("role", (role.id, acc.id))
        self._unfact("admin_role", (role.id,))
        self.journal.del_item(acc.roles, role.name)
        self._unregister(role.id)

    # users ----------------------------------------------------------------------------

    def _add_user(self, acc: AccountRec, name: str, default_role: str, span: Span) -> UserRec:
        user = UserRec(id=self._new_id(f"{acc.id}:user:{name}"), name=name, account=acc.id,
                       default_role=default_role)
        self.journal.set_item(acc.users, name, user)
        self._register(user)
        self._fact("user", (user.id, acc.id), span)
        return user

    def create_users(self, acc: AccountRec, users: Iterable[tuple[str, str | None]],
                     default_role: str | None, span: Span, *, if_not_exists: bool) -> None:
        role = None
        if default_role is not None:
            role = acc.roles.get(default_role)
        todo: list[str] = []
        for name, password in users:
            check_name(name)
            if password == "":
                raise StatementError("password is empty string")
            if default_role is not None:
                if role is None:
                    raise StatementError(f"there is no role {default_role}")
                if role.name == acc.admin_role_name:
                    raise StatementError(f"the role {role.name} can not be granted to non "
                                         f"administration user {name}")
            if name in acc.users or name in todo:
                if if_not_exists:
                    continue
                raise StatementError(f"the user {name} exists")
            if name in acc.roles:
                raise StatementError("there is a role with the same name as the user")
            todo.append(name)
        public = acc.roles["public"]
        for name in todo:
            user = self._add_user(acc, name, role.name if role else "public", span)
            if role is not None and role is not public:
                self._grant_role_to_user(user, role, True, span)
            self._grant_role_to_user(user, public, True, span)

    def drop_users(self, acc: AccountRec, names: Iterable[str], *, if_exists: bool) -> None:
        todo: list[UserRec] = []
        admin = acc.roles[acc.admin_role_name]
        for name in names:
            check_name(name)
            user = acc.users.get(name)
            if user is None:
                if if_exists:
                    continue
                raise StatementError(f"there is no user {name}")
            if self.user_has_role(user.id, admin.id):
                raise StatementError(f"can not delete the user {name}")
            if user not in todo:
                todo.append(user)
        for user in todo:
            self._remove_user(acc, user)

    def _remove_user(self, acc: AccountRec, user: UserRec) -> None:
        for role_id in list(self.roles_of_user.get(user.id, ())):
            self._remove_user_grant((user.id, role_id))
        self._unfact("user", (user.id, acc.id))
        self.journal.del_item(acc.users, user.name)
        self._unregister(user.id)

    # role grants ----------------------------------------------------------------------

    def _grant_role_to_user(self, user: UserRec, role: RoleRec, wgo: bool, span: Span) -> None:
        key = (user.id, role.id)
        self.journal.set_item(self.user_grants, key, wgo)
        self.journal.add_to(self.roles_of_user, user.id, role.id)
        self.journal.add_to(self.users_of_role, role.id, user.id)
        self._fact("user_role", key, span)
        if wgo:
            self._fact("user_role_wgo", key, span)
        else:
            self._unfact("user_role_wgo", key)

    def _remove_user_grant(self, key: tuple[str, str]) -> None:
        self.journal.del_item(self.user_grants, key)
        self.journal.remove_from(self.roles_of_user, key[0], key[1])
        self.journal.remove_from(self.users_of_role, key[1], key[0])
        self._unfact("user_role", key)
        self._unfact("user_role_wgo", key)

    def _remove_role_grant(self, key: tuple[str, str]) -> None:
        self.journal.del_item(self.role_grants, key)
        self.journal.remove_from(self.granted_to, key[1], key[0])
        self.journal.remove_from(self.grantees_of, key[0], key[1])
        self._unfact("role_grant", key)
        self._unfact("role_grant_wgo", key)

    def _inherits(self, role_id: str, target_id: str) -> bool:
        """True when ``role_id`` already inherits ``target_id`` (a path of role grants)."""
        seen = {role_id}
        frontier = [role_id]
        while frontier:
            current = frontier.pop()
            if current == target_id:
                return True
            for granted in self.granted_to.get(current, ()):
                if granted not in seen:
                    seen.add(granted)
                    frontier.append(granted)
        return False

    def grant_roles(self, acc: AccountRec, roles: Iterable[str], grantees: Iterable[str],
                    wgo: bool, span: Span) -> None:
        granted = []
        for name in roles:
            role = acc.roles.get(name)
            if role is None:
                raise StatementError(f"there is no role {name}")
            granted.append(role)
        targets: list[RoleRec | UserRec] = []
        for name in grantees:
            target = acc.roles.get(name) or acc.users.get(name)
            if target is None:
                raise StatementError(f"there is no role or user {name}")
            targets.append(target)
        admin_name = acc.admin_role_name
        for role in granted:
            for target in targets:
                if isinstance(target, UserRec):
                    if role.name == admin_name and not self.user_has_role(
                            target.id, acc.roles[admin_name].id):
                        raise StatementError(f"the role {role.name} can not be granted to non "
                                             f"administration user {target.name}")
                    self._grant_role_to_user(target, role, wgo, span)
                    continue
                if role.name == admin_name or role.name == "public":
                    raise StatementError(f"the role {role.name} can not be granted to the "
                                         f"other role {target.name}")
                if target.name in (admin_name, "public"):
                    raise StatementError(f"the role {role.name} can not be granted to the role "
                                         f"{target.name}")
                if role.id == target.id or self._inherits(role.id, target.id):
                    raise StatementError(f"cannot grant role {role.name} to {target.name}")
                key = (role.id, target.id)
                self.journal.set_item(self.role_grants, key, wgo)
                self.journal.add_to(self.granted_to, target.id, role.id)
                self.journal.add_to(self.grantees_of, role.id, target.id)
                self._fact("role_grant", key, span)
                if wgo:
                    self._fact("role_grant_wgo", key, span)
                else:
                    self._unfact("role_grant_wgo", key)

    def revoke_roles(self, acc: AccountRec, roles: Iterable[str], grantees: Iterable[str], *,
                     if_exists: bool) -> None:
        targets: list[RoleRec | UserRec] = []
        for name in grantees:
            target = acc.roles.get(name) or acc.users.get(name)
            if target is None:
                if if_exists:
                    continue
                raise StatementError(f"there is no role or user {name}")
            targets.append(target)
        revoked = []
        admin_name = acc.admin_role_name
        for name in roles:
            role = acc.roles.get(name)
            if role is None:
                raise StatementError(f"there is no role {name}")
            if role.name in (admin_name, "public"):
                raise StatementError(f"the role {role.name} can not be revoked")
            revoked.append(role)
        for target in targets:
            if isinstance(target, RoleRec) and target.name in (admin_name, "public"):
                raise StatementError(f"the role {revoked[0].name if revoked else ''} can not be "
                                     f"revoked from the role {target.name}")
        for role in revoked:
            for target in targets:
                if isinstance(target, UserRec):
                    if (target.id, role.id) in self.user_grants:
                        self._remove_user_grant((target.id, role.id))
                elif (role.id, target.id) in self.role_grants:
                    self._remove_role_grant((role.id, target.id))

    # privileges -----------------------------------------------------------------------

    def _put_priv(self, role_id: str, priv: str, kind: str, scope: str, obj: str, level: str,
                  wgo: bool, span: Span) -> None:
        key = (role_id, priv, kind, scope, obj)
        old = self.priv_rows.get(key)
        self.journal.set_item(self.priv_rows, key, PrivRow(old.level if old else level, wgo))
        self.journal.add_to(self.privs_of_role, role_id, key)
        if scope == "one" and priv in ("table ownership", "database ownership"):
            self._fact("ownership_grant", (role_id, kind, obj), span)
        else:
            self._fact("privilege", key, span)
        if wgo:
            self._fact("grant_option", key, span)
        else:
            self._unfact("grant_option", key)

    def _remove_priv(self, key: PrivKey) -> None:
        role_id, priv, kind, scope, obj = key
        self.journal.del_item(self.priv_rows, key)
        self.journal.remove_from(self.privs_of_role, role_id, key)
        if scope == "one" and priv in ("table ownership", "database ownership"):
            self._unfact("ownership_grant", (role_id, kind, obj))
        else:
            self._unfact("privilege", key)
        self._unfact("grant_option", key)

    def grant_privilege_rows(self, roles: list[RoleRec], rows: list[tuple[str, str, str, str,
                                                                          str]],
                             wgo: bool, span: Span) -> None:
        """rows: (privilege, kind, scope, object, level)."""
        for role in roles:
            for priv, kind, scope, obj, level in rows:
                self._put_priv(role.id, priv, kind, scope, obj, level, wgo, span)
                if priv.endswith("ownership") and scope == "one":
                    self._transfers += 1
                    self._fact("ownership_transfer", (obj, role.id, self._transfers), span)

    def revoke_privilege_rows(self, roles: list[RoleRec],
                              rows: list[tuple[str, str, str, str, str]]) -> None:
        for role in roles:
            for priv, kind, scope, obj, level in rows:
                key = (role.id, priv, kind, scope, obj)
                row = self.priv_rows.get(key)
                if row is not None and row.level == level:
                    self._remove_priv(key)

    # databases and objects ------------------------------------------------------------

    def _add_database(self, acc: AccountRec, name: str, owner: str, span: Span, *,
                      system: bool = False) -> DatabaseRec:
        db = DatabaseRec(id=self._new_id(f"{acc.id}:db:{name}"), name=name, account=acc.id,
                         owner=owner, system=system)
        self.journal.set_item(acc.databases, name, db)
        self._register(db)
        self._fact("database", (db.id, acc.id), span)
        self._fact("created_by", (db.id, owner), span)
        if system:
            self._fact("system_database", (db.id,), span)
        return db

    def create_database(self, acc: AccountRec, name: str, owner: RoleRec, span: Span, *,
                        if_not_exists: bool) -> None:
        if name in acc.databases:
            if if_not_exists:
                return
            raise StatementError(f"database {name} already exists")
        db = self._add_database(acc, name, owner.id, span)
        if owner.name != acc.admin_role_name:
            self._put_priv(owner.id, "database ownership", "database", "one", db.id, name,
                           False, span)

    def drop_database(self, acc: AccountRec, name: str, *, if_exists: bool) -> None:
        db = acc.databases.get(name)
        if db is None:
            if if_exists:
                return
            raise StatementError(f"Unknown database {name}")
        if db.system:
            raise StatementError(f"can not drop database {name}")
        self._remove_database(acc, db)

    def _remove_database(self, acc: AccountRec, db: DatabaseRec) -> None:
        for obj in list(db.objects.values()):
            self._remove_object(acc, db, obj)
        self._revoke_owner_row(acc, db.owner, "database", db.id)
        self._unfact("database", (db.id, acc.id))
        self._unfact("created_by", (db.id, db.owner))
        self._unfact("system_database", (db.id,))
        self.journal.del_item(acc.databases, db.name)
        self._unregister(db.id)

    def _revoke_owner_row(self, acc: AccountRec, owner: str, kind: str, obj: str) -> None:
        """DROP first revokes the ownership row of a live, non-admin owner (A
        ``doRevokePrivilegeImplicitly``); other grants on the object stay as orphans."""
        role = self.role_by_id(owner)
        if role is None or role.name == acc.admin_role_name:
            return
        key = (owner, pv.OWNERSHIP_NAME[kind], kind, "one", obj)
        if key in self.priv_rows:
            self._remove_priv(key)

    def _add_object(self, acc: AccountRec, db: DatabaseRec, name: str, kind: str, owner: str,
                    span: Span, *, security: str | None = None,
                    refs: tuple[tuple[str, str], ...] = ()) -> ObjectRec:
        obj = ObjectRec(id=self._new_id(f"{acc.id}:{kind}:{db.name}.{name}"), name=name,
                        kind=kind, database=db.id, db_name=db.name, owner=owner,
                        security=security, refs=refs)
        self.journal.set_item(db.objects, name, obj)
        self._register(obj)
        self._fact("object", (obj.id, kind, db.id), span)
        self._fact("created_by", (obj.id, owner), span)
        if security:
            self._fact("view_security", (obj.id, security), span)
        return obj

    def create_table(self, acc: AccountRec, db: DatabaseRec, name: str, owner: RoleRec,
                     span: Span, *, if_not_exists: bool, temporary: bool = False) -> None:
        if name in db.objects:
            if if_not_exists:
                return
            raise StatementError(f"table {name} already exists")
        obj = self._add_object(acc, db, name, "table", owner.id, span)
        if owner.name != acc.admin_role_name and not temporary:
            self._put_priv(owner.id, "table ownership", "table", "one", obj.id,
                           f"{db.name}.{name}", False, span)

    def create_view(self, acc: AccountRec, db: DatabaseRec, name: str, owner: RoleRec,
                    security: str, refs: tuple[tuple[str, str], ...], span: Span, *,
                    replace: bool, if_not_exists: bool) -> None:
        existing = db.objects.get(name)
        if existing is not None:
            if if_not_exists:
                return
            if not (replace and existing.kind == "view"):
                raise StatementError(f"table {name} already exists")
            self._remove_object(acc, db, existing)
        self._add_object(acc, db, name, "view", owner.id, span, security=security, refs=refs)

    def drop_object(self, acc: AccountRec, db: DatabaseRec, obj: ObjectRec) -> None:
        self._remove_object(acc, db, obj)

    def _remove_object(self, acc: AccountRec, db: DatabaseRec, obj: ObjectRec) -> None:
        if obj.kind == "table":
            self._revoke_owner_row(acc, obj.owner, "table", obj.id)
        self._unfact("object", (obj.id, obj.kind, db.id))
        self._unfact("created_by", (obj.id, obj.owner))
        if obj.security:
            self._unfact("view_security", (obj.id, obj.security))
        self.journal.del_item(db.objects, obj.name)
        self._unregister(obj.id)

    def rename_object(self, acc: AccountRec, db: DatabaseRec, obj: ObjectRec,
                      new_db: DatabaseRec, new_name: str) -> None:
        """RENAME keeps the logical id, so grants follow the table."""
        if new_name in new_db.objects:
            raise StatementError(f"table {new_name} already exists")
        self.journal.del_item(db.objects, obj.name)
        self._unfact("object", (obj.id, obj.kind, db.id))
        self.journal.set_attr(obj, "name", new_name)
        self.journal.set_attr(obj, "database", new_db.id)
        self.journal.set_attr(obj, "db_name", new_db.name)
        self.journal.set_item(new_db.objects, new_name, obj)
        self.facts.add("object", (obj.id, obj.kind, new_db.id),
                       self.facts.origin("created_by", (obj.id, obj.owner)) or Span("", 0, 0, ""))

    # sessions -------------------------------------------------------------------------

    def open_session(self, session: SessionState, span: Span) -> None:
        acc = self.accounts[session.account]
        user = acc.users[session.user]
        self._fact("session", (session.id, user.id, acc.id), span)
        self._fact("session_role", (session.id, session.role), span)
        if session.secondary_all:
            self._fact("secondary_all", (session.id,), span)

    def close_session(self, session: SessionState) -> None:
        acc = self.accounts.get(session.account)
        user = acc.users.get(session.user) if acc else None
        if acc is not None and user is not None:
            self._unfact("session", (session.id, user.id, acc.id))
        self._unfact("session_role", (session.id, session.role))
        self._unfact("secondary_all", (session.id,))

    def set_session_role(self, session: SessionState, role_id: str, span: Span) -> None:
        self._unfact("session_role", (session.id, session.role))
        self.journal.set_attr(session, "role", role_id)
        self._fact("session_role", (session.id, role_id), span)
        self.set_secondary(session, False, span)

    def set_secondary(self, session: SessionState, on: bool, span: Span) -> None:
        self.journal.set_attr(session, "secondary_all", on)
        if on:
            self._fact("secondary_all", (session.id,), span)
        else:
            self._unfact("secondary_all", (session.id,))
