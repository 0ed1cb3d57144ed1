"""Loan quotes: payment, schedule and Truth in Lending figures for terms nobody has applied for yet.

A plain package (no models): `services` computes through `lendcore.finance`, `api` serves
`/api/v1/quotes/` and `/api/v1/apr/`, `views` and `forms` serve the portal calculator.
"""
