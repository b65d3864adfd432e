"""Every refused attempt at a patient's record names the patient, so their audit trail shows it.

The test walks every patient-data URL that names a record (a note, a section, an episode, an
alert...) and visits it as someone refused: an auditor (no clinical capability) and a clinician of
another site (refused by site). Each visit must write a denied entry naming the world's patient.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Q
from django.urls import reverse

from openiop.audit.models import AuditEntry
from openiop.ui.url_patients import NOT_PATIENT_RECORDS, RECORD_PATIENTS, url_patients
from openiop.web.tests.test_audit_coverage import patient_data_urls

RECORD_URLS = [
    (name, kwargs)
    for name, kwargs in patient_data_urls()
    if any(k == "patient_id" or k in RECORD_PATIENTS for k in kwargs)
]


def test_every_url_argument_of_a_patient_data_page_is_known() -> None:
    for name, kwargs in patient_data_urls():
        unknown = [
            k
            for k in kwargs
            if k != "patient_id" and k not in RECORD_PATIENTS and k not in NOT_PATIENT_RECORDS
        ]
        assert not unknown, f"{name}: say in ui.url_patients which patient {unknown} concern"


def test_each_record_argument_resolves_to_the_worlds_patient(world: Any) -> None:
    for name in RECORD_PATIENTS:
        assert url_patients({name: world.ids[name]}) == [world.patient.pk], name
    assert url_patients({"note_id": 10**9}) == []  # no such note: nobody named


@pytest.mark.parametrize("who", ["auditor", "other_site_clinician"])
@pytest.mark.parametrize(("name", "kwargs"), RECORD_URLS, ids=[n for n, _ in RECORD_URLS])
def test_a_refused_visit_is_audited_against_the_patient(
    name: str, kwargs: list[str], who: str, world: Any, client: Any
) -> None:
    user = world.users["auditor"] if who == "auditor" else world.other_site_clinician
    url = reverse(name, kwargs={k: world.ids[k] for k in kwargs})
    client.force_login(user)
    before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = client.get(url)
    if response.status_code == 405:  # an action that only accepts POST
        response = client.post(url, {})
    assert response.status_code == 403, f"{name} answered {response.status_code}"
    denied = AuditEntry.objects.filter(id__gt=before, outcome="denied", user_id=user.pk)
    assert denied.exists(), f"{name}: refused without a denied entry"
    unnamed = denied.exclude(
        Q(patient_id=world.patient.pk) | Q(patients__patient_id=world.patient.pk)
    )
    assert not unnamed.exists(), (
        f"{name}: denied entries not naming the patient: "
        f"{list(unnamed.values('object_type', 'patient_id', 'detail'))}"
    )
    # What the refused person sees names nobody.
    assert world.patient.legal_last_name not in response.content.decode()
