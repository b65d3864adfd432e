"""Every URL whose view shows patient data writes an audit entry naming that patient.

The test walks the URL configuration, so a new patient-data page is covered the day it is added:
it fails until the world fixture can fill the new page's URL arguments.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Q
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from openiop.audit.models import AuditEntry


def _patterns(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            ns = f"{namespace}{item.namespace}:" if item.namespace else namespace
            found.extend(_patterns(item, ns))
        elif item.name:
            found.append((f"{namespace}{item.name}", item))
    return found


def patient_data_urls() -> list[tuple[str, list[str]]]:
    urls = []
    for name, pattern in _patterns(get_resolver()):
        if getattr(pattern.callback, "patient_data", False):
            urls.append((name, sorted(pattern.pattern.converters)))
    return sorted(urls)


def test_the_walk_finds_the_patient_data_pages() -> None:
    names = {name for name, _ in patient_data_urls()}
    assert {"patients:chart", "attendance:session", "web:today"} <= names


@pytest.mark.parametrize(
    ("name", "kwargs"), patient_data_urls(), ids=[n for n, _ in patient_data_urls()]
)
def test_visiting_a_patient_data_url_writes_an_audit_entry(
    name: str, kwargs: list[str], world: Any, client: Any, mfa_passed: Any
) -> None:
    missing = [k for k in kwargs if k not in world.ids]
    assert not missing, f"add {missing} to the world fixture so {name} is covered"
    url = reverse(name, kwargs={k: world.ids[k] for k in kwargs})
    client.force_login(world.users["director"])
    before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = client.get(url)
    if response.status_code == 405:  # an action that only accepts POST
        response = client.post(url, {})
    assert response.status_code < 500
    new = AuditEntry.objects.filter(id__gt=before)
    about_patient = new.filter(
        Q(patient_id=world.patient.pk) | Q(patients__patient_id=world.patient.pk)
    )
    assert about_patient.exists(), (
        f"{name} ({url}) wrote no audit entry about the patient: {list(new.values('action', 'object_type', 'patient_id'))}"
    )
    entry = about_patient.first()
    assert entry is not None
    assert entry.username == world.users["director"].username
    assert entry.role == "director"
    assert entry.client_addr == "127.0.0.1"
