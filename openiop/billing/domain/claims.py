"""Claims from charges: the builder, the scrubber, the claim's states and its corrections.

Pure rules (no Django, no I/O, no clock; dates are arguments). The caller gathers the charges not
yet on a claim (`ClaimCharge`: a `ChargeDraft` with its id, patient, coverage, episode, diagnoses
and authorization reference), each program's `ProgramClaimSetup` and each payer's
`PayerClaimRules`; `build_claims` groups the charges into `ClaimDraft`s and lists every charge it
could not put on a claim with why. `scrub` lists every edit that would make the payer reject a
claim, in words a biller acts on; a claim with an error-severity edit cannot become ready
(`transition`). A claim sent is never edited: `replacement_of` (frequency 7) and `void_of`
(frequency 8) make new claims that quote the payer's claim control number. `to_x12_claim` maps a
claim onto the pure 837I/837P writer (`openiop.billing.domain.x12`).

Rules and their sources (../shared/domain.md):

- One claim per patient, coverage, episode, program, claim form, claim period and authorization.
  The period (day, week, month) is the payer's configuration: Medicare allows "daily/weekly/
  monthly claims" [2.1: CGS; MM13222/MM13496]; others are not in domain.md, so it has no default.
  The bill type (837I) or place of service (837P) is the program's configuration: hospital
  outpatient 13x, CAH 85x, CMHC 76x, RHC 71x, FQHC 77x, OTP 087x [2.1: NGS; CGS; CMS OTP page];
  the facility code is the first two digits (CLM05-1) [3]. A claim carries one prior
  authorization (REF*G1 in 2300 [3]), so charges under different authorizations go on different
  claims.
- Per diem: one line per attended day, one unit, the line dated [2.2: BCBS Nebraska RP-PI-002].
  Every charge is one line; two lines of a per-diem code on one day are an edit.
- Medicare IOP: claims are sequential over an episode, frequency 1 admit through discharge, 2
  first interim, 3 continuing, 4 last; interim claims have patient status 30; condition code 92
  [2.1: CGS; MM13222/MM13496]; the remittance of a claim comes before the next is sent [2.1]. The
  status on a last (4) or admit-through-discharge (1) claim is the patient's discharge status,
  given with the episode (reported as of the through date [x12 CMS-MLN-1450]).
- The physician certifies the need for IOP and redetermines it at least every other month [2.1:
  CMS fact sheet via Coronis; 42 CFR 424.24]: days outside every certification period given are
  an edit where the payer requires certification.
- NPIs are ten digits whose last is a Luhn (ISO/IEC 7812) check digit computed with the implied
  prefix 80840 [CMS, "Requirements for NPI Check Digit"; NPI final rule, 69 FR 3434, 23 Jan 2004].
- Corrections: replacement (frequency 7) and void (8) quote the original's payer claim control
  number (REF*F8) [3; x12 RFI-1538].

Not in domain.md, so configuration without a default: whether a payer requires prior
authorization or a physician certification, whether a program's claims need a rendering
(837P 2310B) / attending (837I 2310A) NPI, and the patient status a payer expects on its
non-sequential institutional claims (status 30 conflicts with frequency 1 [x12 Stedi-freq]).

Money is Decimal in cents.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from openiop.billing.domain import x12
from openiop.billing.domain.charges import PER_DIEM_CODES, ChargeDraft, ClaimForm
from openiop.core.dates import IsoWeek

CENT = Decimal("0.01")

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

# The most diagnoses a claim carries: 837P HI01-HI12 (principal + 11) [x12 map-P]; 837I one
# principal + 24 other [x12 map-I]. Code sets of the forms, enforced by the writer too.
MAX_DIAGNOSES = MappingProxyType({ClaimForm.PROFESSIONAL: 12, ClaimForm.INSTITUTIONAL: 25})
# An 837P line points to at most 4 of the claim's diagnoses (SV107) [x12 map-P].
MAX_POINTERS_PER_LINE = 4

_TWO_DIGITS = re.compile(r"\d{2}")
_CONDITION_CODE = re.compile(r"[0-9A-Z]{2}")
# ICD-10-CM as the writer carries it, the dot removed [x12 _diagnosis].
_ICD10 = re.compile(r"[A-Z][0-9][0-9A-Z]{1,5}")


# ---------------------------------------------------------------------------------------------
# Configuration


class ClaimPeriod(StrEnum):
    """How much service one claim covers (the payer's configuration)."""

    DAY = "day"
    WEEK = "week"  # ISO week, Monday to Sunday
    MONTH = "month"  # calendar month


@dataclass(frozen=True)
class ProgramClaimSetup:
    """How one program bills on one claim form.

    - facility_code: 837I only, the first two digits of the bill type (13 hospital outpatient,
      76 CMHC, 85 CAH, 71 RHC, 77 FQHC, 87 OTP [domain.md 2.1]); the third digit is the claim's
      frequency.
    - place_of_service: 837P only, CLM05-1.
    - rendering_npi_required: the claims need an individual provider's NPI (837P rendering, 2310B;
      837I attending, 2310A). Configuration: the situations are the implementation guide's and the
      payer's, not in domain.md.
    - condition_codes: codes every claim of the program carries, e.g. 89 for a hospital-based OTP
      [domain.md 2.1]. Charges add their own (92 on Medicare IOP lines).
    """

    program: str
    claim_form: ClaimForm
    rendering_npi_required: bool
    facility_code: str | None = None
    place_of_service: str | None = None
    condition_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "claim_form", ClaimForm(self.claim_form))
        object.__setattr__(self, "condition_codes", tuple(self.condition_codes))
        if self.claim_form == ClaimForm.INSTITUTIONAL:
            if self.facility_code is None or not _TWO_DIGITS.fullmatch(self.facility_code):
                raise ValueError(
                    f"Program {self.program} bills on 837I: give the two-digit facility code of "
                    "its bill type (e.g. 13 for 13x)."
                )
            if self.place_of_service is not None:
                raise ValueError("A place of service goes on 837P claims, not 837I.")
        else:
            if self.place_of_service is None or not _TWO_DIGITS.fullmatch(self.place_of_service):
                raise ValueError(
                    f"Program {self.program} bills on 837P: give its two-digit place of service."
                )
            if self.facility_code is not None:
                raise ValueError("A facility code (bill type) goes on 837I claims, not 837P.")
        for code in self.condition_codes:
            if not _CONDITION_CODE.fullmatch(code):
                raise ValueError(f"'{code}' is not a two-character condition code.")


