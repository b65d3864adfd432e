"""Background jobs (core.jobs) on the database task queue: run by the worker, retried, scheduled,
kept across a worker restart, with progress on the Jobs page and the command line."""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from openiop.accounts.domain import Role
from openiop.core import jobs
from openiop.core.management.commands import jobs as jobs_command
from openiop.core.models import Job, JobSchedule, JobStatus, WorkerHeartbeat
from openiop.core.tests import tasks_for_tests as t
from openiop.testing import make_org, make_site, make_user, postgresql_only

if TYPE_CHECKING:
    from django.test import Client
    from pytest_django import DjangoAssertNumQueries, Settings

    from openiop.accounts.models import User

pytestmark = pytest.mark.django_db


def test_a_queued_job_is_run_by_the_worker_with_its_progress_and_outcome() -> None:
    job = jobs.enqueue(t.count_to, 3)
    assert job.status == JobStatus.QUEUED
    assert DBTaskResult.objects.get(id=job.result_id).status == "READY"

    call_command("worker", "--batch", "--no-schedule", stdout=io.StringIO())

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert (job.attempts, job.progress_done, job.progress_total) == (1, 3, 3)
    assert job.outcome == "Counted to 3."
    assert job.percent == 100
    assert DBTaskResult.objects.get(id=job.result_id).status == "SUCCESSFUL"


def test_a_failing_job_is_retried_then_shown_failed_with_its_error() -> None:
    job = jobs.enqueue(t.always_fails)
    assert job.max_attempts == 2

    jobs.run_queued()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.attempts == 2
    assert job.error == "RuntimeError: the test printer is out of paper"
    assert job.finished_at is not None
    # Each attempt is its own task on the queue, both recorded as failed there too.
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["FAILED", "FAILED"]


def test_a_worker_stopped_mid_task_leaves_its_job_failed_not_running() -> None:
    job = jobs.enqueue(t.stopped_mid_task)

    jobs.run_queued()  # the queue's worker records the attempt as failed and carries on

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert DBTaskResult.objects.get(id=job.result_id).status == "FAILED"
    assert job.error == "Interrupted: the worker was stopped during this attempt."
    assert job.finished_at is not None


def test_a_retry_waits_its_delay_on_the_queue() -> None:
    job = jobs.enqueue(t.fails_then_waits)

    jobs.run_queued()

    job.refresh_from_db()
    assert job.status == JobStatus.RETRYING
    assert job.attempts == 1
    assert job.error == "RuntimeError: the fictional fax line is busy"
    retry = DBTaskResult.objects.get(id=job.result_id)
    assert retry.status == "READY"
    assert retry.run_after > timezone.now() + dt.timedelta(minutes=59)
    assert not DBTaskResult.objects.ready().exists()


def test_a_job_that_fails_once_succeeds_on_its_retry() -> None:
    job = jobs.enqueue(t.fails_once, "retry-then-succeed")

    jobs.run_queued()

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.attempts == 2
    assert job.outcome == "Done on attempt 2."
    assert job.error == "RuntimeError: first try fails"  # the earlier attempt's, kept


def one_task(worker_id: str) -> Worker:
    """A queue worker (with no heartbeat) that stops after one task."""
    return Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=1,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


def test_queued_jobs_survive_a_worker_stopping_and_run_on_the_next_worker() -> None:
    first = jobs.enqueue(t.count_to, 1)
    second = jobs.enqueue(t.count_to, 2)

    # A worker that stops after one task (as one stopped by SIGTERM finishes its task and exits).
    one_task("machine-a").run()
    done = [j for j in (first, second) if Job.objects.get(pk=j.pk).status == JobStatus.SUCCEEDED]
    waiting = Job.objects.get(pk=({first.pk, second.pk} - {done[0].pk}).pop())
    assert len(done) == 1
    assert waiting.status == JobStatus.QUEUED
    assert DBTaskResult.objects.get(id=waiting.result_id).status == "READY"

    jobs.run_queued(worker_id="machine-b")  # a later worker, on any machine

    waiting.refresh_from_db()
    assert waiting.status == JobStatus.SUCCEEDED
    assert DBTaskResult.objects.get(id=waiting.result_id).worker_ids == ["machine-b"]


