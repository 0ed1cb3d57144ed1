"""Routes under /api/v1/ composed of several apps (included by lendcore.api.urls)."""

from django.urls import path

from .reports_api import ReportApi

urlpatterns = [
    path("reports/<str:name>/", ReportApi.as_view(), name="report"),
]
