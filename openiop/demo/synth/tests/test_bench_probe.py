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
    group = next(p for p in pages if p["name"] == "group_note")
    assert isinstance(group["marker"], list) and len(group["marker"]) >= 10
    probe.main()  # exits 1 naming the page if any answers without its markers
    out = capsys.readouterr().out
    assert '"group_note"' in out and '"queries"' in out
