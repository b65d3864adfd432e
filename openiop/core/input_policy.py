"""A NUL character (\\x00) is refused in every request, before any view, form or query sees it.

NUL is never meaningful in what a person types, PostgreSQL cannot store it in text at all (the
query fails), and code that passes text to C libraries cuts it there. Refusing it per field would
need every form, every value read by hand from request.GET/POST and every library reading the
request (the login lockout records the typed username) to remember the rule; one check at the
door cannot be forgotten by a new page. The answer is a 400 with a plain message saying what to
fix; nothing is saved. Commands check their arguments the same way (core.cli).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from openiop.core.errors import RuleViolation

NUL = "\x00"
# The REST API answers every error as RFC 9457 problem+json, this one too (openiop.api).
PROBLEM_JSON_PREFIXES = ("/api/",)
NUL_REFUSED = (
    "This request was not accepted: it contains a NUL character (a zero byte, often left by "
    "copying from another program), which no field may hold. Nothing was saved. "
    "Go back, retype the text you pasted, and send it again."
)


def request_has_nul(request: HttpRequest) -> bool:
    """Whether the path, a query parameter or a form field (name or value) holds a NUL."""
    if NUL in request.path:
        return True
    params = [request.GET]
    if request.method == "POST":
        params.append(request.POST)
    return any(
        NUL in key or any(NUL in value for value in values)
        for query in params
        for key, values in query.lists()
    )


class RefuseNulMiddleware:
    """Answer 400 (plain text; problem+json under /api/) to any request with a NUL in its path,
    query or form fields."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request_has_nul(request):
            if request.path.startswith(PROBLEM_JSON_PREFIXES):
                body = RuleViolation(NUL_REFUSED, code="nul_refused").as_problem()
                return JsonResponse(body, status=400, content_type="application/problem+json")
            return HttpResponse(NUL_REFUSED, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