@dataclass(frozen=True)
class PayerClaimRules:
    """How one payer wants its claims grouped and checked. No field has a default.

    - period: the service one claim covers.
    - sequential: Medicare sequential claims (frequency 1/2/3/4, status 30 on interim claims, the
      prior claim's remittance before the next) [domain.md 2.1]; 837I only.
    - authorization_required: every line needs a prior authorization that covers it.
    - certification_required: every day billed needs a physician certification period
      (Medicare IOP [domain.md 2.1; 42 CFR 424.24]).
    - patient_status: CL103 on this payer's non-sequential 837I claims (frequency 1); None when
      the payer is billed on 837P only. Not 30 [x12 Stedi-freq]. Sequential claims take theirs
      from the episode.
    """

    payer: str
    period: ClaimPeriod
    sequential: bool
    authorization_required: bool
    certification_required: bool
    patient_status: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "period", ClaimPeriod(self.period))
        if self.patient_status is not None:
            if self.sequential:
                raise ValueError(
                    "Sequential claims take the patient status from the episode (30 on interim "
                    "claims, the discharge status on the last); leave the payer's empty."
                )
            if not _TWO_DIGITS.fullmatch(self.patient_status):
                raise ValueError(f"'{self.patient_status}' is not a two-digit patient status.")
            if self.patient_status == x12.STILL_A_PATIENT:
                raise ValueError(
                    "Status 30 (still a patient) cannot go on an admit-through-discharge claim "
                    "(frequency 1)."
                )


@dataclass(frozen=True)
class SequentialEpisode:
    """Where an episode's Medicare sequential series stands.

    - billed_through: the through date of the latest claim of the series already sent (not
      voided); None: no claim sent yet, so the next is the first.
    - discharge_date / discharge_status: given together once the patient is discharged; the
      status (NUBC patient discharge status, e.g. 01 home) goes on the last claim.
    """

    episode: str
    billed_through: dt.date | None
    discharge_date: dt.date | None
    discharge_status: str | None

    def __post_init__(self) -> None:
        if (self.discharge_date is None) != (self.discharge_status is None):
            raise ValueError("Give the discharge date and the discharge status together.")
        if self.discharge_status is not None:
            if not _TWO_DIGITS.fullmatch(self.discharge_status):
                raise ValueError(f"'{self.discharge_status}' is not a two-digit patient status.")
            if self.discharge_status == x12.STILL_A_PATIENT:
                raise ValueError("A discharged patient's status is not 30 (still a patient).")
        if (
            self.billed_through is not None
            and self.discharge_date is not None
            and self.billed_through > self.discharge_date
        ):
            raise ValueError("The series cannot be billed beyond the discharge date.")


# ---------------------------------------------------------------------------------------------
# Charges in, claims out


@dataclass(frozen=True)
class ClaimCharge:
    """A charge waiting for a claim: the charge draft, its id, whose it is and what backs it.

    `diagnoses`: ICD-10-CM codes of the episode for this service, principal first (printed form,
    F10.20). `authorization`: the payer's prior authorization number the service falls under.
    """

    charge_id: str
    patient: str
    coverage: str
    episode: str
    charge: ChargeDraft
    diagnoses: tuple[str, ...] = ()
    authorization: str | None = None

    def __post_init__(self) -> None:
        for name in ("charge_id", "patient", "coverage", "episode"):
            if not getattr(self, name):
                raise ValueError(f"A charge needs its {name.replace('_', ' ')}.")
        object.__setattr__(self, "diagnoses", _unique_diagnoses(self.diagnoses))
        if self.authorization is not None and not self.authorization.strip():
            object.__setattr__(self, "authorization", None)

    @property
    def service_date(self) -> dt.date:
        return self.charge.service_date


@dataclass(frozen=True)
class ClaimLine:
    """One service line: the charge it bills, dated, coded, priced."""

    charge_id: str
    service_date: dt.date
    code: str
    modifiers: tuple[str, ...]
    revenue_code: str | None
    units: int
    amount: Decimal
    diagnoses: tuple[str, ...] = ()
    authorization: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "modifiers", tuple(self.modifiers))
        object.__setattr__(self, "diagnoses", _unique_diagnoses(self.diagnoses))
        if not isinstance(self.amount, Decimal) or self.amount != self.amount.quantize(CENT):
            raise ValueError(f"The amount of {self.code} must be a Decimal in whole cents.")
        if self.amount < 0:
            raise ValueError(f"The amount of {self.code} cannot be negative.")
        if isinstance(self.units, bool) or not isinstance(self.units, int) or self.units < 1:
            raise ValueError(f"The units of {self.code} must be a whole number of 1 or more.")

    @classmethod
    def of(cls, charge: ClaimCharge) -> ClaimLine:
        draft = charge.charge
        return cls(
            charge_id=charge.charge_id,
            service_date=draft.service_date,
            code=draft.code,
            modifiers=draft.modifiers,
            revenue_code=draft.revenue_code,
            units=draft.units,
            amount=draft.amount,
            diagnoses=charge.diagnoses,
            authorization=charge.authorization,
        )


