"""COB reads for the API and the staff page."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from servicing.models import CobLoanFailure, CobPartition, CobRun


def cob_runs() -> QuerySet[CobRun]:
    return CobRun.objects.order_by("-business_date")


def cob_run_get(*, run_id: int) -> CobRun | None:
    return (
        CobRun.objects.filter(pk=run_id)
        .prefetch_related(
            Prefetch("failures", queryset=CobLoanFailure.objects.select_related("loan")),
            Prefetch("partitions", queryset=CobPartition.objects.order_by("number")),
        )
        .first()
    )


def cob_run_current() -> CobRun | None:
    return CobRun.objects.filter(status=CobRun.Status.RUNNING).order_by("-business_date").first()
