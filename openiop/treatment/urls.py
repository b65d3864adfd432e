from django.urls import path

from openiop.treatment import views

app_name = "treatment"
urlpatterns = [
    path("due/", views.plans_due, name="due"),
    path("episodes/<id:episode_id>/plans/", views.episode_plans, name="episode_plans"),
    path("episodes/<id:episode_id>/plans/start/", views.plan_start, name="plan_start"),
    path("plans/<id:treatment_plan_id>/", views.plan_detail, name="plan"),
    path("plans/<id:treatment_plan_id>/pdf/", views.plan_pdf, name="plan_pdf"),
    path("episodes/<id:episode_id>/discharge/", views.discharge_summary, name="discharge"),
    path(
        "episodes/<id:episode_id>/discharge/pdf/",
        views.discharge_summary_pdf,
        name="discharge_pdf",
    ),
]
