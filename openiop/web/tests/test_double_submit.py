"""A double click makes one record (issue 13.5): every create form sent twice saves once.

Each case GETs the form (which must carry a single-use token), POSTs it twice with the same token
and checks that one row was made and that the second answer leads where the first one did.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import path, reverse
from django.utils import timezone

from openiop.admissions.models import Inquiry
from openiop.billing.models import Coverage
from openiop.core.actor import Actor
from openiop.core.models import Submission
from openiop.core.submissions import ALREADY_SAVED, FIELD, MAX_AGE
from openiop.measures import services as measures_services
from openiop.measures.models import Response
from openiop.notes.models import NoteAddendum, ProgressNote
from openiop.patients.models import Patient
from openiop.testing import postgresql_only
from openiop.treatment.models import PlanProblem

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseRedirect
    from pytest_django import Settings

    from openiop.web.tests.conftest import World

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="' + FIELD + r'" value="([A-Za-z0-9_-]+)"')


@pytest.fixture(autouse=True)
def _fresh_rate_limit() -> Any:
    cache.clear()  # the public form's per-address limit
    yield
    cache.clear()


@dataclass
class Case:
    role: str | None  # None: no login (public pages)
    url: Callable[[Any], str]
    data: Callable[[Any], dict[str, Any]]
    rows: Callable[[], int]


def _patient_link(world: Any) -> str:
    issued = measures_services.patient_link_create(
        episode=world.patient.episodes.get(),
        purpose="questionnaire",
        instrument="gad7",
        by=Actor(user=world.users["clinician"], channel="test"),
    )
    return reverse("measures:patient_link", kwargs={"token": issued.token})


def _gad7(world: Any) -> dict[str, Any]:
    return {f"item_{n}": "1" for n in range(1, 8)}


CASES: dict[str, Case] = {
    "patient": Case(
        "intake",
        lambda w: reverse("patients:create"),
        lambda w: {
            "site": w.ids["site_id"],
            "legal_first_name": "Ottoline",
            "legal_last_name": "Brambleworth",
            "date_of_birth": "03/15/1988",
            "sex": "female",
            "language": "English",
        },
        lambda: Patient.objects.count(),
    ),
    "inquiry": Case(
        "intake",
        lambda w: reverse("admissions:inquiry_new") + f"?site={w.ids['site_id']}",
        lambda w: {
            "site": w.ids["site_id"],
            "channel": "call",
            "referral_source": "self",
            "for_whom": "self",
            "first_name": "Odalys",
            "last_name": "Fernwhistle",
            "phone": "555-010-4545",
            "concerns": "mental_health",
            "age_group": "adult",
            "urgency": "routine",
        },
        lambda: Inquiry.objects.count(),
    ),
    "public inquiry": Case(
        None,
        lambda w: reverse("admissions:public_inquiry", kwargs={"site_id": w.ids["site_id"]}),
        lambda w: {
            "for_whom": "self",
            "first_name": "Odalys",
            "last_name": "Fernwhistle",
            "phone": "555-010-4545",
            "concerns": "mental_health",
            "age_group": "adult",
            "website": "",
        },
        lambda: Inquiry.objects.count(),
    ),
    "questionnaire (staff)": Case(
        "clinician",
        lambda w: reverse(
            "measures:enter", kwargs={"episode_id": w.ids["episode_id"], "instrument": "gad7"}
        ),
        _gad7,
        lambda: Response.objects.count(),
    ),
    "questionnaire (patient's link)": Case(
        None, _patient_link, _gad7, lambda: Response.objects.count()
    ),
    "individual note": Case(
        "clinician",
        lambda w: reverse("notes:individual_new", kwargs={"episode_id": w.ids["episode_id"]}),
        lambda w: {
            "note_format": "dap",
            "kind": "individual",
            "date": timezone.localdate().isoformat(),
            "starts": "13:00",
            "ends": "13:50",
            "topic": "Check-in",
            "data": "Reports steady mood.",
            "assessment": "Stable.",
            "plan": "Continue weekly.",
            "action": "save",
        },
        lambda: ProgressNote.objects.filter(kind="individual").count(),
    ),
    "addendum": Case(
        "clinician",
        lambda w: reverse("notes:section", kwargs={"section_id": w.ids["section_id"]}),
        lambda w: {"text": "Called after group; safe at home."},
        lambda: NoteAddendum.objects.count(),
    ),
    "plan problem": Case(
        "clinician",
        lambda w: reverse(
            "treatment:plan", kwargs={"treatment_plan_id": w.ids["treatment_plan_id"]}
        ),
        lambda w: {
            "action": "problem",
            "description": "Opioid use disorder",
            "icd10_code": "F11.20",
            "patient_words": "I can't stop on my own.",
        },
        lambda: PlanProblem.objects.count(),
    ),
    "coverage": Case(
        "billing",
        lambda w: reverse("billing:coverage_new", kwargs={"inquiry_id": w.ids["inquiry_id"]}),
        lambda w: {
            "payer": Coverage.objects.get(pk=w.ids["coverage_id"]).payer_id,
            "rank": "secondary",
            "member_id": "ZZ123",
            "subscriber_relationship": "self",
        },
        lambda: Coverage.objects.count(),
    ),
}


def _client(world: Any, role: str | None) -> Client:
    client = Client()
    if role is not None:
        client.force_login(world.users[role])
    return client


def _form(client: Client, url: str) -> tuple[str, str]:
    """The form page's URL (after any redirect) and the token of its form."""
    page = client.get(url)
    assert page.status_code == 200, url
    found = TOKEN.findall(page.content.decode())
    assert found, f"{url} has no submission token"
    return url, found[-1]


