"""A worker killed mid-task (SIGKILL: no clean-up of any kind) on a SQLite file database: another
worker takes its task back once the lease has passed, and finishes it. Real `openiop worker`
processes, the short lease of short_lease_settings (2 s)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.demo_subprocess

LEASE_SECONDS = 2  # short_lease_settings
SETUP = (
    "import django; django.setup()\n"
    "from django.core.management import call_command\n"
    "from django.db import connection\n"
    "from openiop.core import jobs\n"
    "from openiop.core.tests import tasks_for_tests as t\n"
    # Only the tables a worker uses, without waiting for the disk: the whole schema takes longer
    # than the test.
    "connection.cursor().execute('PRAGMA synchronous=OFF')\n"
    "call_command('migrate', 'core', verbosity=0)\n"
    "call_command('migrate', 'django_tasks_database', verbosity=0)\n"
    # Two seconds of naps after holding the database for one (SQLite: the heartbeat waits).
    "jobs.enqueue(t.naps, 2, hold_seconds=1)\n"
)


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _until(what: str, check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_workers_job_is_taken_back_and_finished_by_the_next_worker(
    tmp_path: Path,
) -> None:
    db = tmp_path / "jobs.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        OPENIOP_SQLITE_PATH=str(db),
        OPENIOP_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="openiop.core.tests.short_lease_settings",
    )
    subprocess.run([sys.executable, "-c", SETUP], env=env, check=True, timeout=60)
    worker = [sys.executable, "-m", "openiop.manage", "worker", "--no-schedule"]
    con = sqlite3.connect(db, timeout=10)

    def one(sql: str) -> Any:
        return con.execute(sql).fetchone()

    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen([*worker, "--interval", "0.2"], env=env, stdout=log)
    try:
        started = _when(
            _until(
                "the first worker to start the job",
                lambda: one("SELECT started_at FROM core_job WHERE status = 'running'"),
            )[0]
        )
        # It beats while the job runs, through the second the job holds the database.
        [(first_id, _)] = _until(
            "a heartbeat from the running job's worker after the database was held",
            lambda: [
                (worker_id, seen_at)
                for worker_id, seen_at in con.execute(
                    "SELECT worker_id, seen_at FROM core_workerheartbeat"
                )
                if _when(seen_at) > started + dt.timedelta(seconds=1.2)
            ],
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)

    assert one("SELECT status, attempts FROM core_job") == ("running", 1)
    assert one("SELECT status FROM django_tasks_database_dbtaskresult") == ("RUNNING",)
    time.sleep(LEASE_SECONDS + 0.3)  # the lease runs out on the silent worker

    second = subprocess.run(
        [*worker, "--batch"], env=env, capture_output=True, text=True, timeout=30, check=True
    )

    assert f"Worker {first_id} stopped responding; naps retried." in second.stdout
    status, attempts, workers_lost, error, outcome = one(
        "SELECT status, attempts, workers_lost, error, outcome FROM core_job"
    )
    assert (status, attempts, workers_lost, outcome) == ("succeeded", 2, 1, "Slept 2 s.")
    assert error == f"Worker {first_id} stopped responding; retried"
    statuses = con.execute(
        "SELECT status FROM django_tasks_database_dbtaskresult ORDER BY enqueued_at"
    ).fetchall()
    assert statuses == [("FAILED",), ("SUCCESSFUL",)]
    # The killed worker's heartbeat stays until the prune job; the second deleted its own.
    assert con.execute("SELECT worker_id FROM core_workerheartbeat").fetchall() == [(first_id,)]
    con.close()
