from django.urls import path

from openiop.billing import views

app_name = "billing"
urlpatterns = [
    path("payers/", views.payer_list, name="payers"),
    path("inquiries/<id:inquiry_id>/coverage/", views.coverage_new, name="coverage_new"),
    path("inquiries/<id:inquiry_id>/estimate/", views.estimate_new, name="estimate_new"),
    path("coverages/<id:coverage_id>/verify/", views.verify, name="verify"),
    path("estimates/<id:estimate_id>/", views.estimate_detail, name="estimate"),
    path("estimates/<id:estimate_id>/pdf/", views.estimate_pdf, name="estimate_pdf"),
]
