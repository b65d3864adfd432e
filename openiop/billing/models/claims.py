"""Claims (issue 16, point 4): claims built from posted charges, their lines, the scrubber's
edits, their history, and the 837 interchanges written; plus the configuration a claim needs that
the charge rules do not hold: who bills (BillingProvider, 2010AA), how each payer takes its claims
(PayerClaimSetup, billing.domain.claims.PayerClaimRules and its receiver) and how each program
bills on each claim form (TrackClaimSetup, billing.domain.claims.ProgramClaimSetup).

Written only by billing.services.claims. A claim sent is never edited: a correction is a new
claim (frequency 7 replacement or 8 void) that `replaces` it [domain.md 3; x12 RFI-1538]; the
state changes only through billing.domain.claims.transition, each change a ClaimEvent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.billing.choices import ClaimForm
from openiop.core.models import TimeStamped, Versioned

User = settings.AUTH_USER_MODEL


class ClaimState(models.TextChoices):
    """billing.domain.claims.ClaimState as choices (the values are the domain's)."""

    DRAFT = "draft", "Draft"
    READY = "ready", "Ready"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    PAID = "paid", "Paid"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    DENIED = "denied", "Denied"
    APPEALED = "appealed", "Appealed"


class ClaimPeriod(models.TextChoices):
    """billing.domain.claims.ClaimPeriod as choices."""

    DAY = "day", "A claim a day"
    WEEK = "week", "A claim a week (Monday to Sunday)"
    MONTH = "month", "A claim a calendar month"


class BillingProvider(TimeStamped):
    """Who bills for a site: the 837's billing provider (2010AA: name, NPI, EIN, address,
    taxonomy [domain.md 3]) and its submitter identity (1000A name, ETIN, contact; the ISA/GS
    sender). Every value is the organization's own; none has a default. Written through
    billing.services.claims.billing_provider_save."""

    site = models.OneToOneField(
        "programs.Site", on_delete=models.PROTECT, related_name="billing_provider"
    )
    name = models.CharField(max_length=60)
    npi = models.CharField("NPI", max_length=10)
    ein = models.CharField("Tax id (EIN)", max_length=9, help_text="9 digits, no dash")
    taxonomy = models.CharField(max_length=10, blank=True, help_text="PRV*BI*PXC (situational)")
    address_line = models.CharField(max_length=55)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=9, help_text="ZIP+4 without dash (9 digits)")
    submitter_name = models.CharField(max_length=60, help_text="1000A NM103")
    submitter_id = models.CharField(
        max_length=80, help_text="1000A NM109: the ETIN the clearinghouse assigned"
    )
    contact_name = models.CharField(max_length=60)
    contact_phone = models.CharField(max_length=10, help_text="Digits only")
    sender_qualifier = models.CharField(max_length=2, help_text="ISA05, e.g. ZZ")
    sender_id = models.CharField(max_length=15, help_text="ISA06")
    application_sender_code = models.CharField(max_length=15, help_text="GS02")
    production = models.BooleanField(
        help_text="ISA15: P (production) when checked, T (test) otherwise"
    )

    class Meta:
        ordering = ["site__name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.npi})"


class PayerClaimSetup(TimeStamped):
    """How one payer takes claims: billing.domain.claims.PayerClaimRules as a row, with where its
    837s go (the receiver, 1000B and ISA/GS) and the claim filing indicator (SBR09). No field has
    a default: domain.md gives the claim period for Medicare only, and nothing about the rest
    [domain.md 2.1, 3]."""

    payer = models.OneToOneField(
        "billing.Payer", on_delete=models.PROTECT, related_name="claim_setup"
    )
    period = models.CharField(max_length=5, choices=ClaimPeriod.choices)
    sequential = models.BooleanField(help_text="Medicare sequential claims (frequency 1/2/3/4)")
    authorization_required = models.BooleanField()
    certification_required = models.BooleanField()
    patient_status = models.CharField(
        max_length=2, blank=True, help_text="CL103 on non-sequential 837I claims (not 30)"
    )
    claim_filing_indicator = models.CharField(
        max_length=2, help_text="SBR09, e.g. MA (Medicare A), CI (commercial), MC (Medicaid)"
    )
    receiver_name = models.CharField(max_length=60, help_text="1000B NM103")
    receiver_id = models.CharField(max_length=80, help_text="1000B NM109")
    receiver_qualifier = models.CharField(max_length=2, help_text="ISA07, e.g. ZZ")
    receiver_interchange_id = models.CharField(max_length=15, help_text="ISA08")
    application_receiver_code = models.CharField(max_length=15, help_text="GS03")
    assignment = models.CharField(
        max_length=1, help_text="CLM07: A (assigned), B (lab services only), C (not assigned)"
    )
    benefits_assignment = models.CharField(max_length=1, help_text="CLM08: Y, N or W")
    release_of_information = models.CharField(max_length=1, help_text="CLM09: I or Y")
    provider_signature_on_file = models.BooleanField(help_text="CLM06 (837P)")

    class Meta:
        ordering = ["payer__name"]

    def __str__(self) -> str:
        return f"claim setup of {self.payer}"


class TrackClaimSetup(TimeStamped):
    """How one program (track) bills on one claim form: billing.domain.claims.ProgramClaimSetup
    as a row, with the attending (837I 2310A) / rendering (837P 2310B) provider when its claims
    need one. No defaults: the bill type is the program's [domain.md 2.1]."""

    track = models.ForeignKey(
        "programs.Track", on_delete=models.PROTECT, related_name="claim_setups"
    )
    claim_form = models.CharField(max_length=4, choices=ClaimForm.choices)
    facility_code = models.CharField(max_length=2, blank=True, help_text="837I: e.g. 13, 76")
    place_of_service = models.CharField(max_length=2, blank=True, help_text="837P: CLM05-1")
    rendering_npi_required = models.BooleanField()
    condition_codes = models.CharField(max_length=40, blank=True, help_text="Space-separated")
    provider_last_name = models.CharField(max_length=60, blank=True)
    provider_first_name = models.CharField(max_length=35, blank=True)
    provider_npi = models.CharField(max_length=10, blank=True)
    provider_taxonomy = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["track_id", "claim_form"]
        constraints = [
            models.UniqueConstraint(fields=["track", "claim_form"], name="track_claim_setup_once")
        ]

    def __str__(self) -> str:
        return f"{self.track} on {self.claim_form}"


class Claim(TimeStamped, Versioned):
    """One claim to one payer for one patient, coverage, episode, program and period.

    - `patient_control_number`: CLM01, unique and never changed, at most 20 characters (what
      receivers keep [x12 CLM01]); the 835's CLP01 quotes it back.
    - `payer_claim_control_number`: the payer's number for it (from the remittance or the
      acknowledgement); a replacement or void quotes it (REF*F8).
    - `replaces`: the claim a replacement (7) or void (8) corrects; the original is never edited.
    - `key`: the domain's name for the claim (patient/coverage/episode/program/form/period).
    """

    key = models.CharField(max_length=300)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="claims")
    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="claims")
    coverage = models.ForeignKey(
        "billing.Coverage", on_delete=models.PROTECT, related_name="claims"
    )
    payer = models.ForeignKey("billing.Payer", on_delete=models.PROTECT, related_name="claims")
    episode = models.ForeignKey("episodes.Episode", on_delete=models.PROTECT, related_name="claims")
    track = models.ForeignKey("programs.Track", on_delete=models.PROTECT, related_name="claims")
    claim_form = models.CharField(max_length=4, choices=ClaimForm.choices)
    frequency = models.CharField(max_length=1, help_text="CLM05-3: 1, 2, 3, 4, 7 or 8")
    bill_type = models.CharField(max_length=3, blank=True, help_text="837I, e.g. 131")
    facility_code = models.CharField(max_length=2, blank=True)
    place_of_service = models.CharField(max_length=2, blank=True)
    patient_status = models.CharField(max_length=2, blank=True)
    condition_codes = models.CharField(max_length=40, blank=True)
    diagnoses = models.JSONField(default=list, help_text="ICD-10-CM, principal first")
    authorization = models.CharField(max_length=50, blank=True, help_text="REF*G1")
    period_start = models.DateField(help_text="The period the claim was built for")
    period_end = models.DateField()
    statement_from = models.DateField()
    statement_to = models.DateField()
    patient_control_number = models.CharField(max_length=20, unique=True)
    payer_claim_control_number = models.CharField(max_length=50, blank=True)
    state = models.CharField(max_length=20, choices=ClaimState.choices, default=ClaimState.DRAFT)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["statement_from", "id"]
        indexes = [
            models.Index(fields=["site", "state"], name="claim_site_state"),
            models.Index(fields=["patient", "statement_from"], name="claim_patient_from"),
            models.Index(fields=["payer", "state"], name="claim_payer_state"),
        ]

    def __str__(self) -> str:
        return f"claim {self.patient_control_number}"


