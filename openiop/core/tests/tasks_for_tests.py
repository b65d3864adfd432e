"""Tasks for the job tests (a task must live at module level for the queue to find it again)."""

from __future__ import annotations

import datetime as dt
import time

from django.db import transaction

from openiop.core.jobs import job, recover_lost, report_progress

ATTEMPTS: dict[str, int] = {}


@job()
def count_to(n: int) -> str:
    for i in range(1, n + 1):
        report_progress(i, n, "numbers counted")
    return f"Counted to {n}."


@job(max_attempts=2, retry_delay=dt.timedelta(0))
def always_fails() -> None:
    raise RuntimeError("the test printer is out of paper")


@job(max_attempts=3, retry_delay=dt.timedelta(hours=1))
def fails_then_waits() -> None:
    raise RuntimeError("the fictional fax line is busy")


@job(max_attempts=3, retry_delay=dt.timedelta(0))
def fails_once(key: str) -> str:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] == 1:
        raise RuntimeError("first try fails")
    return f"Done on attempt {ATTEMPTS[key]}."


@job()
def half_way_then_fails() -> None:
    report_progress(2, 5, "steps")
    raise ValueError("stopped at step 3")


@job(max_attempts=2, retry_delay=dt.timedelta(0))
def naps(seconds: float, hold_seconds: float = 0) -> str:
    """Sleeps `seconds` in naps of a quarter second, with progress. First it holds a write
    transaction for `hold_seconds` (on SQLite, the whole database: its worker's heartbeat waits)."""
    steps = round(seconds * 4)
    with transaction.atomic():
        report_progress(0, steps, "naps")
        time.sleep(hold_seconds)
    for step in range(1, steps + 1):
        time.sleep(0.25)
        report_progress(step, steps, "naps")
    return f"Slept {seconds:g} s."


@job(max_attempts=3, retry_delay=dt.timedelta(0))
def outlived(key: str, fail: bool) -> str:
    """On its first attempt, another worker takes it back as lost while it still runs (as when
    its worker was only slow to beat); the attempt then ends all the same, failing if `fail`."""
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] == 1:
        recover_lost(lease=dt.timedelta(0))
        if fail:
            raise RuntimeError("the slow attempt failed late")
        return "The slow attempt finished late."
    return f"Done on attempt {ATTEMPTS[key]}."


@job(max_attempts=1)
def stopped_mid_task() -> None:
    # What a second Ctrl+C or SIGTERM does to the worker while this task runs.
    raise SystemExit(1)
