"""One rule for "enrolled on day D" (ADR 2): programs.models.enrolled_q and the Enrollment
queryset, the same rule as programs.domain.DateSpan; no other copy of it in the code."""

import datetime as dt
import re
from pathlib import Path

import pytest

import openiop
from openiop.accounts.domain import Role
from openiop.episodes.models import Episode
from openiop.programs.domain import DateSpan
from openiop.programs.models import Enrollment, enrolled_q
from openiop.testing import make_episode, make_org, make_patient, make_site, make_track, make_user

D = dt.date(2026, 3, 2)


@pytest.fixture
def enrollments(db: None) -> dict[str, Enrollment]:
    org = make_org()
    site = make_site(org)
    make_user(Role.CLINICIAN, sites=[site], org=org)
    track = make_track(site)
    spans = {
        "open": (D - dt.timedelta(days=10), None),
        "ends_on_d": (D - dt.timedelta(days=10), D),
        "ended_before": (D - dt.timedelta(days=10), D - dt.timedelta(days=1)),
        "starts_on_d": (D, None),
        "starts_after": (D + dt.timedelta(days=1), None),
    }
    made = {}
    for name, (start, end) in spans.items():
        episode = make_episode(make_patient(site, legal_last_name=name.title()))
        made[name] = Enrollment.objects.create(
            episode=episode, track=track, start_date=start, end_date=end
        )
    return made


def test_enrolled_on_a_day_includes_both_ends(enrollments: dict[str, Enrollment]) -> None:
    on = {e.pk for e in Enrollment.objects.on(D)}
    assert on == {enrollments[n].pk for n in ("open", "ends_on_d", "starts_on_d")}
    for name, e in enrollments.items():
        assert DateSpan(e.start_date, e.end_date).contains(D) is (e.pk in on), name


def test_enrolled_during_a_week_is_any_overlap(enrollments: dict[str, Enrollment]) -> None:
    monday, sunday = D - dt.timedelta(days=D.weekday()), D + dt.timedelta(days=6 - D.weekday())
    during = {e.pk for e in Enrollment.objects.during(monday, sunday)}
    week = DateSpan(monday, sunday)
    for name, e in enrollments.items():
        assert DateSpan(e.start_date, e.end_date).overlaps(week) is (e.pk in during), name


def test_the_rule_reaches_enrollments_through_an_episode(
    enrollments: dict[str, Enrollment],
) -> None:
    found = set(
        Episode.objects.filter(enrolled_q(D, via="enrollments__")).values_list("pk", flat=True)
    )
    assert found == {enrollments[n].episode_id for n in ("open", "ends_on_d", "starts_on_d")}


def test_no_other_module_writes_the_rule_again() -> None:
    root = Path(openiop.__file__).parent
    copy = re.compile(r"end_date__isnull=True\)\s*\|\s*Q\((?:\w+__)?end_date__gte")
    found = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "migrations" not in p.parts
        and "tests" not in p.parts
        and p.name != "models.py"
        and "models" not in p.parts  # a models package (billing) holds its querysets too
        and copy.search(p.read_text())
    ]
    assert found == [], "use Enrollment.objects.on / during or programs.models.enrolled_q"
