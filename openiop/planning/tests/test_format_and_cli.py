"""The JSON format (round trips, refusals) and `openiop plan-week`."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings

from openiop import manage
from openiop.planning.domain.check import check_solution
from openiop.planning.domain.jsonio import (
    FormatError,
    instance_to_dict,
    read_instance,
    read_solution,
    write_instance,
    write_solution,
)
from openiop.planning.domain.model import Instance
from openiop.planning.domain.plan import plan_week
from openiop.planning.tests.test_plan_week import small_network, small_weeks


def test_an_instance_survives_writing_and_reading() -> None:
    instance = small_network()
    assert read_instance(write_instance(instance)) == instance


@settings(max_examples=30, deadline=None)
@given(small_weeks())
def test_random_instances_survive_writing_and_reading(instance: Instance) -> None:
    assert read_instance(write_instance(instance)) == instance


def test_a_solution_survives_writing_and_reading() -> None:
    instance = small_network(12)
    solution = plan_week(instance, time_limit_seconds=0.3, seed=0, workers=1)
    assert solution.shortfalls  # the round trip covers reasons too
    assert read_solution(write_solution(solution)) == solution


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("patients"), "instance.patients is missing"),
        (lambda d: d.update(format="other/1"), "instance.format must be"),
        (
            lambda d: d["sessions"][0].update(allowed_facilitators=["nobody"]),
            "sessions[0]: unknown facilitator 'nobody'",
        ),
        (
            lambda d: d["patients"][0].update(availability=[[600, 500]]),
            "patients[0].availability[0] must be [start_minute, end_minute]",
        ),
        (lambda d: d["rooms"][0].update(capacity=-1), "rooms[0].capacity must be a whole number"),
        (
            lambda d: d["patients"].append(dict(d["patients"][0])),
            "patient id 'P00001' appears twice",
        ),
    ],
)
def test_a_bad_instance_is_refused_saying_where(change: object, message: str) -> None:
    data = instance_to_dict(small_network())
    change(data)  # type: ignore[operator]
    with pytest.raises(FormatError) as caught:
        read_instance(json.dumps(data))
    assert message in str(caught.value)


def test_plan_week_command_prints_the_solution_json(tmp_path: Path) -> None:
    instance = small_network(8)
    path = tmp_path / "week.json"
    path.write_text(write_instance(instance))
    out = io.StringIO()
    call_command("plan_week", instance=str(path), seconds=1, json=True, stdout=out)
    solution = read_solution(out.getvalue())
    assert check_solution(instance, solution) == []
    assert solution.status in {"OPTIMAL", "FEASIBLE"}


def test_plan_week_is_reached_by_its_dashed_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "week.json"
    path.write_text(write_instance(small_network(8)))
    monkeypatch.setattr(
        sys, "argv", ["openiop", "plan-week", "--instance", str(path), "--seconds", "1"]
    )
    manage.main()
    assert "hard rules kept" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"format": "openiop.plan-week.instance/1"}', "instance.session_types is missing"),
    ],
)
def test_plan_week_command_refuses_a_bad_file_with_exit_2(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(CommandError) as caught:
        call_command("plan_week", instance=str(path), json=True)
    assert caught.value.returncode == 2
    assert message in str(caught.value)


def test_plan_week_command_refuses_a_missing_file_with_exit_2(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("plan_week", instance=str(tmp_path / "absent.json"))
    assert caught.value.returncode == 2
    assert "Cannot read" in str(caught.value)
