"""Journal lines name their entry without a per-row foreign key check; the ledger's
commit-time check does it once per entry instead (PostgreSQL).

The deferred balance check (0002, 0005) already visits every entry a transaction inserted
or added lines to; it now also refuses an entry id that names no entry. Entries are never
deleted (the immutability trigger), so what holds at commit holds after.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

CHECK_SQL = """
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
            IF NOT EXISTS (SELECT 1 FROM servicing_journalentry e WHERE e.id = eid) THEN
                RAISE EXCEPTION 'journal lines name entry %, which does not exist', eid
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
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
        SELECT t.entry_id INTO bad
          FROM (SELECT DISTINCT entry_id FROM servicing_journal_touched) t
         WHERE NOT EXISTS (SELECT 1 FROM servicing_journalentry e WHERE e.id = t.entry_id)
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'journal lines name entry %, which does not exist', bad.entry_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
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


def check_per_entry(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CHECK_SQL, params=None)


def check_as_before(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        previous = importlib.import_module("servicing.migrations.0005_cheaper_ledger_check")
        schema_editor.execute(previous.CHEAP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("servicing", "0006_cob_lean_writes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="journalline",
            name="entry",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lines",
                to="servicing.journalentry",
            ),
        ),
        migrations.RunPython(check_per_entry, check_as_before),
    ]
