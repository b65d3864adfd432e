"""Claims: the one doorway that builds, scrubs, readies, exports and corrects claims (issue 16,
point 4). Pages, the `openiop claims` command and the build job call these functions.

- `claims_build` gathers, site by site (each in one transaction with the site row locked), the
  open charges of the period that are on no claim (other than a rejected one), the episodes'
  diagnoses (ICD-10-CM of the treatment plan's problems), the coverages, each payer's claim
  setup and each program's claim setup per form, and the patients' claims already kept; one
  query per table whatever the number of patients. billing.domain.claims.build_claims groups the
  charges into claims and says why the rest could not go on one; each claim is scrubbed
  (billing.domain.claims.scrub, plus what the 837 needs that the scrubber does not see: the
  billing provider, the subscriber, the patient's address) and kept as a draft with its edits;
  its charges become "on a claim". The writes are set-based too: the site's claims, lines,
  creation events and edits each go in with one bulk insert (in batches), the charges' status
  with one update, the audit with one entry naming the patients; so a build's statements grow
  with the sites, never with the claims (issue 16 point 8).
- `claim_mark_ready` re-scrubs and refuses, listing the errors, while any remains.
- `claims_export` writes one 837I/837P interchange per site, payer and form of the ready claims
  (billing.domain.claims.to_x12_claim, billing.domain.x12.write_837i/p), keeps it (ClaimExport)
  and marks the claims submitted.
- `claim_correct` makes a replacement (7) or void (8) of a claim the payer holds, as a new draft
  claim (billing.domain.claims.replacement_of / void_of); the sent claim is never edited.

A claim's state changes only through billing.domain.claims.transition; every change is a
ClaimEvent and an audit entry naming the patient. Self-pay charges (no coverage) are the
patient's bill, not a claim's, and are left alone.

Not in ../shared/domain.md, so configuration without a default: every PayerClaimSetup,
TrackClaimSetup and BillingProvider value. A Medicare sequential episode that is discharged
needs the NUBC discharge status of its last claim [domain.md 2.1]; OpenIOP records no such status
yet, so its charges are left unbuilt with that reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal, cast

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Prefetch

from openiop.accounts.access import check_for, require, require_site, visible_sites
from openiop.accounts.domain import Cap
from openiop.accounts.models import User
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.billing.choices import ChargeStatus, SubscriberRelationship
from openiop.billing.domain import claims as rules
from openiop.billing.domain import x12
from openiop.billing.domain.charges import ChargeDraft
from openiop.billing.domain.charges import ClaimForm as DomainForm
from openiop.billing.models import (
    BillingProvider,
    Charge,
    ChargeAdjustment,
    Claim,
    ClaimEdit,
    ClaimEvent,
    ClaimExport,
    ClaimLine,
    Coverage,
    Payer,
    PayerClaimSetup,
    TrackClaimSetup,
)
from openiop.billing.models.claims import ClaimState
from openiop.billing.selectors_authorizations import (
    CoverageAuthorizations,
    ScrubExtras,
    charge_authorizations,
    coverage_authorizations,
    scrub_extras_for,
)
from openiop.billing.services.charges import MAX_PERIOD_DAYS
from openiop.billing.services.fee_schedules import parse_modifiers
from openiop.consents.choices import Channel
from openiop.consents.domain import PAYMENT, Decision, Recipient, disclosure_decision
from openiop.consents.selectors import consent_terms_for
from openiop.consents.services import DisclosureItem, disclosure_record
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import Conflict, NotFound, NotPermitted, RuleViolation
from openiop.episodes.models import Episode
from openiop.patients.models import Patient
from openiop.programs.models import Site
from openiop.treatment.selectors import episode_diagnoses

OBJECT_TYPE = "claim"
MESSAGE_CHARS = 1000
# Rows per INSERT when a build writes its claims, lines, events and edits (bulk_create).
BULK_BATCH = 500

# Edits the service adds for what the 837 needs beyond the scrubber's checks.
SUBSCRIBER_MISSING = "subscriber_details_missing"
PATIENT_ADDRESS_MISSING = "patient_address_missing"
BILLING_PROVIDER_MISSING = "billing_provider_missing"
PROVIDER_MISSING = "provider_missing"
PART2_CONSENT_MISSING = "part2_consent_missing"

_DOMAIN_EDIT_CODES = frozenset(code.value for code in rules.EditCode)

# Patient.sex to DMG03 (F, M, U) [x12 map-I/map-P DMG03]: intersex and unknown are U.
_GENDER: dict[str, x12.Gender] = {"female": "F", "male": "M"}


# ---------------------------------------------------------------------------------------------
# Authorizations and certifications (wt-q)


def _scrub_context_extras(
    *,
    coverage_ids: Iterable[int],
    patient_ids: Iterable[int],
    claims: Sequence[Claim],
    own_charge_ids: Iterable[int] | None = None,
    loaded: CoverageAuthorizations | None = None,
) -> ScrubExtras:
    """The authorizations of these coverages, with the units their other charges left (the
    charges of `claims` themselves are left out, as ScrubContext expects; claims scrubbed in one
    batch do not see each other's use), and the Medicare certification periods of these
    patients (billing.selectors_authorizations.scrub_extras_for). `own_charge_ids`: the charges
    of `claims` when the caller already holds them (a build that just wrote their lines)."""
    if own_charge_ids is None:
        own_charge_ids = ClaimLine.objects.filter(claim__in=[c.pk for c in claims]).values_list(
            "charge_id", flat=True
        )
    return scrub_extras_for(
        coverage_ids=coverage_ids,
        patient_ids=patient_ids,
        exclude_charge_ids=list(own_charge_ids),
        loaded=loaded,
    )


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class ClaimBuildResult:
    """What a build did: counts and the reasons charges were left off (no patient data)."""

    period_start: dt.date
    period_end: dt.date
    sites: int = 0
    claims: int = 0
    with_errors: int = 0
    charges: int = 0
    not_built: tuple[tuple[int, str], ...] = ()  # (charge count, reason)
    claim_ids: tuple[int, ...] = ()

    @property
    def sentence(self) -> str:
        left = sum(n for n, _ in self.not_built)
        return (
            f"Built {self.claims} claim(s) from {self.charges} charge(s) for "
            f"{self.period_start.isoformat()} to {self.period_end.isoformat()} at "
            f"{self.sites} site(s); {self.with_errors} with errors to fix; "
            f"{left} charge(s) left off."
        )

    def plus(self, other: ClaimBuildResult) -> ClaimBuildResult:
        return ClaimBuildResult(
            period_start=self.period_start,
            period_end=self.period_end,
            sites=self.sites + other.sites,
            claims=self.claims + other.claims,
            with_errors=self.with_errors + other.with_errors,
            charges=self.charges + other.charges,
            not_built=self.not_built + other.not_built,
            claim_ids=self.claim_ids + other.claim_ids,
        )


# ---------------------------------------------------------------------------------------------
# Conversions between rows and the domain


def _period_rules(setup: PayerClaimSetup) -> rules.PayerClaimRules:
    return rules.PayerClaimRules(
        payer=str(setup.payer_id),
        period=rules.ClaimPeriod(setup.period),
        sequential=setup.sequential,
        authorization_required=setup.authorization_required,
        certification_required=setup.certification_required,
        patient_status=setup.patient_status or None,
    )


def _program_setup(setup: TrackClaimSetup) -> rules.ProgramClaimSetup:
    return rules.ProgramClaimSetup(
        program=str(setup.track_id),
        claim_form=DomainForm(setup.claim_form),
        rendering_npi_required=setup.rendering_npi_required,
        facility_code=setup.facility_code or None,
        place_of_service=setup.place_of_service or None,
        condition_codes=tuple(setup.condition_codes.split()),
    )


@dataclass(frozen=True, slots=True)
class _OpenCharge:
    """An open charge as the builder reads it: the ids a claim row needs and the charge as it
    stands now (ChargeDraft: its last adjustment's units and amount, or its own)."""

    pk: int
    patient_id: int
    coverage_id: int
    payer_id: int
    episode_id: int
    track_id: int
    draft: ChargeDraft


_OPEN_CHARGE_FIELDS = (
    "id",
    "patient_id",
    "coverage_id",
    "payer_id",
    "episode_id",
    "track_id",
    "service_date",
    "code",
    "modifiers",
    "revenue_code",
    "units",
    "rate",
    "amount",
    "claim_form",
    "attendance_ids",
    "condition_codes",
)


def _charge_draft(row: tuple[object, ...], last: tuple[int, Decimal] | None) -> _OpenCharge:
    """A row of _OPEN_CHARGE_FIELDS; `last`: its last adjustment's new units and amount."""
    (pk, patient_id, coverage_id, payer_id, episode_id, track_id, day, code, modifiers) = row[:9]
    (revenue_code, units, rate, amount, form, attendance_ids, condition_codes) = row[9:]
    if last is not None:
        units, amount = last
    return _OpenCharge(
        pk=cast(int, pk),
        patient_id=cast(int, patient_id),
        coverage_id=cast(int, coverage_id),
        payer_id=cast(int, payer_id),
        episode_id=cast(int, episode_id),
        track_id=cast(int, track_id),
        draft=ChargeDraft(
            payer=str(payer_id),
            program=str(track_id),
            service_date=cast(dt.date, day),
            code=cast(str, code),
            modifiers=parse_modifiers(cast(str, modifiers)),
            revenue_code=cast(str, revenue_code) or None,
            units=cast(int, units),
            rate=cast(Decimal, rate),
            amount=cast(Decimal, amount),
            claim_form=DomainForm(cast(str, form)),
            service_ids=tuple(str(i) for i in cast(list[object], attendance_ids)),
            condition_codes=tuple(
                c for c in cast(str, condition_codes).replace(",", " ").split() if c
            ),
        ),
    )


def _draft_of(claim: Claim, lines: Sequence[ClaimLine]) -> rules.ClaimDraft:
    """The kept claim as the domain's draft (its lines carry the claim's diagnoses)."""
    diagnoses = tuple(str(d) for d in claim.diagnoses)
    original = claim.replaces
    return rules.ClaimDraft(
        key=claim.key,
        patient=str(claim.patient_id),
        coverage=str(claim.coverage_id),
        episode=str(claim.episode_id),
        payer=str(claim.payer_id),
        program=str(claim.track_id),
        claim_form=DomainForm(claim.claim_form),
        frequency=x12.ClaimFrequency(claim.frequency),
        lines=tuple(
            rules.ClaimLine(
                charge_id=str(line.charge_id),
                service_date=line.service_date,
                code=line.code,
                modifiers=parse_modifiers(line.modifiers),
                revenue_code=line.revenue_code or None,
                units=line.units,
                amount=line.amount,
                diagnoses=diagnoses,
                authorization=claim.authorization or None,
            )
            for line in lines
        ),
        facility_code=claim.facility_code or None,
        place_of_service=claim.place_of_service or None,
        patient_status=claim.patient_status or None,
        condition_codes=tuple(claim.condition_codes.split()),
        original_claim_reference=(
            original.payer_claim_control_number or None if original is not None else None
        ),
        replaces=original.key if original is not None else None,
    )


def _record_of(claim: Claim, lines: Sequence[ClaimLine], superseded: set[int]) -> rules.ClaimRecord:
    return rules.ClaimRecord(
        claim=_draft_of(claim, lines),
        state=rules.ClaimState(claim.state),
        payer_claim_control_number=claim.payer_claim_control_number or None,
        superseded=claim.pk in superseded,
    )


def _user(by: Actor) -> User:
    """The acting user (the access checks before every write refuse an actor without one)."""
    if by.user is None:
        raise NotPermitted("Your role does not allow this.", code="role_not_permitted")
    return by.user


def _new_control_number() -> str:
    """CLM01: 16 characters, unique (the column is unique), never changed; receivers keep 20."""
    return secrets.token_hex(8).upper()


# ---------------------------------------------------------------------------------------------
# Scrubbing


@dataclass
class _ScrubInputs:
    """What scrubbing some claims of one site reads, loaded once."""

    provider: BillingProvider | None
    payer_setups: dict[int, PayerClaimSetup]
    track_setups: dict[tuple[int, str], TrackClaimSetup]
    coverages: dict[int, Coverage]
    patients: dict[int, Patient]
    others: dict[int, list[rules.ClaimRecord]]  # by patient id
    extras: ScrubExtras
    part2: dict[int, tuple[str, Decision]]  # by claim id: (payer name, decision), Part 2 only
    # By claim id: the drafts of claims just built, made once for `others` and for their scrub.
    drafts: dict[int, rules.ClaimDraft] = field(default_factory=dict)


def _claims_with_lines() -> Prefetch[str]:
    return Prefetch("lines", queryset=ClaimLine.objects.order_by("number"))


def _scrub_inputs(
    site: Site,
    claims: Sequence[Claim],
    *,
    lines_of: dict[int, list[ClaimLine]] | None = None,
    authorizations: CoverageAuthorizations | None = None,
) -> _ScrubInputs:
    """Everything scrubbing `claims` reads, in a fixed number of queries whatever their number.
    `lines_of` (claim id -> lines): the claims were just built and their lines are at hand, so
    they are not read back; `authorizations`: what the build already loaded."""
    patient_ids = {c.patient_id for c in claims}
    coverage_ids = {c.coverage_id for c in claims}
    others = Claim.objects.filter(patient_id__in=patient_ids).exclude(state=ClaimState.REJECTED)
    if lines_of is not None:
        others = others.exclude(pk__in=[c.pk for c in claims])
    kept = list(others.select_related("replaces").prefetch_related(_claims_with_lines()))
    everyone = [(c, list(c.lines.all())) for c in kept]
    if lines_of is not None:
        everyone += [(c, lines_of.get(c.pk, [])) for c in claims]
        everyone.sort(key=lambda pair: (pair[0].statement_from, pair[0].pk))
    superseded = {c.replaces_id for c, _ in everyone if c.replaces_id is not None}
    built = {c.pk for c in claims} if lines_of is not None else set()
    drafts: dict[int, rules.ClaimDraft] = {}
    by_patient: dict[int, list[rules.ClaimRecord]] = defaultdict(list)
    for other, other_lines in everyone:
        record = _record_of(other, other_lines, superseded)
        by_patient[other.patient_id].append(record)
        if other.pk in built:
            drafts[other.pk] = record.claim
    own_charge_ids = (
        [line.charge_id for lines in lines_of.values() for line in lines]
        if lines_of is not None
        else None
    )
    return _ScrubInputs(
        provider=BillingProvider.objects.filter(site=site).first(),
        payer_setups={
            s.payer_id: s
            for s in PayerClaimSetup.objects.filter(payer_id__in={c.payer_id for c in claims})
        },
        track_setups={
            (s.track_id, s.claim_form): s
            for s in TrackClaimSetup.objects.filter(track_id__in={c.track_id for c in claims})
        },
        coverages={c.pk: c for c in Coverage.objects.filter(pk__in=coverage_ids)},
        patients={p.pk: p for p in Patient.objects.filter(pk__in=patient_ids)},
        others=by_patient,
        extras=_scrub_context_extras(
            coverage_ids=coverage_ids,
            patient_ids=patient_ids,
            claims=claims,
            own_charge_ids=own_charge_ids,
            loaded=authorizations,
        ),
        part2=_part2_decisions(claims),
        drafts=drafts,
    )


def _part2_decisions(claims: Sequence[Claim]) -> dict[int, tuple[str, Decision]]:
    """For each claim of a Part 2 episode, whether a consent on file lets its payer receive the
    patient's records for payment (42 CFR 2.31, 2.33; consents.domain.disclosure_decision): a
    claim is a disclosure to a payer outside the program. Two queries for any number of claims
    (the Part 2 episodes, then the consents with the payers' names); none without Part 2."""
    part2 = set(
        Episode.objects.filter(
            pk__in={c.episode_id for c in claims}, part2_protected=True
        ).values_list("pk", flat=True)
    )
    marked = [c for c in claims if c.episode_id in part2]
    if not marked:
        return {}
    terms = consent_terms_for({c.patient_id for c in marked})
    names = dict(
        Payer.objects.filter(pk__in={c.payer_id for c in marked}).values_list("id", "name")
    )
    on = clock.now()
    found: dict[int, tuple[str, Decision]] = {}
    for c in marked:
        name = names.get(c.payer_id, "the payer")
        recipient = Recipient.payer(c.payer_id, name)
        found[c.pk] = (
            name,
            disclosure_decision(terms.get(c.patient_id, ()), recipient, PAYMENT, on),
        )
    return found


def _part2_message(payer_name: str, decision: Decision) -> str:
    return (
        f"No Part 2 consent covering {payer_name} for payment ({decision.reason}): this claim "
        "discloses substance use disorder treatment (42 CFR Part 2). Record the patient's "
        "consent on their Consents page, or bill the patient."
    )


@dataclass(frozen=True)
class _Finding:
    code: str
    severity: str
    message: str
    lines: tuple[int, ...] = ()


def _scrub_one(claim: Claim, lines: Sequence[ClaimLine], inputs: _ScrubInputs) -> list[_Finding]:
    draft = inputs.drafts.get(claim.pk) or _draft_of(claim, lines)
    payer_setup = inputs.payer_setups.get(claim.payer_id)
    track_setup = inputs.track_setups.get((claim.track_id, claim.claim_form))
    findings: list[_Finding] = []
    if payer_setup is None or track_setup is None:
        what = "the payer's claim setup" if payer_setup is None else "the program's claim setup"
        return [_Finding("setup_missing", "error", f"Set {what} before this claim can go.")]
    coverage = inputs.coverages[claim.coverage_id]
    context = rules.ScrubContext(
        payer_rules=_period_rules(payer_setup),
        setup=_program_setup(track_setup),
        billing_npi=inputs.provider.npi if inputs.provider is not None else None,
        rendering_npi=track_setup.provider_npi or None,
        coverage_start=coverage.start_date or dt.date.min,
        coverage_end=coverage.end_date,
        authorizations=inputs.extras.authorizations.get(claim.coverage_id, ()),
        certifications=inputs.extras.certifications.get(claim.patient_id, ()),
        other_claims=[
            r for r in inputs.others.get(claim.patient_id, []) if r.claim.key != claim.key
        ],
    )
    for edit in rules.scrub(draft, context):
        findings.append(_Finding(edit.code.value, edit.severity.value, edit.message, edit.lines))
    if inputs.provider is None:
        findings.append(
            _Finding(
                BILLING_PROVIDER_MISSING,
                "error",
                "The site has no billing provider (name, NPI, tax id, address): set it on the "
                "billing provider page.",
            )
        )
    if coverage.subscriber_relationship != SubscriberRelationship.SELF:
        findings.append(
            _Finding(
                SUBSCRIBER_MISSING,
                "error",
                "The subscriber is not the patient, and OpenIOP does not hold the subscriber's "
                "birth date, sex and address the 837 needs: bill this coverage outside OpenIOP.",
            )
        )
    if not coverage.member_id.strip():
        findings.append(
            _Finding(SUBSCRIBER_MISSING, "error", "The coverage has no member id: record it.")
        )
    payer_name, decision = inputs.part2.get(claim.pk, ("", None))
    if decision is not None and not decision.permitted:
        findings.append(
            _Finding(PART2_CONSENT_MISSING, "error", _part2_message(payer_name, decision))
        )
    patient = inputs.patients[claim.patient_id]
    if not (patient.address_line and patient.city and patient.state and patient.postal_code):
        findings.append(
            _Finding(
                PATIENT_ADDRESS_MISSING,
                "error",
                "The patient's address is incomplete (street, city, state, ZIP): the 837 "
                "carries it for the subscriber.",
            )
        )
    if track_setup.rendering_npi_required and not (
        track_setup.provider_last_name and track_setup.provider_first_name
    ):
        findings.append(
            _Finding(
                PROVIDER_MISSING,
                "error",
                "The program's claims need an attending/rendering provider: give the "
                "provider's name with the NPI in the program's claim setup.",
            )
        )
    return findings


def _edit_rows(claim: Claim, findings: Sequence[_Finding], now: dt.datetime) -> list[ClaimEdit]:
    return [
        ClaimEdit(
            claim_id=claim.pk,  # the id, not the instance: no descriptor work per row
            code=f.code,
            severity=f.severity,
            message=f.message[:MESSAGE_CHARS],
            line=f.lines[0] if f.lines else None,
            lines=list(f.lines),
            created_at=now,
        )
        for f in findings
    ]


def _store_edits(claim: Claim, findings: Sequence[_Finding], now: dt.datetime) -> None:
    ClaimEdit.objects.filter(claim=claim).delete()
    ClaimEdit.objects.bulk_create(_edit_rows(claim, findings, now))


# ---------------------------------------------------------------------------------------------
# State changes


def _move(
    claim: Claim,
    event: rules.ClaimEvent,
    *,
    by: Actor,
    now: dt.datetime,
    note: str = "",
    edits: Sequence[rules.Edit] | None = None,
) -> None:
    """Move the claim by the domain's transition, record the event and audit it."""
    before = rules.ClaimState(claim.state)
    try:
        after = rules.transition(before, event, edits=edits)
    except rules.IllegalTransition as error:
        raise RuleViolation(str(error), code="claim_state") from error
    claim.state = after.value
    save_if_unchanged(claim, expected_version=claim.version, fields=["state"])
    ClaimEvent.objects.create(
        claim=claim,
        event=event.value,
        from_state=before.value,
        to_state=after.value,
        by=_user(by),
        at=now,
        note=note[:500],
    )
    audit_record(
        by,
        action=AuditAction.UPDATE,
        patient_id=claim.patient_id,
        object_type=OBJECT_TYPE,
        object_id=claim.pk,
        detail={"event": event.value, "from": before.value, "to": after.value},
    )


def _creation_event(claim: Claim, *, user: User, now: dt.datetime, note: str) -> ClaimEvent:
    return ClaimEvent(
        claim_id=claim.pk,
        event="create",
        from_state="",
        to_state=claim.state,
        by_id=user.pk,
        at=now,
        note=note[:500],
    )


def _created(claim: Claim, *, by: Actor, now: dt.datetime, note: str) -> None:
    _creation_event(claim, user=_user(by), now=now, note=note).save()


# ---------------------------------------------------------------------------------------------
# Building


def _gather_charges(site: Site, period_start: dt.date, period_end: dt.date) -> list[_OpenCharge]:
    """The period's charges at the site on no live claim, each as it stands now: two queries
    (the charges as plain rows, then their adjustments in order, the last one winning)."""
    # An anti-join on the line's charge (its index), not a NOT IN over every line of every site.
    on_a_claim = ClaimLine.objects.filter(charge_id=OuterRef("pk")).exclude(
        claim__state=ClaimState.REJECTED
    )
    rows = list(
        Charge.objects.filter(
            site=site,
            # On a claim that was rejected: the payer never took it, so its charges go on a new
            # claim [billing.domain.claims: "build a new claim from its charges"].
            status__in=(ChargeStatus.OPEN, ChargeStatus.ON_CLAIM),
            service_date__gte=period_start,
            service_date__lte=period_end,
            coverage__isnull=False,
        )
        .exclude(Exists(on_a_claim))
        .order_by("service_date", "id")
        .values_list(*_OPEN_CHARGE_FIELDS)
    )
    last: dict[int, tuple[int, Decimal]] = {}
    if rows:
        # The adjustments of the site's charges of the period, found by a join rather than an
        # IN list of every charge id (a thousand parameters a site at 20,000 patients): those
        # of charges not gathered are read too and never looked up.
        for charge_id, units, amount in (
            ChargeAdjustment.objects.filter(
                charge__site=site,
                charge__service_date__gte=period_start,
                charge__service_date__lte=period_end,
            )
            .order_by("created_at", "id")
            .values_list("charge_id", "new_units", "new_amount")
        ):
            last[charge_id] = (units, amount)
    return [_charge_draft(row, last.get(cast(int, row[0]))) for row in rows]


def _sequential_episodes(
    charges: Sequence[_OpenCharge], setups: dict[int, PayerClaimSetup]
) -> tuple[list[rules.SequentialEpisode], dict[int, str]]:
    """Where each sequential episode's series stands, and the episodes that cannot be billed
    (discharged: the discharge status of the last claim is not recorded) with why."""
    episode_ids = {
        c.episode_id for c in charges if (s := setups.get(c.payer_id)) is not None and s.sequential
    }
    if not episode_ids:
        return [], {}
    episodes = Episode.objects.filter(pk__in=episode_ids).only("id", "discharge_date")
    billed = dict(
        Claim.objects.filter(episode_id__in=episode_ids)
        .exclude(state=ClaimState.REJECTED)
        .exclude(frequency=x12.ClaimFrequency.VOID.value)
        .values("episode_id")
        .annotate(last=Max("statement_to"))
        .values_list("episode_id", "last")
    )
    result: list[rules.SequentialEpisode] = []
    refused: dict[int, str] = {}
    for episode in episodes:
        if episode.discharge_date is not None:
            refused[episode.pk] = (
                "the episode is discharged and its last sequential claim needs the NUBC "
                "discharge status, which OpenIOP does not record yet: bill it outside OpenIOP"
            )
            continue
        result.append(
            rules.SequentialEpisode(
                episode=str(episode.pk),
                billed_through=billed.get(episode.pk),
                discharge_date=None,
                discharge_status=None,
            )
        )
    return result, refused


def _new_claim(
    draft: rules.ClaimDraft,
    first: _OpenCharge,
    *,
    site: Site,
    period: tuple[dt.date, dt.date],
    user: User,
) -> Claim:
    """The unsaved row of a built draft; `first`: the charge of its first line."""
    return Claim(
        key=draft.key[:300],
        patient_id=first.patient_id,
        site=site,
        coverage_id=first.coverage_id,
        payer_id=first.payer_id,
        episode_id=first.episode_id,
        track_id=first.track_id,
        claim_form=draft.claim_form.value,
        frequency=draft.frequency.value,
        bill_type=draft.bill_type or "",
        facility_code=draft.facility_code or "",
        place_of_service=draft.place_of_service or "",
        patient_status=draft.patient_status or "",
        condition_codes=" ".join(draft.condition_codes),
        diagnoses=list(draft.diagnoses),
        authorization=draft.authorization or "",
        period_start=period[0],
        period_end=period[1],
        statement_from=draft.statement_from,
        statement_to=draft.statement_to,
        patient_control_number=_new_control_number(),
        state=ClaimState.DRAFT,
        total=draft.total,
        created_by=user,
    )


def _build_site(
    *, site: Site, period_start: dt.date, period_end: dt.date, by: Actor
) -> ClaimBuildResult:
    with transaction.atomic():
        # Two builds of one site wait for each other (no charge goes on two claims).
        Site.objects.select_for_update(no_key=True).filter(pk=site.pk).first()
        charges = _gather_charges(site, period_start, period_end)
        payer_setups = {
            s.payer_id: s
            for s in PayerClaimSetup.objects.filter(payer_id__in={c.payer_id for c in charges})
        }
        track_setups = list(
            TrackClaimSetup.objects.filter(track_id__in={c.track_id for c in charges})
        )
        diagnoses = episode_diagnoses(sorted({c.episode_id for c in charges}))
        # The coverages' authorizations and charges, read once for the allocation (REF*G1)
        # and again for the scrub (what each authorization has left).
        loaded = coverage_authorizations({c.coverage_id for c in charges})
        authorized = charge_authorizations(loaded.coverage_ids, loaded=loaded)
        episodes, refused_episodes = _sequential_episodes(charges, payer_setups)
        not_built: dict[str, int] = defaultdict(int)
        items: list[rules.ClaimCharge] = []
        by_id: dict[str, _OpenCharge] = {}
        for charge in charges:
            if charge.episode_id in refused_episodes:
                not_built[refused_episodes[charge.episode_id]] += 1
                continue
            by_id[str(charge.pk)] = charge
            items.append(
                rules.ClaimCharge(
                    charge_id=str(charge.pk),
                    patient=str(charge.patient_id),
                    coverage=str(charge.coverage_id),
                    episode=str(charge.episode_id),
                    charge=charge.draft,
                    diagnoses=tuple(diagnoses.get(charge.episode_id, [])),
                    authorization=authorized.get(charge.pk),
                )
            )
        build = rules.build_claims(
            items,
            setups=[_program_setup(s) for s in track_setups],
            payer_rules=[_period_rules(s) for s in payer_setups.values()],
            episodes=episodes,
        )
        for refused in build.not_built:
            not_built[refused.reason] += len(refused.charge_ids)
        now = clock.now()
        user = _user(by)
        # Every claim, line, creation event and edit of the site is written with one insert per
        # table (bulk_create, in batches): the number of queries does not grow with the claims.
        created = Claim.objects.bulk_create(
            [
                _new_claim(
                    draft,
                    by_id[draft.lines[0].charge_id],
                    site=site,
                    period=(period_start, period_end),
                    user=user,
                )
                for draft in build.claims
            ],
            batch_size=BULK_BATCH,
        )
        lines = ClaimLine.objects.bulk_create(
            [
                ClaimLine(
                    claim_id=claim.pk,
                    charge_id=int(line.charge_id),
                    number=number,
                    service_date=line.service_date,
                    code=line.code,
                    modifiers=",".join(line.modifiers),
                    revenue_code=line.revenue_code or "",
                    units=line.units,
                    amount=line.amount,
                    line_control_number=f"{claim.patient_control_number}-{number}",
                )
                for claim, draft in zip(created, build.claims, strict=True)
                for number, line in enumerate(draft.lines, start=1)
            ],
            batch_size=BULK_BATCH,
        )
        lines_of: dict[int, list[ClaimLine]] = defaultdict(list)
        for line in lines:
            lines_of[line.claim_id].append(line)
        ClaimEvent.objects.bulk_create(
            [
                _creation_event(
                    claim, user=user, now=now, note=f"built for {period_start} to {period_end}"
                )
                for claim in created
            ],
            batch_size=BULK_BATCH,
        )
        with_errors = 0
        if created:
            inputs = _scrub_inputs(site, created, lines_of=lines_of, authorizations=loaded)
            edits: list[ClaimEdit] = []
            for claim in created:
                findings = _scrub_one(claim, lines_of[claim.pk], inputs)
                edits.extend(_edit_rows(claim, findings, now))
                with_errors += any(f.severity == "error" for f in findings)
            # New claims have no edits yet: nothing to delete first (_store_edits).
            ClaimEdit.objects.bulk_create(edits, batch_size=BULK_BATCH)
        charge_ids = [int(line.charge_id) for d in build.claims for line in d.lines]
        # The charges of the lines just written, named by their claims (one id a claim, not
        # one a charge, in the statement).
        Charge.objects.filter(
            pk__in=ClaimLine.objects.filter(claim_id__in=[c.pk for c in created]).values(
                "charge_id"
            )
        ).update(status=ChargeStatus.ON_CLAIM)
        result = ClaimBuildResult(
            period_start=period_start,
            period_end=period_end,
            sites=1,
            claims=len(created),
            with_errors=with_errors,
            charges=len(charge_ids),
            not_built=tuple((n, reason) for reason, n in sorted(not_built.items())),
            claim_ids=tuple(c.pk for c in created),
        )
        audit_record_many(
            by,
            action=AuditAction.CREATE,
            object_type="claim_build",
            patient_ids={c.patient_id for c in charges},
            object_id=site.pk,
            detail={
                "period": [period_start.isoformat(), period_end.isoformat()],
                "claims": result.claims,
                "charges": result.charges,
                "with_errors": with_errors,
            },
        )
    return result


def claims_build(
    *,
    by: Actor,
    period_start: dt.date,
    period_end: dt.date,
    site: Site | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ClaimBuildResult:
    """Build draft claims from the open charges of `period_start` to `period_end` (both
    included) at `site`, or at every site the actor may see (see the module). Returns counts and
    why charges were left off; `on_progress(done, total)` after each site.

    Raises NotPermitted (audited) without Cap.REVENUE_MANAGE or for a site the actor may not see;
    RuleViolation for a period that ends before it starts or is longer than MAX_PERIOD_DAYS.
    """
    if site is not None:
        require_site(by, site, Cap.REVENUE_MANAGE, object_type="claim_build")
        sites = [site]
    else:
        require(by, Cap.REVENUE_MANAGE, object_type="claim_build")
        sites = list(visible_sites(by))
    if period_end < period_start:
        raise RuleViolation("The period ends before it starts.", code="period", field="period_end")
    if (period_end - period_start).days + 1 > MAX_PERIOD_DAYS:
        raise RuleViolation(
            f"Build at most {MAX_PERIOD_DAYS} days at a time (a month or a quarter).",
            code="period_too_long",
            field="period_end",
        )
    total = ClaimBuildResult(period_start=period_start, period_end=period_end)
    for done, s in enumerate(sites, start=1):
        total = total.plus(
            _build_site(site=s, period_start=period_start, period_end=period_end, by=by)
        )
        if on_progress is not None:
            on_progress(done, len(sites))
    return total


# ---------------------------------------------------------------------------------------------
# One claim


def _check_claim(by: Actor, claim_id: int) -> None:
    """Access to the claim (Cap.REVENUE_MANAGE at its site), checked before the write's
    transaction so a refusal's audit entry is kept."""
    claim = Claim.objects.select_related("site").filter(pk=claim_id).first()
    if claim is None:
        raise NotFound("No such claim.", code="claim_not_found")
    check_for(
        by,
        claim,
        cap=Cap.REVENUE_MANAGE,
        object_type=OBJECT_TYPE,
        site_of=lambda c: c.site,
        patient_id_of=lambda c: c.patient_id,
        action=None,
    )


def _claim_for_update(claim_id: int) -> Claim:
    """The claim, locked for this transaction (its access checked by _check_claim)."""
    claim = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("site", "replaces")
        .filter(pk=claim_id)
        .first()
    )
    if claim is None:
        raise NotFound("No such claim.", code="claim_not_found")
    return claim


def claim_scrub(*, by: Actor, claim_id: int) -> list[ClaimEdit]:
    """Scrub a draft claim again and keep its edits (they replace the last scrub's)."""
    _check_claim(by, claim_id)
    with transaction.atomic():
        claim = _claim_for_update(claim_id)
        if claim.state != ClaimState.DRAFT:
            raise RuleViolation("Only a draft claim is scrubbed again.", code="claim_state")
        lines = list(claim.lines.order_by("number"))
        findings = _scrub_one(claim, lines, _scrub_inputs(claim.site, [claim]))
        _store_edits(claim, findings, clock.now())
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=claim.patient_id,
            object_type=OBJECT_TYPE,
            object_id=claim.pk,
            detail={"scrubbed": len(findings)},
        )
    return list(claim.edits.all())


def claim_mark_ready(*, by: Actor, claim_id: int, expected_version: int) -> Claim:
    """Scrub the draft again and mark it ready. Raises RuleViolation listing every error while
    any remains (the new edits are kept), Conflict when the claim changed since it was read."""
    edits = claim_scrub(by=by, claim_id=claim_id)
    errors = [e for e in edits if e.severity == "error"]
    _check_claim(by, claim_id)
    with transaction.atomic():
        claim = _claim_for_update(claim_id)
        claim.version = expected_version  # save_if_unchanged reports a stale one
        if errors:
            listed = " ".join(e.message for e in errors)
            raise RuleViolation(
                f"The claim has {len(errors)} error(s) to fix before it is ready: {listed}",
                code="claim_has_errors",
            )
        domain_edits = [
            rules.Edit(rules.EditCode(e.code), rules.Severity(e.severity), e.message)
            for e in edits
            if e.code in _DOMAIN_EDIT_CODES
        ]
        _move(claim, rules.ClaimEvent.MARK_READY, by=by, now=clock.now(), edits=domain_edits)
    return claim


def claim_reopen(*, by: Actor, claim_id: int, expected_version: int) -> Claim:
    """Take a ready claim back to draft (before it is sent)."""
    _check_claim(by, claim_id)
    with transaction.atomic():
        claim = _claim_for_update(claim_id)
        claim.version = expected_version
        _move(claim, rules.ClaimEvent.REOPEN, by=by, now=clock.now())
    return claim


CorrectionKind = Literal["replacement", "void"]


def claim_correct(
    *, by: Actor, claim_id: int, kind: CorrectionKind, expected_version: int
) -> Claim:
    """A new draft claim replacing (frequency 7) or voiding (8) the claim, quoting its payer
    claim control number (REF*F8) [domain.md 3]; the original is never edited. The new claim
    bills the same charges and is scrubbed like a built one.

    Raises RuleViolation (the domain's words) when the claim cannot be corrected: not held by
    the payer, no control number, already corrected, a void; Conflict when it changed."""
    if kind not in ("replacement", "void"):
        raise RuleViolation("A correction is a replacement or a void.", code="correction_kind")
    _check_claim(by, claim_id)
    with transaction.atomic():
        original = _claim_for_update(claim_id)
        if original.version != expected_version:
            raise Conflict(
                "This claim was changed by someone else meanwhile: reload it.",
                code="stale_version",
            )
        lines = list(original.lines.order_by("number"))
        superseded = (
            Claim.objects.filter(replaces=original).exclude(state=ClaimState.REJECTED).exists()
        )
        record = rules.ClaimRecord(
            claim=_draft_of(original, lines),
            state=rules.ClaimState(original.state),
            payer_claim_control_number=original.payer_claim_control_number or None,
            superseded=superseded,
        )
        try:
            draft = rules.replacement_of(record) if kind == "replacement" else rules.void_of(record)
        except rules.CorrectionRefused as error:
            raise RuleViolation(str(error), code="correction_refused") from error
        pcn = _new_control_number()
        now = clock.now()
        claim = Claim.objects.create(
            key=draft.key[:300],
            patient_id=original.patient_id,
            site_id=original.site_id,
            coverage_id=original.coverage_id,
            payer_id=original.payer_id,
            episode_id=original.episode_id,
            track_id=original.track_id,
            claim_form=original.claim_form,
            frequency=draft.frequency.value,
            bill_type=draft.bill_type or "",
            facility_code=original.facility_code,
            place_of_service=original.place_of_service,
            patient_status=original.patient_status,
            condition_codes=original.condition_codes,
            diagnoses=list(original.diagnoses),
            authorization=original.authorization,
            period_start=original.period_start,
            period_end=original.period_end,
            statement_from=draft.statement_from,
            statement_to=draft.statement_to,
            patient_control_number=pcn,
            state=ClaimState.DRAFT,
            total=draft.total,
            replaces=original,
            created_by=_user(by),
        )
        new_lines = ClaimLine.objects.bulk_create(
            ClaimLine(
                claim=claim,
                charge_id=line.charge_id,
                number=line.number,
                service_date=line.service_date,
                code=line.code,
                modifiers=line.modifiers,
                revenue_code=line.revenue_code,
                units=line.units,
                amount=line.amount,
                line_control_number=f"{pcn}-{line.number}",
            )
            for line in lines
        )
        claim.replaces = original
        _created(claim, by=by, now=now, note=f"{kind} of claim {original.patient_control_number}")
        _store_edits(
            claim, _scrub_one(claim, new_lines, _scrub_inputs(original.site, [claim])), now
        )
        audit_record(
            by,
            action=AuditAction.CREATE,
            patient_id=claim.patient_id,
            object_type=OBJECT_TYPE,
            object_id=claim.pk,
            detail={"correction": kind, "of": original.pk},
        )
    return claim


# ---------------------------------------------------------------------------------------------
# Export


@dataclass(frozen=True)
class ClaimExportResult:
    exports: tuple[ClaimExport, ...]
    claims: int
    # Ready claims not sent: no Part 2 consent covers their payer for payment (now).
    withheld: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        text = f"Wrote {len(self.exports)} interchange(s) with {self.claims} claim(s)."
        if self.withheld:
            text += (
                f" {len(self.withheld)} claim(s) not sent: no 42 CFR Part 2 consent covers "
                f"the payer for payment ({', '.join(self.withheld)})."
            )
        return text


def _address(line: str, city: str, state: str, postal: str) -> x12.Address:
    return x12.Address(
        line1=line, city=city, state=state.upper(), postal_code=postal.replace("-", "")
    )


def _parties(claim: Claim, setup: PayerClaimSetup, track: TrackClaimSetup) -> rules.ClaimParties:
    patient = claim.patient
    coverage = claim.coverage
    person = x12.Person(
        last_name=patient.legal_last_name,
        first_name=patient.legal_first_name,
        birth_date=patient.date_of_birth,
        gender=_GENDER.get(patient.sex, "U"),
        address=_address(patient.address_line, patient.city, patient.state, patient.postal_code),
    )
    provider = None
    if track.provider_npi and track.provider_last_name and track.provider_first_name:
        provider = x12.Provider(
            last_name=track.provider_last_name,
            first_name=track.provider_first_name,
            npi=track.provider_npi,
            taxonomy=track.provider_taxonomy or None,
        )
    professional = claim.claim_form == DomainForm.PROFESSIONAL.value
    return rules.ClaimParties(
        patient_control_number=claim.patient_control_number,
        subscriber=x12.Subscriber(
            person=person,
            member_id=coverage.member_id,
            group_number=coverage.group_number or None,
        ),
        payer=x12.Payer(
            name=claim.payer.name,
            payer_id=claim.payer.payer_id or setup.receiver_id,
            claim_filing_indicator=setup.claim_filing_indicator,
        ),
        assignment=cast(x12.AssignmentCode, setup.assignment),
        benefits_assignment=cast(x12.BenefitsAssignment, setup.benefits_assignment),
        release_of_information=cast(x12.ReleaseOfInformation, setup.release_of_information),
        provider=provider,
        provider_signature_on_file=setup.provider_signature_on_file if professional else None,
        line_control_numbers=tuple(line.line_control_number for line in claim.lines.all()),
    )


def _export_group(
    *,
    by: Actor,
    site: Site,
    claims: list[Claim],
    provider: BillingProvider,
    setup: PayerClaimSetup,
    tracks: dict[tuple[int, str], TrackClaimSetup],
    out_dir: Path | None,
) -> ClaimExport:
    form = claims[0].claim_form
    last = ClaimExport.objects.filter(site=site).aggregate(n=Max("interchange_control_number"))
    control = (last["n"] or 0) + 1
    now = clock.now()
    try:
        x12_claims = [
            rules.to_x12_claim(
                _draft_of(claim, list(claim.lines.all())),
                _parties(claim, setup, tracks[(claim.track_id, claim.claim_form)]),
            )
            for claim in claims
        ]
        interchange = x12.Interchange(
            envelope=x12.Envelope(
                sender_qualifier=provider.sender_qualifier,
                sender_id=provider.sender_id,
                receiver_qualifier=setup.receiver_qualifier,
                receiver_id=setup.receiver_interchange_id,
                application_sender_code=provider.application_sender_code,
                application_receiver_code=setup.application_receiver_code,
                interchange_control_number=control,
                group_control_number=control,
                transaction_set_control_number=control,
                created_at=now,
                reference=f"OIOP{control:09d}",
                usage="P" if provider.production else "T",
            ),
            submitter=x12.Submitter(
                name=provider.submitter_name,
                identifier=provider.submitter_id,
                contact_name=provider.contact_name,
                phone=provider.contact_phone,
            ),
            receiver=x12.Receiver(name=setup.receiver_name, identifier=setup.receiver_id),
            billing_provider=x12.BillingProvider(
                name=provider.name,
                npi=provider.npi,
                ein=provider.ein,
                address=_address(
                    provider.address_line, provider.city, provider.state, provider.postal_code
                ),
                taxonomy=provider.taxonomy or None,
            ),
            claims=tuple(x12_claims),
        )
        text = (
            x12.write_837i(interchange)
            if form == DomainForm.INSTITUTIONAL.value
            else x12.write_837p(interchange)
        )
    except (ValueError, TypeError) as error:
        raise RuleViolation(
            f"The {claims[0].payer.name} {form} interchange cannot be written: {error}",
            code="export_invalid",
        ) from error
    file_name = f"{form}-{site.pk}-{claims[0].payer_id}-{control:09d}.x12"
    export = ClaimExport.objects.create(
        site=site,
        payer_id=claims[0].payer_id,
        claim_form=form,
        interchange_control_number=control,
        group_control_number=control,
        transaction_set_control_number=control,
        file_name=file_name,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        content=text,
        created_by=_user(by),
        created_at=now,
    )
    export.claims.set(claims)
    for claim in claims:
        _move(claim, rules.ClaimEvent.SUBMIT, by=by, now=now, note=f"in {file_name}")
    if out_dir is not None:
        (out_dir / file_name).write_text(text, encoding="ascii")
    return export


def claims_export(
    *,
    by: Actor,
    claim_ids: Sequence[int] | None = None,
    site: Site | None = None,
    out_dir: Path | None = None,
) -> ClaimExportResult:
    """Write the ready claims (those of `claim_ids`, or every ready claim at `site` or at the
    actor's sites) as 837I/837P interchanges, one per site, payer and form; keep each
    (ClaimExport), mark the claims submitted, and write the files into `out_dir` when given.

    Raises NotPermitted (audited); RuleViolation when a claim named is not ready, the site has
    no billing provider, or an interchange cannot be written (nothing is written then)."""
    if site is not None:
        require_site(by, site, Cap.REVENUE_MANAGE, object_type="claim_export")
    else:
        require(by, Cap.REVENUE_MANAGE, object_type="claim_export")
    if out_dir is not None and not out_dir.is_dir():
        raise RuleViolation(f"{out_dir} is not a directory.", code="out_dir", field="out")
    for claim_id in claim_ids or ():
        _check_claim(by, claim_id)
    exports: list[ClaimExport] = []
    count = 0
    with transaction.atomic():
        qs = (
            Claim.objects.select_related("site", "payer", "patient", "coverage", "replaces")
            .prefetch_related(_claims_with_lines())
            .select_for_update(of=("self",))
            .order_by("id")
        )
        if claim_ids is not None:
            claims = list(qs.filter(pk__in=list(claim_ids)))
            for claim in claims:
                if claim.state != ClaimState.READY:
                    raise RuleViolation(
                        f"Claim {claim.patient_control_number} is "
                        f"{rules.ClaimState(claim.state).words}, not ready: only ready claims "
                        "are sent.",
                        code="claim_state",
                    )
        else:
            sites = [site] if site is not None else list(visible_sites(by))
            claims = list(qs.filter(site__in=sites, state=ClaimState.READY))
        # Checked again at the moment of sending: a consent revoked since the scrub stops the
        # claim at once (42 CFR 2.31(a)(6)).
        part2 = _part2_decisions(claims)
        refused = [c for c in claims if c.pk in part2 and not part2[c.pk][1].permitted]
        if refused and claim_ids is not None:
            first = refused[0]
            raise RuleViolation(
                f"Claim {first.patient_control_number}: " + _part2_message(*part2[first.pk]),
                code=PART2_CONSENT_MISSING,
            )
        claims = [c for c in claims if c not in refused]
        groups: dict[tuple[int, int, str], list[Claim]] = defaultdict(list)
        for claim in claims:
            groups[(claim.site_id, claim.payer_id, claim.claim_form)].append(claim)
        providers = {
            p.site_id: p for p in BillingProvider.objects.filter(site_id__in={k[0] for k in groups})
        }
        setups = {
            s.payer_id: s
            for s in PayerClaimSetup.objects.filter(payer_id__in={k[1] for k in groups})
        }
        tracks = {
            (t.track_id, t.claim_form): t
            for t in TrackClaimSetup.objects.filter(track_id__in={c.track_id for c in claims})
        }
        for (site_id, payer_id, _form), members in sorted(groups.items()):
            provider = providers.get(site_id)
            if provider is None:
                raise RuleViolation(
                    f"{members[0].site.name} has no billing provider: set it first.",
                    code="billing_provider_missing",
                )
            setup = setups.get(payer_id)
            if setup is None:
                raise RuleViolation(
                    f"{members[0].payer.name} has no claim setup: set it first.",
                    code="payer_setup_missing",
                )
            Site.objects.select_for_update(no_key=True).filter(pk=site_id).first()
            exports.append(
                _export_group(
                    by=by,
                    site=members[0].site,
                    claims=members,
                    provider=provider,
                    setup=setup,
                    tracks=tracks,
                    out_dir=out_dir,
                )
            )
            count += len(members)
        if claims:
            audit_record_many(
                by,
                action=AuditAction.EXPORT,
                object_type="claim_export",
                patient_ids={c.patient_id for c in claims},
                detail={"interchanges": len(exports), "claims": count},
            )
        _account_part2_claims(by, [c for c in claims if c.pk in part2], part2)
    return ClaimExportResult(
        exports=tuple(exports),
        claims=count,
        withheld=tuple(c.patient_control_number for c in refused),
    )


def _account_part2_claims(
    by: Actor, claims: Sequence[Claim], part2: dict[int, tuple[str, Decision]]
) -> None:
    """The accounting of disclosures for the claims of Part 2 episodes just sent (42 CFR 2.25),
    one call per payer. The 837 has no place for the 2.32 notice: recorded as not attached."""
    by_payer: dict[int, list[Claim]] = defaultdict(list)
    for claim in claims:
        by_payer[claim.payer_id].append(claim)
    for payer_id, members in by_payer.items():
        name = part2[members[0].pk][0]
        disclosure_record(
            by=by,
            recipient=Recipient.payer(payer_id, name),
            purpose=PAYMENT,
            channel=Channel.CLAIM_EXPORT,
            notice_attached=False,
            items=[
                DisclosureItem(
                    patient_id=c.patient_id,
                    consent_id=part2[c.pk][1].consent_id,
                    description=(
                        f"837 claim {c.patient_control_number}: services "
                        f"{c.statement_from:%Y-%m-%d} to {c.statement_to:%Y-%m-%d}, diagnoses "
                        "and charges"
                    ),
                    resources=({"type": "Claim", "id": str(c.pk)},),
                )
                for c in members
            ],
        )
