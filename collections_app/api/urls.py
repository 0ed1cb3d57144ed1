"""This app's routes under /api/v1/ (included by lendcore.api.urls)."""

from django.urls import path

from . import workouts
from .views import (
    CaseAssignApi,
    CaseByExternalIdApi,
    CaseContactsApi,
    CaseDetailApi,
    CaseExternalIdApi,
    CaseListApi,
    CasePromisesApi,
)

urlpatterns: list = [
    path("collections/cases/", CaseListApi.as_view(), name="collection-cases"),
    path("collections/cases/<id:case_id>/", CaseDetailApi.as_view(), name="collection-case-detail"),
    path(
        "collections/cases/external-id/<extid:external_id>/",
        CaseByExternalIdApi.as_view(),
        name="collection-case-by-external-id",
    ),
    path(
        "collections/cases/<id:case_id>/external-id/",
        CaseExternalIdApi.as_view(),
        name="collection-case-external-id",
    ),
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
    # workouts: hardship plans and charge-off recommendations
    path(
        "loans/<id:loan_id>/hardship-plans/",
        workouts.LoanHardshipPlansApi.as_view(),
        name="loan-hardship-plans",
    ),
    path("hardship-plans/", workouts.HardshipPlanListApi.as_view(), name="hardship-plans"),
    path(
        "hardship-plans/<id:plan_id>/approve/",
        workouts.HardshipPlanApproveApi.as_view(),
        name="hardship-plan-approve",
    ),
    path(
        "hardship-plans/<id:plan_id>/reject/",
        workouts.HardshipPlanRejectApi.as_view(),
        name="hardship-plan-reject",
    ),
    path(
        "collections/cases/<id:case_id>/recommend-charge-off/",
        workouts.CaseRecommendChargeOffApi.as_view(),
        name="collection-case-recommend-charge-off",
    ),
    path(
        "charge-off-recommendations/",
        workouts.RecommendationListApi.as_view(),
        name="charge-off-recommendations",
    ),
    path(
        "charge-off-recommendations/<id:recommendation_id>/approve/",
        workouts.RecommendationApproveApi.as_view(),
        name="charge-off-recommendation-approve",
    ),
    path(
        "charge-off-recommendations/<id:recommendation_id>/reject/",
        workouts.RecommendationRejectApi.as_view(),
        name="charge-off-recommendation-reject",
    ),
]
