"""The event types a subscription may ask for: adding one is one line here.

A name is `<object>.<what happened>`; the description is what the API's schema and the admin
show. The collections events are listed here too (this app imports no domain app): each is
made by `collections_app.webhook_events` from a row of the case's history.
"""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "application.submitted": "An application was submitted for a decision.",
    "application.decided": "An application was approved, counter-offered or declined.",
    "offer.accepted": "The borrower (or staff on their behalf) accepted an offer.",
    "loan.disbursed": "A loan was disbursed and boarded into servicing.",
    "payment.pending": "A payment through the rail was requested and waits to settle.",
    "payment.posted": "A payment was posted to a loan.",
    "payment.returned": "A rail payment came back (returned or failed) before posting.",
    "payment.reversed": "A posted payment was reversed.",
    "fee.assessed": "A fee was assessed on a loan (by staff or by close of business).",
    "loan.delinquency_changed": "Close of business moved a loan to another delinquency bucket.",
    "loan.modified": "A loan's terms were modified.",
    "loan.paid_off": "A loan was paid off.",
    "loan.charged_off": "A loan was charged off.",
    "cob.completed": "Close of business completed for a business date.",
    # collections (`collections_app.webhook_events` builds them from the case's history)
    "collection_case.opened": "A collection case was opened (by close of business, or for a "
    "hardship request).",
    "collection_case.cured": "Close of business cured a collection case: its loan is current.",
    "collection_case.closed": "Close of business closed a collection case: its loan left "
    "servicing (paid off or charged off).",
    "collection_case.assigned": "A collection case was given to a collector (round-robin by "
    "close of business, or a manager's reassignment).",
    "promise_to_pay.made": "A collector recorded a borrower's promise to pay (its instalments).",
    "promise_to_pay.kept": "Close of business found an instalment of a promise to pay kept.",
    "promise_to_pay.broken": "Close of business found an instalment of a promise to pay broken.",
    "hardship_plan.requested": "A hardship plan was requested (portal, staff or API).",
    "hardship_plan.approved": "A hardship plan was approved: the loan is modified.",
    "hardship_plan.rejected": "A hardship plan was rejected.",
    "hardship_plan.completed": "Close of business completed a hardship plan (its months over).",
    "hardship_plan.broken": "Close of business broke a hardship plan (the loan fell behind).",
    "charge_off_recommendation.made": "A collector recommended charging a loan off.",
    "charge_off_recommendation.approved": "A charge-off recommendation was approved (the loan "
    "is charged off).",
    "charge_off_recommendation.rejected": "A charge-off recommendation was rejected.",
}


def event_type_known(name: str) -> bool:
    return name in EVENT_TYPES
