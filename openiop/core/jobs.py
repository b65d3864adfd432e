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
  however many workers call it (`openiop worker` calls it between tasks);
* lost workers: a worker killed mid-task (SIGKILL, out of memory, its machine gone) leaves its
  task "running" in the queue's table. Each worker keeps a heartbeat row fresh (`Heartbeat`, a
  thread with its own connection, so it beats while a long task runs), and every worker, at
  start and every half lease, takes back a running task whose worker has not beaten for the
  lease (`recover_lost`): the attempt counts, and the job is queued again if its attempts allow,
  else failed, with "Worker <id> stopped responding" as its error. The lease is
  settings.OPENIOP_WORKER_LEASE_SECONDS, 60 s by default; it must exceed the longest write
  transaction a job holds on SQLite (the heartbeat waits for it) and the clock difference between
  machines. A worker taken for lost that was only slow may finish its attempt all the same, so
  the job then runs twice (a job must be safe to run again, as any retried one); its result is
  kept on the queue, but the Job row follows the new attempt.

A `Job` row (core.models) follows each job across its attempts. Tasks call the same services as
the commands and views; a job's progress note, outcome and error say counts, never patient data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import socket
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import DatabaseError, IntegrityError, close_old_connections, connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string
from django_tasks import TaskContext, task
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db.models import DBTaskResult

from openiop.core.models import Job, JobSchedule, JobStatus, WorkerHeartbeat

