from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from lendcore.api.urls import api_v1_patterns
from lendcore.web.health_views import healthz, readyz

# JSON for an unknown /api/ URL (e.g. an id past a bigint), the HTML page elsewhere.
handler404 = "lendcore.api.exceptions.page_not_found"

urlpatterns = [
    # probes (no slash, no sign-in; production exempts them from the HTTPS redirect)
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1_patterns, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the split view serves its start-up script as a file: no inline script (CSP)
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/", include("lendcore.accounts.urls")),
    path("", include("origination.urls")),
    path("", include("servicing.urls")),
    path("", include("collections_app.urls")),
    path("", include("lendcore.webhooks.urls")),
    path("", include("lendcore.web.urls")),
]
