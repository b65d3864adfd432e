"""Background import of a large kept file (run by `openiop worker`), calling the same service as
the page, and the write that puts it on the queue. The queueing lives here, beside the job it
enqueues, so that tasks imports services and services imports nothing of tasks."""

from __future__ import annotations

from django.db import transaction

from openiop.accounts.models import User
from openiop.core import clock
from openiop.core.actor import Actor
from openiop.core.jobs import enqueue, job, report_progress
from openiop.imports.models import BatchStatus, ImportBatch
from openiop.imports.services import batch_apply, require_batch


@job(max_attempts=1)
def apply_batch(batch_id: int, user_id: int) -> str:
    """Import the kept file `batch_id` as the user who confirmed it (batch_apply: their role and
    sites apply, audited under their name, channel "task"), reporting progress row by row. Returns
    the outcome as counts (no patient data). Not retried: a refused import wrote nothing, and the
    batch says why."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise LookupError(f"No active staff user {user_id} to import as.")
    batch = ImportBatch.objects.select_related("site", "site__organization").get(pk=batch_id)
    actor = Actor(user=user, channel="task", client_addr="local", path=f"apply_batch {batch_id}")
    report_progress(0, None, "Checking the rows again")
    report = batch_apply(
        batch=batch,
        by=actor,
        from_queue=True,
        on_progress=lambda done, total: report_progress(done, total, "rows imported"),
    )
    batch.refresh_from_db()
    return batch.summary if report is None else report.sentence


def batch_queue(*, batch: ImportBatch, by: Actor) -> ImportBatch:
    """Put a large kept file's import on the background queue (apply_batch), as `by`: the same
    access and state checks as an inline import (services.require_batch)."""
    require_batch(by, batch)
    assert by.user is not None
    with transaction.atomic():
        queued = enqueue(apply_batch, batch.pk, by.user.pk)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.QUEUED, job=queued, updated_at=clock.now()
        )
    batch.refresh_from_db()
    return batch
