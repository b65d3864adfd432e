from django.contrib import admin
from django.urls import include, path

urlpatterns = [
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
    path("jobs/", include("openiop.jobs.urls")),
    path("django-admin/", admin.site.urls),
]
