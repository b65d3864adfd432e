from django.urls import path

from openiop.admissions import views

app_name = "admissions"
urlpatterns = [
    path("inquire/<id:site_id>/", views.public_inquiry, name="public_inquiry"),
    path("inquire/<id:site_id>/thanks/", views.public_thanks, name="public_thanks"),
    path("", views.board, name="board"),
    path("conversion/", views.conversion, name="conversion"),
    path("inquiries/new/", views.inquiry_new, name="inquiry_new"),
    path("inquiries/<id:inquiry_id>/", views.inquiry_detail, name="inquiry"),
    path("inquiries/<id:inquiry_id>/follow-up/", views.inquiry_followup, name="followup"),
    path("inquiries/<id:inquiry_id>/move/", views.inquiry_move, name="move"),
    path("inquiries/<id:inquiry_id>/link/", views.inquiry_link, name="link"),
    path("inquiries/<id:inquiry_id>/prescreen/", views.prescreen, name="prescreen"),
    path("inquiries/<id:inquiry_id>/schedule/", views.schedule, name="schedule"),
    path("inquiries/<id:inquiry_id>/assessment/", views.assessment_new, name="assessment_new"),
    path("inquiries/<id:inquiry_id>/admit/", views.admit, name="admit"),
    path("tasks/<id:task_id>/done/", views.task_done, name="task_done"),
    path("assessments/<id:assessment_id>/", views.assessment_detail, name="assessment"),
    path("assessments/<id:assessment_id>/pdf/", views.assessment_pdf, name="assessment_pdf"),
    path("packets/<id:episode_id>/", views.packet_view, name="packet"),
    path("packets/<id:episode_id>/release/", views.release_add, name="release_add"),
    path("documents/<id:document_id>/", views.document, name="document"),
    path("documents/<id:document_id>/pdf/", views.document_pdf, name="document_pdf"),
    path("tracks/<id:track_id>/waitlist/", views.waitlist, name="waitlist"),
    path("tracks/<id:track_id>/waitlist/offer/", views.waitlist_offer, name="waitlist_offer"),
    path("waitlist/<id:entry_id>/accept/", views.waitlist_accept, name="waitlist_accept"),
]
