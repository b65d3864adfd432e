"""Links carry their entry's time and whether the entry names the patient itself.

A search of one patient's log then reads their linked entries newest first from one partial index
(AuditEntryPatient says why). Existing links are filled from their entries: on PostgreSQL the
append-only trigger is set aside for this one statement of the migration, which adds columns
and changes no entry.
"""

from django.db import migrations, models

LINKS = "audit_auditentrypatient"
ENTRIES = "audit_auditentry"


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {LINKS} DISABLE TRIGGER {LINKS}_append_only")
        schema_editor.execute(
            f"UPDATE {LINKS} AS l SET at = e.at, on_entry = COALESCE(e.patient_id = l.patient_id, FALSE) "
            f"FROM {ENTRIES} AS e WHERE e.id = l.entry_id"
        )
        schema_editor.execute(f"ALTER TABLE {LINKS} ENABLE TRIGGER {LINKS}_append_only")
    else:
        schema_editor.execute(
            f"UPDATE {LINKS} SET at = (SELECT e.at FROM {ENTRIES} e WHERE e.id = {LINKS}.entry_id), "
            f"on_entry = COALESCE((SELECT e.patient_id = {LINKS}.patient_id FROM {ENTRIES} e "
            f"WHERE e.id = {LINKS}.entry_id), 0)"
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_leaner_indexes")]

    operations = [
        migrations.AddField(
            model_name="auditentrypatient",
            name="at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="auditentrypatient",
            name="on_entry",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditentrypatient",
            name="at",
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name="auditentrypatient",
            name="patient_id",
            field=models.BigIntegerField(),
        ),
        migrations.AddIndex(
            model_name="auditentrypatient",
            index=models.Index(
                condition=models.Q(("on_entry", False)),
                fields=["patient_id", "at", "entry"],
                name="audit_link_patient_at",
            ),
        ),
    ]
