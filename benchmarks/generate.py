"""Seeded generator of realistic MatrixOne privilege scripts for the benchmarks.

The shape follows /work/shared/spec/engines.md ("Workload"): roles sit on L levels and
inherit 0-3 roles from lower levels (70% of the parents from the level just below), which
makes a DAG; every user has 1-3 roles; every role gets 1-10 grants, about 15% of them at
database level (``grant select on table db.* to r``), the others on one table; databases
hold 50 tables; every table has an owning role (``grant ownership on table db.t to r``).
Everything lives in one account ``acc``.

The generator keeps its own *reference closure* (plain Python sets, no Datalog), so that
``Policy.allowed`` gives the expected answer of any (user, privilege, table) check
independently of the library under test, and ``sample_checks`` draws about half allowed
and half denied checks from it.

    python benchmarks/generate.py --size small [--seed 42] [-o small.sql] [--stats]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

PRIVILEGES = ("select", "insert", "update", "delete")
TABLES_PER_DB = 50
ACCOUNT = "acc"
ADMIN = "admin"


@dataclass(frozen=True)
class Size:
    users: int
    roles: int
    tables: int
    levels: int  # L: role levels, hence the depth of the inheritance DAG


SIZES: dict[str, Size] = {
    "small": Size(users=100, roles=50, tables=500, levels=8),
    "medium": Size(users=1_000, roles=300, tables=5_000, levels=14),
    "large": Size(users=10_000, roles=2_000, tables=50_000, levels=16),
    "x4": Size(users=40_000, roles=8_000, tables=200_000, levels=16),  # 4x large
}


@dataclass(frozen=True)
class Change:
    """One policy change for the update benchmark: run ``statement`` as the account admin,
    then ``user`` checking ``privilege`` on ``table`` must answer ``expected``; ``undo``
    restores the policy. ``fact``: the same change as an engines.md EDB fact (for the
    baseline): (predicate, args)."""

    kind: str  # "grant" | "revoke"
    user: str
    privilege: str
    table: str  # "db.t"
    statement: str
    undo: str
    expected: bool
    fact: tuple[str, tuple[str, ...]]


@dataclass
class Policy:
    """A generated policy and its reference closure. Names: users ``u<i>``, roles
    ``r<i>``, databases ``d<i>``, tables ``t<i>`` (table ``t<i>`` is in ``d<i // 50>``)."""

    size: Size
    seed: int
    level: list[int]  # role -> level
    parents: list[list[int]]  # role -> the roles it inherits (grant parent to role)
    user_roles: list[list[int]]  # user -> direct roles (the first one is the default)
    table_grants: list[set[tuple[int, int]]]  # role -> {(privilege, table)}
    db_grants: list[set[tuple[int, int]]]  # role -> {(privilege, database)}
    owner: list[int]  # table -> owning role
    owned: list[list[int]] = field(default_factory=list)  # role -> tables it owns
    closure: list[frozenset[int]] = field(default_factory=list)  # role -> itself + inherited

    # names --------------------------------------------------------------------------

    @property
    def databases(self) -> int:
        return (self.size.tables + TABLES_PER_DB - 1) // TABLES_PER_DB

    @staticmethod
    def db_of(table: int) -> int:
        return table // TABLES_PER_DB

    def table_name(self, table: int) -> str:
        return f"d{self.db_of(table)}.t{table}"

    @staticmethod
    def parse_table(name: str) -> int:
        return int(name.rsplit(".t", 1)[1])

    # reference closure ----------------------------------------------------------------

    def user_closure(self, user: int, roles: list[int] | None = None) -> frozenset[int]:
        """Every role a user acts with under SECONDARY ROLE ALL: all direct roles and
        everything they inherit (public holds no table privilege and is left out)."""
        out: set[int] = set()
        for r in self.user_roles[user] if roles is None else roles:
            out |= self.closure[r]
        return frozenset(out)

    def role_allows(self, role: int, privilege: int, table: int) -> bool:
        return ((privilege, table) in self.table_grants[role]
                or (privilege, self.db_of(table)) in self.db_grants[role]
                or self.owner[table] == role)

    def allowed(self, user: str, privilege: str, table: str) -> bool:
        """The reference answer: may ``user`` (SECONDARY ROLE ALL) use ``privilege`` on
        ``table`` ("d3.t170")?"""
        u, p, t = int(user[1:]), PRIVILEGES.index(privilege), self.parse_table(table)
        return self._allowed(u, p, t)

    def _allowed(self, u: int, p: int, t: int, roles: frozenset[int] | None = None) -> bool:
        return any(self.role_allows(r, p, t)
                   for r in (self.user_closure(u) if roles is None else roles))

    def _positive_for_role(self, rng: random.Random, role: int) -> tuple[int, int]:
        """A (privilege, table) the role holds itself (grant, database grant or owner)."""
        items: list[tuple[str, int, int]] = [("t", p, t) for p, t in self.table_grants[role]]
        items += [("d", p, d) for p, d in self.db_grants[role]]
        items += [("o", -1, t) for t in self.owned[role]]
        items.sort()
        kind, p, x = rng.choice(items)
        if kind == "t":
            return p, x
        if kind == "d":
            first = x * TABLES_PER_DB
            return p, rng.randrange(first, min(first + TABLES_PER_DB, self.size.tables))
        return rng.randrange(len(PRIVILEGES)), x

    def sample_checks(self, n: int, seed: int = 42) -> list[tuple[str, str, str]]:
        """``n`` checks (user, privilege, "db.t"), about half allowed, half denied
        (alternating). The expected answer is ``allowed(*check)``."""
        rng = random.Random(seed)
        out: list[tuple[str, str, str]] = []
        while len(out) < n:
            u = rng.randrange(self.size.users)
            if len(out) % 2 == 0:  # positive: a role in the user's closure holds it
                role = rng.choice(sorted(self.user_closure(u)))
                p, t = self._positive_for_role(rng, role)
            else:  # negative: draw until denied
                p, t = rng.randrange(len(PRIVILEGES)), rng.randrange(self.size.tables)
                if self._allowed(u, p, t):
                    continue
            out.append((f"u{u}", PRIVILEGES[p], self.table_name(t)))
        return out

    # changes for the update benchmark -------------------------------------------------

    def grant_changes(self, n: int, seed: int = 42) -> list[Change]:
        """GRANT a table privilege to a mid-hierarchy role (level about L/2) so that a user
        who inherits that role turns positive (engines.md "grant")."""
        rng = random.Random(seed)
        mid = self.size.levels // 2
        mid_roles = [r for r in range(self.size.roles) if abs(self.level[r] - mid) <= 1]
        holders: dict[int, list[int]] = {r: [] for r in mid_roles}
        for u in range(self.size.users):
            for r in self.user_closure(u):
                if r in holders:
                    holders[r].append(u)
        mid_roles = [r for r in mid_roles if holders[r]]
        out: list[Change] = []
        while len(out) < n:
            r = rng.choice(mid_roles)
            u = rng.choice(holders[r])
            p, t = rng.randrange(len(PRIVILEGES)), rng.randrange(self.size.tables)
            if self._allowed(u, p, t):
                continue
            name = self.table_name(t)
            out.append(Change("grant", f"u{u}", PRIVILEGES[p], name,
                              f"grant {PRIVILEGES[p]} on table {name} to r{r}",
                              f"revoke {PRIVILEGES[p]} on table {name} from r{r}", True,
                              ("grant_table", (f"r{r}", PRIVILEGES[p], name))))
        return out

    def revoke_changes(self, n: int, seed: int = 42) -> list[Change]:
        """REVOKE one of a user's secondary (non-default) roles so that an allowed check
        turns negative (engines.md "revoke": delete one user_role(u, r)). The default role
        is never revoked: it is the session's current role, which MatrixOne keeps for the
        session's lifetime."""
        rng = random.Random(seed)
        users = [u for u in range(self.size.users) if len(self.user_roles[u]) > 1]
        out: list[Change] = []
        tries = 0
        while len(out) < n and tries < 100 * n:
            tries += 1
            u = rng.choice(users)
            r = rng.choice(self.user_roles[u][1:])
            rest = self.user_closure(u, [x for x in self.user_roles[u] if x != r])
            only = sorted(self.closure[r] - rest)
            if not only:
                continue
            p, t = self._positive_for_role(rng, rng.choice(only))
            if self._allowed(u, p, t, rest):
                continue
            out.append(Change("revoke", f"u{u}", PRIVILEGES[p], self.table_name(t),
                              f"revoke r{r} from u{u}", f"grant r{r} to u{u}", False,
                              ("user_role", (f"u{u}", f"r{r}"))))
        return out

    # statistics -----------------------------------------------------------------------

    def depth(self) -> int:
        """Roles on the longest inheritance chain."""
        longest = [1] * self.size.roles
        for r in sorted(range(self.size.roles), key=lambda x: self.level[x]):
            for a in self.parents[r]:
                longest[r] = max(longest[r], longest[a] + 1)
        return max(longest, default=0)

    def edb(self) -> dict[str, list[tuple[str, ...]]]:
        """The engines.md EDB: user_role, inherits, grant_table, grant_db, table_db,
        owns, priv (names as strings, tables as "db.t")."""
        p = PRIVILEGES
        return {
            "user_role": [(f"u{u}", f"r{r}") for u, rs in enumerate(self.user_roles)
                          for r in rs],
            "inherits": [(f"r{r}", f"r{a}") for r, ps in enumerate(self.parents) for a in ps],
            "grant_table": [(f"r{r}", p[x], self.table_name(t))
                            for r, g in enumerate(self.table_grants) for x, t in sorted(g)],
            "grant_db": [(f"r{r}", p[x], f"d{d}")
                         for r, g in enumerate(self.db_grants) for x, d in sorted(g)],
            "table_db": [(self.table_name(t), f"d{self.db_of(t)}")
                         for t in range(self.size.tables)],
            "owns": [(f"r{self.owner[t]}", self.table_name(t)) for t in range(self.size.tables)],
            "priv": [(x,) for x in p],
        }

    def stats(self, with_can: bool = True) -> dict[str, float]:
        """engines.md's table: EDB facts, depth, roles per user, has_role and can/3 sizes
        (can/3 is counted from the reference closure without storing it)."""
        edb = self.edb()
        closures = [self.user_closure(u) for u in range(self.size.users)]
        has_role = sum(len(c) for c in closures)
        out: dict[str, float] = {
            "users": self.size.users, "roles": self.size.roles, "tables": self.size.tables,
            "databases": self.databases, "levels": self.size.levels, "depth": self.depth(),
            "edb_facts": sum(len(v) for v in edb.values()),
            "roles_per_user": has_role / self.size.users, "has_role": has_role,
            "grants": sum(len(g) for g in self.table_grants) + sum(len(g) for g in
                                                                   self.db_grants),
            "db_grants": sum(len(g) for g in self.db_grants),
            "role_edges": sum(len(p) for p in self.parents),
        }
        if with_can:
            k = len(PRIVILEGES)
            privs: list[frozenset[int]] = []
            for r in range(self.size.roles):
                s = {t * k + p for p, t in self.table_grants[r]}
                for p, d in self.db_grants[r]:
                    first = d * TABLES_PER_DB
                    s.update(t * k + p for t in range(first, min(first + TABLES_PER_DB,
                                                                 self.size.tables)))
                s.update(t * k + p for t in self.owned[r] for p in range(k))
                privs.append(frozenset(s))
            out["can"] = sum(len(set().union(*(privs[r] for r in c))) for c in closures)
        return out

    # the script -----------------------------------------------------------------------

    def statements(self) -> Iterator[str]:
        """The script, one statement (or directive) a line, in the order a DBA would run
        it: roles, the role hierarchy, databases and tables with their owners, grants,
        users and their roles."""
        yield f"create account {ACCOUNT} admin_name '{ADMIN}' identified by '1';"
        yield f"-- connect {ACCOUNT}:{ADMIN}"
        names = [f"r{r}" for r in range(self.size.roles)]
        for i in range(0, len(names), 100):
            yield f"create role {', '.join(names[i:i + 100])};"
        # the hierarchy, built from the bottom up: "grant a to r1, r2" for every role a
        # that others inherit, lower levels first
        heirs: dict[int, list[int]] = {}
        for r, ps in enumerate(self.parents):
            for a in ps:
                heirs.setdefault(a, []).append(r)
        for a in sorted(heirs, key=lambda x: (self.level[x], x)):
            yield f"grant r{a} to {', '.join(f'r{r}' for r in sorted(heirs[a]))};"
        for d in range(self.databases):
            yield f"create database d{d};"
            first = d * TABLES_PER_DB
            tables = range(first, min(first + TABLES_PER_DB, self.size.tables))
            for t in tables:
                yield f"create table d{d}.t{t} (id bigint primary key, name varchar(64));"
            for t in tables:
                yield f"grant ownership on table d{d}.t{t} to r{self.owner[t]};"
        for r in range(self.size.roles):
            for p, d in sorted(self.db_grants[r]):
                yield f"grant {PRIVILEGES[p]} on table d{d}.* to r{r};"
            for p, t in sorted(self.table_grants[r]):
                yield f"grant {PRIVILEGES[p]} on table {self.table_name(t)} to r{r};"
        by_default: dict[int, list[int]] = {}
        for u, rs in enumerate(self.user_roles):
            by_default.setdefault(rs[0], []).append(u)
        for r in sorted(by_default):
            users = by_default[r]
            for i in range(0, len(users), 50):
                specs = ", ".join(f"u{u} identified by '1'" for u in users[i:i + 50])
                yield f"create user {specs} default role r{r};"
        secondary: dict[int, list[int]] = {}
        for u, rs in enumerate(self.user_roles):
            for r in rs[1:]:
                secondary.setdefault(r, []).append(u)
        for r in sorted(secondary):
            users = secondary[r]
            for i in range(0, len(users), 100):
                yield f"grant r{r} to {', '.join(f'u{u}' for u in users[i:i + 100])};"

    def script(self) -> str:
        return "\n".join(self.statements()) + "\n"


def generate(size: str | Size = "small", seed: int = 42) -> Policy:
    """A policy of the given size (``small``, ``medium``, ``large``, ``x4``)."""
    sz = SIZES[size] if isinstance(size, str) else size
    rng = random.Random(seed)
    # levels: about roles / L roles a level, in a shuffled order of role numbers
    level = [r * sz.levels // sz.roles for r in range(sz.roles)]
    rng.shuffle(level)
    by_level: list[list[int]] = [[] for _ in range(sz.levels)]
    for r, lv in enumerate(level):
        by_level[lv].append(r)
    parents: list[list[int]] = []
    for r in range(sz.roles):
        lv = level[r]
        chosen: list[int] = []
        if lv > 0:
            for _ in range(rng.randint(0, 3)):
                if lv == 1 or rng.random() < 0.7:
                    pool = by_level[lv - 1]
                else:
                    pool = by_level[rng.randrange(lv - 1)]
                a = rng.choice(pool)
                if a not in chosen:
                    chosen.append(a)
        parents.append(chosen)
    user_roles = [rng.sample(range(sz.roles), rng.randint(1, 3)) for _ in range(sz.users)]
    databases = (sz.tables + TABLES_PER_DB - 1) // TABLES_PER_DB
    table_grants: list[set[tuple[int, int]]] = []
    db_grants: list[set[tuple[int, int]]] = []
    for _ in range(sz.roles):
        tg: set[tuple[int, int]] = set()
        dg: set[tuple[int, int]] = set()
        for _ in range(rng.randint(1, 10)):
            p = rng.randrange(len(PRIVILEGES))
            if rng.random() < 0.15:
                dg.add((p, rng.randrange(databases)))
            else:
                tg.add((p, rng.randrange(sz.tables)))
        table_grants.append(tg)
        db_grants.append(dg)
    owner = [rng.randrange(sz.roles) for _ in range(sz.tables)]
    policy = Policy(sz, seed, level, parents, user_roles, table_grants, db_grants, owner)
    policy.owned = [[] for _ in range(sz.roles)]
    for t, r in enumerate(owner):
        policy.owned[r].append(t)
    closure: list[frozenset[int]] = [frozenset()] * sz.roles
    for r in sorted(range(sz.roles), key=lambda x: level[x]):
        acc = {r}
        for a in parents[r]:
            acc |= closure[a]
        closure[r] = frozenset(acc)
    policy.closure = closure
    return policy


def sample_checks(n: int, seed: int = 42, *, size: str = "small",
                  policy_seed: int = 42) -> list[tuple[str, str, str]]:
    """``n`` (user, privilege, "db.t") checks of the ``size`` policy, about half allowed;
    ``generate(size, policy_seed).allowed(*check)`` is the expected answer."""
    return generate(size, policy_seed).sample_checks(n, seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("-o", "--output", help="write the script here (default: stdout)")
    ap.add_argument("--stats", action="store_true",
                    help="print the policy's statistics (engines.md's table) to stderr")
    args = ap.parse_args(argv)
    policy = generate(args.size, args.seed)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            for line in policy.statements():
                f.write(line + "\n")
    else:
        for line in policy.statements():
            sys.stdout.write(line + "\n")
    if args.stats:
        for k, v in policy.stats().items():
            print(f"{k}: {v:,.1f}" if isinstance(v, float) else f"{k}: {v:,}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
