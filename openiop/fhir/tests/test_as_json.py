"""The read endpoint answers with mapping.as_json (the mapping's JSON, no fhir.resources model at
run time). What makes that safe: for a record of every resource type the server has, that JSON
validates with fhir.resources and equals the validated model's own JSON, value for value; and the
read endpoint sends exactly it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from openiop.fhir import mapping
from openiop.fhir.scopes import RESOURCE_TYPES
from openiop.fhir.selectors import DEFS
from openiop.fhir.tests.conftest import World, fhir_get, token_for

pytestmark = pytest.mark.django_db


def _model_json(resource_type: str, row: Any) -> dict[str, Any]:
    model = DEFS[resource_type].to_fhir(row)
    parsed: dict[str, Any] = json.loads(model.model_dump_json())
    return parsed


def _plain_json(resource_type: str, row: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(
        json.dumps(mapping.as_json(DEFS[resource_type].to_fhir, row))
    )
    return parsed


def test_the_world_has_a_record_of_every_resource_type(world: World) -> None:
    assert set(DEFS) == set(RESOURCE_TYPES)
    assert set(RESOURCE_TYPES) <= set(world.records), "every type needs a record for the proof"


@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_as_json_is_the_validated_models_json(world: World, resource_type: str) -> None:
    rows = list(DEFS[resource_type].queryset().filter(pk__in=world.records[resource_type]))
    assert len(rows) == len(set(world.records[resource_type])), resource_type
    for row in rows:
        plain = _plain_json(resource_type, row)
        # It validates (raises otherwise) ...
        model = get_fhir_model_class(resource_type).model_validate(plain)
        # ... and the model, validated, writes back exactly what as_json wrote.
        assert json.loads(model.model_dump_json()) == plain
        # And it is what the mapping's own model says.
        assert _model_json(resource_type, row) == plain


def test_part2_records_keep_their_labels_and_notice_in_as_json(world: World) -> None:
    row = DEFS["EpisodeOfCare"].queryset().get(pk=world.sud_episode.pk)
    meta = mapping.as_json(DEFS["EpisodeOfCare"].to_fhir, row)["meta"]
    assert {s["code"] for s in meta["security"]} == {"R", "42CFRPart2"}
    assert meta["extension"][0]["valueString"]


def test_as_json_refuses_a_mapping_that_does_not_build_through_build(world: World) -> None:
    def not_through_build(row: Any) -> Any:
        return get_fhir_model_class("Patient").model_validate({"resourceType": "Patient"})

    with pytest.raises(TypeError):
        mapping.as_json(not_through_build, world.sud_patient)


def test_build_validates_again_after_as_json(world: World) -> None:
    mapping.as_json(DEFS["Patient"].to_fhir, world.sud_patient)
    assert not isinstance(DEFS["Patient"].to_fhir(world.sud_patient), dict)


def test_instants_are_written_as_the_model_writes_them() -> None:
    when = dt.datetime(2026, 1, 6, 9, 30, 1, 250000, tzinfo=dt.UTC)
    assert mapping._instant(when) == "2026-01-06T09:30:01.250000Z"
    model = mapping.build("Patient", {"meta": {"lastUpdated": mapping._instant(when)}, "id": "1"})
    assert json.loads(model.model_dump_json())["meta"]["lastUpdated"] == mapping._instant(when)


@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_the_read_endpoint_sends_the_validated_json(
    client: Client, world: World, resource_type: str
) -> None:
    token = token_for(world.director)
    for pk in world.records[resource_type]:
        r = fhir_get(client, f"{resource_type}/{pk}", token)
        assert r.status_code == 200, r.content
        row = DEFS[resource_type].queryset().get(pk=pk)
        assert r.json() == _model_json(resource_type, row)


@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_a_read_loads_the_row_the_orm_loads(world: World, resource_type: str) -> None:
    """read_record's _row_by_pk (a raw SELECT with the ORM's converters for a model's plain
    rows, the ORM otherwise) gives the instance the ORM gives, every field equal."""
    from openiop.fhir.selectors import _row_by_pk

    qs = DEFS[resource_type].queryset()
    for pk in world.records[resource_type]:
        fast, orm = _row_by_pk(qs, pk), qs.get(pk=pk)
        assert type(fast) is type(orm)
        for f in orm._meta.concrete_fields:
            assert getattr(fast, f.attname) == getattr(orm, f.attname), f.attname
            assert type(getattr(fast, f.attname)) is type(getattr(orm, f.attname)), f.attname
    assert _row_by_pk(qs, 10**9) is None
