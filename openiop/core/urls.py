from django.urls import path

from openiop.core import views

app_name = "core"
urlpatterns = [path("", views.job_list, name="jobs")]
