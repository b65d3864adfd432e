"""Background jobs on the task queue: Django's Tasks API (the `django-tasks` backport) plus what
the queue lacks, kept small.

The queue (settings.TASKS; by default `django_tasks_db`, a table in the project's database, so it
works on SQLite and on PostgreSQL with several workers on several machines) stores each task and
runs it in `openiop worker`. A task that survives a restart of the worker is simply one that is
still in that table. What the database backend does not do, this module adds:

* retries: a task made with `@job(max_attempts=3)` that raises is put back on the queue (after
  `retry_delay`) until its attempts are spent, then shown failed with its error;
* progress: `report_progress(done, total)` inside a job, shown on the Jobs page and by
  `openiop jobs run NAME --wait`;
* schedules: `enqueue_due()` puts each periodic job (PERIODIC) on the queue when it is due, once,
  however many workers call it (`openiop worker` calls it between tasks).

A `Job` row (core.models) follows each job across its attempts. Tasks call the same services as
the commands and views; a job's progress note, outcome and error say counts, never patient data.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskContext, task
from django_tasks.base import Task

from openiop.core.models import Job, JobSchedule, JobStatus

T = TypeVar("T")

UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.RETRYING)
ERROR_CHARS = 2000


@dataclass(frozen=True)
class Policy:
    max_attempts: int
    retry_delay: dt.timedelta


# Task path -> its retry policy; filled by @job at import.
_POLICIES: dict[str, Policy] = {}
# The Job row of the attempt running in this thread (report_progress writes to it).
_running: ContextVar[int | None] = ContextVar("openiop_running_job", default=None)


def job(
    *, max_attempts: int = 1, retry_delay: dt.timedelta = dt.timedelta(seconds=30)
) -> Callable[[Callable[..., T]], Task[Any, T]]:
    """Make a function a task on the queue, retried up to `max_attempts` times in all.

    The function keeps its name and module, so the queue finds it again by its dotted path. Its
    return value, when a string, is kept as the job's outcome (shown on the Jobs page).
    """
    if max_attempts < 1:
        raise ValueError("max_attempts is at least 1")

    def decorate(func: Callable[..., T]) -> Task[Any, T]:
        @functools.wraps(func)
        def attempt(context: TaskContext, *args: Any, **kwargs: Any) -> T:
            return _attempt(context, func, args, kwargs)

        # The queue reads the signature (a context first) and finds the task again by the
        # function's dotted path: keep the name and module, not the wrapped signature.
        del attempt.__wrapped__
        made = task(takes_context=True)(attempt)
        _POLICIES[made.module_path] = Policy(max_attempts, retry_delay)
        return made

    return decorate


def policy_of(task_: Task[Any, Any]) -> Policy:
    return _POLICIES.get(task_.module_path, Policy(1, dt.timedelta(0)))


def enqueue(task_: Task[Any, Any], *args: Any, schedule: str = "", **kwargs: Any) -> Job:
    """Put a task on the queue; returns its Job row (status queued)."""
    with transaction.atomic():
        result = task_.enqueue(*args, **kwargs)
        job_row, _ = Job.objects.get_or_create(
            result_id=str(result.id),
            defaults={
                "name": task_.name,
                "task_path": task_.module_path,
                "max_attempts": policy_of(task_).max_attempts,
                "schedule": schedule,
                "enqueued_at": timezone.now(),
            },
        )
    return job_row


def _attempt(
    context: TaskContext, func: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> T:
    """Run one attempt of a job, keeping its Job row; on an error, queue the next attempt (if any
    is left) and raise again, so the queue records this attempt as failed too."""
    result = context.task_result
    task_ = result.task
    started = timezone.now()
    row, _ = Job.objects.get_or_create(
        result_id=str(result.id),
        defaults={
            "name": task_.name,
            "task_path": task_.module_path,
            "max_attempts": policy_of(task_).max_attempts,
            "enqueued_at": result.enqueued_at or started,
        },
    )
    Job.objects.filter(pk=row.pk).update(
        status=JobStatus.RUNNING, attempts=F("attempts") + 1, started_at=started, finished_at=None
    )
    row.refresh_from_db()
    token = _running.set(row.pk)
    try:
        value = func(*args, **kwargs)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
        if row.attempts < row.max_attempts:
            later = task_.using(run_after=timezone.now() + policy_of(task_).retry_delay)
            with transaction.atomic():
                retry = later.enqueue(*result.args, **result.kwargs)
                Job.objects.filter(pk=row.pk).update(
                    status=JobStatus.RETRYING, result_id=str(retry.id), error=error
                )
        else:
            Job.objects.filter(pk=row.pk).update(
                status=JobStatus.FAILED, error=error, finished_at=timezone.now()
            )
        raise
    finally:
        _running.reset(token)
    Job.objects.filter(pk=row.pk).update(
        status=JobStatus.SUCCEEDED,
        finished_at=timezone.now(),
        outcome=value[:300] if isinstance(value, str) else "",
    )
    return value


def report_progress(done: int, total: int | None = None, note: str = "") -> None:
    """Record how far the running job has got (`done` of `total` units; `note` says what, with no
    patient data). Outside a job (a command run by hand, a test) it does nothing.

    Written at once, outside the job's own transaction if it has none: a job that holds one
    transaction for its whole run shows its progress only when it ends."""
    job_id = _running.get()
    if job_id is None:
        return
    Job.objects.filter(pk=job_id).update(
        progress_done=max(0, done),
        progress_total=None if total is None else max(0, total),
        progress_note=note[:200],
    )


# --- schedules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Periodic:
    task_path: str  # the dotted path of a task made with @job
    every: dt.timedelta

    @property
    def name(self) -> str:
        return self.task_path.rsplit(".", 1)[-1]


# Safety alerts left unacknowledged must reach the director within the site's escalation time
# (60 minutes by default), so checking every minute keeps the delay small against it.
# A form's used token is kept a day (openiop.core.submissions); hourly deletion is plenty.
# Finished jobs are kept a month (openiop.core.tasks.prune_jobs); daily pruning keeps the table small.
PERIODIC: tuple[Periodic, ...] = (
    Periodic("openiop.measures.tasks.escalate_alerts", dt.timedelta(minutes=1)),
    Periodic("openiop.core.tasks.expire_submissions", dt.timedelta(hours=1)),
    Periodic("openiop.core.tasks.prune_jobs", dt.timedelta(days=1)),
)

# Jobs that `openiop jobs run NAME` may start by hand, by name.
RUNNABLE: dict[str, str] = {p.name: p.task_path for p in PERIODIC}


def _schedule_row(name: str, now: dt.datetime) -> JobSchedule:
    try:
        row, _ = JobSchedule.objects.get_or_create(name=name, defaults={"next_run_at": now})
    except IntegrityError:  # another scheduler created it between our read and our insert
        row = JobSchedule.objects.get(name=name)
    return row


def enqueue_due(
    *,
    now: dt.datetime | None = None,
    force: bool = False,
    periodic: tuple[Periodic, ...] = PERIODIC,
) -> list[Job]:
    """Put each periodic job that is due on the queue; returns the Jobs enqueued.

    A job is due when its schedule's time has come (`force`: now, whatever the time) and its last
    run is finished (a job still waiting or running is not queued again behind itself). The
    schedule moves forward by a conditional update first, so of several schedulers calling this at
    once (several workers, several machines) exactly one enqueues it.
    """
    now = now or timezone.now()
    enqueued: list[Job] = []
    for entry in periodic:
        row = _schedule_row(entry.task_path, now)
        if not force and row.next_run_at > now:
            continue
        with transaction.atomic():
            claimed = JobSchedule.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
                next_run_at=now + entry.every
            )
            if not claimed:
                continue
            # The last run is as read: it changes only with next_run_at, which we just claimed.
            last = Job.objects.filter(pk=row.last_job_id or 0).values_list("status", flat=True)
            if last.first() in UNFINISHED:
                continue
            job_row = enqueue(import_string(entry.task_path), schedule=entry.task_path)
            JobSchedule.objects.filter(pk=row.pk).update(last_job=job_row)
        enqueued.append(job_row)
    return enqueued


# --- running the database queue in this process ----------------------------------------------


def database_worker(*, worker_id: str, interval: float = 0) -> Any:
    """A django_tasks_db worker over every queue of the default backend, stopping when nothing is
    ready (its batch mode); raises LookupError when the backend is not the database one."""
    from django_tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.management.commands.db_worker import Worker

    if not isinstance(task_backends["default"], DatabaseBackend):
        raise LookupError("The task backend is not the database one: run its own worker.")
    return Worker(
        queue_names=["*"],
        interval=interval,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


def run_queued(*, worker_id: str = "in-process") -> None:
    """Run every task that is ready, in this process, then return (for `--once`, and tests)."""
    database_worker(worker_id=worker_id).run()


def progress_bar(done: int, total: int | None, *, width: int = 30) -> str:
    """A text progress bar: `[#######.......]  47% 470/1000`, or a count when there is no total."""
    if total is None:
        return f"[{'?' * width}] {done}"
    filled = min(width, done * width // total) if total else width
    percent = min(100, done * 100 // total) if total else 100
    return f"[{'#' * filled}{'.' * (width - filled)}] {percent:3d}% {done}/{total}"