class ClaimLine(models.Model):
    """One service line of a claim: the charge it bills, dated, coded, priced. `line_control_number`
    (REF*6R) names the line to the payer, unique on the claim; the 835's SVC loop quotes it."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    charge = models.ForeignKey("billing.Charge", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField()
    service_date = models.DateField()
    code = models.CharField(max_length=5)
    modifiers = models.CharField(max_length=11, blank=True)
    revenue_code = models.CharField(max_length=4, blank=True)
    units = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    line_control_number = models.CharField(max_length=30)

    class Meta:
        ordering = ["claim_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "number"], name="claim_line_number_once"),
            models.UniqueConstraint(
                fields=["claim", "line_control_number"], name="claim_line_control_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.service_date.isoformat()} {self.code}"


class ClaimEdit(models.Model):
    """What the scrubber found on the claim at its last scrub (billing.domain.claims.Edit): kept
    with the claim and replaced at each scrub. `line`: the first line it names, if any; `lines`:
    all of them."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="edits")
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=10)
    message = models.CharField(max_length=1000)
    line = models.PositiveSmallIntegerField(null=True, blank=True)
    lines = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["claim_id", "id"]

    def __str__(self) -> str:
        return f"{self.severity} {self.code}"


class ClaimEvent(models.Model):
    """A claim's history: every state change (from, to, by whom, when, why) and its creation
    (`from_state` empty)."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=20)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["claim_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or '-'} -> {self.to_state}"


class ClaimExport(models.Model):
    """An 837 interchange written: one payer, one claim form, its control numbers (ISA13, GS06,
    ST02), the file's name, content and sha256, and the claims it carries."""

    site = models.ForeignKey("programs.Site", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey("billing.Payer", on_delete=models.PROTECT, related_name="+")
    claim_form = models.CharField(max_length=4, choices=ClaimForm.choices)
    interchange_control_number = models.PositiveIntegerField()
    group_control_number = models.PositiveIntegerField()
    transaction_set_control_number = models.PositiveIntegerField()
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    content = models.TextField()
    claims = models.ManyToManyField(Claim, related_name="exports")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "interchange_control_number"], name="claim_export_isa13_once"
            ),
            models.CheckConstraint(
                condition=Q(interchange_control_number__gte=1)
                & Q(interchange_control_number__lte=999999999),
                name="claim_export_isa13_range",
            ),
        ]

    def __str__(self) -> str:
        return self.file_name
