"""A NUL character is refused in every request, before any view sees it (core.input_policy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.core.input_policy import NUL_REFUSED
from openiop.patients.models import Patient
from openiop.testing import make_org, make_patient, make_site, make_user

if TYPE_CHECKING:
    from django.test import Client


@pytest.fixture
def clerk(db: None) -> tuple[User, Patient]:
    org = make_org()
    site = make_site(org)
    user = make_user(Role.INTAKE, sites=[site], org=org)
    return user, make_patient(site, legal_first_name="Ottoline", legal_last_name="Quillby")


def test_a_nul_in_a_form_field_is_refused_with_a_message_and_nothing_is_saved(
    clerk: tuple[User, Patient], client: Client
) -> None:
    user, patient = clerk
    client.force_login(user)
    response = client.post(f"/patients/{patient.pk}/edit/", {"preferred_name": "Otto\x00"})
    assert response.status_code == 400
    assert response.content.decode() == NUL_REFUSED
    assert response["Content-Type"].startswith("text/plain")
    assert "\x00" not in Patient.objects.get(pk=patient.pk).preferred_name


@pytest.mark.parametrize(
    "url", ["/patients/?q=Ott%00", "/patients/?q%00=Ott", "/measures/p/abc%00def/"]
)
def test_a_nul_in_a_query_or_path_is_refused(
    clerk: tuple[User, Patient], client: Client, url: str
) -> None:
    client.force_login(clerk[0])
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_in_the_login_form_is_refused_before_the_lockout_records_the_username(
    db: None, client: Client
) -> None:
    from axes.models import AccessAttempt

    response = client.post("/accounts/login/", {"username": "a\x00b", "password": "x"})
    assert response.status_code == 400
    assert not AccessAttempt.objects.exists()


def test_text_without_nul_passes(clerk: tuple[User, Patient], client: Client) -> None:
    client.force_login(clerk[0])
    assert client.get("/patients/?q=Ott").status_code == 200
