"""The bearer token check (fhir.auth.authenticate): one statement, nothing kept between requests,
so revoking or expiring a token, deactivating its user or changing their sites or role takes
effect on the very next request."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken

from openiop.accounts.domain import Role
from openiop.fhir.tests.conftest import World, client_credentials_token, client_for, fhir_get

pytestmark = pytest.mark.django_db


def _token_row(token: str) -> AccessToken:
    from hashlib import sha256

    return AccessToken.objects.get(token_checksum=sha256(token.encode()).hexdigest())


def test_a_read_costs_two_queries_token_with_its_row_and_audit(
    client: Client, world: World
) -> None:
    token, _ = client_for(world.director)
    fhir_get(client, f"Patient/{world.mh_patient.pk}", token)  # warm
    with CaptureQueriesContext(connection) as ctx:
        r = fhir_get(client, f"Patient/{world.mh_patient.pk}", token)
    assert r.status_code == 200
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert len(sqls) == 2, sqls
    assert "token_checksum" in sqls[0] and "patients_patient" in sqls[0]
    assert "audit_auditentry" in sqls[1]


def test_the_row_read_with_the_token_is_the_row_read_alone(client: Client, world: World) -> None:
    """The same JSON as the read without the token's statement (selectors.read, row read by
    itself), for a plain type; a type whose rows are not plain reads its row as before."""
    from openiop.core.actor import Actor
    from openiop.fhir import selectors
    from openiop.fhir.part2 import FhirRecipient

    token, _ = client_for(world.director)
    by_token = fhir_get(client, f"Patient/{world.mh_patient.pk}", token).json()
    alone = selectors.read(
        actor=Actor(user=world.director, channel="fhir"),
        recipient=FhirRecipient(
            client_id="", client_name="", organization_id=world.org.pk, purpose="treatment"
        ),
        resource_type="Patient",
        resource_id=str(world.mh_patient.pk),
    )
    assert by_token == alone
    assert selectors.row_read("Patient", str(world.mh_patient.pk)) is not None
    assert selectors.row_read("Patient", "abc") is None
    assert selectors.row_read("NoSuchType", "1") is None
    episode = fhir_get(client, f"EpisodeOfCare/{world.mh_episode.pk}", token)
    assert episode.status_code == 200


def test_a_read_by_token_of_a_missing_row_or_with_a_bad_token(client: Client, world: World) -> None:
    token, _ = client_for(world.director)
    missing = fhir_get(client, "Patient/999999999", token)
    assert missing.status_code == 404
    assert "no Patient with id '999999999'" in missing.json()["issue"][0]["diagnostics"]
    refused = fhir_get(client, f"Patient/{world.mh_patient.pk}", "not-a-token")
    assert refused.status_code == 401
    assert "Quillon" not in refused.content.decode() and "Marigold" not in refused.content.decode()


def test_a_row_read_with_the_token_is_refused_to_a_role_or_site_that_may_not_see_it(
    client: Client, world: World
) -> None:
    """The row comes with the token, but the role and site checks run before it is used: a
    clinician of the other site gets 404 (not there for them), audited, with nothing of it."""
    from openiop.audit.models import AuditEntry

    token, _ = client_for(world.other_clinician)
    r = fhir_get(client, f"Patient/{world.mh_patient.pk}", token)
    assert r.status_code in (403, 404)
    assert "Marigold" not in r.content.decode()
    assert AuditEntry.objects.filter(
        user_id=world.other_clinician.pk, outcome="denied", patient_id=world.mh_patient.pk
    ).exists()


def test_a_token_revoked_at_the_endpoint_is_refused_on_the_next_request(
    client: Client, world: World
) -> None:
    from openiop.core.actor import Actor
    from openiop.fhir.services import fhir_client_create

    new = fhir_client_create(
        user=world.director, scopes="system/*.read", name="Feed", by=Actor.cli(world.director, "t")
    )
    token = client_credentials_token(client, new)
    assert fhir_get(client, f"Patient/{world.mh_patient.pk}", token).status_code == 200
    basic = base64.b64encode(f"{new.client_id}:{new.client_secret}".encode()).decode()
    revoked = client.post(
        "/o/revoke_token/",
        {"token": token, "token_type_hint": "access_token"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert revoked.status_code == 200, revoked.content
    r = fhir_get(client, f"Patient/{world.mh_patient.pk}", token)
    assert r.status_code == 401
    assert r.json()["issue"][0]["code"] == "login"


def test_an_expired_token_is_refused(client: Client, world: World) -> None:
    token, _ = client_for(world.director)
    assert fhir_get(client, "Patient", token).status_code == 200
    AccessToken.objects.filter(pk=_token_row(token).pk).update(
        expires=timezone.now() - dt.timedelta(seconds=1)
    )
    assert fhir_get(client, "Patient", token).status_code == 401


def test_an_unknown_or_malformed_token_is_refused(client: Client, world: World) -> None:
    assert fhir_get(client, "Patient", "not-a-token").status_code == 401
    r = client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION="Basic abc")
    assert r.status_code == 401
    r = client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION="Bearer a b")
    assert r.status_code == 401


def test_a_deactivated_user_and_changed_sites_and_role_act_on_the_next_request(
    client: Client, world: World
) -> None:
    token, _ = client_for(world.clinician)
    path = f"Patient/{world.mh_patient.pk}"
    assert fhir_get(client, path, token).status_code == 200
    world.clinician.sites.set([world.other_site])
    assert fhir_get(client, path, token).status_code == 403  # not at one of their sites now
    world.clinician.sites.set([world.site])
    assert fhir_get(client, path, token).status_code == 200
    world.clinician.role = Role.BILLING
    world.clinician.save(update_fields=["role"])
    assert fhir_get(client, "Observation", token).status_code == 403  # the role's rule
    world.clinician.is_active = False
    world.clinician.save(update_fields=["is_active"])
    assert fhir_get(client, path, token).status_code == 401


def test_a_director_sees_every_site_of_their_organization_only(
    client: Client, world: World
) -> None:
    from openiop.testing import make_patient, make_site

    token, _ = client_for(world.director)
    at_other_site = make_patient(world.other_site, legal_first_name="Othersite")
    assert fhir_get(client, f"Patient/{at_other_site.pk}", token).status_code == 200
    elsewhere = make_patient(make_site(world.other_org, name="Birchwood East"))
    assert fhir_get(client, f"Patient/{elsewhere.pk}", token).status_code == 403
    # A site opened since: seen on the next request.
    new_site = make_site(world.org, name="Lantern Hill East")
    there = make_patient(new_site, legal_first_name="Newsite")
    assert fhir_get(client, f"Patient/{there.pk}", token).status_code == 200


def test_a_token_bound_to_another_resource_is_refused(client: Client, world: World) -> None:
    """RFC 8707: such a token goes through django-oauth-toolkit's validator and its audience
    check."""
    token, _ = client_for(world.director)
    AccessToken.objects.filter(pk=_token_row(token).pk).update(
        resource=["https://elsewhere.example/fhir"]
    )
    assert fhir_get(client, "Patient", token).status_code == 401
    AccessToken.objects.filter(pk=_token_row(token).pk).update(
        resource=["http://testserver/fhir/R4/Patient"]
    )
    assert fhir_get(client, "Patient", token).status_code == 200


def test_the_registration_sets_the_recipient_purpose_and_outside_organization(
    client: Client, world: World
) -> None:
    """Part 2: a client registered for an outside organization is outside the program even for
    staff of the patient's own organization, so the SUD patient's episode is withheld."""
    inside, _ = client_for(world.director)
    outside, _ = client_for(world.director, outside_organization="County Court (fictional)")
    path = f"EpisodeOfCare/{world.sud_episode.pk}"
    assert fhir_get(client, path, inside).status_code == 200
    r = fhir_get(client, path, outside)
    assert r.status_code == 403 and r.json()["issue"][0]["code"] == "suppressed"
