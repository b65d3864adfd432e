from django.urls import path

from openiop.billing.views import coverage, remittances

app_name = "billing"
urlpatterns = [
    path("payers/", coverage.payer_list, name="payers"),
    path("inquiries/<id:inquiry_id>/coverage/", coverage.coverage_new, name="coverage_new"),
    path("inquiries/<id:inquiry_id>/estimate/", coverage.estimate_new, name="estimate_new"),
    path("coverages/<id:coverage_id>/verify/", coverage.verify, name="verify"),
    path("estimates/<id:estimate_id>/", coverage.estimate_detail, name="estimate"),
    path("estimates/<id:estimate_id>/pdf/", coverage.estimate_pdf, name="estimate_pdf"),
    path("remittances/", remittances.remittance_list, name="remittances"),
    path("remittances/<id:remittance_id>/", remittances.remittance_detail, name="remittance"),
    path("denials/", remittances.denial_list, name="denials"),
    path("denials/<id:denial_id>/", remittances.denial_work, name="denial_work"),
    path("remittances/unmatched/", remittances.unmatched_list, name="unmatched"),
    path(
        "remittances/unmatched/<id:unmatched_id>/",
        remittances.unmatched_resolve,
        name="unmatched_resolve",
    ),
]
