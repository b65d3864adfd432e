"""The authentication backend and session store: Django's, with the two look-ups every request
makes (the session, then its user) as single precompiled statements.

Compiling the ORM queries cost more than running them: about 0.25 ms for the session and 0.5 ms
for the user and their sites, against 0.05 and 0.17 ms for the same rows read with plain SQL.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.db import connection
from django.utils import timezone

from openiop.accounts.models import User


def _user_sql() -> str:
    user = User._meta.db_table
    through = User.sites.through._meta.db_table
    if connection.vendor == "postgresql":
        ids = "STRING_AGG(s.site_id::text, ',')"
    else:
        ids = "GROUP_CONCAT(s.site_id)"
    return (
        f"SELECT u.*, (SELECT {ids} FROM {through} s WHERE s.user_id = u.id) AS site_id_list "
        f"FROM {user} u WHERE u.id = %s"
    )


class StaffBackend(ModelBackend):
    """ModelBackend (passwords, is_active, permissions) whose `get_user` runs one query, not two.

    The session middleware calls `get_user` on every request; the user's site ids (which every
    patient-data page checks) come back in the same query and are cached on the instance for that
    request only, so a change of sites takes effect on the user's next request.
    """

    def get_user(self, user_id: Any) -> User | None:  # type: ignore[override]
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        found = list(User.objects.raw(_user_sql(), [pk]))
        user = found[0] if found else None
        if user is None or not self.user_can_authenticate(user):
            return None
        listed = getattr(user, "site_id_list", None) or ""
        user._site_ids = {int(i) for i in str(listed).split(",") if i}
        return user


class SessionStore(db.SessionStore):
    """Django's database sessions; loading one is a single plain SELECT (saving is unchanged)."""

    def load(self) -> dict[str, Any]:
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])
