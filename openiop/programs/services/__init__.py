"""Every write to tracks, blocks, sessions, closures, appointments and enrollments.

Each function owns its transaction, its permission check and its audit entry, and raises
`openiop.core.errors` with a message a person can act on and the field it concerns.

The modules, by what they change: `sites` (whether a site takes new work; deactivating a site or
an organization), `templates` (tracks, weekly blocks, curriculum, series changes), `occurrences`
(generating sessions, closures, moving, cancelling or reassigning one occurrence), `appointments`
(individual and family sessions) and `enrollments` (joining and leaving a track). `_common` holds
their shared checks. Import from this package: its names are the public ones. How rosters
follow enrollments: see `enrollments`.
"""

from openiop.programs.services._common import (
    MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
    is_clinical_staff,
)
from openiop.programs.services.appointments import APPOINTMENT_KINDS, appointment_book
from openiop.programs.services.enrollments import (
    ENROLLABLE_STATUSES,
    enrollment_end,
    enrollment_end_at_discharge,
    enrollment_start,
)
from openiop.programs.services.occurrences import (
    closure_add,
    roster_size,
    session_cancel,
    session_move,
    session_reassign,
    sessions_generate,
)
from openiop.programs.services.sites import (
    organization_set_active,
    require_site_takes_new_work,
    site_deactivation_refusal,
    site_set_active,
)
from openiop.programs.services.templates import (
    SERIES_FIELDS,
    block_add,
    block_change_series,
    curriculum_set,
    track_create,
)

__all__ = [
    "APPOINTMENT_KINDS",
    "ENROLLABLE_STATUSES",
    "MAX_DURATION_MINUTES",
    "MIN_DURATION_MINUTES",
    "SERIES_FIELDS",
    "appointment_book",
    "block_add",
    "block_change_series",
    "closure_add",
    "curriculum_set",
    "enrollment_end",
    "enrollment_end_at_discharge",
    "enrollment_start",
    "is_clinical_staff",
    "organization_set_active",
    "require_site_takes_new_work",
    "roster_size",
    "session_cancel",
    "session_move",
    "session_reassign",
    "sessions_generate",
    "site_deactivation_refusal",
    "site_set_active",
    "track_create",
]
