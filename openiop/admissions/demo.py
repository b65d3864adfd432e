"""The admissions block of the demo clinic: inquiries at each stage of the pipeline. Called by
`openiop demo`; every write goes through the services. The billing block (openiop.billing.demo)
then adds insurance to the assessed inquiry and a self-pay estimate to the court referral."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openiop.admissions import services
from openiop.admissions.domain import asam
from openiop.admissions.domain.prescreen import PrescreenAnswers

FITS = PrescreenAnswers(
    needs_24h_supervision=False,
    needs_medical_withdrawal=False,
    safe_home=True,
    substance_free_home=True,
    outpatient_not_enough=True,
    can_attend=True,
    motivation="ready",
)


def build_admissions_demo(builder: Any) -> dict[str, Any]:
    """Add the admissions demo to a DemoBuilder (uses its site, actor, staff and today); returns
    the inquiries the billing demo builds on: 'assessed' and 'self_pay'."""
    actor = builder.actor
    site = builder.riverbend
    today: dt.date = builder.today

    def inquiry(first: str, last: str, days_ago: int, **kw: Any) -> Any:
        fields: dict[str, Any] = {
            "channel": "call",
            "referral_source": "self",
            "concerns": "mental_health",
            "age_group": "adult",
            "urgency": "soon",
        }
        fields.update(kw)
        received = dt.datetime.combine(
            today - dt.timedelta(days=days_ago), dt.time(10, 0), tzinfo=site.tz
        )
        return services.inquiry_create(
            site=site,
            by=actor,
            received_at=received,
            first_name=first,
            last_name=last,
            **fields,
        )

    new = inquiry(
        "Perrin",
        "Marshwiggle",
        4,
        phone="555-013-0101",
        referral_source="therapist",
        referral_detail="Dr. Imaginary, Willowbrook Counseling",
    )
    services.inquiry_update(
        inquiry=new,
        expected_version=new.version,
        by=actor,
        owner=builder.staff.get("intake", actor.user),
        next_action="Call back to offer a pre-screen",
        next_action_date=today - dt.timedelta(days=1),
    )
    inquiry(
        "Saffi",
        "Thornquist",
        0,
        channel="web_form",
        phone="555-013-0102",
        concerns="substance_use",
        for_whom="someone_else",
        caller_name="Bram Thornquist",
        referral_source="family",
    )
    screened = inquiry(
        "Odo",
        "Brackenridge",
        6,
        phone="555-013-0103",
        referral_source="inpatient",
        concerns="co_occurring",
        date_of_birth=dt.date(1987, 9, 14),
    )
    services.prescreen_record(
        inquiry=screened, answers=FITS, cssrs_answers=[1, 0, 0, 0, 0, 0, 0], by=actor
    )
    assessed = inquiry(
        "Liesl",
        "Copperkettle",
        9,
        phone="555-013-0104",
        referral_source="php",
        concerns="co_occurring",
        date_of_birth=dt.date(1979, 2, 3),
        insurance_name="Bluebell Mutual",
    )
    services.prescreen_record(inquiry=assessed, answers=FITS, cssrs_answers=[0] * 7, by=actor)
    assessment = services.assessment_save(
        inquiry=assessed,
        edition="3",
        ratings=[
            asam.DimensionRating(d, r, n)
            for d, r, n in [
                (1, 1, "No withdrawal signs; last use 10 days ago"),
                (2, 0, "No medical concerns"),
                (3, 2, "Moderate depression, stable on medication"),
                (4, 1, "Wants help, some ambivalence"),
                (5, 2, "Cravings in the evenings"),
                (6, 1, "Supportive partner"),
            ]
        ],
        by=actor,
    )
    services.assessment_decide(
        assessment=assessment,
        chosen_level="2.1",
        expected_version=assessment.version,
        by=actor,
    )
    self_pay = inquiry(
        "Tobiah",
        "Wrenfeather",
        3,
        phone="555-013-0105",
        email="tobiah@example.invalid",
        referral_source="court",
        concerns="substance_use",
    )
    lost = inquiry("Maelis", "Quillon", 30, phone="555-013-0106")
    services.inquiry_move(
        inquiry=lost, to_stage="lost_to_follow_up", note="Three calls unanswered", by=actor
    )
    # A high-risk safety screen: the banner, the urgent task on the board and on Today.
    urgent = inquiry(
        "Corvin",
        "Ashgrove",
        1,
        phone="555-013-0107",
        referral_source="self",
        concerns="mental_health",
        urgency="urgent",
    )
    services.prescreen_record(
        inquiry=urgent, answers=FITS, cssrs_answers=[1, 1, 0, 1, 0, 0, 0], by=actor
    )
    builder.out("  admissions: 7 inquiries across the pipeline, 1 urgent task")
    return {"assessed": assessed, "self_pay": self_pay}
