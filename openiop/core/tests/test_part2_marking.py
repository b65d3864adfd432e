"""Part 2 in data (issue 17, domain.md section 5): every record derived from an episode carries its
own `part2` marking, or is listed here with the reason it does not yet. A new model with a foreign
key to Episode (or to a marked record) fails this test until it chooses."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import models

from openiop.core.models import Part2Marked
from openiop.core.part2 import part2_marked_models

_LANE = "column pending: this app's migrations belong to another helper this wave (follow-up)"
_BILLING = (
    "leaves the program only through the claim export and the review packet, which apply the "
    "consent decision per episode (consents.selectors.part2_release); " + _LANE
)

# label -> why it carries no `part2` column of its own.
NOT_MARKED: dict[str, str] = {
    "admissions.Inquiry": "pre-admission; the inquiry's concerns decide Part 2 itself; " + _LANE,
    "admissions.StageChange": "pipeline bookkeeping of an inquiry; " + _LANE,
    "admissions.AdmissionTask": "pipeline bookkeeping of an inquiry; " + _LANE,
    "admissions.Prescreen": "pre-admission screening of an inquiry; " + _LANE,
    "admissions.Assessment": "pre-admission assessment of an inquiry; " + _LANE,
    "admissions.WaitlistEntry": "a place on a track's waitlist; " + _LANE,
    "admissions.IntakeDocument": "signed intake forms (the Part 2 consent itself); " + _LANE,
    "attendance.Attendance": "minutes on a roster; " + _LANE,
    "attendance.RosterSeat": "a place on one session's roster (make-up, a week's plan); " + _LANE,
    "programs.GroupSession": "a session of a track (individual ones name an episode); " + _LANE,
    "programs.Enrollment": "an episode's place in a track; " + _LANE,
    "billing.PhysicianCertification": _BILLING,
    "billing.ConcurrentReview": _BILLING,
    "billing.Charge": _BILLING,
    "billing.ChargeAdjustment": _BILLING,
    "billing.Claim": _BILLING,
    "billing.ClaimLine": _BILLING,
    "billing.ClaimEdit": _BILLING,
    "billing.ClaimEvent": _BILLING,
    "billing.RemittanceClaim": _BILLING,
    "billing.RemittancePosting": _BILLING,
    "billing.DenialWorkItem": _BILLING,
    "billing.UnmatchedRemittanceItem": _BILLING,
    "billing.UnbilledDay": _BILLING,
    # Reached only through the inquiry that admitted the patient (Coverage.inquiry): insurance and
    # money, not a record of care; they go out under the same claim-export check.
    "billing.Coverage": "insurance of the patient, linked to the intake inquiry; " + _BILLING,
    "billing.BenefitsVerification": "a coverage's eligibility check; " + _BILLING,
    "billing.Authorization": "a payer's authorization on a coverage; " + _BILLING,
    "billing.CostEstimate": "a self-pay estimate at intake; " + _BILLING,
    "billing.SlidingFeeAgreement": "a sliding-fee agreement from an estimate; " + _BILLING,
    # A consent is the patient's permission about their records, not a record of care; it links
    # to the signed intake document it came from.
    "consents.Consent": "the patient's permission to disclose, not a record of care",
    "consents.Disclosure": "the accounting of disclosures: every row is about Part 2 records",
}


def _derived_models() -> set[type[models.Model]]:
    """Models with a foreign key (or one-to-one) to Episode or to a model that has one, to a fixed
    point. Episode itself carries `part2_protected`."""
    episode = apps.get_model("episodes", "Episode")
    derived: set[type[models.Model]] = set()
    sources: set[type[models.Model]] = {episode}
    while True:
        found = {
            m
            for m in apps.get_models()
            if m not in derived
            and m is not episode
            and any(
                f.many_to_one or f.one_to_one
                for f in m._meta.get_fields()
                if f.concrete and getattr(f, "related_model", None) in sources
            )
        }
        if not found:
            return derived
        derived |= found
        sources |= found


def test_every_model_derived_from_an_episode_is_marked_or_says_why() -> None:
    forgotten = sorted(
        m._meta.label
        for m in _derived_models()
        if not issubclass(m, Part2Marked) and m._meta.label not in NOT_MARKED
    )
    assert not forgotten, (
        f"{forgotten} link to an episode: inherit core.models.Part2Marked and set `part2` in "
        "the service that creates them, or list them in NOT_MARKED with the reason"
    )


def test_the_exemptions_are_not_stale() -> None:
    labels = {m._meta.label: m for m in apps.get_models()}
    stale = [
        label
        for label in NOT_MARKED
        if label not in labels or issubclass(labels[label], Part2Marked)
    ]
    assert not stale


@pytest.mark.parametrize("model", part2_marked_models(), ids=lambda m: m._meta.label)
def test_each_marked_model_reaches_its_episode(model: Any) -> None:
    """`part2_episode_path` is a real lookup ending at Episode (the marking walks it)."""
    current: Any = model
    for step in model.part2_episode_path.split("__"):
        field = current._meta.get_field(step)
        current = field.related_model
    assert current is apps.get_model("episodes", "Episode")


def test_the_guard_finds_the_marked_clinical_records() -> None:
    """The walk is not vacuous: the notes, plans and answers it must catch are among those it finds."""
    found = {m._meta.label for m in _derived_models()}
    assert {"notes.NoteSection", "treatment.PlanProblem", "measures.Response"} <= found
