"""The moved tables take billing's names (admissions_payer -> billing_payer, ...): a rename in
place, rows, keys and indexes kept, on SQLite and PostgreSQL alike. Other tables' foreign keys
follow the rename. The page cache triggers are installed again after every migrate, with the new
names (openiop.pagecache.triggers).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("admissions", "0003_payers_coverage_and_fees_moved_to_billing"),
        ("billing", "0001_move_payers_coverage_and_fees_from_admissions"),
    ]

    operations = [
        migrations.AlterModelTable(
            name="benefitsverification",
            table=None,
        ),
        migrations.AlterModelTable(
            name="costestimate",
            table=None,
        ),
        migrations.AlterModelTable(
            name="coverage",
            table=None,
        ),
        migrations.AlterModelTable(
            name="payer",
            table=None,
        ),
        migrations.AlterModelTable(
            name="povertyguidelineyear",
            table=None,
        ),
    ]
