"""Importing an 835 remittance and working what it leaves: the one doorway that writes
remittances, their postings, denial work items and the unmatched queue (issue 16, point 5).

`remittance_import(by=, name=, text=)`:

1. Refuses a file already imported (its sha256) before reading it, and an 835 that does not
   parse (billing.domain.remittance.parse_835): a RuleViolation naming the segment, nothing
   written.
2. Refuses a trace number (TRN02) of the same payer already imported: one payment posts once.
3. Builds the claims index from our claims the 835 names (CLP01 = the claim's patient control
   number), one query for the claims and one for their lines, limited to claims that were sent
   (submitted or later) at the sites the actor may see: a CLP naming a claim of another site or
   organization matches nothing here and goes to the unmatched queue, nothing of theirs posted.
4. billing.domain.remittance.match_remittance plans the posting; in one transaction the service
   writes the remittance, a RemittanceClaim per CLP, the postings, each matched claim's state
   (billing.domain.claims.transition: paid, partially paid or denied, with a ClaimEvent; the
   payer's claim control number stored), the patient's share (PR) through
   billing.services.accounts.patient_responsibility_add, the denial work items, the unmatched
   items and the report line by line. One audit entry names every patient whose claims it
   posted to.

What the outcome means for the claim's state (this module's mapping of the domain's
ClaimOutcome onto ClaimEvent): paid and "applied to the patient" (the payer processed the claim
and assigned the rest to the patient) are PAY; partially paid is PAY_PARTIALLY; denied and
"not this payer's claim" (CLP02 23) are DENY; a reversal (CLP02 22) and a predetermination
(CLP02 25) change no state. A state that does not allow the move (a claim already paid getting a
second remittance) keeps its state and the report says so; the money is posted all the same.

`denial_work` records a denial's next step (a note, an owner, worked or closed);
`unmatched_resolve` attaches an unmatched item to one of our claims and posts it from the file
as received.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from openiop.accounts.access import require, require_site, site_scope, visible_site_ids
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record, audit_record_many
from openiop.billing.choices_remittances import DenialStatus, ReportOutcome, UnmatchedStatus
from openiop.billing.domain import claims as claim_rules
from openiop.billing.domain import remittance as rules
from openiop.billing.models import (
    Claim,
    ClaimLine,
    Payer,
)
from openiop.billing.models.claims import ClaimEvent as ClaimHistory
from openiop.billing.models.claims import ClaimState
from openiop.billing.models.remittances import (
    DenialWorkItem,
    ImportReportLine,
    Remittance,
    RemittanceClaim,
    RemittancePosting,
    UnmatchedRemittanceItem,
)
from openiop.billing.services.accounts import patient_responsibility_add
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.concurrency import save_if_unchanged
from openiop.core.errors import NotFound, RuleViolation
from openiop.programs.models import Site

# A claim the payer may have adjudicated: it was sent. Drafts, ready and rejected claims never
# reached the payer's adjudication, so a CLP naming one is not matched to it.
SENT_STATES = frozenset(
    {
        ClaimState.SUBMITTED,
        ClaimState.ACCEPTED,
        ClaimState.PAID,
        ClaimState.PARTIALLY_PAID,
        ClaimState.DENIED,
        ClaimState.APPEALED,
    }
)
OUTCOME_EVENT: dict[rules.ClaimOutcome, claim_rules.ClaimEvent] = {
    rules.ClaimOutcome.PAID: claim_rules.ClaimEvent.PAY,
    rules.ClaimOutcome.APPLIED_TO_PATIENT: claim_rules.ClaimEvent.PAY,
    rules.ClaimOutcome.PARTIALLY_PAID: claim_rules.ClaimEvent.PAY_PARTIALLY,
    rules.ClaimOutcome.DENIED: claim_rules.ClaimEvent.DENY,
    rules.ClaimOutcome.NOT_OUR_CLAIM: claim_rules.ClaimEvent.DENY,
}
MAX_FILE_CHARS = 5_000_000
NAME_CHARS = 255
NOTE_CHARS = 2000


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the remittance and its report lines (outcome, text), in order."""

    remittance: Remittance
    report: tuple[tuple[str, str], ...]

    @property
    def sentence(self) -> str:
        r = self.remittance
        return (
            f"Remittance {r.trace_number} from {r.payer_name}: {rules.dollars(r.payment_amount)} "
            f"paid, {rules.dollars(r.posted_payments)} posted to claims, "
            f"{rules.dollars(r.unmatched_payments)} waiting in the unmatched queue, "
            f"{r.problems} problem(s)."
        )


