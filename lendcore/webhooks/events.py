"""The event types a subscription may ask for: adding one is one line here.

A name is `<object>.<what happened>`; the description is what the API's schema and the admin
show. The collections events are added here by collections (one line each).
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
}


def event_type_known(name: str) -> bool:
    return name in EVENT_TYPES
