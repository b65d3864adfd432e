"""Payer authorizations, Medicare IOP physician certifications and the concurrent-review packets
printed for a payer's reviewer (issue 16, point 3). Written only by billing.services.authorizations.

The rules (usage, allocation, forecast, alerts, the recertification clock) are pure functions in
billing.domain.authorizations; these tables hold what staff entered.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.billing.choices import AuthorizationUnitKind, RecertificationInterval
from openiop.core.models import TimeStamped, Versioned

User = settings.AUTH_USER_MODEL


class Authorization(TimeStamped, Versioned):
    """A payer's authorization on one coverage (primary or secondary): `quantity` units or days
    (`unit_kind`) from `start_date` to `end_date`, both included, for the `service_codes` listed
    (a JSON list of five-character codes, at least one). Ending it early sets `end_date` and
    `end_reason`."""

    coverage = models.ForeignKey(
        "billing.Coverage", on_delete=models.PROTECT, related_name="authorizations"
    )
    reference_number = models.CharField(max_length=50)
    unit_kind = models.CharField(max_length=5, choices=AuthorizationUnitKind.choices)
    quantity = models.PositiveIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()
    service_codes = models.JSONField(default=list)
    note = models.CharField(max_length=500, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["end_date", "start_date", "reference_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["coverage", "reference_number"], name="authorization_reference_once"
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="authorization_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="authorization_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Authorization {self.reference_number}"


class PhysicianCertification(TimeStamped, Versioned):
    """A physician's Medicare IOP certification (or recertification) of an episode: signed on
    `signed_on`, for services from `start_date` (through `end_date` when the physician set one),
    stating `certified_weekly_minutes` a week. `interval` is how "no less often than every other
    month" is counted for it (domain.md 2.1 words it two ways): chosen by whoever records it, no
    default."""

    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="certifications"
    )
    physician_name = models.CharField(max_length=200)
    physician_npi = models.CharField("Physician NPI", max_length=10)
    signed_on = models.DateField()
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    certified_weekly_minutes = models.PositiveIntegerField()
    interval = models.CharField(max_length=20, choices=RecertificationInterval.choices)
    end_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["start_date", "signed_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="certification_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"Certification by {self.physician_name} signed {self.signed_on}"


class ConcurrentReview(models.Model):
    """A concurrent-review packet printed for the payer's reviewer of an authorization, with the
    reason to continue that the clinician entered when printing it."""

    authorization = models.ForeignKey(
        Authorization, on_delete=models.PROTECT, related_name="reviews"
    )
    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.PROTECT, related_name="concurrent_reviews"
    )
    reason_to_continue = models.TextField(max_length=4000)
    printed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    printed_at = models.DateTimeField()

    class Meta:
        ordering = ["-printed_at", "-id"]

    def __str__(self) -> str:
        return f"Concurrent review of {self.authorization_id} on {self.printed_at:%Y-%m-%d}"
