"""Requests to the token APIs (FHIR R4 under /fhir/R4/, the REST API under /api/) authenticate by
their bearer token alone (openiop.fhir.auth: every view there runs inside fhir_endpoint or
api_endpoint) and never by a session cookie. The browser's middleware (the session, CSRF, the
staff login and its two-factor and session rules, messages, login lockout, forms sent twice) has
nothing to decide for them, and running it cost a FHIR read more than the read's own queries.

`web_only(cls)` wraps such a middleware so that it runs for every other request and is passed by
for these. The middleware that guard every response stay in front for all requests alike
(SecurityMiddleware, CSP, Permissions-Policy, the NUL refusal, CommonMiddleware's host check,
X-Frame-Options). The OAuth endpoints (/o/) are not a token API: the token endpoint keeps
every middleware, its lockout included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

PREFIXES = ("/fhir/R4/", "/api/")

# A token API answers JSON (FHIR, problem+json, NDJSON files), never a page: nothing in it may
# load, run or be framed (OWASP REST Security: `default-src 'none'; frame-ancestors 'none'`). The
# pages' policy (settings.CONTENT_SECURITY_POLICY) is built for every page by django-csp.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"

_HOOKS = ("process_view", "process_exception", "process_template_response")


def is_token_api(request: HttpRequest) -> bool:
    """Whether the request goes to a bearer-token API (and so carries no session of its own)."""
    return request.path_info.startswith(PREFIXES)


def web_only(
    middleware: type,
    *,
    anonymous_user: bool = False,
    api_headers: dict[str, str] | None = None,
) -> type:
    """A subclass of `middleware` that runs it for every request except a token API's (a
    subclass, so Django's checks that look for the session, authentication and messages
    middleware still find them). With `anonymous_user`, a token API request passed by gets
    `request.user` = AnonymousUser, as the authentication middleware sets it for a request
    without a session (an error page rendered for it may read it). `api_headers` are set on a
    token API's response instead (where the response has none of that name)."""
    headers = dict(api_headers or {})
    base: Any = middleware

    def __init__(self: Any, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        base.__init__(self, get_response)
        # The wrapper's own reference to the next callable, for passing a token API request
        # straight on. The seven wrapped today (config/middleware.py) all keep it as
        # self.get_response (MiddlewareMixin's __init__ or their own) and none replaces it, but
        # that name is each class's own detail, not part of Django's middleware contract (a
        # middleware is only handed get_response): the pass-by does not depend on it.
        self.token_api_next = get_response

    def __call__(self: Any, request: HttpRequest) -> HttpResponse:
        if is_token_api(request):
            if anonymous_user:
                request.user = AnonymousUser()
            response: HttpResponse = self.token_api_next(request)
            for name, value in headers.items():
                response.headers.setdefault(name, value)
            return response
        answer: HttpResponse = base.__call__(self, request)
        return answer

    namespace: dict[str, Any] = {
        "__init__": __init__,
        "__call__": __call__,
        "__module__": __name__,
        "__doc__": f"{middleware.__module__}.{middleware.__name__}, except for the token APIs.",
        # Sync only: the app is served by WSGI, and a token API request must not reach the
        # wrapped middleware's async path either.
        "sync_capable": True,
        "async_capable": False,
    }
    for name in _HOOKS:
        hook = getattr(middleware, name, None)
        if hook is not None:
            namespace[name] = _for_web(hook)
    return type(f"WebOnly{middleware.__name__}", (middleware,), namespace)


def _for_web(hook: Callable[..., Any]) -> Callable[..., Any]:
    """A middleware hook (process_view, ...) that does nothing for a token API request."""

    def run(self: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return None if is_token_api(request) else hook(self, request, *args, **kwargs)

    run.__name__ = hook.__name__
    return run
