from django.urls import path

from openiop.medications import views

app_name = "medications"
urlpatterns = [
    path("patients/<id:patient_id>/", views.medication_list, name="list"),
    path("<id:medication_id>/stop/", views.medication_stop, name="stop"),
    path("mat/<id:mat_id>/", views.mat_detail, name="mat"),
]
