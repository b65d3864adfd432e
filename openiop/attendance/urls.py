from django.urls import path

from openiop.attendance import views

app_name = "attendance"
urlpatterns = [
    path("sessions/<id:session_id>/", views.session_detail, name="session"),
    path("patients/<id:patient_id>/hours/", views.patient_hours, name="patient_hours"),
    path("below-hours/", views.below_hours, name="below_hours"),
    path("alerts/<id:alert_id>/ack/", views.alert_ack, name="alert_ack"),
]
