"""`openiop score`: the JSON shape, and exit status 2 with the item named on wrong answers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

if TYPE_CHECKING:
    from pathlib import Path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    call_command("score", *args)
    return capsys.readouterr().out


def test_phq9_json_with_item9_at_a_low_total(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "phq9", "--answers", "0,0,0,0,0,0,0,0,1", "--json")
    assert json.loads(out) == {
        "instrument": "phq9",
        "total": 1,
        "band": "minimal",
        "flags": ["item9_positive"],
        "subscales": {},
    }


def test_auditc_uses_sex(capsys: pytest.CaptureFixture[str]) -> None:
    female = json.loads(run(capsys, "auditc", "--answers", "1,1,1", "--sex", "female", "--json"))
    male = json.loads(run(capsys, "auditc", "--answers", "1,1,1", "--sex", "male", "--json"))
    assert (female["band"], male["band"]) == ("positive", "negative")


def test_cssrs_has_no_total(capsys: pytest.CaptureFixture[str]) -> None:
    out = json.loads(run(capsys, "cssrs", "--answers", "1,1,0,1,0,0,0", "--json"))
    assert out["total"] is None and out["band"] == "high"


def test_bam_reports_subscales(capsys: pytest.CaptureFixture[str]) -> None:
    out = json.loads(run(capsys, "bam", "--answers", ",".join(["1"] * 17), "--json"))
    assert out["subscales"] == {"use": 3, "risk": 6, "protective": 6}
    assert out["band"] is None and out["total"] is None


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["gad7", "--answers", "0,0,4,0,0,0,0"], "item 3"),
        (["phq9", "--answers", "0,0,0"], "takes 9 answers"),
        (["dast10", "--answers", "0,0,x,0,0,0,0,0,0,0"], "item 3"),
        (["nope", "--answers", "0"], "Unknown instrument"),
    ],
)
def test_wrong_answers_exit_2_naming_the_item(args: list[str], named: str) -> None:
    with pytest.raises(CommandError) as err:
        call_command("score", *args)
    assert err.value.returncode == 2
    assert named in str(err.value)


def test_real_process_exit_status(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    env.pop("DATABASE_URL", None)
    bad = subprocess.run(
        [sys.executable, "-m", "openiop.manage", "score", "phq9", "--answers", "0,0,0,0,9,0,0,0,0"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2
    assert "item 5" in bad.stderr
    good = subprocess.run(
        [
            sys.executable,
            "-m",
            "openiop.manage",
            "score",
            "gad7",
            "--answers",
            "3,3,3,1,0,0,0",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert good.returncode == 0
    assert json.loads(good.stdout)["band"] == "moderate"


def test_the_readable_line_names_flags_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "phq9", "--answers", "0,0,0,0,0,0,0,0,1")
    assert "Item 9 positive: thoughts of death or self-harm" in out
    assert "item9_positive" not in out
