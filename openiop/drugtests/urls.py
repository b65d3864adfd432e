from django.urls import path

from openiop.drugtests import views

app_name = "drugtests"
urlpatterns = [
    path("patients/<id:patient_id>/", views.patient_tests, name="patient"),
    path("<id:drug_test_id>/", views.test_detail, name="test"),
    path("flags/", views.flag_list, name="flags"),
    path("flags/<id:drug_test_flag_id>/", views.flag_detail, name="flag"),
    path("import/", views.lab_import, name="import"),
    path("random/", views.random_draw, name="draw"),
]
