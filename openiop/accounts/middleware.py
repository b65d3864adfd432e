from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

EXEMPT_PREFIXES = ("/accounts/", "/static/")


class StaffSessionMiddleware:
    """Directors and administrators must pass TOTP two-factor before any other page.

    Idle timeout is Django's session age, renewed on each request (SESSION_SAVE_EVERY_REQUEST).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
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
        response = self.get_response(request)
        if user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def is_mfa_verified(request: HttpRequest) -> bool:
    """Whether this session passed TOTP (django-otp marks the user object per request)."""
    return bool(request.user.is_verified())  # type: ignore[union-attr]


def idle_minutes() -> int:
    return int(settings.IDLE_TIMEOUT_MINUTES)
