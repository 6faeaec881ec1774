-- The seed scenario (MatrixOne privilege management): Tom, the cluster administrator,
-- isolates two business lines in two accounts; Robert, the data administrator of
-- BusinessAccount, opens an account for the developer Joe with a role that holds
-- ALL ON DATABASE; Joe creates and reads tables.

-- connect sys:root
create account BusinessAccount admin_name 'robert' identified by 'r0bert';
create account ElseAccount admin_name 'else_admin' identified by 'e1se';

-- connect BusinessAccount:robert
create database business_db;
create user joe_g identified by 'j0e' default role appdeveloper_missing;
create role appdeveloper;
create user joe_g identified by 'j0e' default role appdeveloper;
grant all on database business_db to appdeveloper;
grant connect on account * to appdeveloper;

-- connect BusinessAccount:joe_g
use business_db;
create table orders (id int, amount decimal(10, 2));
insert into orders values (1, 9.99);
select * from orders;
create database scratch;

-- connect ElseAccount:else_admin
select * from business_db.orders;
