"""Collections' pages (included at the site root by lendcore.urls; the queue itself is
`web:staff-collections`, the staff shell's Collections section)."""

from django.urls import path

from . import portal, views, workouts_views

app_name = "collections"

urlpatterns = [
    path(
        "staff/collections/cases/<id:case_id>/assign/",
        views.CaseAssignView.as_view(),
        name="staff-case-assign",
    ),
    path(
        "staff/collections/cases/<id:case_id>/", views.CaseDetailView.as_view(), name="staff-case"
    ),
    path(
        "staff/collections/cases/<id:case_id>/contacts/",
        views.CaseContactView.as_view(),
        name="staff-case-contact",
    ),
    path(
        "staff/collections/cases/<id:case_id>/follow-up/",
        views.CaseFollowUpView.as_view(),
        name="staff-case-follow-up",
    ),
    path(
        "staff/collections/cases/<id:case_id>/promises/",
        views.CasePromiseView.as_view(),
        name="staff-case-promise",
    ),
    path(
        "staff/collections/cases/<id:case_id>/payments/",
        views.CasePaymentView.as_view(),
        name="staff-case-payment",
    ),
    path(
        "staff/collections/cases/<id:case_id>/dispute/",
        views.CaseDisputeView.as_view(),
        name="staff-case-dispute",
    ),
    path(
        "staff/collections/cases/<id:case_id>/dispute/resolve/",
        views.CaseDisputeResolveView.as_view(),
        name="staff-case-dispute-resolve",
    ),
    # the portal: the borrower's own contact preferences
    path(
        "my-contact-preferences/",
        views.ContactPreferencesView.as_view(),
        name="portal-contact-preferences",
    ),
    path(
        "staff/collections/workouts/",
        workouts_views.WorkoutsView.as_view(),
        name="staff-workouts",
    ),
    path(
        "staff/collections/workouts/placement/",
        workouts_views.PlacementView.as_view(),
        name="staff-placement",
    ),
    path(
        "staff/collections/hardship-plans/<id:plan_id>/decide/",
        workouts_views.PlanDecideView.as_view(),
        name="staff-plan-decide",
    ),
    path(
        "staff/collections/charge-off-recommendations/<id:recommendation_id>/decide/",
        workouts_views.RecommendationDecideView.as_view(),
        name="staff-recommendation-decide",
    ),
    path(
        "staff/collections/cases/<id:case_id>/workouts/",
        workouts_views.CaseWorkoutsView.as_view(),
        name="staff-case-workouts",
    ),
    path(
        "staff/collections/cases/<id:case_id>/hardship/",
        workouts_views.CaseHardshipRequestView.as_view(),
        name="staff-case-hardship",
    ),
    path(
        "staff/collections/cases/<id:case_id>/recommend-charge-off/",
        workouts_views.CaseRecommendView.as_view(),
        name="staff-case-recommend",
    ),
    # the portal: a borrower's hardship request on their own loan
    path(
        "my-loans/<id:loan_id>/hardship/",
        portal.PortalHardshipView.as_view(),
        name="portal-hardship",
    ),
]
