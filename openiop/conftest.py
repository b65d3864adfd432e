from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from pytest_django import DjangoDbBlocker, Settings

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Settings) -> None:
    """Tests log in often; a fast hasher keeps the suite quick (production keeps PBKDF2)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def mfa_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat every session as having passed TOTP, for tests about something else.

    Directors and administrators must pass two-factor; the login tests cover that path for real.
    """
    monkeypatch.setattr("openiop.accounts.middleware.is_mfa_verified", lambda request: True)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> None:
    """The test database gets the page cache's counting triggers the way a deployment does: the
    step after migrate (openiop pagecache_triggers; nothing on SQLite)."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("pagecache_triggers", verbosity=0)


@pytest.fixture(autouse=True)
def _page_cache_off(settings: Settings) -> None:
    """Pages render afresh in tests, so a test sees what its own writes did and query counts pin
    the rendering path; openiop/pagecache/tests turn the cache on (the `page_cache` fixture)."""
    settings.OPENIOP_PAGE_CACHE = False


@pytest.fixture
def page_cache(settings: Settings) -> Iterator[BaseCache]:
    from django.core.cache import caches

    from openiop.pagecache.cache import CACHE_ALIAS

    settings.OPENIOP_PAGE_CACHE = True
    caches[CACHE_ALIAS].clear()
    yield caches[CACHE_ALIAS]
    caches[CACHE_ALIAS].clear()


@pytest.fixture(autouse=True)
def _clock_shift(monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENIOP_TEST_CLOCK_SHIFT_HOURS=N runs the suite N hours from now (django.utils.timezone.now,
    which core.clock reads), to find tests that pass only at some hours of the day: sessions
    'today at 10:00' are in the future before 10:00 and in the past after it."""
    hours = os.environ.get("OPENIOP_TEST_CLOCK_SHIFT_HOURS")
    if hours:
        from django.utils import timezone

        real = timezone.now
        shift = dt.timedelta(hours=float(hours))
        monkeypatch.setattr(timezone, "now", lambda: real() + shift)


@pytest.fixture(autouse=True)
def _task_worker_keeps_the_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A queue worker run inside a test (core.jobs.run_queued) must not close the connection that
    holds the test's transaction: between tasks it closes connections that are in a transaction,
    which is right in a worker process and, on PostgreSQL, ends the test's."""
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
