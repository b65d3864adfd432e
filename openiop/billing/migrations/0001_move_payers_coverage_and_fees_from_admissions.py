"""Payers, coverages, benefits checks, the sliding fee configuration and cost estimates move from
admissions to billing with their rows (issue 15).

State only: the models are created here over the tables admissions made (db_table names them);
admissions 0003 forgets them; 0002 then renames the tables to billing's names. Nothing is dropped
or copied. The content types move too, so admin history and permissions stay with their models.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ("payer", "coverage", "benefitsverification", "povertyguidelineyear", "costestimate")


def _move_content_types(apps, from_label: str, to_label: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label=from_label, model__in=MOVED).update(app_label=to_label)


def content_types_to_billing(apps, schema_editor):
    _move_content_types(apps, "admissions", "billing")


def content_types_to_admissions(apps, schema_editor):
    _move_content_types(apps, "billing", "admissions")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("admissions", "0002_public_inquiry_throttle_shared_by_workers"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("patients", "0002_mrn_upper_index"),
        ("programs", "0002_series_date_and_one_open_enrollment"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CostEstimate",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("guideline_year", models.PositiveIntegerField()),
                        ("household_size", models.PositiveIntegerField()),
                        ("annual_income", models.DecimalField(decimal_places=2, max_digits=12)),
                        ("percent_of_poverty", models.DecimalField(decimal_places=2, max_digits=8)),
                        ("share_percent", models.DecimalField(decimal_places=2, max_digits=5)),
                        ("planned_days", models.PositiveIntegerField()),
                        ("daily_rate", models.DecimalField(decimal_places=2, max_digits=8)),
                        ("total_amount", models.DecimalField(decimal_places=2, max_digits=12)),
                        ("patient_amount", models.DecimalField(decimal_places=2, max_digits=12)),
                        (
                            "installments",
                            models.JSONField(default=list, help_text="[[YYYY-MM-DD, amount], ...]"),
                        ),
                        (
                            "inquiry",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="estimates",
                                to="admissions.inquiry",
                            ),
                        ),
                        (
                            "prepared_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "admissions_costestimate",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Coverage",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "rank",
                            models.CharField(
                                choices=[("primary", "Primary"), ("secondary", "Secondary")],
                                max_length=10,
                            ),
                        ),
                        ("member_id", models.CharField(blank=True, max_length=60)),
                        ("group_number", models.CharField(blank=True, max_length=60)),
                        ("subscriber_name", models.CharField(blank=True, max_length=200)),
                        (
                            "subscriber_relationship",
                            models.CharField(
                                choices=[
                                    ("self", "Self"),
                                    ("spouse", "Spouse / partner"),
                                    ("child", "Child (subscriber is parent)"),
                                    ("other", "Other"),
                                ],
                                default="self",
                                max_length=10,
                            ),
                        ),
                        ("start_date", models.DateField(blank=True, null=True)),
                        ("end_date", models.DateField(blank=True, null=True)),
                        (
                            "inquiry",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="coverages",
                                to="admissions.inquiry",
                            ),
                        ),
                        (
                            "patient",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="coverages",
                                to="patients.patient",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "admissions_coverage",
                        "ordering": ["rank", "-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="BenefitsVerification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("in_network", models.BooleanField()),
                        ("iop_covered", models.BooleanField()),
                        (
                            "deductible_amount",
                            models.DecimalField(decimal_places=2, default=0, max_digits=10),
                        ),
                        (
                            "deductible_met_amount",
                            models.DecimalField(decimal_places=2, default=0, max_digits=10),
                        ),
                        (
                            "copay_per_day",
                            models.DecimalField(
                                blank=True, decimal_places=2, max_digits=8, null=True
                            ),
                        ),
                        (
                            "coinsurance_percent",
                            models.DecimalField(
                                blank=True, decimal_places=2, max_digits=5, null=True
                            ),
                        ),
                        ("prior_auth_required", models.BooleanField()),
                        ("days_allowed", models.PositiveIntegerField(blank=True, null=True)),
                        ("reference_number", models.CharField(max_length=60)),
                        (
                            "payer_contact",
                            models.CharField(
                                blank=True, help_text="Who at the payer", max_length=120
                            ),
                        ),
                        ("verified_at", models.DateTimeField()),
                        (
                            "verified_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "coverage",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="verifications",
                                to="billing.coverage",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "admissions_benefitsverification",
                        "ordering": ["-verified_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Payer",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("name", models.CharField(max_length=200)),
                        (
                            "payer_id",
                            models.CharField(blank=True, max_length=40, verbose_name="Payer ID"),
                        ),
                        (
                            "payer_type",
                            models.CharField(
                                choices=[
                                    ("commercial", "Commercial"),
                                    ("medicare", "Medicare"),
                                    ("medicaid", "Medicaid"),
                                    ("tribal_ihs", "Tribal / IHS"),
                                    ("self_pay", "Self-pay"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("is_active", models.BooleanField(default=True)),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="payers",
                                to="programs.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "admissions_payer",
                        "ordering": ["name"],
                    },
                ),
                migrations.AddField(
                    model_name="coverage",
                    name="payer",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="coverages",
                        to="billing.payer",
                    ),
                ),
                migrations.CreateModel(
                    name="PovertyGuidelineYear",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("year", models.PositiveIntegerField()),
                        (
                            "label",
                            models.CharField(default="48 contiguous states and DC", max_length=100),
                        ),
                        ("base_amount", models.DecimalField(decimal_places=2, max_digits=10)),
                        (
                            "per_additional_person",
                            models.DecimalField(decimal_places=2, max_digits=10),
                        ),
                        (
                            "sliding_scale",
                            models.JSONField(
                                help_text="Bands [[max percent of poverty or null, patient share percent], ...]"
                            ),
                        ),
                        (
                            "daily_rate",
                            models.DecimalField(
                                decimal_places=2,
                                help_text="Self-pay daily rate of the program",
                                max_digits=8,
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="poverty_guidelines",
                                to="programs.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "admissions_povertyguidelineyear",
                        "ordering": ["-year"],
                    },
                ),
                migrations.AddConstraint(
                    model_name="payer",
                    constraint=models.UniqueConstraint(
                        fields=("organization", "name"), name="payer_unique_name"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="coverage",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("end_date__isnull", True),
                            ("start_date__isnull", True),
                            ("end_date__gte", models.F("start_date")),
                            _connector="OR",
                        ),
                        name="coverage_end_after_start",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="povertyguidelineyear",
                    constraint=models.UniqueConstraint(
                        fields=("organization", "year"), name="poverty_year_unique"
                    ),
                ),
            ],
        ),
        migrations.RunPython(content_types_to_billing, content_types_to_admissions),
    ]
