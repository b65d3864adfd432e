"""OAuth 2.0 endpoints of django-oauth-toolkit the FHIR API needs: the token endpoint (client
credentials for backend services), revocation and introspection."""

from django.urls import path
from oauth2_provider import views as oauth_views

app_name = "oauth2_provider"

urlpatterns = [
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", oauth_views.IntrospectTokenView.as_view(), name="introspect"),
]
