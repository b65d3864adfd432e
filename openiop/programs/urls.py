from django.urls import path

from openiop.programs import views

app_name = "programs"
urlpatterns = [
    path("schedule/", views.schedule, name="schedule"),
    path("tracks/", views.track_list, name="track_list"),
    path("tracks/new/", views.track_create, name="track_create"),
    path("tracks/<id:track_id>/", views.track_detail, name="track_detail"),
    path("tracks/<id:track_id>/blocks/new/", views.block_add, name="block_add"),
    path("tracks/<id:track_id>/curriculum/", views.curriculum, name="curriculum"),
    path("blocks/<id:block_id>/series/", views.block_series, name="block_series"),
    path("sessions/<id:session_id>/edit/", views.session_edit, name="session_edit"),
    path("closures/", views.closures, name="closures"),
    path("episodes/<id:episode_id>/enroll/", views.enroll, name="enroll"),
    path("episodes/<id:episode_id>/book/", views.appointment_book, name="appointment_book"),
    path("enrollments/<id:enrollment_id>/end/", views.enrollment_end, name="enrollment_end"),
]
