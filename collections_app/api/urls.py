"""This app's routes under /api/v1/ (included by lendcore.api.urls)."""

from django.urls import path

from .views import CaseAssignApi, CaseContactsApi, CaseDetailApi, CaseListApi, CasePromisesApi

urlpatterns: list = [
    path("collections/cases/", CaseListApi.as_view(), name="collection-cases"),
    path("collections/cases/<id:case_id>/", CaseDetailApi.as_view(), name="collection-case-detail"),
    path(
        "collections/cases/<id:case_id>/assign/",
        CaseAssignApi.as_view(),
        name="collection-case-assign",
    ),
    path(
        "collections/cases/<id:case_id>/contacts/",
        CaseContactsApi.as_view(),
        name="collection-case-contacts",
    ),
    path(
        "collections/cases/<id:case_id>/promises/",
        CasePromisesApi.as_view(),
        name="collection-case-promises",
    ),
]
