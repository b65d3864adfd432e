from django.urls import path

from openiop.programs import views

app_name = "programs"
urlpatterns = [
    path("schedule/", views.schedule, name="schedule"),
    path("track_list/", views.track_list, name="track_list"),
]
