"""bench/probe.py finds every benchmark page in a synthetic network, and each answers 200 with its
marker text (the group note editor naming each of its members) for the user the probe chose."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from types import ModuleType

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PROBE = Path(__file__).resolve().parents[4] / "bench" / "probe.py"


def load_probe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_probe", PROBE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_probe_page_answers_200_with_its_markers(capsys: pytest.CaptureFixture[str]) -> None:
    call_command(
        "synth",
        *("--sites", "1", "--patients", "200", "--weeks", "4", "--seed", "2"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    probe = load_probe()
    _today, pages = probe.targets()
    names = [p["name"] for p in pages]
    assert {"measurement_program", "admissions_board", "group_note"} <= set(names)
    fhir = {p["name"]: p for p in pages if p.get("bearer")}
    assert set(fhir) == {"fhir_read", "fhir_search_patient", "fhir_search_code"}
    assert fhir["fhir_search_code"]["path"].startswith("/fhir/R4/Observation?code=http")
    group = next(p for p in pages if p["name"] == "group_note")
    assert isinstance(group["marker"], list) and len(group["marker"]) >= 10
    probe.main()  # exits 1 naming the page if any answers without its markers
    out = capsys.readouterr().out
    assert '"group_note"' in out and '"queries"' in out
    assert '"fhir_search_code"' in out


RUN = PROBE.parent / "run.py"


def test_each_kind_of_page_has_its_own_budget() -> None:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec and spec.loader
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    # A page: p95 within 5x the floor and 1.25x from 1k to 20k.
    assert run.within_budget("page", 4.9, 1.2, None)
    assert not run.within_budget("page", 5.1, 1.0, None)
    assert not run.within_budget("page", 2.0, 1.3, None)
    # A FHIR read: at least half the floor's requests per second, whatever its p95.
    assert run.within_budget("fhir_read", 9.0, 1.0, 0.5)
    assert not run.within_budget("fhir_read", 1.0, 1.0, 0.49)
    # A FHIR search: its growth from 1k to 20k alone.
    assert run.within_budget("fhir_search", 9.0, 1.25, 0.1)
    assert not run.within_budget("fhir_search", 1.0, 1.26, 1.0)
