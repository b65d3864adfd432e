from django.urls import path, re_path

from openiop.fhir import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("$export", views.system_export, name="export"),
    path("Patient/$export", views.patient_export, name="patient_export"),
    re_path(
        r"^Group/(?P<group_id>[A-Za-z0-9\-.]{1,64})/\$export$",
        views.group_export,
        name="group_export",
    ),
    path("$export-status/<id:export_id>", views.export_status, name="export_status"),
    path(
        "$export-file/<id:export_id>/<id:file_id>.ndjson",
        views.export_file,
        name="export_file",
    ),
    re_path(r"^(?P<resource_type>[A-Z][A-Za-z]+)$", views.type_endpoint, name="type"),
    re_path(
        r"^(?P<resource_type>[A-Z][A-Za-z]+)/(?P<resource_id>[A-Za-z0-9\-.]{1,64})$",
        views.instance_endpoint,
        name="instance",
    ),
]
