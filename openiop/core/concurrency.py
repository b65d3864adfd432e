"""Compare-and-set updates so concurrent edits are detected, never silently overwritten."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import F, Model

from openiop.core.errors import Conflict, RuleViolation

VERSION_MISSING = (
    "This form was sent without a valid version, so it cannot be checked against changes made "
    "since it was opened. Nothing was saved: reload the page and enter your changes again."
)


# A version is a PositiveIntegerField: PostgreSQL's integer holds 2**31 - 1 (ui.fields'
# MAX_WHOLE_NUMBER); a larger number typed into the hidden field is refused like a missing one.
MAX_VERSION = 2**31 - 1


class VersionField(forms.IntegerField):
    """The hidden field that carries the version a form was read at (0: nothing saved yet).

    Required by default; a missing, non-numeric or negative version is refused with a message
    that says so (render_form shows hidden fields' errors), never saved regardless.
    """

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_VERSION)
        messages = {"required": VERSION_MISSING, "invalid": VERSION_MISSING}
        messages["min_value"] = messages["max_value"] = VERSION_MISSING
        super().__init__(error_messages=messages, **kwargs)


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
        raise _stale(model)
    instance.refresh_from_db(fields=["version"])


def check_version(instance: Model, *, expected_version: int | None) -> None:
    """For a request that turns out to change nothing: raise the Conflict save_if_unchanged
    would when the version the client named is not the one `instance` was read at, so a stale
    edit is reported even when there is nothing to save (no version named: nothing to check)."""
    if expected_version is not None and expected_version != instance.version:  # type: ignore[attr-defined]
        raise _stale(type(instance))


def _stale(model: type[Model]) -> Conflict:
    return Conflict(
        f"This {model._meta.verbose_name} was changed by someone else while you were editing. "
        "Reload it to see their changes, then apply yours again.",
        code="stale_version",
    )
