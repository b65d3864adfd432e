from django.urls import path

from openiop.billing.views import accounts, authorizations, claims, coverage, remittances

app_name = "billing"
urlpatterns = [
    path("", claims.worklist, name="worklist"),
    path("claims/<id:claim_id>/", claims.claim_detail, name="claim"),
    path("claim-files/<id:export_id>/", claims.claim_file, name="claim_file"),
    path("payers/", coverage.payer_list, name="payers"),
    path("inquiries/<id:inquiry_id>/coverage/", coverage.coverage_new, name="coverage_new"),
    path("inquiries/<id:inquiry_id>/estimate/", coverage.estimate_new, name="estimate_new"),
    path("coverages/<id:coverage_id>/verify/", coverage.verify, name="verify"),
    path("estimates/<id:estimate_id>/", coverage.estimate_detail, name="estimate"),
    path("estimates/<id:estimate_id>/pdf/", coverage.estimate_pdf, name="estimate_pdf"),
    path("patients/", accounts.balances, name="balances"),
    path("patients/<id:patient_id>/ledger/", accounts.ledger, name="ledger"),
    path("statements/<id:statement_id>/pdf/", accounts.statement_pdf, name="statement_pdf"),
    path("authorizations/", authorizations.authorization_list, name="authorizations"),
    path(
        "patients/<id:patient_id>/authorizations/",
        authorizations.patient_authorizations,
        name="patient_authorizations",
    ),
    path(
        "authorizations/<id:authorization_id>/",
        authorizations.authorization_edit,
        name="authorization",
    ),
    path(
        "authorizations/<id:authorization_id>/review/",
        authorizations.review_packet_pdf,
        name="review_packet",
    ),
    path(
        "certifications/<id:certification_id>/",
        authorizations.certification_edit,
        name="certification",
    ),
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