def test_progress_is_kept_when_a_job_fails_part_way() -> None:
    job = jobs.enqueue(t.half_way_then_fails)
    jobs.run_queued()
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total, job.percent) == (
        JobStatus.FAILED,
        2,
        5,
        40,
    )
    assert job.progress_note == "steps"


def test_report_progress_outside_a_job_does_nothing() -> None:
    jobs.report_progress(1, 2, "by hand")
    assert not Job.objects.exists()


# --- workers that stop responding -------------------------------------------------------------


def left_running_by(
    job: Job, worker: str, *, started_ago: dt.timedelta, seen_ago: dt.timedelta | None
) -> DBTaskResult[..., Any]:
    """The job's attempt as a worker leaves it when it is killed mid-task: claimed on the queue
    `started_ago`, the job marked running (core.jobs._attempt), the worker's last heartbeat
    `seen_ago` (None: it has no heartbeat row)."""
    now = timezone.now()
    result = DBTaskResult.objects.get(id=job.result_id)
    result.claim(worker)
    DBTaskResult.objects.filter(pk=result.pk).update(started_at=now - started_ago)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=F("attempts") + 1, started_at=now - started_ago
    )
    if seen_ago is not None:
        WorkerHeartbeat.objects.create(
            worker_id=worker, first_seen_at=now - started_ago, seen_at=now - seen_ago
        )
    return result


def test_a_job_whose_worker_stopped_beating_is_taken_back_and_finished_by_another_worker() -> None:
    job = jobs.enqueue(t.naps, 0)
    lost = left_running_by(
        job, "machine-gone", started_ago=dt.timedelta(minutes=5), seen_ago=dt.timedelta(minutes=2)
    )

    [taken] = jobs.recover_lost()

    assert (taken.worker_id, taken.retried, taken.result_id) == ("machine-gone", True, str(lost.pk))
    assert str(taken) == "Worker machine-gone stopped responding; naps retried."
    job.refresh_from_db()
    assert (job.status, job.attempts, job.workers_lost) == (JobStatus.RETRYING, 1, 1)
    assert job.error == "Worker machine-gone stopped responding; retried"
    lost.refresh_from_db()
    assert (lost.status, lost.exception_class_path) == ("FAILED", "openiop.core.jobs.WorkerLost")
    assert lost.task_result.errors[0].exception_class is jobs.WorkerLost
    assert DBTaskResult.objects.get(id=job.result_id).status == "READY"

    call_command("worker", "--batch", "--no-schedule", stdout=io.StringIO())

    job.refresh_from_db()
    assert (job.status, job.attempts, job.max_attempts) == (JobStatus.SUCCEEDED, 2, 2)
    assert job.outcome == "Slept 0 s."
    assert job.workers_lost == 1
    assert job.error == "Worker machine-gone stopped responding; retried"  # kept, as any error
    # The worker that finished it has stopped and deleted its heartbeat; the lost one's remains
    # until the prune job.
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["machine-gone"]


def test_the_worker_takes_back_lost_tasks_when_it_starts_and_says_so() -> None:
    job = jobs.enqueue(t.naps, 0)
    left_running_by(
        job, "machine-gone", started_ago=dt.timedelta(hours=1), seen_ago=dt.timedelta(hours=1)
    )
    out = io.StringIO()

    call_command("worker", "--batch", "--no-schedule", stdout=out)

    assert "Worker machine-gone stopped responding; naps retried." in out.getvalue()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)


def test_a_live_workers_long_job_is_left_alone() -> None:
    job = jobs.enqueue(t.naps, 0)
    left_running_by(
        job, "machine-busy", started_ago=dt.timedelta(hours=2), seen_ago=dt.timedelta(seconds=5)
    )

    assert jobs.recover_lost() == []
    jobs.run_queued()  # another worker: recovers at start, finds nothing ready

    job.refresh_from_db()
    assert (job.status, job.attempts, job.workers_lost, job.error) == (
        JobStatus.RUNNING,
        1,
        0,
        "",
    )
    assert DBTaskResult.objects.get(id=job.result_id).status == "RUNNING"
    assert DBTaskResult.objects.count() == 1


