"""Who is acting, from where and through which channel: passed to every service and selector."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest

    from openiop.accounts.models import User


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent `request`, for the audit log and rate limits.

    X-Forwarded-For is a header any client can set, so it is believed only when the connection
    comes from a reverse proxy listed in OPENIOP_TRUSTED_PROXIES; then the right-most address that
    is not itself a trusted proxy is the client. Otherwise the connection's own address is used.
    """
    from django.conf import settings

    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = frozenset(getattr(settings, "TRUSTED_PROXIES", ()))
    if remote not in trusted:
        return remote
    forwarded: list[str] = [
        a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    ]
    for addr in reversed([a for a in forwarded if a]):
        if addr not in trusted:
            return addr[:64]
    return remote


@dataclass(frozen=True)
class Actor:
    user: User | None
    channel: str = "web"  # web | api | fhir | cli | task
    client_addr: str = ""
    path: str = ""
    # The OAuth client (its client id) a request of the FHIR API came through, noted on every
    # audit entry it writes; the user is the staff member the client acts for.
    client_id: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, channel: str = "web") -> Actor:
        user = request.user if request.user.is_authenticated else None
        return cls(
            user=user,
            channel=channel,
            client_addr=client_address(request),
            path=request.get_full_path()[:500],
        )

    @classmethod
    def cli(cls, user: User | None, command: str) -> Actor:
        return cls(user=user, channel="cli", client_addr="local", path=command[:500])

    @classmethod
    def system(cls, task: str) -> Actor:
        return cls(user=None, channel="task", client_addr="local", path=task[:500])
