from django.urls import path

from openiop.notes import views

app_name = "notes"
urlpatterns = [
    path("group/<id:session_id>/", views.group_note, name="group"),
    path("new/<id:episode_id>/", views.individual_note_new, name="individual_new"),
    path("<id:note_id>/", views.note_detail, name="detail"),
    path("<id:note_id>/edit/", views.individual_note_edit, name="individual_edit"),
    path("<id:note_id>/cosign/", views.note_cosign, name="cosign"),
    path("sections/<id:section_id>/", views.section_detail, name="section"),
    path("sections/<id:section_id>/pdf/", views.section_pdf, name="section_pdf"),
    path("sections/<id:section_id>/export/", views.section_export, name="section_export"),
    path("patients/<id:patient_id>/", views.patient_notes, name="patient_notes"),
    path("late/", views.late_notes, name="late"),
]