def test_a_task_is_not_taken_back_within_a_lease_of_its_start_even_with_no_heartbeat() -> None:
    """A worker with no heartbeat row (pruned) is silent, but a task it claimed less than a lease
    ago is left to it: the lease counts from the start too."""
    job = jobs.enqueue(t.naps, 0)
    left_running_by(job, "machine-unknown", started_ago=dt.timedelta(seconds=10), seen_ago=None)

    assert jobs.recover_lost() == []
    later = timezone.now() + jobs.worker_lease()
    assert [r.worker_id for r in jobs.recover_lost(now=later)] == ["machine-unknown"]


def test_a_lost_job_with_no_attempts_left_is_failed_with_the_message() -> None:
    job = jobs.enqueue(t.count_to, 3)  # one attempt in all
    left_running_by(
        job, "machine-gone", started_ago=dt.timedelta(minutes=5), seen_ago=dt.timedelta(minutes=5)
    )

    [taken] = jobs.recover_lost()

    assert not taken.retried
    assert str(taken) == "Worker machine-gone stopped responding; count_to failed."
    job.refresh_from_db()
    assert (job.status, job.attempts, job.max_attempts, job.workers_lost) == (
        JobStatus.FAILED,
        1,
        1,
        1,
    )
    assert job.error == "Worker machine-gone stopped responding"
    assert job.finished_at is not None
    assert not DBTaskResult.objects.ready().exists()
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["FAILED"]


def test_an_attempt_lost_before_it_marked_its_job_running_counts_once() -> None:
    job = jobs.enqueue(t.naps, 0)
    left_running_by(
        job, "machine-gone", started_ago=dt.timedelta(minutes=5), seen_ago=dt.timedelta(minutes=5)
    )
    # Killed between claiming the task and core.jobs._attempt's first write.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, attempts=0, started_at=None)

    jobs.recover_lost()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.RETRYING, 1)

    jobs.run_queued()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)


def test_a_task_not_made_with_job_is_failed_on_the_queue_when_its_worker_is_lost() -> None:
    result = DBTaskResult.objects.create(
        task_path="openiop.core.tests.tasks_for_tests.no_such_task",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after=timezone.now(),
    )
    result.claim("machine-gone")
    DBTaskResult.objects.filter(pk=result.pk).update(
        started_at=timezone.now() - dt.timedelta(hours=1)
    )

    [taken] = jobs.recover_lost()

    assert (taken.job, taken.retried) == (None, False)
    assert str(taken) == "Worker machine-gone stopped responding; a task failed."
    result.refresh_from_db()
    assert (result.status, result.traceback) == ("FAILED", "Worker machine-gone stopped responding")
    assert not Job.objects.exists()


