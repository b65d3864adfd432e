from django.urls import path

from openiop.measures import views

app_name = "measures"
urlpatterns = [
    path("episodes/<id:episode_id>/", views.episode_page, name="episode"),
    path("episodes/<id:episode_id>/enter/<str:instrument>/", views.enter, name="enter"),
    path("episodes/<id:episode_id>/link/", views.link_create, name="link_create"),
    path("episodes/<id:episode_id>/flag/", views.flag, name="flag"),
    path("episodes/<id:episode_id>/trends.pdf", views.trends_pdf, name="trends_pdf"),
    path("episodes/<id:episode_id>/safety-plan/", views.plan_start, name="plan_start"),
    path("safety-plans/<id:plan_id>/", views.plan, name="plan"),
    path("safety-plans/<id:plan_id>/sign/", views.plan_sign, name="plan_sign"),
    path("safety-plans/<id:plan_id>/plan.pdf", views.plan_pdf, name="plan_pdf"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<id:safety_alert_id>/", views.alert_detail, name="alert"),
    path("due/", views.due, name="due"),
    path("program/", views.program, name="program"),
    path("tracks/<id:track_id>/schedule/", views.schedule, name="schedule"),
    path("p/<str:token>/", views.patient_link, name="patient_link"),
]
