"""Record ids in URL paths: `<id:...>` (ui.converters) in every urls.py."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from django.urls import Resolver404, get_resolver, resolve

from openiop.ui.converters import IdConverter
from openiop.web.tests.test_audit_coverage import _patterns


def test_an_id_longer_than_the_database_integer_matches_no_url() -> None:
    assert resolve("/patients/999999999999999999/").kwargs == {"patient_id": 999999999999999999}
    with pytest.raises(Resolver404):
        resolve("/patients/99999999999999999999999/")


def test_a_huge_id_in_a_url_is_a_plain_not_found(world: Any, client: Any, mfa_passed: Any) -> None:
    client.force_login(world.users["director"])
    response = client.get(f"/notes/group/{'9' * 23}/")
    assert response.status_code == 404


def test_every_record_id_in_a_url_uses_the_id_converter() -> None:
    """Django's <int:> passes any number of digits to the database; no URL of ours may use it
    (Django's own admin URLs are left as they are)."""
    loose = [
        name
        for name, pattern in _patterns(get_resolver())
        for arg, converter in pattern.pattern.converters.items()
        if getattr(inspect.unwrap(pattern.callback), "__module__", "").startswith("openiop.")
        and arg.endswith("_id")
        and arg != "object_id"  # the admin's own change pages: its get_object parses the id
        and not isinstance(converter, IdConverter)
    ]
    assert loose == []
