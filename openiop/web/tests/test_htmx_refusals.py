"""Every htmx form answers refused input with its message in the fragment it swaps (issue 14.2).

The endpoints are read from the templates (an hx-get/post/put/patch/delete whose address is a
url('...')), so a new one fails here until it has a refusal case below. Whether htmx swaps a
response is read from the htmx-config in ui/base.html, matched the way htmx 2 matches its
responseHandling rules (the first rule whose code pattern is found in the status wins).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse
from django.utils import timezone
from markupsafe import escape

import openiop
from openiop.accounts.domain import Role
from openiop.attendance.models import Attendance
from openiop.notes.models import ProgressNote
from openiop.programs.models import Enrollment, GroupSession
from openiop.testing import make_episode, make_org, make_patient, make_site, make_track, make_user

if TYPE_CHECKING:
    from django.test import Client

pytestmark = pytest.mark.django_db

PACKAGE = Path(openiop.__file__).parent
HX_URL = re.compile(r"""hx-(?:get|post|put|patch|delete)="\{\{\s*url\(\s*['"]([\w:]+)['"]""")


def htmx_endpoints() -> set[str]:
    """The URL names every htmx request in the project's templates goes to."""
    return {
        m.group(1)
        for path in PACKAGE.glob("*/jinja2/**/*.html")
        for m in HX_URL.finditer(path.read_text(encoding="utf-8"))
    }


def htmx_swaps(status: int) -> bool:
    base = (PACKAGE / "ui/jinja2/ui/base.html").read_text(encoding="utf-8")
    found = re.search(r"""<meta name="htmx-config" content='([^']+)'>""", base)
    assert found is not None, "base.html configures how htmx handles responses"
    for rule in json.loads(found.group(1))["responseHandling"]:
        if re.search(rule["code"], str(status)):
            return bool(rule["swap"])
    return False


@dataclass
class Clinic:
    clinician: Any
    session: Any
    attended: Any
    unmarked: Any


@pytest.fixture
def clinic() -> Clinic:
    site = make_site(make_org(), name="Riverbend (fictional)", timezone="UTC")
    clinician = make_user(Role.CLINICIAN, sites=[site], org=site.organization)
    track = make_track(site)
    day = timezone.localdate() - dt.timedelta(days=2)  # a session that is over
    starts = dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC)
    session = GroupSession.objects.create(
        site=site, track=track, kind="group_therapy", title="Process group", date=day,
        starts_at=starts, ends_at=starts + dt.timedelta(minutes=180), facilitator=clinician,
    )  # fmt: skip
    episodes = []
    for first in ("Pimpernel", "Quintessa"):
        patient = make_patient(site, legal_first_name=first, legal_last_name="Refusalby")
        episode = make_episode(patient, admission_date=day - dt.timedelta(days=7))
        Enrollment.objects.create(episode=episode, track=track, start_date=episode.admission_date)
        episodes.append(episode)
    Attendance.objects.create(
        session=session, episode=episodes[0], patient=episodes[0].patient, status="present",
        minutes_attended=180, recorded_by=clinician,
    )  # fmt: skip
    return Clinic(clinician, session, episodes[0], episodes[1])


@dataclass
class Refusal:
    url: str
    data: dict[str, Any]
    message: str
    target_id: str  # the element the fragment replaces (its hx-target)
    nothing_saved: Callable[[], bool]


def _roster_row(c: Clinic) -> Refusal:
    """An absence with minutes on a row not recorded yet."""
    return Refusal(
        url=reverse("attendance:session", kwargs={"session_id": c.session.pk}),
        data={
            "episode_id": c.unmarked.pk,
            "version": 0,
            "status": "absent_unexcused",
            "minutes_attended": "60",
            "comment": "",
        },
        message="An absence has 0 minutes attended.",
        target_id=f"row-{c.unmarked.pk}",
        nothing_saved=lambda: not Attendance.objects.filter(episode=c.unmarked).exists(),
    )


def _group_note(c: Clinic) -> Refusal:
    """A group note without its start time."""
    return Refusal(
        url=reverse("notes:group", kwargs={"session_id": c.session.pk}),
        data={
            "action": "save",
            "version": 0,
            "note_format": "dap",
            "starts": "",
            "ends": "12:00",
            "topic": "Typed topic",
        },
        message="Enter the start and end times (HH:MM).",
        target_id="group-note",
        nothing_saved=lambda: not ProgressNote.objects.exists(),
    )


REFUSALS: dict[str, Callable[[Clinic], Refusal]] = {
    "attendance:session": _roster_row,
    "notes:group": _group_note,
}


def test_every_htmx_endpoint_has_a_refusal_case() -> None:
    found = htmx_endpoints()
    assert found, "the templates use htmx"
    assert found == set(REFUSALS), "a new htmx endpoint needs a refusal case in REFUSALS"


def test_the_htmx_config_swaps_refusals_and_conflicts_but_not_other_errors() -> None:
    assert htmx_swaps(200) and htmx_swaps(422) and htmx_swaps(409)
    assert not htmx_swaps(204) and not htmx_swaps(403) and not htmx_swaps(500)


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refused_input_comes_back_in_a_fragment_htmx_swaps(
    name: str, clinic: Clinic, client: Client
) -> None:
    case = REFUSALS[name](clinic)
    client.force_login(clinic.clinician)
    response = client.post(case.url, case.data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert htmx_swaps(response.status_code), response.status_code
    assert str(escape(case.message)) in body
    assert re.match(rf'\s*<\w+ id="{case.target_id}"', body), "the fragment replaces its target"
    assert "<html" not in body
    assert case.nothing_saved()
