"""On PostgreSQL, refuse UPDATE and DELETE on the accounting of disclosures at the database, with
the audit log's trigger function (audit migration 0002): no code path can rewrite what was
disclosed. SQLite: the model and queryset refuse."""

from django.db import migrations

TABLE = "consents_disclosure"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION openiop_audit_append_only();"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};")


class Migration(migrations.Migration):
    dependencies = [
        ("consents", "0001_consents_and_disclosures"),
        ("audit", "0002_append_only_trigger"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
