"""Statement families beyond the conformance cases: routines, sequences, indexes, account
objects (spec §4.1-§4.3)."""

from __future__ import annotations

from reasoner import Reasoner

SETUP = """
create account acc1 admin_name 'admin' identified by '111';
-- connect acc1:admin
create database db1;
create table db1.t1 (a int);
create role viewer, indexer, dbowner;
grant create view on database db1 to viewer;
grant index on table db1.t1 to indexer;
grant all on database db1 to dbowner;
create user v identified by '1' default role viewer;
create user i identified by '1' default role indexer;
create user o identified by '1' default role dbowner;
"""


def world() -> Reasoner:
    r = Reasoner("matrixone")
    assert all(o.ok for o in r.load(SETUP))
    return r


def test_functions_and_procedures_need_create_view_sic() -> None:
    r = world()
    v = r.session("acc1:v")
    assert v.execute("use db1").error == "do not have privilege to execute the statement"
    assert v.execute("create function db1.f(a int) returns int language sql as 'select 1'").ok
    assert v.execute("call db1.p(1)").ok
    i = r.session("acc1:i")
    assert not i.execute("drop function db1.f").ok


def test_sequences_need_database_all_or_ownership() -> None:
    r = world()
    assert not r.session("acc1:v").execute("create sequence db1.s1").ok
    assert r.session("acc1:o").execute("create sequence db1.s1").ok


def test_indexes_need_index_on_the_table() -> None:
    r = world()
    assert r.session("acc1:i").execute("create index i1 on db1.t1 (a)").ok
    assert not r.session("acc1:v").execute("create index i1 on db1.t1 (a)").ok
    assert r.session("acc1:i").execute("create index i1 on db1.nope (a)").error == (
        "no such table db1.nope")


def test_snapshots_and_publications_need_account_all() -> None:
    r = world()
    assert not r.session("acc1:o").execute("create snapshot sp1 for account acc1").ok
    assert r.session("acc1:admin").execute("create snapshot sp1 for account acc1").ok
    assert not r.session("acc1:o").execute("show snapshots").ok
