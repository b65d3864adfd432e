from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openiop.web.views_support import staff_view


@staff_view()
def list(request: HttpRequest) -> HttpResponse:  # placeholder until built
    return render(request, "web/not_found.html", {"message": "Not built yet"})
