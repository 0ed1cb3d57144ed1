"""Collections' staff pages (included at the site root by lendcore.urls; the queue itself
is `web:staff-collections`, the staff shell's Collections section)."""

from django.urls import path

from . import views

app_name = "collections"

urlpatterns = [
    path(
        "staff/collections/cases/<id:case_id>/assign/",
        views.CaseAssignView.as_view(),
        name="staff-case-assign",
    ),
]
