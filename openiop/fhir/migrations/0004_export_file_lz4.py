"""Export files compressed with lz4 on PostgreSQL (where the server has it): the bulk export
writes its NDJSON files into the database, and lz4 costs a fraction of the default pglz's time
for JSON that compresses as well. Other databases: nothing to do."""

from django.db import migrations


def lz4(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute(
                "ALTER TABLE fhir_bulkexportfile ALTER COLUMN ndjson SET COMPRESSION lz4"
            )


def pglz(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE fhir_bulkexportfile ALTER COLUMN ndjson SET COMPRESSION DEFAULT"
        )


class Migration(migrations.Migration):
    dependencies = [("fhir", "0003_bulk_export")]

    operations = [migrations.RunPython(lz4, pglz)]
