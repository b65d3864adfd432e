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
