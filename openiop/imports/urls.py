from django.urls import path

from openiop.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("<id:batch_id>/", views.import_detail, name="detail"),
    path("<id:batch_id>/import", views.import_confirm, name="apply"),
    path("<id:batch_id>/discard", views.import_discard, name="discard"),
]
