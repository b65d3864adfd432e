"""The configuration claims need beyond the charge rules, each written through one service here
(the set-up pages call them): the site's billing provider (837 2010AA and submitter), each payer's
claim setup (billing.domain.claims.PayerClaimRules and its receiver), each program's claim setup
per form (billing.domain.claims.ProgramClaimSetup and its attending/rendering provider).

Every value is the organization's own, with no default (../shared/domain.md gives none); the
checks are the domain's and the 837 writer's own (billing.domain.claims, billing.domain.x12), so
what is saved can be written. Each save needs Cap.REVENUE_MANAGE where the row belongs and is
audited.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from openiop.accounts.access import require_site, site_scope
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.billing.domain import claims as rules
from openiop.billing.domain import x12
from openiop.billing.domain.charges import ClaimForm
from openiop.billing.models import BillingProvider, Payer, PayerClaimSetup, TrackClaimSetup
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.programs.models import Site, Track

BILLING_PROVIDER_FIELDS = (
    "name",
    "npi",
    "ein",
    "taxonomy",
    "address_line",
    "city",
    "state",
    "postal_code",
    "submitter_name",
    "submitter_id",
    "contact_name",
    "contact_phone",
    "sender_qualifier",
    "sender_id",
    "application_sender_code",
    "production",
)
PAYER_CLAIM_FIELDS = (
    "period",
    "sequential",
    "authorization_required",
    "certification_required",
    "patient_status",
    "claim_filing_indicator",
    "receiver_name",
    "receiver_id",
    "receiver_qualifier",
    "receiver_interchange_id",
    "application_receiver_code",
    "assignment",
    "benefits_assignment",
    "release_of_information",
    "provider_signature_on_file",
)
TRACK_CLAIM_FIELDS = (
    "facility_code",
    "place_of_service",
    "rendering_npi_required",
    "condition_codes",
    "provider_last_name",
    "provider_first_name",
    "provider_npi",
    "provider_taxonomy",
)


def _strip(row: Any, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(row, name)
        if isinstance(value, str):
            setattr(row, name, value.strip())


def _refuse(error: ValueError | TypeError, code: str) -> RuleViolation:
    return RuleViolation(str(error), code=code)


def billing_provider_check(provider: BillingProvider) -> None:
    """The NPI with its check digit, a nine-digit tax id, an address and submitter the 837 takes
    (billing.domain.x12's checks). Raises RuleViolation."""
    _strip(provider, BILLING_PROVIDER_FIELDS)
    provider.state = provider.state.upper()
    if not rules.npi_is_valid(provider.npi):
        raise RuleViolation(
            "The NPI is ten digits with a valid check digit.", code="npi", field="npi"
        )
    try:
        x12.BillingProvider(
            name=provider.name,
            npi=provider.npi,
            ein=provider.ein,
            address=x12.Address(
                line1=provider.address_line,
                city=provider.city,
                state=provider.state,
                postal_code=provider.postal_code,
            ),
            taxonomy=provider.taxonomy or None,
        )
        x12.Submitter(
            name=provider.submitter_name,
            identifier=provider.submitter_id,
            contact_name=provider.contact_name,
            phone=provider.contact_phone,
        )
    except (ValueError, TypeError) as error:
        raise _refuse(error, "billing_provider") from error
    if provider.sender_qualifier not in ("01", "14", "20", "27", "28", "29", "30", "33", "ZZ"):
        raise RuleViolation(
            f"{provider.sender_qualifier!r} is not an interchange id qualifier (ISA05).",
            code="qualifier",
            field="sender_qualifier",
        )


def payer_claim_setup_check(setup: PayerClaimSetup) -> None:
    """The domain's PayerClaimRules (a sequential payer has no patient status of its own, a
    non-sequential one's is not 30), and CLM07-09 and SBR09 as the 837 takes them."""
    _strip(setup, PAYER_CLAIM_FIELDS)
    try:
        rules.PayerClaimRules(
            payer=str(setup.payer_id),
            period=rules.ClaimPeriod(setup.period),
            sequential=setup.sequential,
            authorization_required=setup.authorization_required,
            certification_required=setup.certification_required,
            patient_status=setup.patient_status or None,
        )
        x12.Payer(
            name="check", payer_id="check", claim_filing_indicator=setup.claim_filing_indicator
        )
        x12.Receiver(name=setup.receiver_name, identifier=setup.receiver_id)
    except (ValueError, TypeError) as error:
        raise _refuse(error, "payer_claim_setup") from error
    for name, allowed in (
        ("assignment", ("A", "B", "C")),
        ("benefits_assignment", ("N", "W", "Y")),
        ("release_of_information", ("I", "Y")),
        ("receiver_qualifier", ("01", "14", "20", "27", "28", "29", "30", "33", "ZZ")),
    ):
        if getattr(setup, name) not in allowed:
            raise RuleViolation(f"Choose one of {', '.join(allowed)}.", code=name, field=name)


def track_claim_setup_check(setup: TrackClaimSetup) -> None:
    """The domain's ProgramClaimSetup (837I: a two-digit facility code, no place of service;
    837P the other way round; two-character condition codes) and, when given, a provider whose
    NPI carries its check digit."""
    _strip(setup, TRACK_CLAIM_FIELDS)
    try:
        rules.ProgramClaimSetup(
            program=str(setup.track_id),
            claim_form=ClaimForm(setup.claim_form),
            rendering_npi_required=setup.rendering_npi_required,
            facility_code=setup.facility_code or None,
            place_of_service=setup.place_of_service or None,
            condition_codes=tuple(setup.condition_codes.upper().split()),
        )
    except ValueError as error:
        raise _refuse(error, "track_claim_setup") from error
    setup.condition_codes = " ".join(setup.condition_codes.upper().split())
    if setup.provider_npi and not rules.npi_is_valid(setup.provider_npi):
        raise RuleViolation(
            "The provider's NPI is ten digits with a valid check digit.",
            code="npi",
            field="provider_npi",
        )


def _save(row: Any, by: Actor, object_type: str, created: bool) -> None:
    row.save()
    audit_record(
        by,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type=object_type,
        object_id=row.pk,
    )


def _fields(values: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")
    return values


def billing_provider_save(*, by: Actor, site: Site, values: dict[str, Any]) -> BillingProvider:
    """Create or change the site's billing provider (BILLING_PROVIDER_FIELDS). Raises
    RuleViolation as billing_provider_check; NotPermitted (audited) without Cap.REVENUE_MANAGE at
    the site."""
    require_site(by, site, Cap.REVENUE_MANAGE, object_type="billing_provider")
    fields = _fields(values, BILLING_PROVIDER_FIELDS)
    with transaction.atomic():
        provider = BillingProvider.objects.select_for_update().filter(site=site).first()
        created = provider is None
        provider = provider or BillingProvider(site=site)
        for name, value in fields.items():
            setattr(provider, name, value)
        billing_provider_check(provider)
        _save(provider, by, "billing_provider", created)
    return provider


def payer_claim_setup_save(*, by: Actor, payer: Payer, values: dict[str, Any]) -> PayerClaimSetup:
    """Create or change how `payer` takes claims (PAYER_CLAIM_FIELDS). Raises RuleViolation as
    payer_claim_setup_check; NotPermitted (audited) without Cap.REVENUE_MANAGE or for another
    organization's payer."""
    # A payer is its organization's: the actor needs the capability at one of its sites (the
    # kernel's site check refuses another organization's staff, audited).
    org_sites = Site.objects.filter(organization_id=payer.organization_id).order_by("id")
    site = org_sites.filter(site_scope(by, "id")).first() or org_sites.first()
    if site is None:
        raise RuleViolation("The payer's organization has no site.", code="org")
    require_site(by, site, Cap.REVENUE_MANAGE, object_type="payer_claim_setup")
    fields = _fields(values, PAYER_CLAIM_FIELDS)
    with transaction.atomic():
        setup = PayerClaimSetup.objects.select_for_update().filter(payer=payer).first()
        created = setup is None
        setup = setup or PayerClaimSetup(payer=payer)
        for name, value in fields.items():
            setattr(setup, name, value)
        payer_claim_setup_check(setup)
        _save(setup, by, "payer_claim_setup", created)
    return setup


def track_claim_setup_save(
    *, by: Actor, track: Track, claim_form: str, values: dict[str, Any]
) -> TrackClaimSetup:
    """Create or change how `track` bills on `claim_form` (TRACK_CLAIM_FIELDS). Raises
    RuleViolation as track_claim_setup_check; NotPermitted (audited) without
    Cap.REVENUE_MANAGE at the track's site."""
    require_site(by, track.site_id, Cap.REVENUE_MANAGE, object_type="track_claim_setup")
    fields = _fields(values, TRACK_CLAIM_FIELDS)
    with transaction.atomic():
        setup = (
            TrackClaimSetup.objects.select_for_update()
            .filter(track=track, claim_form=claim_form)
            .first()
        )
        created = setup is None
        setup = setup or TrackClaimSetup(track=track, claim_form=claim_form)
        for name, value in fields.items():
            setattr(setup, name, value)
        track_claim_setup_check(setup)
        _save(setup, by, "track_claim_setup", created)
    return setup
