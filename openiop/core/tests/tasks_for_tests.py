"""Tasks for the job tests (a task must live at module level for the queue to find it again)."""

from __future__ import annotations

import datetime as dt

from openiop.core.jobs import job, report_progress

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
