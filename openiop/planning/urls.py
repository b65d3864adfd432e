from django.urls import path

from openiop.planning import views

app_name = "planning"
urlpatterns = [
    path("", views.plans, name="plans"),
    path("<id:proposal_id>/", views.plan, name="plan"),
    path("<id:proposal_id>/edit/", views.plan_edit, name="plan_edit"),
    path("<id:proposal_id>/decide/", views.plan_decide, name="plan_decide"),
    path("make-up/", views.makeup, name="makeup"),
]
