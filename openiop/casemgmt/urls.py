from django.urls import path

from openiop.casemgmt import views

app_name = "casemgmt"
urlpatterns = [
    path("resources/", views.resource_list, name="resources"),
    path("resources/new/", views.resource_new, name="resource_new"),
    path("resources/<id:resource_id>/", views.resource_edit, name="resource"),
    path("patients/<id:patient_id>/", views.case_file, name="patient"),
    path("tasks/", views.my_tasks, name="tasks"),
]
