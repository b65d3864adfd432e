"""The Today page lives in attendance (it is built from sessions and rosters); web re-exports it."""

from openiop.attendance.views import today

__all__ = ["today"]
