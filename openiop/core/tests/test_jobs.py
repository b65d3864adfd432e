"""Background jobs (core.jobs) on the database task queue: run by the worker, retried, scheduled,
kept across a worker restart, with progress on the Jobs page and the command line."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from openiop.accounts.domain import Role
from openiop.core import jobs
from openiop.core.management.commands import jobs as jobs_command
from openiop.core.models import Job, JobSchedule, JobStatus
from openiop.core.tests import tasks_for_tests as t
from openiop.testing import make_org, make_site, make_user

if TYPE_CHECKING:
    from django.test import Client
    from pytest_django import DjangoAssertNumQueries

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


def test_queued_jobs_survive_a_worker_stopping_and_run_on_the_next_worker() -> None:
    first = jobs.enqueue(t.count_to, 1)
    second = jobs.enqueue(t.count_to, 2)

    # A worker that stops after one task (as one stopped by SIGTERM finishes its task and exits).
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=1,
        worker_id="machine-a",
        excluded_queue_names=[],
    ).run()
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
