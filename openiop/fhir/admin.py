"""django-oauth-toolkit's own admin pages (applications with their secrets, tokens) are not
set-up pages: clients are registered with `openiop fhir client create`, which checks the
registering user's rights and audits it, and a token is never something to edit by hand."""

from django.contrib import admin
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

for _model in (
    get_application_model(),
    get_access_token_model(),
    get_refresh_token_model(),
    get_grant_model(),
    get_id_token_model(),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