# --- helpers -------------------------------------------------------------------------------------


def organization_id_of(actor: Actor) -> int:
    """The organization the actor works for: theirs, else that of the first site they see."""
    user = actor.user
    if user is not None and user.organization_id:
        return int(user.organization_id)
    site = Site.objects.filter(pk__in=visible_site_ids(actor)).order_by("id").first()
    if site is None:
        raise RuleViolation("You work at no site, so no remittance can be yours.", code="no_site")
    return int(site.organization_id)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def as_json(payment: rules.ClaimPayment | rules.ServicePayment) -> dict[str, Any]:
    """A CLP (with its lines) or an SVC as JSON-ready data: amounts and dates as text."""
    data: dict[str, Any] = _jsonable(dataclasses.asdict(payment))
    return data


def _modifiers(text: str) -> tuple[str, ...]:
    return tuple(m for m in text.replace(",", " ").replace(":", " ").split() if m)


def _indexed(claim: Claim, lines: Sequence[ClaimLine]) -> rules.IndexedClaim:
    return rules.IndexedClaim(
        key=str(claim.pk),
        lines=tuple(
            rules.IndexedLine(
                id=str(line.pk),
                code=line.code,
                service_date=line.service_date,
                billed=line.amount,
                modifiers=_modifiers(line.modifiers),
                line_control_number=line.line_control_number or None,
                revenue_code=line.revenue_code or None,
            )
            for line in lines
        ),
    )


@dataclass
class _Claims:
    """Our claims a remittance names, with their lines (two queries)."""

    by_pcn: dict[str, Claim]
    lines: dict[int, list[ClaimLine]]

    @property
    def index(self) -> dict[str, rules.IndexedClaim]:
        return {
            pcn: _indexed(claim, self.lines.get(claim.pk, [])) for pcn, claim in self.by_pcn.items()
        }

    def claim(self, key: str) -> Claim:
        return next(c for c in self.by_pcn.values() if str(c.pk) == key)

    def line(self, line_id: str | None) -> ClaimLine | None:
        if line_id is None:
            return None
        return next(
            line for lines in self.lines.values() for line in lines if str(line.pk) == line_id
        )


def _claims_named(actor: Actor, numbers: Iterable[str]) -> _Claims:
    """The sent claims at the actor's sites whose patient control number is in `numbers`."""
    claims = list(
        Claim.objects.filter(patient_control_number__in=sorted(set(numbers)))
        .filter(state__in=SENT_STATES)
        .filter(site_scope(actor))
        .select_related("patient", "payer")
        .order_by("id")
    )
    lines: dict[int, list[ClaimLine]] = defaultdict(list)
    for line in ClaimLine.objects.filter(claim__in=[c.pk for c in claims]).order_by(
        "claim_id", "number"
    ):
        lines[line.claim_id].append(line)
    return _Claims({c.patient_control_number: c for c in claims}, dict(lines))


def _parse(text: str) -> rules.Remittance835:
    try:
        return rules.parse_835(text)
    except rules.RemittanceParseError as exc:
        raise RuleViolation(
            f"The file is not an 835 this system can post, and nothing was posted. {exc}",
            code="remittance_unreadable",
            field="file",
        ) from exc


# --- applying a posting plan ---------------------------------------------------------------------


