"""`/api/v1/`: every app adds its own routes here, one APIView per operation."""

from django.urls import URLPattern, URLResolver, include, path

from lendcore.accounts.api.views import TokenObtainApi, TokenRevokeApi
from lendcore.quotes.api import AprApi, QuoteApi

api_v1_patterns: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/revoke/", TokenRevokeApi.as_view(), name="auth-token-revoke"),
    path("quotes/", QuoteApi.as_view(), name="quotes"),
    path("apr/", AprApi.as_view(), name="apr"),
    path("", include("origination.api.urls")),
    path("", include("servicing.api.urls")),
    path("", include("collections_app.api.urls")),
    path("", include("lendcore.webhooks.api.urls")),
    path("", include("lendcore.web.api_urls")),
]
