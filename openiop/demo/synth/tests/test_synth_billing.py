"""`openiop synth` adds the revenue cycle's data: payers and their configuration, a coverage and an
authorization per insured stay (on its admitted inquiry), last month's charges posted by the app's
charges_post, the same under the same seed; and a claims build of the network runs cleanly."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from openiop.accounts.models import User
from openiop.billing import services
from openiop.billing.models import Authorization, Charge, Claim, ClaimEdit, Coverage
from openiop.core.actor import Actor
from openiop.programs.models import Organization

pytestmark = pytest.mark.django_db

TODAY = "2026-11-24"
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def synth(seed: int, sites: int = 2, patients: int = 240) -> Organization:
    call_command(
        "synth",
        *("--sites", str(sites), "--patients", str(patients), "--weeks", "10"),
        *("--seed", str(seed)),
        *("--today", TODAY),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return Organization.objects.order_by("-id").first()  # type: ignore[return-value]


def fingerprint(org: Organization) -> list[tuple[object, ...]]:
    """The charges by patient number within the network (the MRN without its network prefix)."""
    charges = Charge.objects.filter(site__organization=org).order_by("patient__mrn", "service_date")
    rows = charges.values_list("patient__mrn", "service_date", "code", "amount", "payer__name")
    return [(mrn[3:], *rest) for mrn, *rest in rows]


def test_synth_posts_last_months_charges_for_insured_and_self_pay_stays() -> None:
    org = synth(5)
    coverages = Coverage.objects.filter(payer__organization=org)
    assert coverages.count() > 50
    # Every coverage is on its stay's admitted inquiry, for that inquiry's patient.
    assert not coverages.exclude(inquiry__stage="admitted").exists()
    assert all(c.inquiry.patient_id == c.patient_id for c in coverages.select_related("inquiry"))
    assert Authorization.objects.filter(coverage__in=coverages).count() == coverages.count()
    charges = Charge.objects.filter(site__organization=org)
    assert charges.count() > 100
    assert {d for d in charges.values_list("service_date", flat=True)} <= {
        OCTOBER[0] + dt.timedelta(days=n) for n in range(31)
    }
    assert {"H0015", "S9480"} <= set(charges.values_list("code", flat=True))
    assert set(charges.values_list("payer__payer_type", flat=True)) == {
        "commercial",
        "medicaid",
        "self_pay",
    }
    assert charges.filter(coverage__isnull=True).exists()  # self-pay: the patient's bill

    # The month-end build the benchmark times: every insured charge goes on a claim, and the
    # scrubber finds nothing the synthetic data left out (address, diagnosis, set-up).
    billing = User.objects.get(username=f"o{org.pk}-billing")
    result = services.claims_build(
        by=Actor.cli(billing, "test"), period_start=OCTOBER[0], period_end=OCTOBER[1]
    )
    insured = charges.filter(coverage__isnull=False).count()
    assert result.charges == insured and result.claims > 20
    assert result.claims == Claim.objects.filter(site__organization=org).count()
    codes = set(ClaimEdit.objects.filter(severity="error").values_list("code", flat=True))
    assert codes <= {"authorization_missing", "authorization_exhausted", "no_diagnosis"}


def test_the_same_seed_posts_the_same_charges() -> None:
    first = fingerprint(synth(5, sites=1, patients=100))
    second = fingerprint(synth(5, sites=1, patients=100))
    other = fingerprint(synth(6, sites=1, patients=100))
    assert first and first == second
    assert first != other
