"""The authentication backend: Django's ModelBackend, with the per-request user lookup also
reading the user's site ids, so every access check after it needs no query of its own."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import Aggregate, CharField

from openiop.accounts.models import User


class IdList(Aggregate):
    """Comma-separated ids of the grouped rows ('' or NULL for none): GROUP_CONCAT on SQLite,
    STRING_AGG on PostgreSQL."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s((%(expressions)s)::text, ',')",
            **extra,
        )


class StaffBackend(ModelBackend):
    """ModelBackend (passwords, is_active, permissions) whose `get_user` runs one query, not two.

    The session middleware calls `get_user` on every request; the user's site ids (which every
    patient-data page checks) come back in the same query and are cached on the instance for that
    request only, so a change of sites takes effect on the user's next request.
    """

    def get_user(self, user_id: Any) -> User | None:  # type: ignore[override]
        found = list(
            User._default_manager.filter(pk=user_id)
            .annotate(site_id_list=IdList("sites__id"))
            .order_by()[:1]
        )
        user = found[0] if found else None
        if user is None or not self.user_can_authenticate(user):
            return None
        listed = getattr(user, "site_id_list", None) or ""
        user._site_ids = {int(i) for i in listed.split(",") if i}
        return user
