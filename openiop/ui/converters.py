"""URL path converters shared by every app's urls.py (registered in ui.apps.UiConfig.ready)."""

from __future__ import annotations

# The largest id a URL may carry: 18 digits fit the database's 64-bit integer (below 9.2e18).
MAX_ID_DIGITS = 18


class IdConverter:
    """A record id in a URL path, `<id:patient_id>`: 1 to 18 digits.

    Django's `<int:...>` passes any number of digits to the view, and a number beyond the
    database's integer overflows in the query (a 500); a longer number here matches no URL, so it
    is a plain 404 like any other id that names nothing.
    """

    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(value)
