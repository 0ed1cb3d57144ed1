"""Thin Celery tasks: take ids and dates, call one service."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def accrue_interest_task(loan_ids: list[int], business_date: str) -> int:
    return services.accrue_interest(loan_ids, date.fromisoformat(business_date))


@shared_task(acks_late=True)
def late_fees_assess_task(loan_ids: list[int], business_date: str) -> int:
    return len(
        services.late_fees_assess(
            loan_ids=loan_ids, business_date=date.fromisoformat(business_date)
        )
    )


@shared_task(acks_late=True)
def statements_generate_task(business_date: str) -> int:
    return len(services.statements_generate_due(on=date.fromisoformat(business_date)))