def test_two_workers_reading_the_same_lost_task_queue_it_again_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second recoverer read the running tasks before the first took this one back; when it
    comes to take it, the task is no longer running, and it does nothing."""
    job = jobs.enqueue(t.naps, 0)
    left_running_by(
        job, "machine-gone", started_ago=dt.timedelta(minutes=5), seen_ago=dt.timedelta(minutes=5)
    )
    real = jobs._recover_one
    by_other: list[jobs.Recovered] = []

    def other_worker_first(result_id: str, **kwargs: dt.datetime) -> jobs.Recovered | None:
        monkeypatch.setattr(jobs, "_recover_one", real)
        by_other.extend(jobs.recover_lost())  # between this worker's read and its lock
        return real(result_id, **kwargs)

    monkeypatch.setattr(jobs, "_recover_one", other_worker_first)

    assert jobs.recover_lost() == []
    assert len(by_other) == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.workers_lost) == (JobStatus.RETRYING, 1, 1)
    assert DBTaskResult.objects.ready().count() == 1


@postgresql_only("two connections locking one row at once need a real server")
@pytest.mark.django_db(transaction=True)
def test_two_workers_recovering_at_the_same_moment_queue_the_task_again_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both have read the lost task; the first to lock its row holds it a while (checking the
    worker's heartbeat); the second skips the locked row, or finds it no longer running."""
    job = jobs.enqueue(t.naps, 0)
    left_running_by(
        job, "machine-gone", started_ago=dt.timedelta(minutes=5), seen_ago=dt.timedelta(minutes=5)
    )
    both_read = threading.Barrier(2, timeout=10)
    real_recover, real_alive = jobs._recover_one, jobs._worker_alive

    def after_both_read(result_id: str, **kwargs: dt.datetime) -> jobs.Recovered | None:
        both_read.wait()
        return real_recover(result_id, **kwargs)

    def slowly_alive(worker_id: str, cutoff: dt.datetime) -> bool:
        time.sleep(0.5)  # the row stays locked meanwhile
        return real_alive(worker_id, cutoff)

    monkeypatch.setattr(jobs, "_recover_one", after_both_read)
    monkeypatch.setattr(jobs, "_worker_alive", slowly_alive)
    taken: list[object] = []

    def recover() -> None:
        try:
            taken.extend(jobs.recover_lost())
        except Exception as exc:  # the outcome is what the test reads
            taken.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=recover) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)

    assert len(taken) == 1
    assert isinstance(taken[0], jobs.Recovered)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.workers_lost) == (JobStatus.RETRYING, 1, 1)
    assert DBTaskResult.objects.ready().count() == 1


@pytest.mark.parametrize("fail", [False, True])
def test_an_attempt_taken_back_that_ends_after_all_leaves_its_job_to_the_next(fail: bool) -> None:
    """A worker taken for lost that was only slow: its attempt's end (success or error) neither
    marks the job nor queues a retry of its own; the retry the recovery queued decides."""
    key = f"outlived-{fail}"
    job = jobs.enqueue(t.outlived, key, fail)

    one_task("machine-slow").run()  # the slow first attempt, taken back while it runs

    job.refresh_from_db()
    assert (job.status, job.attempts, job.outcome) == (JobStatus.RETRYING, 1, "")
    assert job.error == "Worker machine-slow stopped responding; retried"
    assert DBTaskResult.objects.ready().count() == 1

    jobs.run_queued()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.workers_lost) == (JobStatus.SUCCEEDED, 2, 1)
    assert job.outcome == "Done on attempt 2."
    assert job.error.endswith("stopped responding; retried")
    assert DBTaskResult.objects.count() == 2  # the first attempt and one retry
    assert t.ATTEMPTS[key] == 2


def test_the_lease_is_a_setting_of_60_seconds_by_default(settings: Settings) -> None:
    del settings.OPENIOP_WORKER_LEASE_SECONDS
    assert jobs.worker_lease() == dt.timedelta(seconds=60)
    settings.OPENIOP_WORKER_LEASE_SECONDS = 2.5
    assert jobs.worker_lease() == dt.timedelta(seconds=2.5)
    for wrong in (0, -1, "60", True):
        settings.OPENIOP_WORKER_LEASE_SECONDS = wrong
        with pytest.raises(ImproperlyConfigured):
            jobs.worker_lease()


def test_a_heartbeat_row_is_made_then_moved_forward() -> None:
    at = timezone.now()
    jobs.beat("machine-a", now=at)
    jobs.beat("machine-a", now=at + dt.timedelta(seconds=15))
    row = WorkerHeartbeat.objects.get()
    assert (row.worker_id, row.first_seen_at, row.seen_at) == (
        "machine-a",
        at,
        at + dt.timedelta(seconds=15),
    )


