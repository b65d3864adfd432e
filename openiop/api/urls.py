from django.urls import path, re_path

from openiop.api import views

app_name = "api"

urlpatterns = [
    path("openapi.json", views.openapi_document, name="openapi"),
    path("v1/tracks", views.track_list, name="tracks"),
    path("v1/tracks/<id:track_id>", views.track_detail, name="track"),
    path("v1/sessions", views.session_list, name="sessions"),
    path("v1/sessions/<id:session_id>/roster", views.session_roster, name="roster"),
    path("v1/attendance", views.attendance, name="attendance"),
    path("v1/authorizations", views.authorization_list, name="authorizations"),
    # Anything else under /api/ is a problem+json 404, not the staff pages' HTML one.
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
