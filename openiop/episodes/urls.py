from django.urls import path

from openiop.episodes import views

app_name = "episodes"
urlpatterns = [
    path("open/<id:patient_id>/", views.episode_open, name="open"),
    path("<id:episode_id>/", views.episode_detail, name="detail"),
    path("<id:episode_id>/level/", views.episode_change_level, name="change_level"),
    path("<id:episode_id>/status/", views.episode_set_status, name="set_status"),
    path("<id:episode_id>/assign/", views.episode_assign, name="assign"),
    path("<id:episode_id>/discharge/", views.episode_discharge, name="discharge"),
]