class _Writer:
    """Writes one posting plan's rows for one remittance (inside the caller's transaction)."""

    def __init__(
        self,
        *,
        remittance: Remittance,
        remit: rules.Remittance835,
        claims: _Claims,
        by: Actor,
        now: dt.datetime,
        first_line_no: int,
    ) -> None:
        self.remittance = remittance
        self.remit = remit
        self.claims = claims
        self.by = by
        self.now = now
        self.report: list[tuple[str, str]] = []
        self.line_no = first_line_no
        self.patients: set[int] = set()

    def say(self, outcome: str, text: str) -> None:
        self.report.append((outcome, text))

    def flush_report(self) -> None:
        rows = []
        for outcome, text in self.report:
            rows.append(
                ImportReportLine(
                    remittance=self.remittance, line_no=self.line_no, outcome=outcome, text=text
                )
            )
            self.line_no += 1
        ImportReportLine.objects.bulk_create(rows)

    def apply(
        self,
        plan: rules.PostingPlan,
        rclaims: dict[int, RemittanceClaim],
        *,
        change_states: bool = True,
    ) -> None:
        """Write `plan`; `rclaims` are the RemittanceClaim rows by the CLP's position."""
        for said in plan.report:
            self.say(said.status.value, said.text)
        positions = {id(c): n for n, c in enumerate(self.remit.claims, start=1)}
        matched_positions = [
            n
            for n, c in enumerate(self.remit.claims, start=1)
            if c.patient_control_number in self.claims.by_pcn
        ]
        postings: list[RemittancePosting] = []
        patient_shares: dict[tuple[int, int | None], Decimal] = defaultdict(Decimal)
        for position, planned in zip(matched_positions, plan.claims, strict=True):
            rclaim = rclaims[position]
            claim = self.claims.claim(planned.claim_key)
            self.patients.add(claim.patient_id)
            rclaim.claim = claim
            rclaim.outcome = planned.outcome.value
            rclaim.save(update_fields=["claim", "outcome"])
            reversal = planned.status == rules.STATUS_REVERSAL
            for p in planned.postings:
                line = self.claims.line(p.line_id)
                postings.append(
                    RemittancePosting(
                        remittance=self.remittance,
                        remittance_claim=rclaim,
                        claim=claim,
                        claim_line=line,
                        kind=p.kind.value,
                        reversal=reversal,
                        group_code=p.group or "",
                        reason_code=p.reason or "",
                        remark_codes=list(p.remark_codes),
                        amount=p.amount,
                        posted_at=self.now,
                    )
                )
                if p.kind is rules.PostingKind.PATIENT_RESPONSIBILITY:
                    patient_shares[(claim.pk, line.pk if line else None)] += p.amount
            if change_states:
                self.change_state(claim, planned)
        RemittancePosting.objects.bulk_create(postings)
        self.move_to_patients(patient_shares)
        self.denials(plan, rclaims, matched_positions)
        self.unmatched(plan, rclaims, positions)

    def change_state(self, claim: Claim, planned: rules.ClaimPosting) -> None:
        event = OUTCOME_EVENT.get(planned.outcome)
        number = planned.payer_claim_control_number
        if event is None:
            if number and not claim.payer_claim_control_number:
                Claim.objects.filter(pk=claim.pk).update(payer_claim_control_number=number)
            return
        try:
            new_state = claim_rules.transition(claim_rules.ClaimState(claim.state), event)
        except claim_rules.IllegalTransition as exc:
            self.say(
                ReportOutcome.PROBLEM,
                f"Claim {claim.patient_control_number} stays {ClaimState(claim.state).label.lower()}"
                f": {exc} The amounts above are posted all the same.",
            )
            if number and not claim.payer_claim_control_number:
                Claim.objects.filter(pk=claim.pk).update(payer_claim_control_number=number)
            return
        updated = Claim.objects.filter(pk=claim.pk, version=claim.version).update(
            state=new_state.value,
            payer_claim_control_number=number or claim.payer_claim_control_number,
            version=F("version") + 1,
            updated_at=self.now,
        )
        if not updated:
            raise RuleViolation(
                f"Claim {claim.patient_control_number} changed while the remittance was being "
                "posted; nothing was posted. Import the file again.",
                code="claim_changed",
            )
        user = self.by.user
        assert user is not None
        ClaimHistory.objects.create(
            claim=claim,
            event=event.value,
            from_state=claim.state,
            to_state=new_state.value,
            by=user,
            at=self.now,
            note=(
                f"835 {self.remittance.trace_number} from {self.remittance.payer_name}: "
                f"{planned.outcome.value}"
            )[:500],
        )
        audit_record(
            self.by,
            action=AuditAction.UPDATE,
            patient_id=claim.patient_id,
            object_type="claim",
            object_id=claim.pk,
            detail={
                "event": event.value,
                "from": claim.state,
                "to": new_state.value,
                "remittance": self.remittance.pk,
            },
        )
        self.say(
            ReportOutcome.NOTE,
            f"Claim {claim.patient_control_number} is now {new_state.words} "
            f"(payer claim {number}).",
        )
        claim.state = new_state.value
        claim.version += 1

    def move_to_patients(self, shares: dict[tuple[int, int | None], Decimal]) -> None:
        source = f"835 TRN {self.remittance.trace_number} {self.remittance.payer_identifier}"
        for (claim_id, line_id), amount in shares.items():
            claim = next(c for c in self.claims.by_pcn.values() if c.pk == claim_id)
            if amount <= 0:
                self.say(
                    ReportOutcome.PROBLEM,
                    f"The patient's share on claim {claim.patient_control_number} comes to "
                    f"{rules.dollars(amount)} (a reversal): take it off the patient's account "
                    "by hand.",
                )
                continue
            _, created = patient_responsibility_add(
                by=self.by,
                patient=claim.patient,
                amount=amount,
                date=self.remittance.payment_date,
                source=source[:200],
                claim_ref=str(claim.pk),
                line_ref="" if line_id is None else str(line_id),
            )
            if created:
                self.say(
                    ReportOutcome.POSTED,
                    f"{rules.dollars(amount)} of claim {claim.patient_control_number} added to "
                    "the patient's balance.",
                )

    def denials(
        self,
        plan: rules.PostingPlan,
        rclaims: dict[int, RemittanceClaim],
        matched_positions: list[int],
    ) -> None:
        by_claim: dict[tuple[str, str, str], RemittanceClaim] = {}
        for position in matched_positions:
            rc = rclaims[position]
            if rc.claim is not None:
                key = (str(rc.claim.pk), rc.payer_claim_control_number, rc.status_code)
                by_claim.setdefault(key, rc)
        items = []
        for entry in plan.denials:
            rc = by_claim[(entry.claim_key, entry.payer_claim_control_number, entry.status)]
            items.append(
                DenialWorkItem(
                    remittance=self.remittance,
                    remittance_claim=rc,
                    claim=self.claims.claim(entry.claim_key),
                    claim_line=self.claims.line(entry.line_id),
                    payer=self.remittance.payer,
                    payer_name=entry.payer_name[:200],
                    payer_identifier=entry.payer_id[:80],
                    status_code=entry.status,
                    group_code=entry.group or "",
                    reason_code=entry.reason or "",
                    remark_codes=list(entry.remark_codes),
                    amount=entry.amount,
                    next_action=entry.next_action,
                    created_at=self.now,
                )
            )
        DenialWorkItem.objects.bulk_create(items)

    def unmatched(
        self,
        plan: rules.PostingPlan,
        rclaims: dict[int, RemittanceClaim],
        positions: dict[int, int],
    ) -> None:
        items = []
        for item in plan.unmatched:
            rc = rclaims[positions[id(item.claim)]]
            line_position = None
            if item.line is not None:
                line_position = next(
                    n for n, line in enumerate(item.claim.lines, start=1) if line is item.line
                )
            items.append(
                UnmatchedRemittanceItem(
                    remittance=self.remittance,
                    remittance_claim=rc,
                    line_position=line_position,
                    candidate_claim=(
                        self.claims.claim(item.claim_key) if item.claim_key is not None else None
                    ),
                    patient_control_number=item.patient_control_number,
                    payer_claim_control_number=item.payer_claim_control_number,
                    amount_paid=item.amount_paid,
                    reason=item.reason[:500],
                    data=as_json(item.line if item.line is not None else item.claim),
                )
            )
        UnmatchedRemittanceItem.objects.bulk_create(items)


