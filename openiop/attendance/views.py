from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openiop.web.views_support import staff_view


@staff_view()
def below_hours(request: HttpRequest) -> HttpResponse:  # placeholder until built
    return render(request, "web/not_found.html", {"message": "Not built yet"})


@staff_view()
def today(request: HttpRequest) -> HttpResponse:  # placeholder until built
    return render(request, "web/not_found.html", {"message": "Not built yet"})
