from django.urls import path

from openiop.web import views

app_name = "web"
urlpatterns = [
    path("", views.today, name="today"),
    path("healthz", views.healthz, name="healthz"),
]
