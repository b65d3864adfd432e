"""What an error report (Django's debug 500 page, a logged request) may show of a request."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter


class PostHidingExceptionReporterFilter(SafeExceptionReporterFilter):
    """Hides every posted value, not only the ones named like passwords.

    A post to OpenIOP carries note text, questionnaire answers and patient details; none of it may
    appear in a report, even one shown with DEBUG on. The names of the fields stay, to help debug.
    """

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        # Local variables in a view's frames hold the same posted text (form.cleaned_data, the
        # note being saved): a report lists their names only.
        return [(name, self.cleansed_substitute) for name, _ in tb_frame.f_locals.items()]
