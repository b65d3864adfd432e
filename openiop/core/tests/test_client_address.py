"""The client address written in the audit log cannot be chosen by the client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.test import RequestFactory

from openiop.core.actor import client_address

if TYPE_CHECKING:
    from pytest_django import Settings

rf = RequestFactory()


def test_forwarded_header_from_an_untrusted_connection_is_ignored(settings: Settings) -> None:
    settings.TRUSTED_PROXIES = ()
    request = rf.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_address(request) == "203.0.113.7"


def test_behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(
    settings: Settings,
) -> None:
    settings.TRUSTED_PROXIES = ("127.0.0.1",)
    # The client put 10.9.9.9 in the header itself; the proxy appended the real peer.
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.4")
    assert client_address(request) == "198.51.100.4"


def test_trusted_proxy_without_a_header_is_the_address(settings: Settings) -> None:
    settings.TRUSTED_PROXIES = ("127.0.0.1",)
    assert client_address(rf.get("/", REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"