# --- importing -----------------------------------------------------------------------------------


def remittance_import(*, by: Actor, name: str, text: str) -> ImportResult:
    """Import one 835 file (see the module): returns the remittance and its report.

    Raises NotPermitted (audited) without Cap.REVENUE_MANAGE; RuleViolation for a file already
    imported, an empty or oversized file, an 835 that does not parse (the message names the
    segment) or a trace number of the payer already imported. Nothing is written when it raises.
    """
    require(by, Cap.REVENUE_MANAGE, object_type="remittance")
    user = by.user
    assert user is not None  # require() refuses an actor without a user
    name = (name or "").strip()[:NAME_CHARS] or "remittance.835"
    if not text.strip():
        raise RuleViolation("The file is empty.", code="remittance_empty", field="file")
    if len(text) > MAX_FILE_CHARS:
        raise RuleViolation(
            f"The file is larger than {MAX_FILE_CHARS:,} characters; ask the payer or "
            "clearinghouse to split it.",
            code="remittance_too_large",
            field="file",
        )
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    org_id = organization_id_of(by)
    earlier = Remittance.objects.filter(sha256=sha).first()
    if earlier is not None:
        # Another organization's import is not described: its payer and trace are its own.
        said = (
            f" on {earlier.imported_at.date().isoformat()} (remittance {earlier.trace_number} "
            f"from {earlier.payer_name})"
            if earlier.organization_id == org_id
            else ""
        )
        raise RuleViolation(
            f"This file was already imported{said}; it posts once.",
            code="remittance_already_imported",
            field="file",
        )
    remit = _parse(text)
    payer_identifier = (remit.payer.identifier or remit.trace.payer_identifier)[:80]
    trace_number = remit.trace.trace_number[:80]
    if Remittance.objects.filter(
        organization_id=org_id, payer_identifier=payer_identifier, trace_number=trace_number
    ).exists():
        raise RuleViolation(
            f"The payment with trace number {trace_number} from {remit.payer.name} was already "
            "imported from another file; it posts once.",
            code="remittance_trace_imported",
            field="file",
        )
    claims = _claims_named(by, (c.patient_control_number for c in remit.claims))
    plan = rules.match_remittance(remit, claims.index)
    payer = None
    if remit.payer.identifier:
        payer = Payer.objects.filter(
            organization_id=org_id, payer_id=remit.payer.identifier
        ).first()
    now = clock.now()
    try:
        with transaction.atomic():
            remittance = Remittance.objects.create(
                organization_id=org_id,
                file_name=name,
                sha256=sha,
                payer=payer,
                payer_name=remit.payer.name[:200],
                payer_identifier=payer_identifier,
                trace_number=trace_number,
                payment_amount=remit.payment.amount,
                payment_date=remit.payment.date,
                payment_method=remit.payment.method,
                credit_debit=remit.payment.credit_debit,
                posted_payments=plan.posted_payments,
                unmatched_payments=plan.unmatched_payments,
                problems=len(plan.problems),
                imported_by=user,
                imported_at=now,
                raw_content=text,
            )
            rclaims = _remittance_claims(remittance, remit)
            writer = _Writer(
                remittance=remittance, remit=remit, claims=claims, by=by, now=now, first_line_no=1
            )
            writer.apply(plan, rclaims)
            writer.flush_report()
            audit_record_many(
                by,
                action=AuditAction.CREATE,
                object_type="remittance",
                patient_ids=writer.patients,
                object_id=remittance.pk,
                detail={
                    "file": name,
                    "trace": trace_number,
                    "claims": len(remit.claims),
                    "matched": len(plan.claims),
                    "unmatched": len(plan.unmatched),
                    "denials": len(plan.denials),
                },
            )
    except IntegrityError as exc:  # imported at the same moment by someone else
        raise RuleViolation(
            "This remittance was imported meanwhile; it posts once.",
            code="remittance_already_imported",
            field="file",
        ) from exc
    return ImportResult(remittance=remittance, report=tuple(writer.report))


