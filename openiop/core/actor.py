"""Who is acting, from where and through which channel: passed to every service and selector."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest

    from openiop.accounts.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None
    channel: str = "web"  # web | api | fhir | cli | task
    client_addr: str = ""
    path: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, channel: str = "web") -> Actor:
        user = request.user if request.user.is_authenticated else None
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        addr = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR", "")
        return cls(
            user=user, channel=channel, client_addr=addr or "", path=request.get_full_path()[:500]
        )  # type: ignore[arg-type]

    @classmethod
    def cli(cls, user: User | None, command: str) -> Actor:
        return cls(user=user, channel="cli", client_addr="local", path=command[:500])

    @classmethod
    def system(cls, task: str) -> Actor:
        return cls(user=None, channel="task", client_addr="local", path=task[:500])
