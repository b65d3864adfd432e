"""Settings. This is the one module that reads the environment (OPENIOP_* and DATABASE_URL)."""

import contextlib
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(os.environ.get("OPENIOP_VAR_DIR", PROJECT_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """The secret key: from the environment, else a generated file outside the repository."""
    if key := os.environ.get("OPENIOP_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("OPENIOP_DEBUG", False)
ALLOWED_HOSTS = [
    h
    for h in os.environ.get("OPENIOP_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # single-use recovery codes (accounts.mfa)
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "openiop.core",
    "openiop.jobs",
    "openiop.accounts",
    "openiop.audit",
    # What every page uses: the Jinja2 environment, form rendering, PDF, base templates, static.
    "openiop.ui",
    "openiop.programs",
    "openiop.patients",
    "openiop.episodes",
    "openiop.attendance",
    "openiop.treatment",
    "openiop.notes",
    "openiop.admissions",
    "openiop.billing",
    # Patients, coverages and open episodes from another EHR (CSV, FHIR Bundle of Patients).
    "openiop.imports",
    "openiop.measures",
    # 42 CFR Part 2 consents and the accounting of disclosures (issue 17).
    "openiop.consents",
    # Case management (issue 18): community resources, referrals, tasks, rides and childcare.
    "openiop.casemgmt",
    "openiop.pagecache",
    "openiop.planning",
    # Medications and MAT, drug and alcohol testing (issue 18).
    "openiop.medications",
    "openiop.drugtests",
    # OAuth 2.0 (django-oauth-toolkit) for the FHIR R4 API and its SMART scopes (openiop.fhir).
    "oauth2_provider",
    "openiop.fhir",
    # REST for what FHIR has no place for, with the FHIR API's tokens (/api/openapi.json).
    "openiop.api",
    # The roof: the home page and health check, above every app.
    "openiop.web",
    # The demo clinic and the synthetic network (commands demo, demo_logins, synth); nothing imports it.
    "openiop.demo",
]

# "openiop.config.middleware.X" is the middleware X, passed by for requests to the bearer-token
# APIs (/fhir/R4/, /api/), which no session or cookie authenticates (openiop/core/token_api.py).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app server itself (make run and gunicorn alike), before any session work.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The pages' policy; a token API's response gets token_api.API_CONTENT_SECURITY_POLICY.
    "openiop.config.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # A NUL character in a path, query or form field: 400 before anything reads it (core.input_policy).
    "openiop.core.input_policy.RefuseNulMiddleware",
    "openiop.config.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Unwrapped, as the deployment check asks; the token APIs' views are csrf_exempt (a bearer
    # token is never sent by a browser on its own).
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, reading the user with the session in one query (openiop/accounts/backends.py).
    "openiop.config.middleware.StaffAuthenticationMiddleware",
    "openiop.config.middleware.OTPMiddleware",
    "openiop.config.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "openiop.config.middleware.StaffSessionMiddleware",
    # Unwrapped (its check looks for it by name); for a token API request it only looks for a
    # lockout flag that only the login view sets.
    "axes.middleware.AxesMiddleware",
    # Last: a form sent twice saves once (openiop/core/submissions.py).
    "openiop.config.middleware.SubmissionMiddleware",
]

ROOT_URLCONF = "openiop.config.urls"
WSGI_APPLICATION = "openiop.config.wsgi.application"

TEMPLATES = [
    {
        # Pages render with Jinja2: the Django template engine was measured as the cost of a chart
        # page at scale (see issue 2 and the benchmark), not SQL.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            # ui's environment with the globals that ask an app (web is the roof that may import them).
            "environment": "openiop.web.jinja2env.environment",
            # csrf_input / csrf_token computed once per page, not once per form on it.
            "context_processors": ["openiop.ui.jinja2env.csrf_once"],
        },
    },
    {
        # The Django admin and form widgets keep the Django engine.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    },
]

# Form widgets render with Django's Jinja2 widget templates (about twice as fast as the Django
# template language); the admin's widgets, which have no Jinja2 version, render as before.
FORM_RENDERER = "openiop.ui.form_renderer.JinjaFirstRenderer"

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Parameters travel apart from the SQL and a statement run twice on a connection is
        # prepared: PostgreSQL then plans it once, not on every request. Planning was most of the
        # database's time on every page (ADR 13 in docs/decisions.md).
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": 2}
        )
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("OPENIOP_SQLITE_PATH", str(VAR_DIR / "openiop.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Rendered staff pages, in each worker process, until the data they show changes
    # (openiop.pagecache). OPENIOP_PAGE_CACHE=0 renders every request afresh.
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "openiop-pages",
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 500},
    },
}
OPENIOP_PAGE_CACHE = _env_bool("OPENIOP_PAGE_CACHE", True)
# A worker that has not beaten its heartbeat for this long is taken as lost, and its running task
# is retried by another worker (core.jobs.recover_lost). It must exceed the longest write a job holds.
OPENIOP_WORKER_LEASE_SECONDS = float(os.environ.get("OPENIOP_WORKER_LEASE_SECONDS", "60"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that also reads the user's sites in its per-request query (one query, not two).
    "openiop.accounts.backends.StaffBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:today"

# Idle staff sessions end after this many minutes (HIPAA 164.312(a)(2)(iii), automatic logoff).
IDLE_TIMEOUT_MINUTES = int(os.environ.get("OPENIOP_IDLE_MINUTES", "15"))
SESSION_COOKIE_AGE = IDLE_TIMEOUT_MINUTES * 60
# Activity renews the session at most once a minute (StaffSessionMiddleware), not on every request:
# an idle session ends 14-15 minutes after its last request, never later, and a busy page costs
# no session write.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_SECONDS = 60
# Database sessions naming their user, loaded with the user in one plain SELECT
# (openiop/accounts/backends.py says why).
SESSION_ENGINE = "openiop.accounts.backends"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("OPENIOP_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Repeated failed logins lock the account (username) for a while.
# Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses); none by default, so
# a client cannot choose the address written in the audit log or reset a rate limit.
TRUSTED_PROXIES = tuple(
    a.strip() for a in os.environ.get("OPENIOP_TRUSTED_PROXIES", "").split(",") if a.strip()
)
AXES_FAILURE_LIMIT = int(os.environ.get("OPENIOP_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("OPENIOP_LOGIN_LOCKOUT_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "openiop.accounts.views.locked_out"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "OpenIOP"

# Public inquiry form: posts allowed per client address per hour (Django's cache counts them).
OPENIOP_PUBLIC_INQUIRY_LIMIT = int(os.environ.get("OPENIOP_PUBLIC_INQUIRY_LIMIT", "5"))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# `collectstatic` fills it in production; WhiteNoise warns on every start while it is missing.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Served by WhiteNoise from the apps' static folders (no collectstatic step needed to run).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Background jobs (openiop.core.jobs): Django's Tasks API on a table of this database, run by
# `openiop worker` (`make run` starts one). Another backend (Redis/RQ) is a change here, with its
# own worker and `openiop periodic` for the schedules.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Production behind TLS (README, "Running in production"): redirect plain HTTP to HTTPS and send
# HSTS. Off by default so that `make run` on 127.0.0.1 works over plain HTTP.
SECURE_SSL_REDIRECT = _env_bool("OPENIOP_SSL_REDIRECT", False)
# The load balancer's liveness check may stay on plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("OPENIOP_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("OPENIOP_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("OPENIOP_HSTS_PRELOAD", False)
if TRUSTED_PROXIES:
    # Only a proxy we trust for client addresses is trusted to say the request came over HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Pages load scripts, styles and images from this server only: no inline script, no inline style,
# no eval, no plugins, no framing, and forms post only here. htmx reads its settings from JSON
# (hx-headers, the htmx-config meta) and needs none of the exceptions.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features no page of OpenIOP uses are switched off for every page.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
        "browsing-topics",
    )
}

# Error reports never carry what was posted (note text, answers, passwords), even with DEBUG on.
DEFAULT_EXCEPTION_REPORTER_FILTER = "openiop.core.error_reports.PostHidingExceptionReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"axes": {"handlers": ["console"], "level": "WARNING"}},
}

# Lockout is per account (username) on purpose: the account is what an attacker guesses at, from any
# address. axes warns that username-only lockout can be bypassed by rotating clients; here that is the
# intended behaviour (the account locks, whatever the client).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Medicare IOP recertification (issue 16): how many days before a recertification is due the
# daily alerts job warns. domain.md 2.1 says "alert before due dates" with no figure, so this is the
# clinic's configuration with no default: unset, only lapsed and missing certifications alert.
RECERTIFICATION_WARN_DAYS: int | None = (
    int(os.environ["OPENIOP_RECERTIFICATION_WARN_DAYS"])
    if os.environ.get("OPENIOP_RECERTIFICATION_WARN_DAYS")
    else None
)

# Clinical documentation (issue 5). Plan timing is state/payer-specific (docs: domain.md section 6),
# so it is configuration: the first plan is due N days after admission, reviewed every N days.
TREATMENT_PLAN_DUE_DAYS = int(os.environ.get("OPENIOP_PLAN_DUE_DAYS", "7"))
TREATMENT_PLAN_REVIEW_DAYS = int(os.environ.get("OPENIOP_PLAN_REVIEW_DAYS", "30"))
# A note still unsigned this many hours after its session ends is late.
NOTES_LATE_AFTER_HOURS = int(os.environ.get("OPENIOP_NOTES_LATE_HOURS", "24"))
# The individualization guard flags a section at least this similar (0-1, word-shingle Jaccard).
NOTES_SIMILARITY_THRESHOLD = float(os.environ.get("OPENIOP_NOTES_SIMILARITY", "0.6"))
# Payment-plan reminders (billing.tasks.send_payment_reminders, daily). How many days before an
# installment's due date to remind: the clinic's choice (domain.md gives no figure), so no default;
# unset, the job sends nothing and says so. The channel: OpenIOP has no mail or SMS integration,
# so the only one is "worklist" (the reminder is recorded and listed on the billing pages for
# staff to call or write to the patient).
_reminder_days = os.environ.get("OPENIOP_PAYMENT_REMINDER_DAYS_BEFORE", "").strip()
OPENIOP_PAYMENT_REMINDER_DAYS_BEFORE: int | None = int(_reminder_days) if _reminder_days else None
OPENIOP_PAYMENT_REMINDER_CHANNEL = os.environ.get("OPENIOP_PAYMENT_REMINDER_CHANNEL", "worklist")


# --- OAuth 2.0 and the FHIR API (openiop.fhir) ----------------------------------------------------
# Tokens from /o/token/ (client credentials for backend services); the scopes a client may ask for
# are the SMART scopes registered for it (openiop.fhir.scopes.SmartScopes). Client secrets are
# stored hashed. A token lives an hour unless OPENIOP_OAUTH_TOKEN_SECONDS says otherwise.
OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "openiop.fhir.scopes.SmartScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("OPENIOP_OAUTH_TOKEN_SECONDS", "3600")),
    # RFC 9700 (the OAuth 2.0 security BCP) throughout: no implicit or password grant, no token
    # in a URL, tokens stored hashed, refresh replay revokes the family, https redirects only.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# Named so that openiop.fhir's FhirClient can point at it (a swappable model's migration dependency).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# The most entries one page of a FHIR search returns (_count above it is lowered to it).
FHIR_MAX_PAGE_SIZE = 200
