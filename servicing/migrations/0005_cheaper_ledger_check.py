"""A cheaper ledger balance guarantee for small transactions (PostgreSQL only).

Same guarantee as 0002's LEDGER_SET_SQL: every journal entry a transaction inserts (or adds
lines to) has two or more lines and balances, checked by a deferred constraint trigger at
commit (or at SET CONSTRAINTS ... IMMEDIATE). What changes is how the touched entries and
the one-per-transaction marker are kept:

- A statement touching a few entries lists their ids in a transaction-local setting
  (`servicing.journal_touched`); only a big statement (close of business) or a long list
  spills to the session's temp table, created only when missing (`to_regclass`, no NOTICE
  per statement as `CREATE TEMP TABLE IF NOT EXISTS` sent).
- The marker row in servicing_journalcheck (what fires the deferred check once per
  transaction) is inserted once per transaction (a transaction-local setting remembers it)
  instead of `INSERT ... ON CONFLICT DO NOTHING` on every statement.

Settings set with `set_config(..., true)` roll back with a savepoint like the rows do, and
end with the transaction.
"""

from django.db import migrations

CHEAP_SQL = """
CREATE OR REPLACE FUNCTION servicing_journal_touched_note() RETURNS trigger AS $$
DECLARE
    n bigint;
    listed text;
    ids text;
BEGIN
    IF COALESCE(current_setting('servicing.journal_marked', true), '') = '' THEN
        INSERT INTO servicing_journalcheck (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
        PERFORM set_config('servicing.journal_marked', '1', true);
    END IF;
    SELECT count(*) INTO n FROM new_rows;
    listed := COALESCE(current_setting('servicing.journal_touched', true), '');
    IF n <= 32 AND length(listed) < 2000 THEN
        IF TG_TABLE_NAME = 'servicing_journalentry' THEN
            SELECT string_agg(id::text, ',') INTO ids FROM new_rows;
        ELSE
            SELECT string_agg(DISTINCT entry_id::text, ',') INTO ids FROM new_rows;
        END IF;
        -- (a payment's lines name the entry just listed: no need to list it twice)
        IF ids IS NOT NULL AND position(',' || ids || ',' IN ',' || listed || ',') = 0 THEN
            PERFORM set_config(
                'servicing.journal_touched',
                CASE WHEN listed = '' THEN ids ELSE listed || ',' || ids END,
                true);
        END IF;
        RETURN NULL;
    END IF;
    IF to_regclass('pg_temp.servicing_journal_touched') IS NULL THEN
        CREATE TEMP TABLE servicing_journal_touched (entry_id bigint NOT NULL)
            ON COMMIT DELETE ROWS;
    END IF;
    IF TG_TABLE_NAME = 'servicing_journalentry' THEN
        INSERT INTO servicing_journal_touched (entry_id) SELECT id FROM new_rows;
    ELSE
        INSERT INTO servicing_journal_touched (entry_id) SELECT DISTINCT entry_id FROM new_rows;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION servicing_journal_check_touched() RETURNS trigger AS $$
DECLARE
    bad record;
    eid bigint;
    n bigint;
    d numeric;
    c numeric;
    listed text := NULLIF(COALESCE(current_setting('servicing.journal_touched', true), ''), '');
BEGIN
    -- The listed entries: one indexed lookup each (a plan with no parameter to re-plan).
    IF listed IS NOT NULL THEN
        FOREACH eid IN ARRAY string_to_array(listed, ',')::bigint[] LOOP
            SELECT COUNT(*), COALESCE(SUM(l.debit), 0), COALESCE(SUM(l.credit), 0)
              INTO n, d, c
              FROM servicing_journalline l WHERE l.entry_id = eid;
            IF n < 2 OR d <> c THEN
                RAISE EXCEPTION 'journal entry % does not balance: % lines, debits %, credits %',
                    eid, n, d, c USING ERRCODE = 'check_violation';
            END IF;
        END LOOP;
        PERFORM set_config('servicing.journal_touched', '', true);
    END IF;
    -- The spilled ones (a big statement, close of business).
    IF to_regclass('pg_temp.servicing_journal_touched') IS NOT NULL THEN
        SELECT t.entry_id, s.n, s.d, s.c
          INTO bad
          FROM (SELECT DISTINCT entry_id FROM servicing_journal_touched) t
         CROSS JOIN LATERAL (
                SELECT COUNT(*) AS n, COALESCE(SUM(l.debit), 0) AS d,
                       COALESCE(SUM(l.credit), 0) AS c
                  FROM servicing_journalline l WHERE l.entry_id = t.entry_id) s
         WHERE s.n < 2 OR s.d <> s.c
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'journal entry % does not balance: % lines, debits %, credits %',
                bad.entry_id, bad.n, bad.d, bad.c USING ERRCODE = 'check_violation';
        END IF;
        DELETE FROM servicing_journal_touched;
    END IF;
    PERFORM set_config('servicing.journal_marked', '', true);
    DELETE FROM servicing_journalcheck WHERE txid = NEW.txid;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

# 0002's functions, as they were.
PREVIOUS_SQL = """
CREATE OR REPLACE FUNCTION servicing_journal_touched_note() RETURNS trigger AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS servicing_journal_touched (entry_id bigint NOT NULL)
        ON COMMIT DELETE ROWS;
    IF TG_TABLE_NAME = 'servicing_journalentry' THEN
        INSERT INTO servicing_journal_touched (entry_id) SELECT id FROM new_rows;
    ELSE
        INSERT INTO servicing_journal_touched (entry_id) SELECT DISTINCT entry_id FROM new_rows;
    END IF;
    INSERT INTO servicing_journalcheck (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION servicing_journal_check_touched() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    SELECT t.entry_id, s.n, s.d, s.c
      INTO bad
      FROM (SELECT DISTINCT entry_id FROM servicing_journal_touched) t
     CROSS JOIN LATERAL (
            SELECT COUNT(*) AS n, COALESCE(SUM(l.debit), 0) AS d, COALESCE(SUM(l.credit), 0) AS c
              FROM servicing_journalline l WHERE l.entry_id = t.entry_id) s
     WHERE s.n < 2 OR s.d <> s.c
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance: % lines, debits %, credits %',
            bad.entry_id, bad.n, bad.d, bad.c USING ERRCODE = 'check_violation';
    END IF;
    DELETE FROM servicing_journal_touched;
    DELETE FROM servicing_journalcheck WHERE txid = NEW.txid;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def cheap_check(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CHEAP_SQL, params=None)


def previous_check(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("servicing", "0004_drop_redundant_fk_indexes"),
    ]

    operations = [migrations.RunPython(cheap_check, previous_check)]
