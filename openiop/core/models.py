from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Versioned(models.Model):
    """Optimistic concurrency: services compare and bump `version`; a stale form raises Conflict."""

    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True


class Submission(models.Model):
    """A form render's single-use token, recorded once its POST has saved something.

    openiop.core.submissions writes the row in the same transaction as what the POST saved, so a
    second POST of the same render (a double click, a resent request) finds it and gets the first
    result instead of saving again; the unique token makes two POSTs in flight at once wait for
    each other. Rows are kept for MAX_AGE (openiop.core.submissions), then deleted by
    `openiop expire_submissions` (run by `openiop periodic`).
    """

    token = models.CharField(max_length=64, unique=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    status_code = models.PositiveSmallIntegerField(default=0)
    # Where the first POST sent the browser (a redirect or htmx's HX-Redirect) ...
    location = models.CharField(max_length=2000, blank=True)
    htmx_redirect = models.BooleanField(default=False)
    # ... or, for a page answered in place (a patient's questionnaire done page), that page.
    content_type = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"submission {self.token[:6]}… ({self.status_code})"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Waiting to retry"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Job(models.Model):
    """One background job on the task queue (openiop.core.jobs), across all its attempts.

    The queue keeps one task result per attempt (django_tasks_db's DBTaskResult); this row follows
    the job from one attempt to the next (`result_id` is the current attempt's), counts them, and
    holds what the Jobs page shows: the last error, the progress the job reported, its outcome.
    Neither the error nor the progress note may hold patient data (jobs say counts, not names).
    """

    name = models.CharField(max_length=100, db_index=True)
    task_path = models.CharField(max_length=300)
    result_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=1)
    # The schedule (JobSchedule.name) that put it on the queue; blank when started by hand.
    schedule = models.CharField(max_length=300, blank=True)
    enqueued_at = models.DateTimeField(db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    progress_note = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    # Attempts whose worker stopped responding (killed, its machine lost) and were taken back
    # from it by another worker (openiop.core.jobs.recover_lost).
    workers_lost = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-enqueued_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def percent(self) -> int | None:
        """How far the job has got, 0 to 100, or None when it reported no total."""
        if self.progress_total is None:
            return None
        if self.progress_total == 0:  # nothing to do: done
            return 100
        return min(100, self.progress_done * 100 // self.progress_total)


class JobSchedule(models.Model):
    """When a periodic job (openiop.core.jobs.PERIODIC) is next due, shared by every scheduler.

    openiop.core.jobs.enqueue_due moves `next_run_at` forward with a conditional update before it
    enqueues, so a due job is put on the queue once however many workers look at the same time.
    """

    name = models.CharField(max_length=300, unique=True)
    next_run_at = models.DateTimeField()
    last_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"{self.name} next at {self.next_run_at:%Y-%m-%d %H:%M}"


class WorkerHeartbeat(models.Model):
    """A running worker (`openiop worker`) saying it is alive: it moves `seen_at` forward every
    quarter of the lease (openiop.core.jobs.Heartbeat), between tasks and while one runs.

    A task still running whose worker has not been seen for the lease is taken to be lost and is
    put back on the queue, or failed (openiop.core.jobs.recover_lost). A worker that stops cleanly
    deletes its row; the prune job deletes the rows of workers not seen for the lease.
    """

    worker_id = models.CharField(max_length=64, unique=True)
    first_seen_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"worker {self.worker_id} seen at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class Part2Marked(models.Model):
    """A record derived from substance-use care carries its 42 CFR Part 2 sensitivity in its own
    row (../shared/domain.md section 5), so every way out (FHIR, export, print, claims) can filter
    on it without joining back to the episode.

    `part2` is set by the one service that creates the row, from its episode
    (Episode.part2_protected), and is never unset: an episode whose focus changes to substance use
    marks its records then (episodes.services.episode_set_focus). `part2_episode_path` names the
    lookup from the row to its episode (for that marking and for the guard test)."""

    part2_episode_path: str = "episode"

    part2 = models.BooleanField(
        default=False,
        editable=False,
        help_text="Derived from substance-use care: protected by 42 CFR Part 2 (never unset)",
    )

    class Meta:
        abstract = True
