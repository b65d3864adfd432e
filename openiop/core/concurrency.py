"""Compare-and-set updates so concurrent edits are detected, never silently overwritten."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Model

from openiop.core.errors import Conflict, RuleViolation

VERSION_MISSING = (
    "This form was sent without its version, so it cannot be checked against changes made since "
    "it was opened. Nothing was saved: reload the page and enter your changes again."
)


def save_if_unchanged(instance: Model, *, expected_version: int | None, fields: list[str]) -> None:
    """Write `fields` of `instance` only if its row still has `expected_version`; bump the version.

    Raises Conflict when someone else saved the record since it was read, and RuleViolation
    (field "version") when no version was given: a write is never unconditional. A service that
    writes a row it holds locked passes the version it read under the lock.
    """
    model = type(instance)
    if expected_version is None:
        raise RuleViolation(VERSION_MISSING, code="version_missing", field="version")
    values: dict[str, Any] = {f: getattr(instance, f) for f in fields}
    updated = model._default_manager.filter(pk=instance.pk, version=expected_version).update(
        version=F("version") + 1, **values
    )
    if updated == 0:
        raise Conflict(
            f"This {model._meta.verbose_name} was changed by someone else while you were editing. "
            "Reload it to see their changes, then apply yours again.",
            code="stale_version",
        )
    instance.refresh_from_db(fields=["version"])
