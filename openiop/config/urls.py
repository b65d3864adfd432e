from django.contrib import admin
from django.urls import include, path

from openiop.fhir import views as fhir_views

urlpatterns = [
    # The token APIs first: every request tries the patterns in order, and the staff pages' are
    # many (a FHIR read spent more on failing them than on its own view's routing).
    path("fhir/R4/", include("openiop.fhir.urls")),
    # REST for the program's own objects (tracks, sessions, rosters, attendance, authorizations).
    path("api/", include("openiop.api.urls")),
    path("", include("openiop.web.urls")),
    path("accounts/", include("openiop.accounts.urls")),
    path("audit/", include("openiop.audit.urls")),
    path("patients/", include("openiop.patients.urls")),
    path("episodes/", include("openiop.episodes.urls")),
    path("programs/", include("openiop.programs.urls")),
    path("attendance/", include("openiop.attendance.urls")),
    path("treatment/", include("openiop.treatment.urls")),
    path("notes/", include("openiop.notes.urls")),
    path("admissions/", include("openiop.admissions.urls")),
    path("billing/", include("openiop.billing.urls")),
    path("measures/", include("openiop.measures.urls")),
    path("consents/", include("openiop.consents.urls")),
    path("casemgmt/", include("openiop.casemgmt.urls")),
    path("jobs/", include("openiop.jobs.urls")),
    path("imports/", include("openiop.imports.urls")),
    path("planning/", include("openiop.planning.urls")),  # issue 19: the week's plan, make-up
    # Medications and MAT, drug and alcohol testing (issue 18).
    path("medications/", include("openiop.medications.urls")),
    path("drugtests/", include("openiop.drugtests.urls")),
    path("o/", include("openiop.fhir.oauth_urls")),
    path(".well-known/smart-configuration", fhir_views.smart_configuration),
    path("django-admin/", admin.site.urls),
]