def test_the_heartbeat_thread_beats_while_the_worker_is_busy_and_stops_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The beats come from the thread while the main thread is busy (a long task); a failed beat
    (a locked database, or anything) is only logged; on leaving, the thread stops and the row is
    deleted."""
    beats: list[str] = []
    recoveries: list[str] = []
    forgotten: list[str] = []

    def beat(worker_id: str) -> None:
        beats.append(threading.current_thread().name)
        if len(beats) == 2:
            raise OperationalError("database is locked")
        if len(beats) == 3:
            raise ValueError("anything else")

    def recover_lost(*, lease: dt.timedelta) -> list[jobs.Recovered]:
        recoveries.append(threading.current_thread().name)
        return []

    monkeypatch.setattr(jobs, "beat", beat)
    monkeypatch.setattr(jobs, "recover_lost", recover_lost)
    monkeypatch.setattr(jobs, "forget", forgotten.append)
    heartbeat = jobs.Heartbeat("machine-a", lease=dt.timedelta(seconds=0.2))

    with heartbeat:
        assert (beats, recoveries) == (["MainThread"], ["MainThread"])
        time.sleep(0.5)  # the main thread busy with a task: ~10 beats of 0.05 s
        assert forgotten == []

    assert not heartbeat._thread.is_alive()
    assert forgotten == ["machine-a"]
    from_thread = [name for name in beats[1:] if name == "heartbeat machine-a"]
    assert len(from_thread) == len(beats) - 1 >= 5  # it went on after the failed beats
    assert recoveries.count("heartbeat machine-a") >= 2
    done = len(beats)
    time.sleep(0.15)
    assert len(beats) == done


def test_the_prune_job_deletes_heartbeats_of_workers_silent_for_the_lease() -> None:
    now = timezone.now()
    for worker, ago in (("machine-gone", 120), ("machine-busy", 5)):
        WorkerHeartbeat.objects.create(
            worker_id=worker, first_seen_at=now, seen_at=now - dt.timedelta(seconds=ago)
        )

    jobs.enqueue(import_string("openiop.core.tasks.prune_jobs"))
    jobs.run_queued()

    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["machine-busy"]


# --- schedules --------------------------------------------------------------------------------


def periodic(every: dt.timedelta) -> tuple[jobs.Periodic, ...]:
    return (jobs.Periodic("openiop.core.tasks.expire_submissions", every),)


def test_a_periodic_job_is_enqueued_when_due_and_not_twice() -> None:
    at = timezone.now()
    schedule = periodic(dt.timedelta(minutes=10))

    first = jobs.enqueue_due(now=at, periodic=schedule)
    assert [j.name for j in first] == ["expire_submissions"]
    assert first[0].schedule == "openiop.core.tasks.expire_submissions"
    assert jobs.enqueue_due(now=at, periodic=schedule) == []  # a second scheduler, same moment

    jobs.run_queued()
    assert jobs.enqueue_due(now=at + dt.timedelta(minutes=9), periodic=schedule) == []
    later = jobs.enqueue_due(now=at + dt.timedelta(minutes=10), periodic=schedule)
    assert len(later) == 1
    assert Job.objects.filter(name="expire_submissions").count() == 2
    row = JobSchedule.objects.get()
    assert row.next_run_at == at + dt.timedelta(minutes=20)
    assert row.last_job == later[0]


def test_a_due_job_is_not_queued_again_behind_its_unfinished_run() -> None:
    at = timezone.now()
    schedule = periodic(dt.timedelta(minutes=1))
    jobs.enqueue_due(now=at, periodic=schedule)

    # No worker ran it: an hour of turns adds nothing behind it.
    for minute in range(1, 60):
        jobs.enqueue_due(now=at + dt.timedelta(minutes=minute), periodic=schedule)
    assert Job.objects.count() == 1


def test_of_two_schedulers_reading_the_same_turn_only_one_enqueues(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = timezone.now()
    schedule = periodic(dt.timedelta(minutes=5))
    JobSchedule.objects.create(name=schedule[0].task_path, next_run_at=at)
    stale = JobSchedule.objects.get()  # what the slower scheduler read

    assert len(jobs.enqueue_due(now=at, periodic=schedule)) == 1
    monkeypatch.setattr(jobs, "_schedule_row", lambda name, now: stale)
    assert jobs.enqueue_due(now=at, periodic=schedule) == []
    assert Job.objects.count() == 1


def test_the_worker_enqueues_due_periodic_jobs_and_runs_them() -> None:
    out = io.StringIO()
    call_command("worker", "--batch", stdout=out)
    names = {p.name for p in jobs.PERIODIC}
    assert set(Job.objects.values_list("name", flat=True)) == names
    assert set(Job.objects.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert "Enqueued escalate_alerts (due)." in out.getvalue()


# --- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "total", "bar"),
    [
        (0, 4, "[" + "." * 20 + "]   0% 0/4"),
        (1, 4, "[" + "#" * 5 + "." * 15 + "]  25% 1/4"),
        (4, 4, "[" + "#" * 20 + "] 100% 4/4"),
        (9, 4, "[" + "#" * 20 + "] 100% 9/4"),
        (3, None, "[" + "?" * 20 + "] 3"),
        (0, 0, "[" + "#" * 20 + "] 100% 0/0"),  # nothing to do is done
    ],
)
def test_the_progress_bar(done: int, total: int | None, bar: str) -> None:
    assert jobs.progress_bar(done, total, width=20) == bar


def test_jobs_run_wait_prints_a_bar_until_the_job_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    old = timezone.now() - dt.timedelta(days=40)
    for _ in range(3):
        Job.objects.create(
            name="count_to",
            task_path="x",
            result_id=f"old-{_}",
            status="succeeded",
            enqueued_at=old,
        )
    # While the command waits, a worker runs the queue.
    monkeypatch.setattr(jobs_command, "pause", lambda seconds: jobs.run_queued())
    out = io.StringIO()

    call_command("jobs", "run", "prune_jobs", "--wait", stdout=out)

    text = out.getvalue()
    assert "Queued prune_jobs" in text
    # The first look: queued, no total reported yet; the next: the worker has run it.
    assert "\rprune_jobs [" + "?" * 30 + "] 0 queued\r" in text
    assert "\rprune_jobs [" + "#" * 30 + "] 100% 3/3" in text
    assert "prune_jobs succeeded. 3 finished job(s) older than 30 days deleted." in text
    assert Job.objects.filter(name="count_to").count() == 0


def test_jobs_run_wait_exits_1_with_the_error_of_a_failed_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        jobs.RUNNABLE, "always_fails", "openiop.core.tests.tasks_for_tests.always_fails"
    )
    monkeypatch.setattr(jobs_command, "pause", lambda seconds: jobs.run_queued())
    with pytest.raises(CommandError) as failed:
        call_command("jobs", "run", "always_fails", "--wait", stdout=io.StringIO())
    assert failed.value.returncode == 1
    assert "failed after 2 attempt(s): RuntimeError: the test printer is out of paper" in str(
        failed.value
    )


def test_jobs_list_marks_a_job_taken_back_from_a_lost_worker() -> None:
    job = jobs.enqueue(t.count_to, 3)
    left_running_by(
        job, "machine-gone", started_ago=dt.timedelta(minutes=5), seen_ago=dt.timedelta(minutes=5)
    )
    jobs.recover_lost()
    out = io.StringIO()
    call_command("jobs", "list", stdout=out)
    line = out.getvalue().strip()
    assert "count_to" in line
    assert "Failed" in line
    assert "attempt 1/1  [worker lost x1]  Worker machine-gone stopped responding" in line


def test_jobs_run_refuses_an_unknown_name_with_exit_2() -> None:
    with pytest.raises(CommandError) as refused:
        call_command("jobs", "run", "make_coffee", stdout=io.StringIO())
    assert refused.value.returncode == 2
    assert not Job.objects.exists()


def test_jobs_list_shows_status_attempts_and_error() -> None:
    jobs.enqueue(t.always_fails)
    jobs.run_queued()
    out = io.StringIO()
    call_command("jobs", "list", stdout=out)
    assert "always_fails" in out.getvalue()
    assert "Failed" in out.getvalue()
    assert "attempt 2/2" in out.getvalue()
    assert "RuntimeError: the test printer is out of paper" in out.getvalue()


# --- the Jobs page ----------------------------------------------------------------------------


@pytest.fixture
def director(mfa_passed: None) -> User:
    org = make_org()
    return make_user(Role.DIRECTOR, sites=[make_site(org)], org=org)


def test_the_jobs_page_shows_status_attempts_error_and_progress(
    client: Client, director: User
) -> None:
    jobs.enqueue(t.count_to, 4)
    jobs.enqueue(t.half_way_then_fails)
    jobs.run_queued()
    client.force_login(director)

    page = client.get(reverse("jobs:list")).content.decode()

    assert '<progress max="100" value="100"' in page
    assert "100% (4 of 4)" in page
    assert "Counted to 4." in page
    assert '<progress max="100" value="40"' in page
    assert "ValueError: stopped at step 3" in page
    assert "Failed" in page
    assert "1 of 1" in page
    assert 'hx-trigger="every' not in page  # nothing left to watch


def test_the_jobs_page_polls_while_a_job_is_unfinished_and_answers_htmx_with_the_table(
    client: Client, director: User
) -> None:
    jobs.enqueue(t.count_to, 2)
    client.force_login(director)

    page = client.get(reverse("jobs:list")).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "<h1>Jobs</h1>" in page

    fragment = client.get(reverse("jobs:list"), HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div id="jobs"')
    assert "<h1>" not in fragment
    assert "Queued" in fragment

    jobs.run_queued()
    fragment = client.get(reverse("jobs:list"), HTTP_HX_REQUEST="true").content.decode()
    assert "Succeeded" in fragment
    assert "hx-trigger" not in fragment


def test_the_jobs_page_searches_by_name_and_status_and_pages(
    client: Client, director: User
) -> None:
    for n in range(30):
        jobs.enqueue(t.count_to, n)
    jobs.enqueue(t.always_fails)
    jobs.run_queued()
    client.force_login(director)

    failed = client.get(reverse("jobs:list"), {"status": "failed"}).content.decode()
    assert "always_fails" in failed
    assert "count_to" not in failed

    named = client.get(reverse("jobs:list"), {"q": "count"}).content.decode()
    assert "always_fails" not in named
    assert "30 in all" in named
    assert "Page 1 of 2" in named

    none = client.get(reverse("jobs:list"), {"q": "nothing-like-this"}).content.decode()
    assert "No jobs match this search." in none


def test_the_jobs_page_marks_a_job_taken_back_from_a_lost_worker(
    client: Client, director: User
) -> None:
    lost = jobs.enqueue(t.naps, 0)
    left_running_by(
        lost, "machine-gone", started_ago=dt.timedelta(minutes=5), seen_ago=dt.timedelta(minutes=5)
    )
    jobs.recover_lost()
    jobs.enqueue(t.count_to, 1)
    jobs.run_queued()
    client.force_login(director)

    page = client.get(reverse("jobs:list")).content.decode()

    assert page.count(">Worker lost</span>") == 1  # the retried job, not the other
    assert "Worker machine-gone stopped responding; retried" in page
    assert "2 of 2" in page
    assert "Slept 0 s." in page


def test_the_jobs_page_is_empty_before_any_job(client: Client, director: User) -> None:
    client.force_login(director)
    page = client.get(reverse("jobs:list")).content.decode()
    assert "No jobs yet." in page


def test_the_jobs_page_query_count_does_not_grow_with_rows(
    client: Client, director: User, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for n in range(3):
        jobs.enqueue(t.count_to, n)
    client.force_login(director)
    client.get(reverse("jobs:list"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("jobs:list"))
    for n in range(20):
        jobs.enqueue(t.count_to, n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("jobs:list"))


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.BILLING, Role.AUDITOR, Role.INTAKE])
def test_the_jobs_page_is_refused_without_staff_management(
    client: Client, mfa_passed: None, role: Role
) -> None:
    org = make_org()
    client.force_login(make_user(role, sites=[make_site(org)], org=org))
    assert client.get(reverse("jobs:list")).status_code == 403


def test_an_administrator_sees_the_jobs_page(client: Client, mfa_passed: None) -> None:
    org = make_org()
    client.force_login(make_user(Role.ADMIN, sites=[make_site(org)], org=org))
    assert client.get(reverse("jobs:list")).status_code == 200
