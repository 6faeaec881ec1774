-- A MaxCompute tenant: bob owns prj_a, where the customer data lives. Its mobile column
-- is sensitive (LabelSecurity, label 2) and prj_a is protected (ProjectProtection): its
-- data may only flow to its trusted project prj_report. alice, an analyst, is a member
-- of prj_a at the default access level 0, and runs jobs in prj_report and in prj_dev.
-- Run it:  reasoner run --dialect maxcompute examples/maxcompute_scenario.sql

-- project prj_a owner ALIYUN$bob@aliyun.com
-- project prj_report owner ALIYUN$rita@aliyun.com
-- project prj_dev owner ALIYUN$dan@aliyun.com

-- connect prj_a ALIYUN$bob@aliyun.com
create table customers (id bigint, name string, mobile string);
add user ALIYUN$alice@aliyun.com;
grant CreateInstance on project prj_a to user ALIYUN$alice@aliyun.com;
grant Select on table customers to user ALIYUN$alice@aliyun.com;
set LabelSecurity=true;
set label 2 to table customers(mobile);
set ProjectProtection=true;
add trustedproject prj_report;

-- connect prj_report ALIYUN$rita@aliyun.com
add user ALIYUN$alice@aliyun.com;
grant CreateInstance, CreateTable on project prj_report to user ALIYUN$alice@aliyun.com;

-- connect prj_dev ALIYUN$dan@aliyun.com
add user ALIYUN$alice@aliyun.com;
grant CreateInstance, CreateTable on project prj_dev to user ALIYUN$alice@aliyun.com;

-- connect prj_a ALIYUN$alice@aliyun.com
select id, name from customers;
-- denied: mobile is labelled 2, alice's access level is 0
select id, mobile from customers;

-- connect prj_report ALIYUN$alice@aliyun.com
-- prj_report is trusted by prj_a: the data may flow here
create table report as select id, name from prj_a.customers;

-- connect prj_dev ALIYUN$alice@aliyun.com
-- denied: prj_a is protected and does not trust prj_dev
create table dev_copy as select id, name from prj_a.customers;
