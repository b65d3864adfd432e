from django.urls import path

from openiop.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<id:patient_id>/", views.patient_chart, name="chart"),
    path("<id:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<id:patient_id>/contacts/new/", views.contact_add, name="contact_add"),
    path(
        "<id:patient_id>/contacts/<id:contact_id>/remove/",
        views.contact_remove,
        name="contact_remove",
    ),
]
