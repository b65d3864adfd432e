"""bench/read_floor.py's probes (bench/read_floor_urls.py) do what they claim: each runs the FHIR
read's own database step (the token-and-record statement, the audit write) and nothing else, so
the read's floor it reports is the read's. PostgreSQL only, as the benchmark is."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from openiop.audit.models import AuditEntry
from openiop.fhir.tests.conftest import World, token_for

BENCH = Path(__file__).resolve().parents[3] / "bench"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark's database"),
]


@pytest.fixture
def probes() -> Iterator[None]:
    sys.path.insert(0, str(BENCH))
    try:
        with override_settings(ROOT_URLCONF="read_floor_urls"):
            yield
    finally:
        sys.path.remove(str(BENCH))


# probe -> (queries it runs, audit entries it writes)
EXPECTED = {
    "$floor-select": (1, 0),
    "$floor-insert": (1, 1),
    "$floor-token": (1, 0),
    "$floor-audit": (1, 1),
    "$floor-token-audit": (2, 1),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_probe_runs_only_its_step(world: World, probes: None, name: str) -> None:
    token = token_for(world.director)
    pk = world.sud_patient.pk
    client = Client(headers={"Authorization": f"Bearer {token}"})
    before = AuditEntry.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        answer = client.get(f"/fhir/R4/{name}/{pk}")
    assert answer.status_code == 200
    assert answer.json() == {"id": str(pk)}
    queries, entries = EXPECTED[name]
    assert len(ctx.captured_queries) == queries
    written = list(AuditEntry.objects.order_by("id")[before:])
    assert len(written) == entries
    for entry in written:
        assert (entry.patient_id, entry.object_type, entry.action, entry.channel) == (
            pk,
            "fhir_Patient",
            "view",
            "fhir",
        )


def test_the_token_probe_runs_the_reads_statement(world: World, probes: None) -> None:
    """An unknown token finds no row: the probe's statement is the read's token statement."""
    client = Client(headers={"Authorization": "Bearer not-a-token"})
    with pytest.raises(RuntimeError, match="unknown"):
        client.get(f"/fhir/R4/$floor-token/{world.sud_patient.pk}")


def test_the_app_is_served_behind_the_probes(world: World, probes: None) -> None:
    token = token_for(world.director)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get("/healthz").status_code == 200
    read = client.get(f"/fhir/R4/Patient/{world.mh_patient.pk}")
    assert read.status_code == 200
    assert read.json()["id"] == str(world.mh_patient.pk)
