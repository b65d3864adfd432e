"""Issue 15: payers, coverages, benefits checks, the sliding fee configuration and estimates moved
from admissions to billing with their rows. Rows written before the move are found after it, with
their keys, and the tables keep working (new rows, foreign keys) under their new names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.billing import models as billing
from openiop.testing import make_org, make_site, make_user

BEFORE_THE_MOVE = [("admissions", "0002_public_inquiry_throttle_shared_by_workers")]
MOVED = ["payer", "coverage", "benefitsverification", "povertyguidelineyear", "costestimate"]


def _migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def _silence_page_cache_triggers(tables: list[str]) -> None:
    """PostgreSQL: the page-cache triggers were installed for billing's table names; once the
    tables carry admissions' names again, their SQL names a table that is not there. Switch them
    off for the old-state writes (they are installed again at the end of the test)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_kept_by_billing() -> None:
    from openiop.pagecache import triggers

    org = make_org()
    site = make_site(org, timezone="UTC")
    staff = make_user(Role.BILLING, sites=[site], org=org)
    content_type_ids = {m: ContentType.objects.get(app_label="billing", model=m).pk for m in MOVED}
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    executor = _migrate([*BEFORE_THE_MOVE, ("billing", None)])
    old = executor.loader.project_state(BEFORE_THE_MOVE).apps
    tables = connection.introspection.table_names()
    assert "admissions_payer" in tables and "billing_payer" not in tables
    _silence_page_cache_triggers([f"admissions_{m}" for m in MOVED] + ["admissions_inquiry"])

    inquiry = old.get_model("admissions", "Inquiry").objects.create(
        organization_id=org.pk,
        site_id=site.pk,
        received_at=timezone.now(),
        channel="call",
        referral_source="self",
        first_name="Wren",
        last_name="Pemberbottom",
        concerns="mental_health",
        stage_entered_on=dt.date(2026, 3, 2),
    )
    payer = old.get_model("admissions", "Payer").objects.create(
        organization_id=org.pk, name="Bluebell Mutual (fictional)", payer_type="commercial"
    )
    coverage = old.get_model("admissions", "Coverage").objects.create(
        inquiry_id=inquiry.pk, payer_id=payer.pk, rank="primary", member_id="ZZ123"
    )
    check = old.get_model("admissions", "BenefitsVerification").objects.create(
        coverage_id=coverage.pk,
        in_network=True,
        iop_covered=True,
        copay_per_day=Decimal("40"),
        prior_auth_required=False,
        reference_number="REF-778",
        verified_by_id=staff.pk,
        verified_at=timezone.now(),
    )
    guideline = old.get_model("admissions", "PovertyGuidelineYear").objects.create(
        organization_id=org.pk,
        year=2026,
        base_amount=Decimal("15000"),
        per_additional_person=Decimal("5000"),
        sliding_scale=[[100, 10], [None, 100]],
        daily_rate=Decimal("200.00"),
    )
    estimate = old.get_model("admissions", "CostEstimate").objects.create(
        inquiry_id=inquiry.pk,
        guideline_year=2026,
        household_size=2,
        annual_income=Decimal("20000"),
        percent_of_poverty=Decimal("100.00"),
        share_percent=Decimal("10"),
        planned_days=30,
        daily_rate=Decimal("200.00"),
        total_amount=Decimal("6000.00"),
        patient_amount=Decimal("600.00"),
        installments=[["2026-05-01", "600.00"]],
        prepared_by_id=staff.pk,
    )

    _migrate(latest)
    triggers.install()
    tables = connection.introspection.table_names()
    assert not [m for m in MOVED if f"admissions_{m}" in tables]
    assert billing.Payer.objects.get(pk=payer.pk).name == "Bluebell Mutual (fictional)"
    moved = billing.Coverage.objects.select_related("payer", "inquiry").get(pk=coverage.pk)
    assert (moved.payer.pk, moved.inquiry.pk, moved.member_id) == (payer.pk, inquiry.pk, "ZZ123")
    assert billing.BenefitsVerification.objects.get(pk=check.pk).coverage_id == coverage.pk
    assert billing.PovertyGuidelineYear.objects.get(pk=guideline.pk).daily_rate == Decimal("200")
    kept = billing.CostEstimate.objects.get(pk=estimate.pk)
    assert kept.installments == [["2026-05-01", "600.00"]] and kept.inquiry_id == inquiry.pk
    # New rows go on from the old ones' ids and keys still hold.
    newer = billing.Payer.objects.create(organization=org, name="Later Plan", payer_type="medicaid")
    assert newer.pk > payer.pk
    billing.Coverage.objects.create(inquiry_id=inquiry.pk, payer=newer, rank="secondary")
    assert moved.inquiry.coverages.count() == 2
    # The content types moved with the models (admin history and permissions stay attached).
    ContentType.objects.clear_cache()
    assert {
        m: ContentType.objects.get(app_label="billing", model=m).pk for m in MOVED
    } == content_type_ids
    assert not ContentType.objects.filter(app_label="admissions", model__in=MOVED).exists()
