"""The one error path (issue 15): a DomainError becomes a form error, a page or problem+json, once.

Views say `with refusals(request, form): service(...)`; staff_view maps whatever escapes. The test
views below stand for any view: they raise each class of the tree from a "service call".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path

from openiop.config import urls as project_urls
from openiop.core.errors import Conflict, DomainError, NotFound, NotPermitted, RuleViolation
from openiop.testing import make_org, make_site, make_user
from openiop.ui.views_support import refusals, staff_view

ERRORS: dict[str, DomainError] = {
    "rule": RuleViolation("The end date is before the start.", field="note"),
    "conflict": Conflict("Someone else changed this record."),
    "denied": NotPermitted("Not your patient."),
    "missing": NotFound("There is no such note."),
}


class NoteForm(forms.Form):
    note = forms.CharField()


@staff_view()
def escaping(request: HttpRequest, kind: str) -> HttpResponse:
    raise ERRORS[kind]


@staff_view()
def form_page(request: HttpRequest, kind: str) -> HttpResponse:
    form = NoteForm(request.POST)
    if form.is_valid():
        with refusals(request, form):
            raise ERRORS[kind]
    return HttpResponse(f"{form['note'].value()}|{form.errors.as_json()}")


@staff_view()
def button(request: HttpRequest, kind: str) -> HttpResponse:
    with refusals(request, flash=True):
        raise ERRORS[kind]
    return redirect("/back/")


urlpatterns = [
    path("t/escape/<str:kind>/", escaping),
    path("api/t/escape/<str:kind>/", escaping),
    path("t/form/<str:kind>/", form_page),
    path("t/button/<str:kind>/", button),
    *project_urls.urlpatterns,
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def staff(client: Any) -> Any:
    site = make_site(make_org())
    client.force_login(make_user("clinician", sites=[site]))
    return client


@pytest.mark.parametrize(
    ("kind", "status", "says"),
    [
        ("rule", 400, "Go back, fix what the message names"),
        ("conflict", 409, "reload the page to see the latest version"),
        ("denied", 403, "recorded in the audit log"),
        ("missing", 404, "Not found"),
    ],
)
def test_an_escaping_error_is_a_page_with_its_status(
    staff: Any, kind: str, status: int, says: str
) -> None:
    response = staff.get(f"/t/escape/{kind}/")
    body = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert ERRORS[kind].message in body and says in body


@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_an_api_request_gets_problem_json(staff: Any, kind: str) -> None:
    """A staff view asked for JSON answers problem+json. (Under /api/ no session reaches a view:
    that is the bearer-token REST API, core.token_api, whose api_endpoint maps errors itself.)"""
    exc = ERRORS[kind]
    response = staff.get(f"/t/escape/{kind}/", HTTP_ACCEPT="application/json")
    assert response.status_code == exc.http_status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == exc.as_problem()
    assert response.json()["status"] == exc.http_status


def test_a_browser_that_also_accepts_json_gets_the_page(staff: Any) -> None:
    response = staff.get("/t/escape/rule/", HTTP_ACCEPT="text/html,application/json;q=0.9")
    assert response["Content-Type"].startswith("text/html")


def test_a_refused_form_keeps_the_input_names_the_field_and_answers_422(staff: Any) -> None:
    response = staff.post("/t/form/rule/", {"note": "Typed by a fictional clinician"})
    typed, errors = response.content.decode().split("|", 1)
    assert response.status_code == 422
    assert typed == "Typed by a fictional clinician"
    assert '"note"' in errors and "The end date is before the start." in errors


def test_a_conflict_on_a_form_answers_409_with_the_message_on_the_form(staff: Any) -> None:
    response = staff.post("/t/form/conflict/", {"note": "Kept"})
    typed, errors = response.content.decode().split("|", 1)
    assert response.status_code == 409
    assert typed == "Kept" and "Someone else changed this record." in errors


def test_a_refusal_is_never_a_form_error_but_the_403_page(staff: Any) -> None:
    response = staff.post("/t/form/denied/", {"note": "Kept"})
    assert response.status_code == 403 and "Not your patient." in response.content.decode()


def test_the_button_variant_redirects_back_with_the_error_message(staff: Any) -> None:
    response = staff.post("/t/button/rule/", follow=False)
    assert response.status_code == 302 and response["Location"] == "/back/"
    shown = [(m.level_tag, m.message) for m in response.wsgi_request._messages]
    assert shown == [("error", "The end date is before the start.")]
    assert staff.post("/t/button/denied/").status_code == 403


EXCEPT_DOMAIN = re.compile(
    r"^\s*except\b[^:]*\b(DomainError|RuleViolation|Conflict|NotPermitted|NotFound)\b", re.M
)


def test_the_pattern_finds_an_except_block() -> None:
    assert EXCEPT_DOMAIN.search(
        "    try:\n        x()\n    except (RuleViolation, Conflict) as e:\n"
    )
    assert EXCEPT_DOMAIN.search("except services.NotFound:\n")
    assert not EXCEPT_DOMAIN.search("    except ValueError:\n")


def test_no_view_module_catches_the_domain_error_tree_itself() -> None:
    root = Path(__file__).resolve().parents[2]
    modules = [*root.glob("*/views.py"), *root.glob("*/views/*.py")]
    assert len(modules) >= 9
    offenders = [
        f"{m.relative_to(root)}:{text[: found.start()].count(chr(10)) + 1}"
        for m in modules
        for text in [m.read_text()]
        for found in EXCEPT_DOMAIN.finditer(text)
    ]
    assert not offenders, f"use ui.views_support.refusals instead: {offenders}"