@pytest.mark.parametrize("name", list(CASES))
def test_a_create_form_sent_twice_saves_once_and_the_second_answer_is_the_first(
    world: World, name: str
) -> None:
    case = CASES[name]
    client = _client(world, case.role)
    url, token = _form(client, case.url(world))
    data = {**case.data(world), FIELD: token}
    before = case.rows()
    first = client.post(url, data)
    assert first.status_code in (200, 302), first.content.decode()[:2000]
    assert case.rows() == before + 1
    second = client.post(url, data)
    assert case.rows() == before + 1
    assert second.status_code == first.status_code
    if first.status_code == 302:
        assert second["Location"] == first["Location"]
        if case.role is not None:
            shown = client.get(second["Location"]).content.decode()
            assert ALREADY_SAVED in shown.replace("&#39;", "'")
    else:  # the patient's page answered in place: the same page again, not "link gone"
        assert second.content == first.content


@pytest.mark.parametrize("name", [n for n in CASES if n != "questionnaire (patient's link)"])
def test_without_the_token_a_form_still_saves(world: World, name: str) -> None:
    """The forms do not depend on the token (scripts, older pages); a patient's link is left out:
    its first answers spend it."""
    case = CASES[name]
    client = _client(world, case.role)
    url = case.url(world)
    before = case.rows()
    assert client.post(url, case.data(world)).status_code == 302
    assert case.rows() == before + 1


def test_a_form_with_errors_does_not_use_up_its_token(world: World) -> None:
    client = _client(world, "clinician")
    url, token = _form(client, CASES["questionnaire (staff)"].url(world))
    before = Response.objects.count()
    bad = client.post(url, {"item_1": "1", FIELD: token})
    assert bad.status_code == 400 and Response.objects.count() == before
    assert not Submission.objects.filter(token=token).exists()
    fixed = client.post(url, {**_gad7(world), FIELD: token})
    assert fixed.status_code == 302 and Response.objects.count() == before + 1
    assert Submission.objects.get(token=token).location == fixed["Location"]


def test_a_refused_create_does_not_use_up_its_token_either(world: World) -> None:
    """A rule refusal (the service's RuleViolation) shows the form again: nothing was saved."""
    client = _client(world, "intake")
    url, token = _form(client, CASES["patient"].url(world))
    data = {**CASES["patient"].data(world), FIELD: token}
    before = Patient.objects.count()
    refused = client.post(url, {**data, "date_of_birth": "2999-01-01"})
    assert refused.status_code == 200 and Patient.objects.count() == before
    assert client.post(url, data).status_code == 302 and Patient.objects.count() == before + 1


def test_each_render_of_a_form_has_its_own_token(world: World) -> None:
    client = _client(world, "intake")
    url = CASES["patient"].url(world)
    assert _form(client, url)[1] != _form(client, url)[1]


def test_a_token_used_by_someone_else_is_not_replayed_to_them(world: World) -> None:
    mine = _client(world, "intake")
    url, token = _form(mine, CASES["patient"].url(world))
    data = {**CASES["patient"].data(world), FIELD: token}
    assert mine.post(url, data).status_code == 302
    other = _client(world, "case_manager")
    answer = other.post(url, data)
    assert answer.status_code == 409 and "Location" not in answer
    assert Patient.objects.filter(legal_last_name="Brambleworth").count() == 1


def test_used_tokens_expire_after_a_day(world: World) -> None:
    client = _client(world, "intake")
    url, token = _form(client, CASES["patient"].url(world))
    client.post(url, {**CASES["patient"].data(world), FIELD: token})
    fresh = Submission.objects.create(token="f" * 22, created_at=timezone.now())
    Submission.objects.filter(token=token).update(
        created_at=timezone.now() - MAX_AGE - dt.timedelta(minutes=1)
    )
    call_command("expire_submissions")
    assert list(Submission.objects.values_list("token", flat=True)) == [fresh.token]


def test_the_sign_in_pages_are_left_alone(world: World, client: Client) -> None:
    """Their answer sets the session cookie, which a replay could not give again."""
    client.post(reverse("accounts:login"), {"username": "x", "password": "y", FIELD: "a" * 22})
    assert not Submission.objects.exists()


@pytest.mark.django_db(transaction=True)
@postgresql_only("two connections at once: SQLite's test database is one in-memory connection")
def test_two_posts_of_the_same_form_at_once_make_one_patient(world: World) -> None:
    case = CASES["patient"]
    url, token = _form(_client(world, "intake"), case.url(world))
    data = {**case.data(world), FIELD: token}
    start = threading.Barrier(2)
    answers: list[Any] = []

    def post() -> None:
        client = _client(world, "intake")
        start.wait()
        try:
            answers.append(client.post(url, data))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Patient.objects.filter(legal_last_name="Brambleworth").count() == 1
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]


def _refuse_with_message(request: HttpRequest) -> HttpResponseRedirect:
    from django.contrib import messages
    from django.shortcuts import redirect

    messages.error(request, "Refused: the session has not started.")
    return redirect("/back/")


urlpatterns = [path("refuse/", _refuse_with_message)]


def test_a_redirect_that_carries_an_error_message_does_not_use_up_the_token(
    world: World, settings: Settings
) -> None:
    """Views that refuse by sending the user back with an error message saved nothing: the same
    form sent again runs again instead of being told it was saved."""
    settings.ROOT_URLCONF = __name__
    client = _client(world, "clinician")
    token = "t" * 22
    first = client.post("/refuse/", {FIELD: token})
    assert first.status_code == 302
    assert not Submission.objects.filter(token=token).exists()
    again = client.post("/refuse/", {FIELD: token})
    assert again.status_code == 302
    from django.contrib.messages import get_messages

    shown = [str(m) for m in get_messages(again.wsgi_request)]
    assert ALREADY_SAVED not in shown and "Refused: the session has not started." in shown
