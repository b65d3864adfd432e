"""Compare-and-set updates so concurrent edits are detected, never silently overwritten."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Model

from openiop.core.errors import Conflict


def save_if_unchanged(instance: Model, *, expected_version: int | None, fields: list[str]) -> None:
    """Write `fields` of `instance` only if its row still has `expected_version`; bump the version.

    Raises Conflict when someone else saved the record since it was read.
    With expected_version None (no form version given) the write is unconditional but still bumps.
    """
    model = type(instance)
    values: dict[str, Any] = {f: getattr(instance, f) for f in fields}
    qs = model._default_manager.filter(pk=instance.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    updated = qs.update(version=F("version") + 1, **values)
    if updated == 0:
        raise Conflict(
            f"This {model._meta.verbose_name} was changed by someone else while you were editing. "
            "Reload it to see their changes, then apply yours again.",
            code="stale_version",
        )
    instance.refresh_from_db(fields=["version"])
