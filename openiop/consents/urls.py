from django.urls import path

from openiop.consents import views

app_name = "consents"
urlpatterns = [
    path("patients/<id:patient_id>/", views.consent_list, name="patient_consents"),
    path("patients/<id:patient_id>/new/", views.consent_add, name="add"),
    path("<id:consent_id>/revoke/", views.consent_revoke, name="revoke"),
    path("patients/<id:patient_id>/disclosures/", views.disclosure_list, name="disclosures"),
    path("patients/<id:patient_id>/disclosures.pdf", views.disclosure_pdf, name="disclosures_pdf"),
]
