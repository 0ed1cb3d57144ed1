"""Close of business (COB): the nightly, set-based, partitioned close of one business date.

Modules: `config` (settings), `steps/` (the set-based steps, one module each, PostgreSQL SQL
and a portable ORM path), `close` (a loan range closed day by day), `runner` (runs,
partitions, Celery dispatch by task name, close), `catch_up` (a lagging loan brought up to
date before a write), `autopay` + `rails` (payment rail adapters), `crypto`
(the bank-account reference at rest), `notifications` (reminders and their senders).
"""