logger = logging.getLogger(__name__)

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
    # The row while it follows this attempt: once another worker has taken the attempt back as
    # lost (recover_lost), it follows the next one, and this attempt, if it was only slow and
    # ends after all, leaves it alone and queues no retry of its own.
    mine = Job.objects.filter(pk=row.pk, result_id=str(result.id))
    token = _running.set(row.pk)
    try:
        value = func(*args, **kwargs)
    except BaseException as exc:
        # A worker stopped mid-task (a second Ctrl+C or SIGTERM raises SystemExit or
        # KeyboardInterrupt) ends the attempt like an error, so the Job row never stays "running".
        if isinstance(exc, Exception):
            error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
        else:
            error = "Interrupted: the worker was stopped during this attempt."
        if row.attempts < row.max_attempts:
            later = task_.using(run_after=timezone.now() + policy_of(task_).retry_delay)
            with transaction.atomic():
                if list(mine.select_for_update().values_list("pk", flat=True)):
                    retry = later.enqueue(*result.args, **result.kwargs)
                    mine.update(status=JobStatus.RETRYING, result_id=str(retry.id), error=error)
        else:
            mine.update(status=JobStatus.FAILED, error=error, finished_at=timezone.now())
        raise
    finally:
        _running.reset(token)
    mine.update(
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
# Payment-plan reminders are by the day (a reminder key names its day); once a day catches up.
PERIODIC: tuple[Periodic, ...] = (
    Periodic("openiop.measures.tasks.escalate_alerts", dt.timedelta(minutes=1)),
    Periodic("openiop.core.tasks.expire_submissions", dt.timedelta(hours=1)),
    Periodic("openiop.core.tasks.prune_jobs", dt.timedelta(days=1)),
    Periodic("openiop.billing.tasks.send_payment_reminders", dt.timedelta(days=1)),
    # Authorization and certification alerts are about days (80% used, 7 days before the end).
    Periodic("openiop.billing.tasks.raise_authorization_alerts", dt.timedelta(days=1)),
    # FHIR bulk exports are kept a week (openiop.fhir.exports.EXPORT_KEEP); daily pruning is plenty.
    Periodic("openiop.fhir.tasks.prune_bulk_exports", dt.timedelta(days=1)),
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


def new_worker_id() -> str:
    """A worker id unique across machines: the host's name and a random suffix."""
    return f"{socket.gethostname()[:40]}-{get_random_string(8)}"


def run_queued(*, worker_id: str | None = None) -> None:
    """Run every task that is ready, in this process, then return (for `--once`, and tests).

    It is a worker like `openiop worker`: it beats while it runs, so others leave its task alone,
    and takes back lost workers' tasks when it starts."""
    worker_id = worker_id or new_worker_id()
    worker = database_worker(worker_id=worker_id)
    with Heartbeat(worker_id):
        worker.run()


# --- workers: heartbeats, and the tasks of workers that stopped responding --------------------

DEFAULT_LEASE_SECONDS = 60


class WorkerLost(Exception):
    """The worker running a task stopped responding (killed, out of memory, its machine lost).

    Never raised: its dotted path is recorded on the queue's row of an attempt taken back by
    recover_lost, as the class of that attempt's error."""


WORKER_LOST_PATH = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"


def worker_lease() -> dt.timedelta:
    """How long a worker may go without a heartbeat before its running task is taken to be lost:
    settings.OPENIOP_WORKER_LEASE_SECONDS, 60 seconds when unset. Workers beat every quarter of it.

    Raises ImproperlyConfigured unless it is a positive number of seconds."""
    seconds = getattr(settings, "OPENIOP_WORKER_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
        raise ImproperlyConfigured("OPENIOP_WORKER_LEASE_SECONDS must be a positive number.")
    return dt.timedelta(seconds=seconds)


def beat(worker_id: str, *, now: dt.datetime | None = None) -> None:
    """Record that the worker `worker_id` is alive at `now` (one UPDATE; an INSERT the first time,
    or when its row was pruned)."""
    now = now or timezone.now()
    if WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now):
        return
    try:
        with transaction.atomic():
            WorkerHeartbeat.objects.create(worker_id=worker_id, first_seen_at=now, seen_at=now)
    except IntegrityError:  # the same id beat from another thread in between
        WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now)


@dataclass(frozen=True)
class Recovered:
    """A running task taken back from a worker that stopped responding."""

    result_id: str  # the queue's row of the lost attempt
    worker_id: str
    job: Job | None  # None for a task not made with @job (it has no Job row, and no retries)
    retried: bool

    def __str__(self) -> str:
        name = self.job.name if self.job else "a task"
        what = "retried" if self.retried else "failed"
        return f"Worker {self.worker_id} stopped responding; {name} {what}."


def recover_lost(
    *, now: dt.datetime | None = None, lease: dt.timedelta | None = None
) -> list[Recovered]:
    """Take back every task still running on the queue whose worker has not beaten for `lease`
    (worker_lease() by default) and that started longer ago than that; returns what was taken.

    A worker with no heartbeat row (pruned, or a worker run without one) counts as silent, so a
    task is never taken back within a lease of its start. Each task is taken under a lock on its
    row (a second recoverer skips it where rows are locked, PostgreSQL, and finds it no longer
    running where writers take turns, SQLite), so it is queued again once however many workers
    recover at the same time.
    """
    now = now or timezone.now()
    cutoff = now - (worker_lease() if lease is None else lease)
    running = {
        str(pk): ids[-1] if ids else ""
        for pk, ids in DBTaskResult.objects.filter(
            status=TaskResultStatus.RUNNING, started_at__lt=cutoff
        ).values_list("pk", "worker_ids")
    }
    if not running:
        return []
    alive = set(
        WorkerHeartbeat.objects.filter(
            worker_id__in=set(running.values()), seen_at__gte=cutoff
        ).values_list("worker_id", flat=True)
    )
    taken = [
        _recover_one(pk, now=now, cutoff=cutoff)
        for pk, worker in running.items()
        if worker not in alive
    ]
    return [r for r in taken if r is not None]


def _worker_alive(worker_id: str, cutoff: dt.datetime) -> bool:
    return WorkerHeartbeat.objects.filter(worker_id=worker_id, seen_at__gte=cutoff).exists()


def _recover_one(result_id: str, *, now: dt.datetime, cutoff: dt.datetime) -> Recovered | None:
    """Take back one lost attempt: record it failed on the queue, count it on its Job row, and
    queue the next attempt if the job has one left; None when it is no longer lost (another
    recoverer has it, it ended, or its worker beat after all)."""
    with transaction.atomic():
        lost = (
            DBTaskResult.objects.select_for_update(skip_locked=True)
            .filter(pk=result_id, status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
            .first()
        )
        if lost is None:
            return None
        worker = lost.worker_ids[-1] if lost.worker_ids else "unknown"
        if _worker_alive(worker, cutoff):
            return None
        message = f"Worker {worker} stopped responding"
        DBTaskResult.objects.filter(pk=lost.pk).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            return_value=None,
            exception_class_path=WORKER_LOST_PATH,
            traceback=message,
        )
        row = Job.objects.select_for_update().filter(result_id=str(lost.pk)).first()
        if row is None:
            return Recovered(str(lost.pk), worker, None, retried=False)
        try:
            task_: Task[Any, Any] | None = lost.task
        except (ImportError, SuspiciousOperation):  # its code is gone: it cannot run again
            task_ = None
        # The attempt counts once: _attempt counted it if it got as far as marking the job running.
        attempts = row.attempts if row.status == JobStatus.RUNNING else row.attempts + 1
        if task_ is not None and attempts < row.max_attempts:
            later = task_.using(run_after=now + policy_of(task_).retry_delay)
            retry = later.enqueue(*lost.args_kwargs["args"], **lost.args_kwargs["kwargs"])
            Job.objects.filter(pk=row.pk).update(
                status=JobStatus.RETRYING,
                result_id=str(retry.id),
                attempts=attempts,
                workers_lost=F("workers_lost") + 1,
                error=f"{message}; retried",
            )
        else:
            Job.objects.filter(pk=row.pk).update(
                status=JobStatus.FAILED,
                attempts=attempts,
                workers_lost=F("workers_lost") + 1,
                error=message,
                finished_at=now,
            )
        row.refresh_from_db()
    return Recovered(str(lost.pk), worker, row, retried=row.status == JobStatus.RETRYING)


def forget(worker_id: str) -> None:
    """Delete the heartbeat of a worker that stops cleanly (it runs nothing any more)."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


class Heartbeat:
    """A worker's heartbeat, around its loop: `with Heartbeat(worker_id): ...`.

    On entering, it beats and takes back lost workers' tasks (recover_lost). Then a daemon thread
    beats every quarter of the lease and recovers every half lease, between tasks and while one
    runs. The thread has its own database connection (Django's are per thread), closed when it
    ends; a beat that fails (SQLite locked by a long write for longer than its timeout, a dropped
    connection) is logged and tried again at the next, the lease being four beats long. On
    leaving, the thread stops and the worker's row is deleted. `report` receives a line for each
    task taken back (else it is logged).
    """

    def __init__(
        self,
        worker_id: str,
        *,
        report: Callable[[str], object] | None = None,
        lease: dt.timedelta | None = None,
    ) -> None:
        self.worker_id = worker_id
        self.lease = worker_lease() if lease is None else lease
        self.report = report
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat {worker_id}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        beat(self.worker_id)
        self._recover()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        # A beat in flight may wait on a locked database (SQLite's timeout is 5 s by default).
        self._thread.join(timeout=10)
        # Stopping on an error, the database may be what failed: the prune job deletes the row.
        with contextlib.suppress(DatabaseError):
            forget(self.worker_id)

    def _recover(self) -> None:
        for taken in recover_lost(lease=self.lease):
            if self.report is None:
                logger.warning("%s", taken)
            else:
                self.report(str(taken))

    def _run(self) -> None:
        every = self.lease.total_seconds() / 4
        next_recovery = time.monotonic() + 2 * every
        try:
            while not self._stop.wait(every):
                try:
                    close_old_connections()  # this thread's: reconnect after an error or max age
                    beat(self.worker_id)
                    if time.monotonic() >= next_recovery:
                        next_recovery = time.monotonic() + 2 * every
                        self._recover()
                except DatabaseError as exc:
                    logger.warning("Worker %s missed a heartbeat: %s", self.worker_id, exc)
                except Exception:
                    # Never let the thread die while the worker lives: a silent worker loses its
                    # task to another, which runs it a second time.
                    logger.exception("Worker %s: heartbeat error", self.worker_id)
        finally:
            connections.close_all()


def progress_bar(done: int, total: int | None, *, width: int = 30) -> str:
    """A text progress bar: `[#######.......]  47% 470/1000`, or a count when there is no total."""
    if total is None:
        return f"[{'?' * width}] {done}"
    filled = min(width, done * width // total) if total else width
    percent = min(100, done * 100 // total) if total else 100
    return f"[{'#' * filled}{'.' * (width - filled)}] {percent:3d}% {done}/{total}"
