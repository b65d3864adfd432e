"""A double click makes one record: every form render carries a single-use token.

- `submission_input()`, a Jinja global that `render_form` prints (and the few forms written by
  hand print themselves), gives each rendered form a fresh random token in the hidden field FIELD.
- SubmissionMiddleware, last in MIDDLEWARE, runs a POST that carries a token in one transaction
  that first records the token (core.Submission, whose token is unique). Then:
  * the view answered with a redirect (or htmx's HX-Redirect), or marked its page as the result
    with `completed(response)`: the row keeps that answer and commits with what the view saved;
  * any other answer (the form again with its errors, a refusal, a rate limit), or a redirect that
    carries an error message (a view that says why it refused on the page it sends the user
    back to): the row is deleted, so the user fixes the form and sends it again, and nothing is
    used up.
- A POST whose token is already recorded does not run the view: it gets the first answer (the same
  redirect, with a message that it was already saved, or the same page). CSRF and the login
  checks of the middleware before it still run first (the answer comes from process_view).
- Two POSTs in flight at once: the second one's INSERT waits on the unique index until the first
  commits (PostgreSQL; on SQLite the write lock serializes them), then it finds the row.

Recorded tokens are kept for MAX_AGE and then deleted by `openiop expire_submissions`, which
`openiop periodic` runs every hour: after that, the same old form sent again saves again.
The sign-in pages (EXEMPT_PREFIXES) are left alone: their answer sets cookies a replay cannot.
A cached page (openiop.pagecache) gets fresh tokens each time it is served (`refresh_tokens`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from markupsafe import Markup

from openiop.core.models import Submission

FIELD = "_submission"
MAX_AGE = dt.timedelta(hours=24)
EXEMPT_PREFIXES = ("/accounts/",)
ALREADY_SAVED = "This form was sent twice; it was saved once. Here is what it saved."
OTHER_USER = "This form was already sent. Open the page again to fill in a new one."

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_TOKEN_IN_PAGE = re.compile(rb'name="' + FIELD.encode() + rb'" value="[A-Za-z0-9_-]+"')
_REPLAY = "_openiop_submission_replay"
_COMPLETED = "_openiop_submission_completed"


def new_token() -> str:
    """A fresh random token (22 URL-safe characters, 128 bits)."""
    return secrets.token_urlsafe(16)


def submission_input() -> Markup:
    """The hidden field that makes the form around it a single submission."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, new_token())


def refresh_tokens(content: bytes) -> bytes:
    """`content` with every form's token replaced by a fresh one (for a page served from cache)."""
    if FIELD.encode() not in content:
        return content
    return _TOKEN_IN_PAGE.sub(
        lambda _: b'name="' + FIELD.encode() + b'" value="' + new_token().encode() + b'"', content
    )


def completed(response: HttpResponse) -> HttpResponse:
    """Mark a page answered in place (not a redirect) as the result of the submission: a second
    POST of the same form gets this page again instead of saving again. Returns `response`."""
    setattr(response, _COMPLETED, True)
    return response


def expire(*, now: dt.datetime | None = None) -> int:
    """Delete tokens recorded more than MAX_AGE ago; returns how many."""
    cutoff = (now or timezone.now()) - MAX_AGE
    deleted, _ = Submission.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _token(request: HttpRequest) -> str | None:
    if request.method != "POST" or request.path.startswith(EXEMPT_PREFIXES):
        return None
    token = request.POST.get(FIELD, "")
    return token if _TOKEN.fullmatch(token) else None


def _user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _claim(token: str, user_id: int | None) -> Submission | None:
    """Record `token`; None when this request may run, else the first submission's row."""
    for _ in range(2):  # the row can expire between the failed INSERT and the read
        try:
            with transaction.atomic():
                Submission.objects.create(token=token, user_id=user_id, created_at=timezone.now())
            return None
        except IntegrityError:
            first = Submission.objects.filter(token=token).first()
            if first is not None:
                return first
    raise IntegrityError(f"submission token {token[:6]}… could not be recorded")


def _refused_with_a_message(request: HttpRequest) -> bool:
    """Whether the view queued an error message: its answer, redirect or not, is a refusal."""
    storage = getattr(request, "_messages", None)
    queued = getattr(storage, "_queued_messages", ())
    return any(m.level >= messages.ERROR for m in queued)


def _result(response: HttpResponse) -> dict[str, Any] | None:
    """What to keep of the view's answer when it saved something; None when it did not."""
    if getattr(response, _COMPLETED, False) and not response.streaming:
        return {
            "status_code": response.status_code,
            "content_type": response.get("Content-Type", ""),
            "body": response.content.decode(response.charset or "utf-8"),
        }
    if response.has_header("HX-Redirect"):
        return {
            "status_code": response.status_code,
            "location": response["HX-Redirect"],
            "htmx_redirect": True,
        }
    if 300 <= response.status_code < 400 and response.has_header("Location"):
        return {"status_code": response.status_code, "location": response["Location"]}
    return None


def _replay(request: HttpRequest, first: Submission) -> HttpResponse:
    if first.user_id != _user_id(request):
        return HttpResponse(OTHER_USER, status=409, content_type="text/plain; charset=utf-8")
    if first.content_type:
        response = HttpResponse(
            first.body, content_type=first.content_type, status=first.status_code
        )
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response
    if hasattr(request, "_messages"):
        messages.info(request, ALREADY_SAVED)
    if first.htmx_redirect:
        response = HttpResponse(status=first.status_code)
        response["HX-Redirect"] = first.location
        return response
    response = HttpResponseRedirect(first.location)
    response.status_code = first.status_code
    return response


class SubmissionMiddleware:
    """Runs each form submission once (see the module docstring). Last in MIDDLEWARE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _token(request)
        if token is None:
            return self.get_response(request)
        with transaction.atomic():
            first = _claim(token, _user_id(request))
            if first is not None:
                setattr(request, _REPLAY, first)
                return self.get_response(request)
            response = self.get_response(request)
            result = None if _refused_with_a_message(request) else _result(response)
            if result is None:
                Submission.objects.filter(token=token).delete()
            else:
                Submission.objects.filter(token=token).update(**result)
        return response

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        first = getattr(request, _REPLAY, None)
        return None if first is None else _replay(request, first)
