"""The clock, in one place, so services and tests agree on 'now'. Domain code never calls it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    """The current aware datetime (UTC)."""
    return timezone.now()


def local_today(tz: dt.tzinfo) -> dt.date:
    """Today's date in the given time zone (a site's clinic time zone)."""
    return now().astimezone(tz).date()
