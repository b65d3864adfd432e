from django.urls import path

from openiop.billing.views import accounts, coverage

app_name = "billing"
urlpatterns = [
    path("payers/", coverage.payer_list, name="payers"),
    path("inquiries/<id:inquiry_id>/coverage/", coverage.coverage_new, name="coverage_new"),
    path("inquiries/<id:inquiry_id>/estimate/", coverage.estimate_new, name="estimate_new"),
    path("coverages/<id:coverage_id>/verify/", coverage.verify, name="verify"),
    path("estimates/<id:estimate_id>/", coverage.estimate_detail, name="estimate"),
    path("estimates/<id:estimate_id>/pdf/", coverage.estimate_pdf, name="estimate_pdf"),
    path("patients/", accounts.balances, name="balances"),
    path("patients/<id:patient_id>/ledger/", accounts.ledger, name="ledger"),
    path("statements/<id:statement_id>/pdf/", accounts.statement_pdf, name="statement_pdf"),
]
