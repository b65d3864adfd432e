"""The Today page lives in attendance (it is built from sessions and rosters); web re-exports it.

`healthz` answers a load balancer's liveness check. It touches no database and no session, which
also makes it the benchmark's framework floor: the cost of a request through this server and
middleware with no work behind it.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from openiop.attendance.views import today


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


__all__ = ["healthz", "today"]