def _remittance_claims(
    remittance: Remittance, remit: rules.Remittance835
) -> dict[int, RemittanceClaim]:
    rows = [
        RemittanceClaim(
            remittance=remittance,
            position=n,
            patient_control_number=c.patient_control_number[:38],
            status_code=c.status,
            billed=c.billed,
            paid=c.paid,
            patient_responsibility=c.patient_responsibility,
            filing_indicator=c.filing_indicator,
            payer_claim_control_number=c.payer_claim_control_number[:50],
        )
        for n, c in enumerate(remit.claims, start=1)
    ]
    created = RemittanceClaim.objects.bulk_create(rows)
    return {row.position: row for row in created}


# --- working denials -----------------------------------------------------------------------------


def denial_work(
    *,
    by: Actor,
    item: DenialWorkItem,
    status: str,
    note: str = "",
    next_action: str = "",
    take: bool = False,
    write_off: bool = False,
) -> DenialWorkItem:
    """Record what was done on a denial: its status (open, worked, closed), a note appended to
    its notes, its next action rewritten when given, and `take` makes the actor its owner.
    `write_off` (closing only): the payer will not pay, so the denied amount is written off that
    day (site time): it leaves the insurance balance on the ledger and the A/R aging
    (ledger.denial_write_off); nothing moves to the patient.

    Raises NotPermitted (audited) without Cap.REVENUE_MANAGE or for a claim at a site the actor
    may not see; RuleViolation for an unknown status, closing without a note, a write-off without
    closing, or working a closed item; Conflict when someone changed it meanwhile.
    """
    require_site(
        by,
        item.claim.site_id,
        Cap.REVENUE_MANAGE,
        object_type="denial",
        patient_id=item.claim.patient_id,
    )
    if status not in DenialStatus.values:
        raise RuleViolation("Choose open, worked or closed.", code="status", field="status")
    if item.status == DenialStatus.CLOSED:
        raise RuleViolation("This denial is closed.", code="denial_closed", field="status")
    note = note.strip()[:NOTE_CHARS]
    if status == DenialStatus.CLOSED and not note:
        raise RuleViolation(
            "Say how it ended (paid on appeal, corrected claim paid, written off...) to close it.",
            code="note_required",
            field="note",
        )
    if write_off and status != DenialStatus.CLOSED:
        raise RuleViolation(
            "A denied amount is written off when the denial is closed: choose Closed.",
            code="write_off_needs_close",
            field="write_off",
        )
    now = clock.now()
    user = by.user
    assert user is not None
    if note:
        stamp = f"{now.date().isoformat()} {user.get_username()}: {note}"
        item.note = f"{item.note}\n{stamp}".strip()
    if next_action.strip():
        item.next_action = next_action.strip()[:NOTE_CHARS]
    if take:
        item.owner = user
    item.status = status
    if status == DenialStatus.WORKED:
        item.worked_at = now
    item.closed_at = now if status == DenialStatus.CLOSED else None
    detail: dict[str, Any] = {"status": status, "took": take}
    if write_off and item.amount > 0:
        item.written_off = item.amount
        item.written_off_on = clock.local_today(item.claim.site.tz)
        detail["written_off"] = str(item.amount)
    with transaction.atomic():
        save_if_unchanged(
            item,
            expected_version=item.version,
            fields=[
                "note",
                "next_action",
                "owner",
                "status",
                "worked_at",
                "closed_at",
                "written_off",
                "written_off_on",
            ],
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=item.claim.patient_id,
            object_type="denial",
            object_id=item.pk,
            detail=detail,
        )
    return item