@dataclass(frozen=True, kw_only=True)
class ClaimDraft:
    """A claim as built: whose, which program and form, its frequency and lines.

    `key` names the claim until the caller gives it an id. The statement period runs from the
    first to the last line's date; the diagnoses are the lines' in order of first appearance,
    principal first; the authorization is the one all lines share. `replaces` is the key of the
    claim a replacement or void corrects, `original_claim_reference` that claim's payer claim
    control number (REF*F8).
    """

    key: str
    patient: str
    coverage: str
    episode: str
    payer: str
    program: str
    claim_form: ClaimForm
    frequency: x12.ClaimFrequency
    lines: tuple[ClaimLine, ...]
    facility_code: str | None = None
    place_of_service: str | None = None
    patient_status: str | None = None
    condition_codes: tuple[str, ...] = ()
    original_claim_reference: str | None = None
    replaces: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "claim_form", ClaimForm(self.claim_form))
        object.__setattr__(self, "frequency", x12.ClaimFrequency(self.frequency))
        object.__setattr__(self, "lines", tuple(self.lines))
        object.__setattr__(self, "condition_codes", tuple(self.condition_codes))
        if not self.lines:
            raise ValueError("A claim needs at least one line.")
        ids = [line.charge_id for line in self.lines]
        if len(set(ids)) != len(ids):
            raise ValueError("A charge goes on a claim once.")
        if len({line.authorization for line in self.lines}) > 1:
            raise ValueError(
                "The lines of one claim share one prior authorization (REF*G1): split the claim."
            )
        if self.frequency.is_correction != (self.original_claim_reference is not None):
            raise ValueError(
                "A replacement (7) or void (8), and only they, quote the original claim's payer "
                "claim control number."
            )
        if self.claim_form == ClaimForm.INSTITUTIONAL:
            self._check_institutional()
        else:
            self._check_professional()

    def _check_institutional(self) -> None:
        if self.facility_code is None or not _TWO_DIGITS.fullmatch(self.facility_code):
            raise ValueError("An 837I claim needs the two-digit facility code of its bill type.")
        if self.place_of_service is not None:
            raise ValueError("An 837I claim has no place of service.")
        if self.patient_status is None or not _TWO_DIGITS.fullmatch(self.patient_status):
            raise ValueError("An 837I claim needs a two-digit patient status.")
        interim = (x12.ClaimFrequency.INTERIM_FIRST, x12.ClaimFrequency.INTERIM_CONTINUING)
        # Interim claims: status 30 [domain.md 2.1]; frequency 1 never 30 [x12 Stedi-freq].
        if self.frequency in interim and self.patient_status != x12.STILL_A_PATIENT:
            raise ValueError("A first or continuing interim claim has patient status 30.")
        if (
            self.frequency is x12.ClaimFrequency.ADMIT_THROUGH_DISCHARGE
            and self.patient_status == x12.STILL_A_PATIENT
        ):
            raise ValueError("An admit-through-discharge claim cannot have patient status 30.")
        for line in self.lines:
            if line.revenue_code is None:
                raise ValueError(f"The {line.code} line needs a revenue code on an 837I claim.")

    def _check_professional(self) -> None:
        if self.place_of_service is None or not _TWO_DIGITS.fullmatch(self.place_of_service):
            raise ValueError("An 837P claim needs a two-digit place of service.")
        if self.facility_code is not None or self.patient_status is not None:
            raise ValueError("An 837P claim has no bill type or patient status.")
        if self.frequency not in x12.PROFESSIONAL_FREQUENCIES:
            raise ValueError("Interim frequencies (2, 3, 4) are for 837I claims only.")

    @property
    def statement_from(self) -> dt.date:
        return min(line.service_date for line in self.lines)

    @property
    def statement_to(self) -> dt.date:
        return max(line.service_date for line in self.lines)

    @property
    def total(self) -> Decimal:
        """The claim's total charge (CLM02), the sum of its lines."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def diagnoses(self) -> tuple[str, ...]:
        return _unique_diagnoses(code for line in self.lines for code in line.diagnoses)

    @property
    def authorization(self) -> str | None:
        return self.lines[0].authorization

    @property
    def bill_type(self) -> str | None:
        """837I: the facility code and the frequency, e.g. 131, 132, 137; None on 837P."""
        if self.facility_code is None:
            return None
        return f"{self.facility_code}{self.frequency.value}"

    def diagnosis_pointers(self, line: ClaimLine) -> tuple[int, ...]:
        """The 1-based positions of the line's diagnoses among the claim's (at most 4, SV107)."""
        positions = {_dx_key(code): i for i, code in enumerate(self.diagnoses, start=1)}
        return tuple(positions[_dx_key(code)] for code in line.diagnoses)[:MAX_POINTERS_PER_LINE]


@dataclass(frozen=True)
class NotBuilt:
    """Charges no claim was built for, and why, in words."""

    charge_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class ClaimBuild:
    claims: list[ClaimDraft]
    not_built: list[NotBuilt]

    @property
    def total(self) -> Decimal:
        return sum((claim.total for claim in self.claims), Decimal("0.00"))


@dataclass(frozen=True, order=True)
class _GroupKey:
    patient: str
    coverage: str
    episode: str
    period_start: dt.date
    program: str
    claim_form: str
    authorization: str
    payer: str


def build_claims(
    charges: Iterable[ClaimCharge],
    *,
    setups: Sequence[ProgramClaimSetup],
    payer_rules: Sequence[PayerClaimRules],
    episodes: Sequence[SequentialEpisode] = (),
) -> ClaimBuild:
    """Claim drafts for `charges`, and every charge left off with why.

    One claim per patient, coverage, episode, program, claim form, the payer's claim period and
    authorization; lines in date order, one per charge (a per-diem charge is one dated line a day
    [domain.md 2.2]). A non-sequential payer's claims have frequency 1 (837I: the payer's patient
    status). A sequential payer's claims of one episode are numbered in period order from where
    `episodes` says the series stands: 1 if the only claim from admission to discharge, 2 the
    first interim, 3 continuing, 4 the last once discharged; status 30 on 2 and 3, the discharge
    status on 1 and 4 [domain.md 2.1]. Condition codes: the program's, then the charges' (92 on
    Medicare IOP charges).

    Raises ValueError when a charge id repeats, or a program and form, a payer or an episode is
    configured twice.
    """
    all_charges = list(charges)
    ids = [c.charge_id for c in all_charges]
    if len(set(ids)) != len(ids):
        raise ValueError("Each charge appears once.")
    setup_by = _index(setups, lambda s: (s.program, s.claim_form), "claim setup for a program")
    rules_by = _index(payer_rules, lambda r: r.payer, "claim rules for a payer")
    episode_by = _index(episodes, lambda e: e.episode, "sequential series for an episode")

    refused: dict[str, list[str]] = defaultdict(list)
    groups: dict[_GroupKey, list[ClaimCharge]] = defaultdict(list)
    for item in all_charges:
        draft = item.charge
        rules = rules_by.get(draft.payer)
        setup = setup_by.get((draft.program, draft.claim_form))
        reason = _build_problem(item, rules, setup, episode_by)
        if reason is not None:
            refused[reason].append(item.charge_id)
            continue
        assert rules is not None
        start, _, _ = _period(rules.period, draft.service_date)
        key = _GroupKey(
            patient=item.patient,
            coverage=item.coverage,
            episode=item.episode,
            period_start=start,
            program=draft.program,
            claim_form=draft.claim_form.value,
            authorization=item.authorization or "",
            payer=draft.payer,
        )
        groups[key].append(item)

    frequency_of = _series_frequencies(
        [key for key in groups if rules_by[key.payer].sequential], episode_by
    )

    claims: list[ClaimDraft] = []
    for key in sorted(groups):
        items = sorted(groups[key], key=lambda c: (c.service_date, c.charge.code, c.charge_id))
        rules = rules_by[key.payer]
        form = ClaimForm(key.claim_form)
        setup = setup_by[(key.program, form)]
        _, _, label = _period(rules.period, key.period_start)
        status: str | None
        if rules.sequential:
            frequency, status = frequency_of[key]
        else:
            frequency = x12.ClaimFrequency.ADMIT_THROUGH_DISCHARGE
            status = rules.patient_status if form == ClaimForm.INSTITUTIONAL else None
        condition_codes = _unique(
            [*setup.condition_codes, *(c for i in items for c in i.charge.condition_codes)]
        )
        parts = [key.patient, key.coverage, key.episode, key.program, form.value, label]
        if key.authorization:
            parts.append(key.authorization)
        claims.append(
            ClaimDraft(
                key="/".join(parts),
                patient=key.patient,
                coverage=key.coverage,
                episode=key.episode,
                payer=key.payer,
                program=key.program,
                claim_form=form,
                frequency=frequency,
                lines=tuple(ClaimLine.of(i) for i in items),
                facility_code=setup.facility_code,
                place_of_service=setup.place_of_service,
                patient_status=status,
                condition_codes=condition_codes,
            )
        )
    not_built = [NotBuilt(tuple(ids), reason) for reason, ids in refused.items()]
    return ClaimBuild(claims=claims, not_built=not_built)


def _series_frequencies(
    keys: Iterable[_GroupKey], episodes: Mapping[str, SequentialEpisode]
) -> dict[_GroupKey, tuple[x12.ClaimFrequency, str]]:
    """Frequency and patient status of each sequential claim: one series per patient, coverage
    and episode, claims in period order from where the episode's series stands [domain.md 2.1].
    """
    series: dict[tuple[str, str, str], list[_GroupKey]] = defaultdict(list)
    for key in sorted(keys):
        series[(key.patient, key.coverage, key.episode)].append(key)
    result: dict[_GroupKey, tuple[x12.ClaimFrequency, str]] = {}
    for (_, _, episode_id), ordered in series.items():
        episode = episodes[episode_id]
        for index, key in enumerate(ordered):
            frequency = x12.sequential_frequency(
                first=index == 0 and episode.billed_through is None,
                last=index == len(ordered) - 1 and episode.discharge_date is not None,
            )
            if frequency in (
                x12.ClaimFrequency.INTERIM_FIRST,
                x12.ClaimFrequency.INTERIM_CONTINUING,
            ):
                result[key] = (frequency, x12.STILL_A_PATIENT)
            else:
                # 1 or 4: the last claim, so the episode is discharged.
                assert episode.discharge_status is not None
                result[key] = (frequency, episode.discharge_status)
    return result


def _build_problem(
    item: ClaimCharge,
    rules: PayerClaimRules | None,
    setup: ProgramClaimSetup | None,
    episodes: Mapping[str, SequentialEpisode],
) -> str | None:
    """Why a charge cannot go on a claim, or None."""
    draft = item.charge
    form = draft.claim_form.value
    if rules is None:
        return f"no claim rules for payer {draft.payer}: set its claim period and checks"
    if setup is None:
        return (
            f"no claim setup for program {draft.program} on {form}: set its "
            f"{'bill type' if draft.claim_form == ClaimForm.INSTITUTIONAL else 'place of service'}"
        )
    if not rules.sequential:
        if draft.claim_form == ClaimForm.INSTITUTIONAL and rules.patient_status is None:
            return f"payer {draft.payer} has no patient status set for its 837I claims"
        return None
    if draft.claim_form != ClaimForm.INSTITUTIONAL:
        return (
            f"payer {draft.payer} takes sequential claims (frequency 2, 3, 4), which are 837I; "
            f"program {draft.program} bills it on {form}"
        )
    episode = episodes.get(item.episode)
    if episode is None:
        return (
            f"episode {item.episode} has no sequential-claim status: say whether a claim was "
            "sent and whether the patient is discharged"
        )
    if episode.billed_through is not None and draft.service_date <= episode.billed_through:
        return (
            f"the episode's claims are sent through {_day_words(episode.billed_through)}; a "
            f"charge dated {_day_words(draft.service_date)} goes on a replacement (frequency 7) "
            "of the claim for that date"
        )
    if episode.discharge_date is not None and draft.service_date > episode.discharge_date:
        return (
            f"dated {_day_words(draft.service_date)}, after the discharge on "
            f"{_day_words(episode.discharge_date)}"
        )
    return None


def _period(period: ClaimPeriod, day: dt.date) -> tuple[dt.date, dt.date, str]:
    """The first and last day of the claim period holding `day`, and its label."""
    if period == ClaimPeriod.DAY:
        return day, day, day.isoformat()
    if period == ClaimPeriod.WEEK:
        week = IsoWeek.of(day)
        return week.monday, week.sunday, str(week)
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1), f"{day.year:04d}-{day.month:02d}"


# ---------------------------------------------------------------------------------------------
# States


class ClaimState(StrEnum):
    """Where a claim stands.

    draft: being built, may change; ready: scrubbed without errors, waiting to be sent;
    submitted: sent, nothing heard; accepted: the payer took it into adjudication (its claim
    control number known); rejected: refused before adjudication, never in the payer's system;
    paid / partially_paid / denied: the remittance came; appealed: a denial or underpayment is
    being appealed.
    """

    DRAFT = "draft"
    READY = "ready"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    APPEALED = "appealed"

    @property
    def words(self) -> str:
        return self.value.replace("_", " ")


class ClaimEvent(StrEnum):
    MARK_READY = "mark_ready"  # scrubbed, no error: may be sent
    REOPEN = "reopen"  # back to draft before sending
    SUBMIT = "submit"
    ACCEPT = "accept"  # acknowledged into adjudication (277CA)
    REJECT = "reject"  # refused before adjudication (999 / 277CA)
    PAY = "pay"  # remittance: paid in full
    PAY_PARTIALLY = "pay_partially"  # remittance: paid in part
    DENY = "deny"  # remittance: denied
    APPEAL = "appeal"

    @property
    def words(self) -> str:
        return _EVENT_WORDS[self]


_EVENT_WORDS = {
    ClaimEvent.MARK_READY: "marked ready",
    ClaimEvent.REOPEN: "reopened",
    ClaimEvent.SUBMIT: "submitted",
    ClaimEvent.ACCEPT: "accepted",
    ClaimEvent.REJECT: "rejected",
    ClaimEvent.PAY: "paid",
    ClaimEvent.PAY_PARTIALLY: "partially paid",
    ClaimEvent.DENY: "denied",
    ClaimEvent.APPEAL: "appealed",
}

_REMITTANCE = {
    ClaimEvent.PAY: ClaimState.PAID,
    ClaimEvent.PAY_PARTIALLY: ClaimState.PARTIALLY_PAID,
    ClaimEvent.DENY: ClaimState.DENIED,
}
_TRANSITIONS: Mapping[ClaimState, Mapping[ClaimEvent, ClaimState]] = MappingProxyType(
    {
        ClaimState.DRAFT: {ClaimEvent.MARK_READY: ClaimState.READY},
        ClaimState.READY: {
            ClaimEvent.REOPEN: ClaimState.DRAFT,
            ClaimEvent.SUBMIT: ClaimState.SUBMITTED,
        },
        # A remittance may come before (or without) the acknowledgement.
        ClaimState.SUBMITTED: {
            ClaimEvent.ACCEPT: ClaimState.ACCEPTED,
            ClaimEvent.REJECT: ClaimState.REJECTED,
            **_REMITTANCE,
        },
        ClaimState.ACCEPTED: dict(_REMITTANCE),
        ClaimState.REJECTED: {},
        ClaimState.PAID: {},
        ClaimState.PARTIALLY_PAID: {ClaimEvent.APPEAL: ClaimState.APPEALED},
        ClaimState.DENIED: {ClaimEvent.APPEAL: ClaimState.APPEALED},
        ClaimState.APPEALED: dict(_REMITTANCE),
    }
)

# States whose claim the payer holds under a claim control number: corrected by replacement or
# void, never edited.
CORRECTABLE_STATES = frozenset(
    {
        ClaimState.ACCEPTED,
        ClaimState.PAID,
        ClaimState.PARTIALLY_PAID,
        ClaimState.DENIED,
        ClaimState.APPEALED,
    }
)
# A remittance came for the claim [domain.md 2.1: the next sequential claim waits for it].
_REMITTED = frozenset(
    {ClaimState.PAID, ClaimState.PARTIALLY_PAID, ClaimState.DENIED, ClaimState.APPEALED}
)


class IllegalTransition(ValueError):
    """A claim cannot move that way from its state; the message says what it can do."""

    def __init__(self, message: str, *, state: ClaimState, event: ClaimEvent) -> None:
        super().__init__(message)
        self.state = state
        self.event = event


class ClaimHasErrors(IllegalTransition):
    """The claim cannot become ready: the scrubber found errors (`edits`)."""

    def __init__(self, message: str, *, edits: Sequence[Edit]) -> None:
        super().__init__(message, state=ClaimState.DRAFT, event=ClaimEvent.MARK_READY)
        self.edits = tuple(edits)


class CorrectionRefused(ValueError):
    """A claim cannot be replaced or voided in its state; the message says what to do."""


def allowed_transitions(state: ClaimState) -> Mapping[ClaimEvent, ClaimState]:
    """The events a claim in `state` accepts, each with the state it leads to."""
    return MappingProxyType(dict(_TRANSITIONS[ClaimState(state)]))


def transition(
    state: ClaimState, event: ClaimEvent, *, edits: Sequence[Edit] | None = None
) -> ClaimState:
    """The state after `event`. Marking a draft ready needs the scrubber's `edits` for the claim
    as it stands: any error-severity edit refuses it (warnings do not).

    Raises IllegalTransition (a ValueError) for a move the state does not allow, ClaimHasErrors
    when the edits hold an error.
    """
    state = ClaimState(state)
    event = ClaimEvent(event)
    allowed = _TRANSITIONS[state]
    if event not in allowed:
        raise IllegalTransition(_illegal_words(state, event), state=state, event=event)
    if event == ClaimEvent.MARK_READY:
        if edits is None:
            raise IllegalTransition(
                "Scrub the claim before marking it ready.", state=state, event=event
            )
        errors = [e for e in edits if e.severity == Severity.ERROR]
        if errors:
            listed = " ".join(e.message for e in errors)
            raise ClaimHasErrors(
                f"The claim has {_count(len(errors), 'error')} to fix before it is ready: {listed}",
                edits=errors,
            )
    return allowed[event]


def _illegal_words(state: ClaimState, event: ClaimEvent) -> str:
    article = "An" if state.words[0] in "aeiou" else "A"
    head = f"{article} {state.words} claim cannot be {event.words}."
    allowed = _TRANSITIONS[state]
    if state == ClaimState.REJECTED:
        return f"{head} The payer never took it: build a new claim from its charges."
    if not allowed:
        return f"{head} It is final: correct it with a replacement (7) or a void (8)."
    options = _join([e.words for e in allowed], "or")
    return f"{head} From {state.words} it can be {options}."


# ---------------------------------------------------------------------------------------------
# Claims on record and their corrections


@dataclass(frozen=True)
class ClaimRecord:
    """A claim as kept: its content, state, the payer's claim control number once known, and
    whether a replacement or void of it has been sent (`superseded`)."""

    claim: ClaimDraft
    state: ClaimState
    payer_claim_control_number: str | None = None
    superseded: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", ClaimState(self.state))


def replacement_of(
    original: ClaimRecord,
    *,
    lines: Sequence[ClaimLine] | None = None,
    key: str | None = None,
) -> ClaimDraft:
    """A new claim replacing `original` (frequency 7, bill type xx7), quoting its payer claim
    control number (REF*F8) [domain.md 3; x12 RFI-1538]. `lines`: the corrected lines (default:
    the original's); the diagnoses and authorization follow them. The original is not changed.

    Raises CorrectionRefused when the payer does not hold the claim (draft, ready, submitted,
    rejected), its control number is unknown, it is a void, or it was already corrected.
    """
    claim = _correctable(original, "replaced")
    return replace(
        claim,
        key=key or f"{claim.key}/replacement",
        frequency=x12.ClaimFrequency.REPLACEMENT,
        lines=tuple(lines) if lines is not None else claim.lines,
        original_claim_reference=original.payer_claim_control_number,
        replaces=claim.key,
    )


def void_of(original: ClaimRecord, *, key: str | None = None) -> ClaimDraft:
    """A new claim voiding `original` (frequency 8, bill type xx8), with its lines and its payer
    claim control number (REF*F8) [domain.md 3; x12 RFI-1538]. The original is not changed.

    Raises CorrectionRefused as `replacement_of` does.
    """
    claim = _correctable(original, "voided")
    return replace(
        claim,
        key=key or f"{claim.key}/void",
        frequency=x12.ClaimFrequency.VOID,
        original_claim_reference=original.payer_claim_control_number,
        replaces=claim.key,
    )


def _correctable(original: ClaimRecord, verb: str) -> ClaimDraft:
    state = original.state
    if state in (ClaimState.DRAFT, ClaimState.READY):
        raise CorrectionRefused(
            f"A {state.words} claim was not sent: change the draft instead of having it {verb}."
        )
    if state == ClaimState.SUBMITTED:
        raise CorrectionRefused(
            f"The claim cannot be {verb} until the payer acknowledges it with its claim control "
            "number."
        )
    if state == ClaimState.REJECTED:
        raise CorrectionRefused(
            f"The payer rejected the claim and holds nothing to be {verb}: build a new claim "
            "from its charges."
        )
    assert state in CORRECTABLE_STATES
    if original.claim.frequency == x12.ClaimFrequency.VOID:
        raise CorrectionRefused(f"A void cannot be {verb}.")
    if original.superseded:
        raise CorrectionRefused(
            f"The claim was already replaced or voided: the latest claim is the one to be {verb}."
        )
    if not original.payer_claim_control_number:
        raise CorrectionRefused(
            f"The payer's claim control number is needed for the claim to be {verb}: record it "
            "from the acknowledgement or remittance."
        )
    return original.claim


# ---------------------------------------------------------------------------------------------
# Scrubbing


class Severity(StrEnum):
    ERROR = "error"  # the payer would reject the claim: it cannot become ready
    WARNING = "warning"  # worth a look; the claim may go


class EditCode(StrEnum):
    BILLING_NPI_MISSING = "billing_npi_missing"
    BILLING_NPI_INVALID = "billing_npi_invalid"
    RENDERING_NPI_MISSING = "rendering_npi_missing"
    RENDERING_NPI_INVALID = "rendering_npi_invalid"
    NO_DIAGNOSIS = "no_diagnosis"
    DIAGNOSIS_INVALID = "diagnosis_invalid"
    TOO_MANY_DIAGNOSES = "too_many_diagnoses"
    LINE_WITHOUT_DIAGNOSIS = "line_without_diagnosis"
    OUTSIDE_COVERAGE = "outside_coverage"
    AUTHORIZATION_MISSING = "authorization_missing"
    AUTHORIZATION_UNKNOWN = "authorization_unknown"
    AUTHORIZATION_NOT_STARTED = "authorization_not_started"
    AUTHORIZATION_EXPIRED = "authorization_expired"
    AUTHORIZATION_CODE = "authorization_code"
    AUTHORIZATION_EXHAUSTED = "authorization_exhausted"
    UNCERTIFIED_DAYS = "uncertified_days"
    PRIOR_CLAIM_NOT_REMITTED = "prior_claim_not_remitted"
    DUPLICATE_SERVICE = "duplicate_service"
    DUPLICATE_PER_DIEM = "duplicate_per_diem"
    ZERO_CHARGE = "zero_charge"


@dataclass(frozen=True)
class Edit:
    """Something the payer would reject (ERROR) or a biller should check (WARNING). `lines`: the
    1-based numbers of the claim lines concerned (empty: the whole claim)."""

    code: EditCode
    severity: Severity
    message: str
    lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class Authorization:
    """A prior authorization on file for the claim's coverage.

    `units_remaining`: units not yet used by other claims (not voided); this claim's lines use
    them in date order. `codes`: the procedure codes it covers; empty: any.
    """

    reference: str
    start: dt.date
    end: dt.date
    units_remaining: int
    codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"Authorization {self.reference} ends before it starts.")
        if (
            isinstance(self.units_remaining, bool)
            or not isinstance(self.units_remaining, int)
            or self.units_remaining < 0
        ):
            raise ValueError(f"Authorization {self.reference}'s units must be 0 or more.")
        object.__setattr__(self, "codes", tuple(self.codes))


@dataclass(frozen=True)
class CertificationPeriod:
    """Days a physician's certification of the need for IOP covers, both included."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("A certification period ends before it starts.")

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class ScrubContext:
    """What the scrubber checks a claim against.

    `coverage_start` / `coverage_end`: the coverage's effective dates (end None: open).
    `authorizations`: those on file for the claim's coverage. `certifications`: the patient's
    physician certification periods. `other_claims`: the patient's other claims on record (the
    claim itself and the one it corrects are recognised by key and skipped).
    """

    payer_rules: PayerClaimRules
    setup: ProgramClaimSetup
    billing_npi: str | None
    rendering_npi: str | None
    coverage_start: dt.date
    coverage_end: dt.date | None
    authorizations: Sequence[Authorization] = ()
    certifications: Sequence[CertificationPeriod] = ()
    other_claims: Sequence[ClaimRecord] = ()


def npi_is_valid(npi: str) -> bool:
    """Ten digits, the last the Luhn check digit over the first nine with the implied 80840
    prefix (the constant 24) [CMS "Requirements for NPI Check Digit"; 69 FR 3434]."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    total = 24
    for index, char in enumerate(reversed(npi[:9])):
        digit = int(char)
        if index % 2 == 0:  # double alternate digits from the rightmost of the nine
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def has_errors(edits: Iterable[Edit]) -> bool:
    return any(edit.severity == Severity.ERROR for edit in edits)


def scrub(claim: ClaimDraft, context: ScrubContext) -> list[Edit]:
    """Every edit that would make the payer reject `claim` (errors) or that a biller should see
    (warnings), in words that say what to fix.

    Checks: billing NPI (always) and rendering/attending NPI (where the program's setup needs
    one), both with their check digit; a diagnosis, valid ICD-10-CM, not more than the form
    carries, one on every 837P line; service dates inside the coverage; the prior authorization
    (missing, unknown, not yet valid, expired, code not covered, units exhausted: errors where the
    payer requires authorization, warnings otherwise); days outside every physician
    certification (where the payer requires it) [domain.md 2.1]; an earlier claim of a sequential
    series without its remittance [domain.md 2.1]; the same service (patient, code, date) on
    another claim not voided, replaced or rejected; two per-diem lines on one day [domain.md 2.2];
    zero-charge lines. A void (8) only needs what lets the payer find and accept it: the NPIs and
    a diagnosis.

    Raises ValueError when the context's setup or payer rules are not the claim's.
    """
    if (context.setup.program, context.setup.claim_form) != (claim.program, claim.claim_form):
        raise ValueError("The claim setup given is not the claim's program and form.")
    if context.payer_rules.payer != claim.payer:
        raise ValueError("The payer rules given are not the claim's payer's.")
    edits = [*_provider_edits(claim, context), *_diagnosis_edits(claim)]
    if claim.frequency == x12.ClaimFrequency.VOID:
        return edits
    edits.extend(_coverage_edits(claim, context))
    edits.extend(_authorization_edits(claim, context))
    edits.extend(_certification_edits(claim, context))
    edits.extend(_sequence_edits(claim, context))
    edits.extend(_duplicate_edits(claim, context))
    edits.extend(_zero_charge_edits(claim))
    return edits


def _provider_edits(claim: ClaimDraft, context: ScrubContext) -> list[Edit]:
    edits: list[Edit] = []
    err = Severity.ERROR
    if not context.billing_npi:
        edits.append(
            Edit(
                EditCode.BILLING_NPI_MISSING,
                err,
                "The billing provider has no NPI: record the organization's NPI.",
            )
        )
    elif not npi_is_valid(context.billing_npi):
        edits.append(
            Edit(
                EditCode.BILLING_NPI_INVALID,
                err,
                f"The billing NPI {context.billing_npi} is not a valid NPI (ten digits with a "
                "check digit): correct it.",
            )
        )
    who = "rendering" if claim.claim_form == ClaimForm.PROFESSIONAL else "attending"
    if not context.rendering_npi:
        if context.setup.rendering_npi_required:
            edits.append(
                Edit(
                    EditCode.RENDERING_NPI_MISSING,
                    err,
                    f"The claim needs the {who} provider's NPI: record the clinician's NPI.",
                )
            )
    elif not npi_is_valid(context.rendering_npi):
        edits.append(
            Edit(
                EditCode.RENDERING_NPI_INVALID,
                err,
                f"The {who} NPI {context.rendering_npi} is not a valid NPI (ten digits with a "
                "check digit): correct it.",
            )
        )
    return edits


def _diagnosis_edits(claim: ClaimDraft) -> list[Edit]:
    err = Severity.ERROR
    diagnoses = claim.diagnoses
    if not diagnoses:
        return [
            Edit(
                EditCode.NO_DIAGNOSIS,
                err,
                "The claim has no diagnosis: record the episode's ICD-10-CM diagnosis.",
            )
        ]
    edits: list[Edit] = []
    invalid = [code for code in diagnoses if not _ICD10.fullmatch(_dx_key(code))]
    bad = {_dx_key(code) for code in invalid}
    if invalid:
        edits.append(
            Edit(
                EditCode.DIAGNOSIS_INVALID,
                err,
                f"{_join(invalid)} "
                f"{_agree(invalid, 'is not an ICD-10-CM code', 'are not ICD-10-CM codes')}: "
                "correct the diagnosis.",
                _numbers(claim, lambda line: any(_dx_key(c) in bad for c in line.diagnoses)),
            )
        )
    limit = MAX_DIAGNOSES[claim.claim_form]
    if len(diagnoses) > limit:
        edits.append(
            Edit(
                EditCode.TOO_MANY_DIAGNOSES,
                err,
                f"The lines carry {len(diagnoses)} diagnoses; an {claim.claim_form.value} claim "
                f"carries at most {limit}: split the claim or keep the diagnoses that apply.",
            )
        )
    if claim.claim_form == ClaimForm.PROFESSIONAL:
        bare = _numbers(claim, lambda line: not line.diagnoses)
        if bare:
            edits.append(
                Edit(
                    EditCode.LINE_WITHOUT_DIAGNOSIS,
                    err,
                    f"{_lines_words(bare).capitalize()} {_agree(bare, 'points', 'point')} to no "
                    "diagnosis: each 837P line needs one.",
                    bare,
                )
            )
    return edits


def _coverage_edits(claim: ClaimDraft, context: ScrubContext) -> list[Edit]:
    start, end = context.coverage_start, context.coverage_end
    outside = _numbers(
        claim,
        lambda line: line.service_date < start or (end is not None and line.service_date > end),
    )
    if not outside:
        return []
    period = (
        f"from {_day_words(start)}" if end is None else f"{_day_words(start)} to {_day_words(end)}"
    )
    return [
        Edit(
            EditCode.OUTSIDE_COVERAGE,
            Severity.ERROR,
            f"{_lines_words(outside).capitalize()} ({_dates_words(claim, outside)}) "
            f"{_agree(outside, 'falls', 'fall')} outside the coverage ({period}): bill "
            "another coverage or the patient.",
            outside,
        )
    ]


def _authorization_edits(claim: ClaimDraft, context: ScrubContext) -> list[Edit]:
    required = context.payer_rules.authorization_required
    severity = Severity.ERROR if required else Severity.WARNING
    reference = claim.authorization
    on_file = {a.reference: a for a in context.authorizations}
    if reference is None:
        if not required:
            return []
        covering = [
            a.reference
            for a in context.authorizations
            if a.start <= claim.statement_from and claim.statement_to <= a.end
        ]
        hint = (
            f" Authorization {covering[0]} on file covers these dates: put it on the charges."
            if len(covering) == 1
            else " Record the payer's authorization for these dates."
        )
        return [
            Edit(
                EditCode.AUTHORIZATION_MISSING,
                severity,
                "The payer requires prior authorization and the claim has none." + hint,
            )
        ]
    auth = on_file.get(reference)
    if auth is None:
        return [
            Edit(
                EditCode.AUTHORIZATION_UNKNOWN,
                severity,
                f"Authorization {reference} is not on file for this coverage: check the number "
                "or record the authorization.",
            )
        ]
    edits: list[Edit] = []
    early = _numbers(claim, lambda line: line.service_date < auth.start)
    late = _numbers(claim, lambda line: line.service_date > auth.end)
    other_code = _numbers(
        claim,
        lambda line: (
            bool(auth.codes)
            and line.code not in auth.codes
            and auth.start <= line.service_date <= auth.end
        ),
    )
    if early:
        edits.append(
            Edit(
                EditCode.AUTHORIZATION_NOT_STARTED,
                severity,
                f"Authorization {reference} starts on {_day_words(auth.start)}; "
                f"{_lines_words(early)} ({_dates_words(claim, early)}) "
                f"{_agree(early, 'comes', 'come')} before it: get "
                "authorization for those dates.",
                early,
            )
        )
    if late:
        edits.append(
            Edit(
                EditCode.AUTHORIZATION_EXPIRED,
                severity,
                f"Authorization {reference} ended on {_day_words(auth.end)}; "
                f"{_lines_words(late)} ({_dates_words(claim, late)}) "
                f"{_agree(late, 'comes', 'come')} after it: request an "
                "extension (concurrent review).",
                late,
            )
        )
    if other_code:
        codes = _join(_unique([claim.lines[n - 1].code for n in other_code]))
        edits.append(
            Edit(
                EditCode.AUTHORIZATION_CODE,
                severity,
                f"Authorization {reference} covers {_join(list(auth.codes))}, not {codes} "
                f"({_lines_words(other_code)}): get those services authorized.",
                other_code,
            )
        )
    used = 0
    over: list[int] = []
    skip = set(early) | set(late) | set(other_code)
    for number, line in sorted(
        enumerate(claim.lines, start=1), key=lambda pair: (pair[1].service_date, pair[0])
    ):
        if number in skip:
            continue
        used += line.units
        if used > auth.units_remaining:
            over.append(number)
    if over:
        over_lines = tuple(sorted(over))
        edits.append(
            Edit(
                EditCode.AUTHORIZATION_EXHAUSTED,
                severity,
                f"Authorization {reference} has {_count(auth.units_remaining, 'unit')} left; "
                f"{_lines_words(over_lines)} ({_dates_words(claim, over_lines)}) "
                f"{_agree(over_lines, 'goes', 'go')} beyond them: "
                "request more units.",
                over_lines,
            )
        )
    return edits


def _certification_edits(claim: ClaimDraft, context: ScrubContext) -> list[Edit]:
    if not context.payer_rules.certification_required:
        return []
    periods = context.certifications
    bare = _numbers(claim, lambda line: not any(p.covers(line.service_date) for p in periods))
    if not bare:
        return []
    days = sorted({claim.lines[n - 1].service_date for n in bare})
    return [
        Edit(
            EditCode.UNCERTIFIED_DAYS,
            Severity.ERROR,
            f"No physician certification covers {_join([_day_words(d) for d in days])} "
            f"({_lines_words(bare)}): the physician certifies the need for IOP and recertifies "
            "it at least every other month; record the certification for these days.",
            bare,
        )
    ]


def _sequence_edits(claim: ClaimDraft, context: ScrubContext) -> list[Edit]:
    # Sequential claims: the remittance of a claim comes before the next [domain.md 2.1].
    if not context.payer_rules.sequential or claim.frequency.is_correction:
        return []
    waiting = [
        record
        for record in context.other_claims
        if record.claim.key != claim.key
        and (record.claim.patient, record.claim.coverage, record.claim.episode)
        == (claim.patient, claim.coverage, claim.episode)
        and record.claim.statement_to < claim.statement_from
        and not record.superseded
        and record.claim.frequency != x12.ClaimFrequency.VOID
        and record.state != ClaimState.REJECTED
        and record.state not in _REMITTED
    ]
    return [
        Edit(
            EditCode.PRIOR_CLAIM_NOT_REMITTED,
            Severity.ERROR,
            f"Claim {record.claim.key} ({_day_words(record.claim.statement_from)} to "
            f"{_day_words(record.claim.statement_to)}, {record.state.words}) has no remittance "
            "yet; this payer takes the episode's claims in sequence: send this one after it.",
        )
        for record in sorted(waiting, key=lambda r: r.claim.statement_from)
    ]


def _duplicate_edits(claim: ClaimDraft, context: ScrubContext) -> list[Edit]:
    edits: list[Edit] = []
    for record in context.other_claims:
        other = record.claim
        if (
            other.key in (claim.key, claim.replaces)
            or other.patient != claim.patient
            or record.superseded
            or other.frequency == x12.ClaimFrequency.VOID
            or record.state == ClaimState.REJECTED
        ):
            continue
        same = _numbers(claim, _on(other))
        if same:
            edits.append(
                Edit(
                    EditCode.DUPLICATE_SERVICE,
                    Severity.ERROR,
                    f"{_lines_words(same).capitalize()} ({_services_words(claim, same)}) "
                    f"{_agree(same, 'is', 'are')} already on claim {other.key} "
                    f"({record.state.words}): remove the duplicate, or correct that claim with a "
                    "replacement.",
                    same,
                )
            )
    per_day: dict[tuple[dt.date, str], list[int]] = defaultdict(list)
    for number, line in enumerate(claim.lines, start=1):
        if line.code in PER_DIEM_CODES:
            per_day[(line.service_date, line.code)].append(number)
    for (day, code), numbers in sorted(per_day.items()):
        if len(numbers) > 1:
            lines = tuple(numbers)
            edits.append(
                Edit(
                    EditCode.DUPLICATE_PER_DIEM,
                    Severity.ERROR,
                    f"{_lines_words(lines).capitalize()} bill {code} twice on {_day_words(day)}; "
                    "a per diem is one line a day: remove the extra line.",
                    lines,
                )
            )
    return edits


def _on(other: ClaimDraft) -> Callable[[ClaimLine], bool]:
    """Whether a line's service (date and code) is on `other`."""
    services = {(line.service_date, line.code) for line in other.lines}
    return lambda line: (line.service_date, line.code) in services


def _zero_charge_edits(claim: ClaimDraft) -> list[Edit]:
    zero = _numbers(claim, lambda line: line.amount == 0)
    if not zero:
        return []
    return [
        Edit(
            EditCode.ZERO_CHARGE,
            Severity.ERROR,
            f"{_lines_words(zero).capitalize()} ({_services_words(claim, zero)}) "
            f"{_agree(zero, 'has', 'have')} no charge: set the fee or take the line off.",
            zero,
        )
    ]


# ---------------------------------------------------------------------------------------------
# To the X12 writer


@dataclass(frozen=True)
class ClaimParties:
    """Who is on the claim, for the X12 writer. `provider`: the attending (837I 2310A) or
    rendering (837P 2310B) provider. `provider_signature_on_file`: CLM06, 837P only.
    `line_control_numbers`: the lines' REF*6R line item control numbers, in line order (empty:
    none sent)."""

    patient_control_number: str
    subscriber: x12.Subscriber
    payer: x12.Payer
    assignment: x12.AssignmentCode
    benefits_assignment: x12.BenefitsAssignment
    release_of_information: x12.ReleaseOfInformation
    patient: x12.Patient | None = None
    provider: x12.Provider | None = None
    provider_signature_on_file: bool | None = None
    line_control_numbers: tuple[str, ...] = ()


def to_x12_claim(
    claim: ClaimDraft, parties: ClaimParties
) -> x12.InstitutionalClaim | x12.ProfessionalClaim:
    """The writer's claim for `claim`: 837I (bill type, statement dates, patient status,
    condition codes, SV2 lines) or 837P (place of service, SV1 lines with diagnosis pointers).

    Raises ValueError for a claim the writer cannot carry (no diagnosis, an 837P line without
    one); scrub the claim first.
    """
    diagnoses = claim.diagnoses
    if not diagnoses:
        raise ValueError("The claim has no diagnosis; scrub it before writing it.")
    controls: tuple[str | None, ...] = tuple(parties.line_control_numbers) or (None,) * len(
        claim.lines
    )
    if len(controls) != len(claim.lines):
        raise ValueError("Give a line item control number for every line, or none.")
    if len({c for c in controls if c is not None}) != len([c for c in controls if c]):
        raise ValueError("The lines' control numbers are unique on the claim.")
    if claim.claim_form == ClaimForm.INSTITUTIONAL:
        assert claim.facility_code is not None and claim.patient_status is not None
        return x12.InstitutionalClaim(
            patient_control_number=parties.patient_control_number,
            subscriber=parties.subscriber,
            payer=parties.payer,
            frequency=claim.frequency,
            principal_diagnosis=diagnoses[0],
            other_diagnoses=diagnoses[1:],
            assignment=parties.assignment,
            benefits_assignment=parties.benefits_assignment,
            release_of_information=parties.release_of_information,
            patient=parties.patient,
            condition_codes=claim.condition_codes,
            prior_authorization=claim.authorization,
            original_claim_reference=claim.original_claim_reference,
            facility_code=claim.facility_code,
            statement_from=claim.statement_from,
            statement_to=claim.statement_to,
            patient_status=claim.patient_status,
            attending=parties.provider,
            lines=tuple(
                x12.InstitutionalLine(
                    revenue_code=line.revenue_code or "",
                    hcpcs=line.code,
                    modifiers=line.modifiers,
                    charge=line.amount,
                    units=Decimal(line.units),
                    service_date=line.service_date,
                    control_number=control,
                )
                for line, control in zip(claim.lines, controls, strict=True)
            ),
        )
    if parties.provider_signature_on_file is None:
        raise ValueError("An 837P claim says whether the provider's signature is on file.")
    assert claim.place_of_service is not None
    lines: list[x12.ProfessionalLine] = []
    for number, line in enumerate(claim.lines, start=1):
        pointers = claim.diagnosis_pointers(line)
        if not pointers:
            raise ValueError(f"Line {number} points to no diagnosis; scrub the claim first.")
        lines.append(
            x12.ProfessionalLine(
                hcpcs=line.code,
                modifiers=line.modifiers,
                charge=line.amount,
                units=Decimal(line.units),
                service_date=line.service_date,
                diagnosis_pointers=pointers,
                control_number=controls[number - 1],
            )
        )
    return x12.ProfessionalClaim(
        patient_control_number=parties.patient_control_number,
        subscriber=parties.subscriber,
        payer=parties.payer,
        frequency=claim.frequency,
        principal_diagnosis=diagnoses[0],
        other_diagnoses=diagnoses[1:],
        assignment=parties.assignment,
        benefits_assignment=parties.benefits_assignment,
        release_of_information=parties.release_of_information,
        patient=parties.patient,
        condition_codes=claim.condition_codes,
        prior_authorization=claim.authorization,
        original_claim_reference=claim.original_claim_reference,
        place_of_service=claim.place_of_service,
        provider_signature_on_file=parties.provider_signature_on_file,
        rendering=parties.provider,
        lines=tuple(lines),
    )


# ---------------------------------------------------------------------------------------------
# Helpers


def _dx_key(code: str) -> str:
    return code.strip().replace(".", "").upper()


def _unique_diagnoses(codes: Iterable[str]) -> tuple[str, ...]:
    """Codes in order, each once (F10.20 and F1020 are one code), stripped and upper-case."""
    seen: set[str] = set()
    result: list[str] = []
    for code in codes:
        text = code.strip().upper()
        if not text:
            continue
        key = _dx_key(text)
        if key not in seen:
            seen.add(key)
            result.append(text)
    return tuple(result)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _index(items: Iterable[_V], key: Callable[[_V], _K], what: str) -> dict[_K, _V]:
    index: dict[_K, _V] = {}
    for item in items:
        k = key(item)
        if k in index:
            raise ValueError(f"Give one {what} ({k!r} twice).")
        index[k] = item
    return index


def _numbers(claim: ClaimDraft, test: Callable[[ClaimLine], bool]) -> tuple[int, ...]:
    """The 1-based numbers of the claim's lines that pass `test`."""
    return tuple(n for n, line in enumerate(claim.lines, start=1) if test(line))


def _lines_words(numbers: Sequence[int]) -> str:
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    return f"lines {_join([str(n) for n in numbers])}"


def _dates_words(claim: ClaimDraft, numbers: Sequence[int]) -> str:
    days = sorted({claim.lines[n - 1].service_date for n in numbers})
    return _join([_day_words(d) for d in days])


def _services_words(claim: ClaimDraft, numbers: Sequence[int]) -> str:
    lines = [claim.lines[n - 1] for n in numbers]
    return "; ".join(f"{line.code} on {_day_words(line.service_date)}" for line in lines)


def _day_words(day: dt.date) -> str:
    return f"{day:%a} {day:%b} {day.day}, {day.year}"


def _join(words: Sequence[str], conjunction: str = "and") -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _agree(items: Sequence[object], one: str, more: str) -> str:
    return one if len(items) == 1 else more


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
