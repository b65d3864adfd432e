"""The case management block of the demo clinic: each site's directory of community resources
(every name invented), referrals of patients in care at different stages, rides and childcare
for the next sessions, and tasks on each case manager's list (one overdue, one done). Written
through the services as the site's case manager. Called by `openiop demo` after the consents
block.

Rides and childcare go only to sessions still to come by the real clock (the service refuses a
past session), so a demo loaded with an old `--today` has none."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openiop.casemgmt import selectors, services
from openiop.core.actor import Actor
from openiop.core.errors import DomainError
from openiop.episodes.models import Episode

# kind, name, address, phone, hours, notes
RESOURCES: list[tuple[str, str, str, str, str, str]] = [
    ("support_group", "Lantern Circle AA (fictional)", "St. Nowhere Hall, 4 Elm Row", "555-0110",
     "Mon, Wed, Fri 7 PM", "Open meeting; newcomers welcome"),
    ("support_group", "Morning Light NA (fictional)", "Community Room, 18 Birch Ave", "555-0111",
     "Daily 7 AM", ""),
    ("support_group", "SMART Steps (fictional)", "Library annex, 2 Reading Way", "555-0112",
     "Tue 6 PM", "Also online"),
    ("sober_living", "Juniper House (fictional)", "31 Quiet Lane", "555-0120",
     "Intake weekdays 9-4", "Men; 12 beds"),
    ("sober_living", "Willowbrook Residence (fictional)", "9 Meadow Court", "555-0121",
     "Intake by appointment", "Women and children"),
    ("housing", "Hearthstone Housing Aid (fictional)", "77 Shelter St", "555-0130",
     "Mon-Fri 8-5", "Rapid rehousing applications"),
    ("food", "Acorn Community Pantry (fictional)", "5 Harvest Road", "555-0140",
     "Tue and Sat 10-2", "Bring ID if possible"),
    ("legal", "Fairwind Legal Aid (fictional)", "120 Courthouse Sq", "555-0150",
     "Walk-in Thu 1-4", "Expungement clinic monthly"),
    ("employment", "Second Start Careers (fictional)", "44 Workshop Blvd", "555-0160",
     "Mon-Thu 9-5", "Resume help, fair-chance employers"),
    ("transportation", "Bluebird Ride Line (fictional)", "", "555-0170",
     "Book 48 hours ahead", "Medicaid rides"),
    ("childcare", "Little Acorns Drop-in Care (fictional)", "6 Nursery Lane", "555-0180",
     "Weekdays 8-6", "Sliding fee"),
    ("other", "Threadbare Clothing Closet (fictional)", "3 Button St", "555-0190",
     "Sat 9-12", ""),
]  # fmt: skip


def build_casemgmt_demo(builder: Any) -> None:
    """Add the demo's case management (uses the builder's sites, staff and today)."""
    managers = {
        builder.riverbend.pk: builder.staff["casemanager"],
        builder.cedar.pk: builder.staff["casemanager2"],
    }
    counts = {"resources": 0, "referrals": 0, "requests": 0, "tasks": 0}
    for site in (builder.riverbend, builder.cedar):
        manager = managers[site.pk]
        by = Actor.cli(manager, "demo")
        resources = []
        for kind, name, address, phone, hours, notes in RESOURCES:
            resources.append(
                services.resource_create(
                    site=site,
                    kind=kind,
                    name=name,
                    address=address,
                    phone=phone,
                    hours=hours,
                    notes=notes,
                    by=by,
                )
            )
            counts["resources"] += 1
        in_care = list(
            Episode.objects.filter(site=site, status="active")
            .select_related("patient", "site")
            .order_by("admission_date", "id")[:6]
        )
        # Referrals at each stage: proposed, sent, accepted, completed, declined.
        paths = [[], ["sent"], ["sent", "accepted"], ["accepted", "completed"], ["declined"]]
        for i, episode in enumerate(in_care[:5]):
            referral = services.referral_create(
                episode=episode,
                resource=resources[(i * 3) % len(resources)],
                follow_up_on=builder.today + dt.timedelta(days=7 + i),
                by=by,
            )
            counts["referrals"] += 1
            for status in paths[i]:
                services.referral_update(
                    referral=referral,
                    status=status,
                    follow_up_on=referral.follow_up_on,
                    outcome="Went to the first meeting." if status == "completed" else "",
                    expected_version=referral.version,
                    by=by,
                )
        # Rides to the next sessions (one booked, one requested), childcare for a parent.
        for i, episode in enumerate(in_care[:3]):
            sessions = selectors.sessions_for_booking([episode], today=builder.today)
            if not sessions:
                continue
            kind = "childcare" if i == 2 else "transportation"
            try:
                request = services.support_request_create(
                    episode=episode,
                    session=sessions[0],
                    kind=kind,
                    pickup_address=f"{10 + i} Pretend Street" if kind == "transportation" else "",
                    pickup_time=(
                        sessions[0].starts_at.astimezone(site.tz) - dt.timedelta(minutes=45)
                    ).time()
                    if kind == "transportation"
                    else None,
                    by=by,
                )
            except DomainError:  # a past session by the real clock (an old --today)
                continue
            counts["requests"] += 1
            if i == 0:
                services.support_request_set_status(
                    request=request, status="booked", expected_version=1, by=by
                )
        # The case manager's list: one overdue, two open, one done.
        for i, episode in enumerate(in_care[:4]):
            task = services.task_create(
                site=site,
                owner=manager,
                title=[
                    "Call Juniper House about an open bed",
                    "Check the pantry referral went through",
                    "Help with the bus pass application",
                    "Send the legal aid intake form",
                ][i],
                due_on=builder.today + dt.timedelta(days=[-2, 0, 3, -1][i]),
                episode=episode,
                by=by,
            )
            counts["tasks"] += 1
            if i == 3:
                services.task_set_done(task=task, done=True, by=by)
    builder.out(
        "  case management: {resources} resources, {referrals} referrals, {requests} rides and "
        "childcare, {tasks} tasks".format(**counts)
    )
