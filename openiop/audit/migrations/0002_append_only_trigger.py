"""On PostgreSQL, refuse UPDATE and DELETE on audit tables at the database itself.

Even code that bypasses the model (raw SQL, a shell) cannot rewrite history. TRUNCATE is left to
the table owner (test flushes use it; the production app role should not own the tables). SQLite has no such
trigger here; the model and queryset refuse there.
"""

from django.db import migrations

TABLES = ("audit_auditentry", "audit_auditentrypatient")

FUNCTION = """
CREATE OR REPLACE FUNCTION openiop_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: %% refused on %%', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION openiop_audit_append_only();"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS openiop_audit_append_only();")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
