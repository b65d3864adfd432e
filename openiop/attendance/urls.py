from django.urls import path

from openiop.attendance import views

app_name = "attendance"
urlpatterns = [
    path("below_hours/", views.below_hours, name="below_hours"),
]
