from django.urls import path

from openiop.patients import views

app_name = "patients"
urlpatterns = [
    path("list/", views.list, name="list"),
]