# --- resolving the unmatched queue ---------------------------------------------------------------


def unmatched_resolve(
    *,
    by: Actor,
    item: UnmatchedRemittanceItem,
    claim: Claim,
    line: ClaimLine | None = None,
) -> ImportResult:
    """Attach an unmatched item to `claim` (and, for a service line, to its `line`) and post it
    from the file as received, with the same rules as the import; what still matches nothing
    (a line of the claim) goes back to the queue. A claim attached whole changes state as on
    import; a line attached alone posts its amounts and leaves the claim's state as it is.

    Raises NotPermitted (audited) without Cap.REVENUE_MANAGE, for a claim at a site the actor
    may not see or a remittance of another organization; RuleViolation when the item was
    resolved already, the claim was never sent, or a line item is attached without a line of
    that claim.
    """
    require_site(
        by, claim.site_id, Cap.REVENUE_MANAGE, object_type="unmatched_remittance",
        patient_id=claim.patient_id,
    )  # fmt: skip
    remittance = item.remittance
    if remittance.organization_id != organization_id_of(by):
        raise NotFound("There is no unmatched remittance item with this number.")
    if item.status != UnmatchedStatus.OPEN:
        raise RuleViolation("This item was attached to a claim already.", code="resolved")
    if claim.state not in SENT_STATES:
        raise RuleViolation(
            f"Claim {claim.patient_control_number} was never sent "
            f"({ClaimState(claim.state).label.lower()}): a payer cannot have paid it.",
            code="claim_not_sent",
            field="claim",
        )
    remit = _parse(remittance.raw_content)
    position = item.remittance_claim.position
    clp = remit.claims[position - 1]
    claims = _claims_for(claim)
    if item.line_position is None:
        sub_claim = dataclasses.replace(clp, patient_control_number=claim.patient_control_number)
        index = claims.index
    else:
        if line is None or line.claim_id != claim.pk:
            raise RuleViolation(
                "Choose the line of the claim this service line pays.",
                code="line_required",
                field="line",
            )
        svc = clp.lines[item.line_position - 1]
        # The line is named by the person resolving it: the SVC carries that line's control
        # number so the domain matches it to that line and nothing else.
        svc = dataclasses.replace(svc, line_control_number=line.line_control_number)
        pr = sum((a.amount for a in svc.adjustments if a.group == "PR"), rules.ZERO)
        sub_claim = dataclasses.replace(
            clp,
            patient_control_number=claim.patient_control_number,
            billed=svc.billed,
            paid=svc.paid,
            patient_responsibility=pr or None,
            adjustments=(),
            lines=(svc,),
        )
        index = {
            claim.patient_control_number: rules.IndexedClaim(
                key=str(claim.pk), lines=_indexed(claim, [line]).lines
            )
        }
    sub = dataclasses.replace(
        remit,
        claims=(sub_claim,),
        provider_adjustments=(),
        payment=dataclasses.replace(remit.payment, amount=sub_claim.paid),
    )
    plan = rules.match_remittance(sub, index)
    now = clock.now()
    with transaction.atomic():
        locked = UnmatchedRemittanceItem.objects.select_for_update().get(pk=item.pk)
        if locked.status != UnmatchedStatus.OPEN:
            raise RuleViolation("This item was attached to a claim already.", code="resolved")
        rclaim = item.remittance_claim
        last = (
            ImportReportLine.objects.filter(remittance=remittance)
            .order_by("-line_no")
            .values_list("line_no", flat=True)
            .first()
        ) or 0
        writer = _Writer(
            remittance=remittance, remit=sub, claims=claims, by=by, now=now,
            first_line_no=last + 1,
        )  # fmt: skip
        what = "claim" if item.line_position is None else f"service line {item.line_position}"
        user = by.user
        assert user is not None
        writer.say(
            ReportOutcome.NOTE,
            f"{user.get_username()} attached the unmatched {what} of {item.patient_control_number}"
            f" to claim {claim.patient_control_number}:",
        )
        if item.line_position is None:
            writer.apply(plan, {1: rclaim})
        else:
            # The CLP itself was matched at import (its claim's state already changed): the
            # posting of one line keeps the CLP's claim and outcome as they were.
            kept = (rclaim.claim_id, rclaim.outcome)
            writer.apply(plan, {1: rclaim}, change_states=False)
            RemittanceClaim.objects.filter(pk=rclaim.pk).update(claim=kept[0], outcome=kept[1])
        writer.flush_report()
        Remittance.objects.filter(pk=remittance.pk).update(
            posted_payments=F("posted_payments") + plan.posted_payments,
            unmatched_payments=F("unmatched_payments") - item.amount_paid + plan.unmatched_payments,
        )
        locked.status = UnmatchedStatus.RESOLVED
        locked.resolved_by = user
        locked.resolved_at = now
        locked.resolved_to = claim
        locked.resolved_line = line
        locked.save(
            update_fields=["status", "resolved_by", "resolved_at", "resolved_to", "resolved_line"]
        )
        audit_record(
            by,
            action=AuditAction.UPDATE,
            patient_id=claim.patient_id,
            object_type="unmatched_remittance",
            object_id=item.pk,
            detail={"claim": claim.pk, "line": line.pk if line else None},
        )
    remittance.refresh_from_db()
    return ImportResult(remittance=remittance, report=tuple(writer.report))


def _claims_for(claim: Claim) -> _Claims:
    lines = list(ClaimLine.objects.filter(claim=claim).order_by("number"))
    return _Claims({claim.patient_control_number: claim}, {claim.pk: lines})
