"""Payers, coverages, benefits checks, the sliding fee configuration and cost estimates now belong
to billing (billing 0001 took them over): admissions forgets them in its state only. The tables
and their rows stay; billing 0002 renames them.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("admissions", "0002_public_inquiry_throttle_shared_by_workers"),
        ("billing", "0001_move_payers_coverage_and_fees_from_admissions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="costestimate",
                    name="inquiry",
                ),
                migrations.RemoveField(
                    model_name="costestimate",
                    name="prepared_by",
                ),
                migrations.RemoveField(
                    model_name="coverage",
                    name="inquiry",
                ),
                migrations.RemoveField(
                    model_name="coverage",
                    name="patient",
                ),
                migrations.RemoveField(
                    model_name="coverage",
                    name="payer",
                ),
                migrations.RemoveField(
                    model_name="payer",
                    name="organization",
                ),
                migrations.RemoveField(
                    model_name="povertyguidelineyear",
                    name="organization",
                ),
                migrations.DeleteModel(
                    name="BenefitsVerification",
                ),
                migrations.DeleteModel(
                    name="CostEstimate",
                ),
                migrations.DeleteModel(
                    name="Coverage",
                ),
                migrations.DeleteModel(
                    name="Payer",
                ),
                migrations.DeleteModel(
                    name="PovertyGuidelineYear",
                ),
            ],
        ),
    ]
