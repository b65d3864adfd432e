from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

EXEMPT_PREFIXES = ("/accounts/", "/static/")


RENEWED_KEY = "_openiop_renewed"


class StaffSessionMiddleware:
    """Directors and administrators must pass TOTP two-factor before any other page; a staff
    request runs in the user's home time zone.

    Idle timeout is Django's session age (SESSION_COOKIE_AGE). Activity renews it, but at most once
    every SESSION_RENEW_SECONDS: writing the session on every request was three queries per page.
    So an idle session ends between SESSION_COOKIE_AGE - SESSION_RENEW_SECONDS and
    SESSION_COOKIE_AGE after its last request, never later.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            renew_if_due(request)
        if (
            user.is_authenticated
            and getattr(user, "mfa_required", False)
            and not is_mfa_verified(request)
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            from django_otp.plugins.otp_totp.models import TOTPDevice

            has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            target = "accounts:mfa_verify" if has_device else "accounts:mfa_setup"
            return redirect(f"{redirect(target).url}?next={request.get_full_path()}")
        if not user.is_authenticated:
            return self.get_response(request)
        # Every time a staff page shows that belongs to no site (the set-up pages' included, whose
        # templates render after the view returns) is in the user's home zone.
        with timezone.override(user.home_zone_name()):
            response = self.get_response(request)
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def renew_if_due(request: HttpRequest) -> None:
    """Mark the session modified (so SessionMiddleware saves it with a fresh expiry) when its last
    renewal is SESSION_RENEW_SECONDS old or more, or unknown."""
    session = request.session
    now = int(timezone.now().timestamp())
    renewed = session.get(RENEWED_KEY)
    if not isinstance(renewed, int) or not 0 <= now - renewed < settings.SESSION_RENEW_SECONDS:
        session[RENEWED_KEY] = now


def is_mfa_verified(request: HttpRequest) -> bool:
    """Whether this session passed TOTP (django-otp marks the user object per request)."""
    return bool(request.user.is_verified())  # type: ignore[union-attr]


def idle_minutes() -> int:
    return int(settings.IDLE_TIMEOUT_MINUTES)
