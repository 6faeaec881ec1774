"""A picture of one MatrixOne account's roles: who holds which role, which role inherits
which, who owns what, and for one object the grants that reach it.

Built from the catalogue (read only) and the rule base's own answers (``reached_by``,
``role_reach``, ``effective``, ``owner``), so the picture shows what the reasoner judges
by, profile included. A few hundred roles do not fit one readable picture, so it can be
narrowed to a question: ``focus="table db1.t1"`` keeps the roles that reach a privilege
on that object and the users holding them; ``user="joe"`` keeps joe's roles and what
they reach. Every label is user text: it goes through ``graphviz.escape`` (``nohtml``
plus doubled backslashes) with ``&`` spelled ``&amp;``, node names are generated, so a
role called ``<script>``, ``"];``, ``x\\`` or ``&lt;`` is drawn as written.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import graphviz

from reasoner.datalog.ast import Atom, Const, Var

FONT = "Helvetica"
USER = {"shape": "ellipse", "style": "filled", "fillcolor": "#dbe9f6", "fontname": FONT}
ROLE = {"shape": "box", "style": "rounded,filled", "fillcolor": "#fff4c2", "fontname": FONT}
ADMIN = {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#f9d9a8",
         "fontname": FONT}
PUBLIC = {"shape": "box", "style": "rounded,dashed", "color": "#888888",
          "fontcolor": "#555555", "fontname": FONT}
DATABASE = {"shape": "cylinder", "style": "filled", "fillcolor": "#e6e6e6", "fontname": FONT}
TABLE = {"shape": "tab", "style": "filled", "fillcolor": "#f3f3f3", "fontname": FONT}
SCOPE = {"shape": "folder", "style": "filled", "fillcolor": "#ececec", "fontname": FONT}
FOCUS = {"style": "filled,bold", "fillcolor": "#f6caca", "color": "#b03030", "penwidth": "2"}

HOLDS = {"color": "#666666"}
HOLDS_WGO = {"color": "#1f7a1f", "penwidth": "1.8", "arrowhead": "diamond"}
INHERITS = {"color": "#3060a0"}
INHERITS_WGO = {"color": "#1f7a1f", "penwidth": "1.8", "arrowhead": "diamond"}
OWNS = {"style": "dashed", "color": "#8a5a00", "fontcolor": "#8a5a00", "fontsize": "10",
        "fontname": FONT}
GRANT = {"color": "#b03030", "fontcolor": "#b03030", "fontsize": "10", "fontname": FONT}

LEGEND = ("user -> role: granted to the user;  role -> role: the left one inherits the right one\n"
          "green with a diamond: WITH GRANT OPTION;  dashed: owner;  red: privileges granted")
KINDS = ("account", "database", "table", "view")


def _text(*lines: str) -> str:
    """A label from user-written text: literal, never HTML, never a DOT escape, never
    an entity (graphviz reads ``&amp;`` in any label as ``&``)."""
    return graphviz.escape("\n".join(line for line in lines if line).replace("&", "&amp;"))


def _privileges(names: set[str], limit: int = 3) -> str:
    """Privilege names, ALL and OWNERSHIP first, at most ``limit`` then a count."""
    ordered = sorted(names, key=lambda p: (not p.endswith((" all", " ownership")), p))
    shown = ordered[:limit]
    if len(ordered) > limit:
        shown.append(f"+{len(ordered) - limit} more")
    return ", ".join(shown)


def _edge_label(items: set[tuple[str, str]], owner: bool) -> str:
    """``owns`` and/or the privileges, one line per scope they were granted at; an owner's
    own OWNERSHIP row is the ownership itself, so it is not repeated."""
    by_scope: dict[str, set[str]] = defaultdict(set)
    for scope, privilege in items:
        if not (owner and privilege.endswith(" ownership")):
            by_scope[scope].add(privilege)
    lines = ["owns"] if owner else []
    for scope in sorted(by_scope):
        lines.append(_privileges(by_scope[scope]) + (f" on {scope}" if scope else ""))
    return "\n".join(lines)


@dataclass
class _Picture:
    """The kept part of the account, then drawn."""

    users: set[str] = field(default_factory=set)  # user ids
    roles: set[str] = field(default_factory=set)  # role ids
    # (role id, target key) -> {(scope shown, privilege)}
    grants: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=dict)
    targets: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    owners: set[tuple[str, str]] = field(default_factory=set)  # role id, object id
    focus: str | None = None  # target key of the focused object


def _engine(source: Any) -> Any:
    engine = getattr(source, "engine", source)
    catalogue = getattr(engine, "catalogue", None)
    if catalogue is None or not hasattr(catalogue, "accounts"):
        raise ValueError("the role graph draws MatrixOne accounts; this reasoner has none")
    return engine


def _resolve(acc: Any, on: str) -> tuple[str, str, str, Any]:
    """(kind, object id, shown name, database record or None) of ``"table db1.t1"``."""
    kind, _, name = on.strip().partition(" ")
    kind, name = kind.lower(), name.strip()
    if kind not in KINDS:
        raise ValueError(f"focus on one of {', '.join(KINDS)}: 'table db1.t1', got {on!r}")
    if kind == "account":
        return kind, acc.id, f"account {acc.name}", None
    if kind == "database":
        db = acc.databases.get(name) or acc.databases.get(name.lower())
        if db is None:
            raise ValueError(f"there is no database {name} in account {acc.name}")
        return kind, db.id, f"database {db.name}", db
    db_name, dot, obj_name = name.partition(".")
    if not dot:
        raise ValueError(f"name the {kind} with its database: '{kind} db1.t1', got {on!r}")
    db = acc.databases.get(db_name) or acc.databases.get(db_name.lower())
    obj = db and (db.objects.get(obj_name) or db.objects.get(obj_name.lower()))
    if obj is None or obj.kind != kind:
        raise ValueError(f"there is no {kind} {name} in account {acc.name}")
    return kind, obj.id, f"{kind} {db.name}.{obj.name}", db


def role_graph(source: Any, account: str = "sys", *, focus: str | None = None,
               user: str | None = None, privilege: str | None = None,
               show_owners: bool = True, max_objects: int = 60) -> graphviz.Digraph:
    """Draw ``account``'s users, roles, inheritance, owners and (with ``focus``) the grants
    on one object. ``source`` is a Reasoner or its engine.

    ``focus="table db1.t1"`` keeps the roles that reach a privilege on it (``privilege``
    narrows to one) and the users holding them; ``user="joe"`` keeps joe, joe's roles and
    what they reach. Both together keep joe's roles that reach the object. Objects beyond
    ``max_objects`` are summed up per database so a big account stays legible.
    """
    engine = _engine(source)
    catalogue = engine.catalogue
    backend = engine.backend
    acc = catalogue.account(account.lower()) or catalogue.account(account)
    if acc is None:
        raise ValueError(f"there is no account {account}")
    roles = {r.id: r for r in acc.roles.values()}
    users = {u.id: u for u in acc.users.values()}
    admin = acc.roles.get(acc.admin_role_name)
    public = acc.roles.get("public")
    user_grants = {k: w for k, w in catalogue.user_grants.items()
                   if k[0] in users and k[1] in roles}
    role_grants = {k: w for k, w in catalogue.role_grants.items()
                   if k[0] in roles and k[1] in roles}

    pic = _Picture(users=set(users), roles=set(roles))
    notes: list[str] = []
    focused: tuple[str, str, str, Any] | None = None
    holders: set[str] = set()
    if focus is not None:
        focused = _resolve(acc, focus)
        kind, oid, _, _ = focused
        p: Var | Const = Const(privilege.lower()) if privilege else Var("P")
        found = backend.solve((Atom("effective", (Var("R"), p, Const(kind), Const(oid))),
                               Atom("reached_by", (Var("R"), Var("Root")))))
        holders = {str(b["R"]) for b in found} & set(roles)
        pic.roles = {str(b["Root"]) for b in found} & set(roles)
        pic.users = {u for (u, r) in user_grants if r in pic.roles}
    if user is not None:
        rec = acc.users.get(user) or acc.users.get(user.lower())
        if rec is None:
            raise ValueError(f"there is no user {user} in account {acc.name}")
        roots = {r for (u, r) in user_grants if u == rec.id}
        reach: set[str] = set()
        for root in roots:
            reach |= {str(b["R"]) for b in backend.solve(
                (Atom("role_reach", (Const(root), Var("R"))),))}
        pic.roles = (pic.roles & reach) if focus is not None else (reach & set(roles))
        pic.users = {rec.id}

    # what the kept roles reach --------------------------------------------------------
    if focused is not None:
        _focus_grants(pic, acc, catalogue, focused, holders)
    elif user is not None:
        _all_grants(pic, acc, catalogue)
    if show_owners:
        _owners(pic, acc, backend, focused)
    _fold(pic, max_objects, notes)

    # drawing --------------------------------------------------------------------------
    title = f"roles of account {acc.name}"
    if focus is not None:
        title += f" that reach {privilege + ' on ' if privilege else ''}{focused[2]}"  # type: ignore[index]
    if user is not None:
        title += f" held by {user}"
    graph = graphviz.Digraph("roles", graph_attr={
        "rankdir": "LR", "label": _text(title, LEGEND), "labelloc": "t", "fontname": FONT,
        "fontsize": "12", "nodesep": "0.15", "ranksep": "0.9", "newrank": "true"},
        node_attr={"fontsize": "11"}, edge_attr={"arrowsize": "0.7"})
    ids: dict[str, str] = {}

    def node_id(key: str) -> str:
        if key not in ids:
            ids[key] = f"n{len(ids)}"
        return ids[key]

    skip_public = public is not None and user is None
    drawn_users = sorted(pic.users, key=lambda u: users[u].name)
    with graph.subgraph(name="cluster_users") as sub:
        sub.attr(label=_text(f"users ({len(drawn_users)})"), style="rounded",
                 color="#9fb7d6", fontname=FONT)
        for uid in drawn_users:
            rec = users[uid]
            sub.node(node_id(uid), _text(rec.name, f"default role: {rec.default_role}"),
                     **USER)
    kept_roles = set(pic.roles)
    if skip_public and public is not None and public.id in kept_roles:
        linked = any(public.id in k for k in role_grants) or any(
            r == public.id for r, _ in pic.grants) or (
            focused is not None and public.id in holders)
        if not linked:
            kept_roles.discard(public.id)
    with graph.subgraph(name="cluster_roles") as sub:
        sub.attr(label=_text(f"roles ({len(kept_roles)})"), style="rounded",
                 color="#d6c27a", fontname=FONT)
        for rid in sorted(kept_roles, key=lambda r: roles[r].name):
            style = ADMIN if admin is not None and rid == admin.id else (
                PUBLIC if public is not None and rid == public.id else ROLE)
            if focused is not None and rid in holders:
                style = {**style, "penwidth": "2"}
            sub.node(node_id(rid), _text(roles[rid].name), **style)
    _draw_targets(graph, pic, node_id)
    inherits = [(grantee, granted) for (granted, grantee) in role_grants
                if granted in kept_roles and grantee in kept_roles]
    _columns(graph, [node_id(u) for u in drawn_users],
             {node_id(r): d for r, d in _depths(kept_roles, inherits).items()},
             [node_id(t) for t in pic.targets])

    for (uid, rid), wgo in sorted(user_grants.items()):
        if uid not in pic.users or rid not in kept_roles:
            continue
        if skip_public and public is not None and rid == public.id:
            continue
        graph.edge(node_id(uid), node_id(rid), **(HOLDS_WGO if wgo else HOLDS))
    for (granted, grantee), wgo in sorted(role_grants.items()):
        if granted in kept_roles and grantee in kept_roles:
            graph.edge(node_id(grantee), node_id(granted),
                       **(INHERITS_WGO if wgo else INHERITS))
    for rid, target in sorted(set(pic.grants) | pic.owners):
        if rid not in kept_roles or target not in pic.targets:
            continue
        owner = (rid, target) in pic.owners
        label = _edge_label(pic.grants.get((rid, target), set()), owner)
        graph.edge(node_id(rid), node_id(target), **{**(OWNS if owner else GRANT),
                                                     "label": _text(label)})
    if skip_public:
        notes.append("every user also holds public (those edges are not drawn)")
    if not pic.users and not kept_roles:
        notes.append("nothing matches")
    if focus is None and user is None and len(kept_roles) > 60:
        notes.append(f"{len(kept_roles)} roles: narrow the picture with "
                     "focus='table db.t' or user='name'")
    if notes:
        graph.attr(label=_text(title, LEGEND, *notes))
    return graph


def _target(pic: _Picture, key: str, label: str, style: dict[str, str],
            group: str = "") -> str:
    if key not in pic.targets:
        pic.targets[key] = (label, {**style, "_group": group})
    return key


def _scope_target(pic: _Picture, acc: Any, kind: str, scope: str, obj: str,
                  db_names: dict[str, str], catalogue: Any) -> str | None:
    """The node a privilege row points at: one object, ``db1.*`` or ``*.*`` / ``*``."""
    if scope == "all":
        if kind == "account":
            return _target(pic, f"acct:{obj}", f"account {acc.name} (*)", SCOPE)
        if kind == "database":
            return _target(pic, f"alldb:{obj}", "every database (*)", SCOPE)
        return _target(pic, f"all:{kind}:{obj}", f"every {kind} (*.*)", SCOPE)
    if scope == "db":
        name = db_names.get(obj)
        if name is None:
            return None
        return _target(pic, f"db*:{kind}:{obj}", f"every {kind} in {name} ({name}.*)",
                       SCOPE, group=obj)
    described = catalogue.describe(obj)
    if described is None:
        return None  # a row left by a dropped object
    dkind, name = described
    if dkind == "database":
        return _target(pic, obj, f"database {name}", DATABASE, group=obj)
    db_id = next((d.id for d in acc.databases.values() if obj in
                  {o.id for o in d.objects.values()}), "")
    return _target(pic, obj, f"{dkind} {name}", TABLE, group=db_id)


def _focus_grants(pic: _Picture, acc: Any, catalogue: Any,
                  focused: tuple[str, str, str, Any], holders: set[str]) -> None:
    """The rows that give the focused object's privileges: on it, on its database's
    ``*``, on ``*.*``; roles that hold it otherwise (a derived rule) get a plain edge."""
    kind, oid, shown, db = focused
    style = {**(DATABASE if kind == "database" else TABLE if kind in ("table", "view")
                else SCOPE), **FOCUS}
    pic.focus = _target(pic, oid, shown, style, group=db.id if kind != "database" and db
                        else oid)
    covering = {("one", oid)}
    if kind in ("table", "view") and db is not None:
        covering |= {("db", db.id), ("all", acc.id)}
    elif kind in ("database", "account"):
        covering.add(("all", acc.id))
    everything = "*.*" if kind in ("table", "view") else "*"
    scopes = {"one": "", "db": f"{db.name if db else ''}.*", "all": everything}
    for (rid, priv, rkind, scope, obj), _row in catalogue.priv_rows.items():
        if rid not in holders or rkind != kind or (scope, obj) not in covering:
            continue
        pic.grants.setdefault((rid, pic.focus), set()).add((scopes[scope], priv))
    for rid in holders:
        pic.grants.setdefault((rid, pic.focus), {("", "(derived by the rules)")})


def _all_grants(pic: _Picture, acc: Any, catalogue: Any) -> None:
    """Every privilege row of the kept roles, pointing at what it was granted on."""
    db_names = {d.id: d.name for d in acc.databases.values()}
    for (rid, priv, kind, scope, obj), _row in catalogue.priv_rows.items():
        if rid not in pic.roles:
            continue
        target = _scope_target(pic, acc, kind, scope, obj, db_names, catalogue)
        if target is not None:
            pic.grants.setdefault((rid, target), set()).add(("", priv))


def _owners(pic: _Picture, acc: Any, backend: Any,
            focused: tuple[str, str, str, Any] | None) -> None:
    """Owner edges (the rules' ``owner``): of the focused object, or of every user
    database and table whose owner is kept."""
    databases = {d.id: d for d in acc.databases.values() if not d.system}
    objects = {o.id: (d, o) for d in databases.values() for o in d.objects.values()}
    if focused is not None:
        wanted = {focused[1]}
    else:
        wanted = set(databases) | set(objects)
    for binding in backend.solve((Atom("owner", (Var("O"), Var("R"))),)):
        oid, rid = str(binding["O"]), str(binding["R"])
        if oid not in wanted or rid not in pic.roles:
            continue
        if oid in databases:
            key = _target(pic, oid, f"database {databases[oid].name}", DATABASE, group=oid)
        elif oid in objects:
            d, o = objects[oid]
            key = _target(pic, oid, f"{o.kind} {d.name}.{o.name}", TABLE, group=d.id)
        else:
            continue
        if focused is not None:
            key = pic.focus or key
        pic.owners.add((rid, key))


def _fold(pic: _Picture, max_objects: int, notes: list[str]) -> None:
    """Past ``max_objects``, replace each database's tables by one node per database."""
    tables = [k for k, (_, style) in pic.targets.items()
              if style.get("shape") == TABLE["shape"] and k != pic.focus]
    if len(pic.targets) <= max_objects or not tables:
        return
    by_db: dict[str, list[str]] = defaultdict(list)
    for key in tables:
        by_db[pic.targets[key][1].get("_group", "")].append(key)
    for group, keys in by_db.items():
        summary = f"tables:{group}"
        label = f"{len(keys)} tables"
        pic.targets[summary] = (label, {**TABLE, "_group": group, "_count": str(len(keys))})
        for key in keys:
            del pic.targets[key]
        for (rid, target) in [g for g in pic.grants if g[1] in keys]:
            privs = pic.grants.pop((rid, target))
            pic.grants.setdefault((rid, summary), set()).update(privs)
        for rid, target in [o for o in pic.owners if o[1] in keys]:
            pic.owners.discard((rid, target))
            pic.owners.add((rid, summary))
    notes.append(f"{len(tables)} tables are summed up per database (more than "
                 f"{max_objects} objects); focus on one to see it")


def _draw_targets(graph: graphviz.Digraph, pic: _Picture, node_id: Any) -> None:
    """Objects in one cluster, each database's objects in a sub-cluster of their own."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key, (_, style) in pic.targets.items():
        groups[style.get("_group", "")].append(key)
    with graph.subgraph(name="cluster_objects") as sub:
        sub.attr(label=_text(f"objects ({len(pic.targets)})"), style="rounded",
                 color="#aaaaaa", fontname=FONT)
        for number, (group, keys) in enumerate(sorted(groups.items())):
            target = sub
            if group and len(keys) > 1:
                inner = graphviz.Digraph(name=f"cluster_db{number}")
                inner.attr(label="", style="dotted", color="#bbbbbb")
                target = inner
            for key in sorted(keys, key=lambda k: pic.targets[k][0]):
                label, style = pic.targets[key]
                attrs = {k: v for k, v in style.items() if not k.startswith("_")}
                target.node(node_id(key), _text(label), **attrs)
            if target is not sub:
                sub.subgraph(target)


def _depths(roles: set[str], inherits: list[tuple[str, str]]) -> dict[str, int]:
    """Column of each role: 1 + the longest chain of roles inheriting it (heirs first)."""
    heirs: dict[str, list[str]] = defaultdict(list)
    for grantee, granted in inherits:
        heirs[granted].append(grantee)
    depth: dict[str, int] = {}

    def of(role: str, seen: frozenset[str]) -> int:
        if role not in depth:
            above = [of(h, seen | {role}) for h in heirs[role] if h not in seen]
            depth[role] = 1 + max(above, default=0)
        return depth[role]

    for role in roles:
        of(role, frozenset())
    return depth


def _columns(graph: graphviz.Digraph, users: list[str], roles: dict[str, int],
             objects: list[str]) -> None:
    """Users in the first column, roles by inheritance depth, objects in the last: an
    invisible spine of one node per column holds the columns in order (``newrank`` lets
    ``rank=same`` reach into the clusters)."""
    last = max(roles.values(), default=0) + 1
    columns: dict[int, list[str]] = defaultdict(list)
    columns[0] = list(users)
    for node, depth in roles.items():
        columns[depth].append(node)
    columns[last].extend(objects)
    spine = [f"c{i}" for i in range(last + 1)]
    for name in spine:
        graph.node(name, "", style="invis", width="0", height="0", fixedsize="true")
    for a, b in zip(spine, spine[1:], strict=False):
        graph.edge(a, b, style="invis")
    for i, name in enumerate(spine):
        if columns[i]:
            graph.body.append("\t{rank=same; " + "; ".join([name, *columns[i]]) + "}\n")
