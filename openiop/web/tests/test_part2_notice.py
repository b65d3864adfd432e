"""Printed and exported substance use disorder records carry the 42 CFR Part 2 notice (domain.md s.5).

The world's episode is co-occurring, so it is Part 2 protected from admission.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from pypdf import PdfReader

from openiop.episodes.models import Episode

OUTPUTS = [
    ("notes:section_pdf", "section_id"),
    ("notes:section_export", "section_id"),
    ("treatment:plan_pdf", "treatment_plan_id"),
    ("measures:trends_pdf", "episode_id"),
]


def _text(response: Any) -> str:
    if response["Content-Type"] == "application/pdf":
        pages = PdfReader(io.BytesIO(response.content)).pages
        return " ".join(" ".join(p.extract_text().split()) for p in pages)
    body: bytes = response.content
    return body.decode()


@pytest.mark.parametrize(("name", "arg"), OUTPUTS, ids=[n for n, _ in OUTPUTS])
def test_printed_or_exported_part2_record_carries_the_notice(
    name: str, arg: str, world: Any, client: Any, mfa_passed: Any
) -> None:
    assert Episode.objects.get(pk=world.ids["episode_id"]).part2_protected
    client.force_login(world.users["clinician"])
    response = client.get(reverse(name, kwargs={arg: world.ids[arg]}))
    assert response.status_code == 200
    text = _text(response)
    assert "42 CFR Part 2" in text
    assert "prohibits unauthorized use or disclosure" in text


@pytest.mark.parametrize(("name", "arg"), OUTPUTS, ids=[n for n, _ in OUTPUTS])
def test_a_record_outside_part2_prints_without_the_notice(
    name: str, arg: str, world: Any, client: Any, mfa_passed: Any
) -> None:
    Episode.objects.filter(pk=world.ids["episode_id"]).update(part2_protected=False)
    client.force_login(world.users["clinician"])
    response = client.get(reverse(name, kwargs={arg: world.ids[arg]}))
    assert response.status_code == 200
    assert "42 CFR Part 2" not in _text(response)
