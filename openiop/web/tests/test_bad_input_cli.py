"""No argument makes a command crash: every command of the project answers bad arguments with a
message and exit status 2 (or argparse's usage error, also status 2 on the command line).

The test finds the commands itself (openiop/*/management/commands), so a new command is covered
the day it is added; each argument that takes a value gets each bad value in turn while the others
keep a good one.
"""

from __future__ import annotations

import argparse
import io
from typing import Any

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

from openiop.core.cli import MAX_ARGUMENT, ProjectCommand

BAD_ARGUMENTS: dict[str, str] = {
    "empty": "",
    "unknown": "zz-no-such-thing",
    "oversized": "x" * 50_000,
    "huge number": "99999999999999999999999",
    "negative": "-1",
    "digit int() refuses": "²",
    "far past": "0001-01-01",
    "far future": "9999-12-31",
    "NUL byte": "ab\x00cd",
}
DJANGO_OPTIONS = {
    "help",
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
}


def project_commands() -> list[tuple[str, str]]:
    return sorted((n, app) for n, app in get_commands().items() if app.startswith("openiop."))


def _slots(app: str, name: str) -> list[argparse.Action]:
    """The arguments of a command that take a value (positionals and options)."""
    parser = load_command_class(app, name).create_parser("openiop", name)
    return [
        action
        for action in parser._actions
        if action.dest not in DJANGO_OPTIONS and action.nargs != 0
    ]


def _good(world: Any) -> dict[str, dict[str, str]]:
    """A working value for each required argument, by command and argparse dest."""
    return {
        "patient_show": {"mrn": world.patient.mrn, "username": world.users["director"].username},
        "mfa_reset": {
            "username": world.users["clinician"].username,
            "acting": world.users["admin"].username,
        },
        "staff_add": {"username": "fuzz.person", "role": "clinician"},
        "score": {"instrument": "phq9", "answers": "0,0,0,0,0,0,0,0,0"},
    }


def _argv(slots: list[argparse.Action], values: dict[str, str]) -> list[str]:
    argv: list[str] = []
    for action in slots:
        if action.dest not in values:
            continue
        if action.option_strings:
            argv.append(f"{action.option_strings[0]}={values[action.dest]}")
        else:
            argv.append(values[action.dest])
    return argv


def test_every_command_checks_its_arguments_first() -> None:
    plain = [
        name
        for name, app in project_commands()
        if not isinstance(load_command_class(app, name), ProjectCommand)
    ]
    assert plain == []


def test_the_walk_finds_the_commands_with_arguments() -> None:
    names = {name for name, app in project_commands() if _slots(app, name)}
    assert {"patient_show", "mfa_reset", "staff_add", "score", "demo", "synth"} <= names


@pytest.mark.parametrize(
    ("name", "app"), project_commands(), ids=[n for n, _ in project_commands()]
)
def test_bad_arguments_exit_2_with_a_message(
    name: str, app: str, world: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Fuzz-Password-2026!\n" * 100))
    slots = _slots(app, name)
    good = _good(world).get(name, {})
    problems = []
    for slot in slots:
        for label, value in BAD_ARGUMENTS.items():
            argv = _argv(slots, {**good, slot.dest: value})
            try:
                call_command(name, *argv, stdout=io.StringIO(), stderr=io.StringIO())
            except CommandError as exc:
                usage_error = str(exc).startswith("Error: ")  # argparse: status 2 in a shell
                if exc.returncode != 2 and not usage_error:
                    problems.append(f"{slot.dest}={label}: exit {exc.returncode}: {exc}")
                if "\x00" in value and not (usage_error or "NUL" in str(exc)):
                    problems.append(f"{slot.dest}={label}: refused without naming the NUL")
            except Exception as exc:
                problems.append(f"{slot.dest}={label}: {type(exc).__name__}: {str(exc)[:200]}")
            else:
                if "\x00" in value or len(value) > MAX_ARGUMENT:
                    problems.append(f"{slot.dest}={label}: accepted")
    assert not problems, "\n".join([name, *problems])


def test_patient_show_refuses_a_50_kb_mrn_with_exit_2(world: Any) -> None:
    with pytest.raises(CommandError, match="at most 1,000 are accepted") as refused:
        call_command("patient_show", "X" * 50_000, "--as", world.users["director"].username)
    assert refused.value.returncode == 2
