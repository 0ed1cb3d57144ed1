"""Portfolio import: validate a loans CSV (and payments CSV), then board it through servicing.

Origination owns the job because it owns the products: a row's `product_code` names a
product whose current version supplies the policy servicing copies onto the loan (interest
model, day count, fees, allocation). Servicing owns the boarding rules
(`servicing.services.loans_migrate` / `loan_migration_check`).

All or nothing: any row error fails the job and imports nothing, unless `valid_only`, which
boards the rows without errors and reports the others. Boarding commits per batch of
`BATCH` loans (so the progress bar moves); each loan's `application_ref` is
`IMP<job>-<row>`, so a job that stopped part way resumes where it was when it runs again.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from lendcore.accounts.roles import Action
from lendcore.accounts.selectors import user_can
from lendcore.finance.schedule import LoanTerms
from origination import effects, pricing
from origination import loan_import_csv as fmt
from origination.errors import Conflict, ErrorCode, PermissionDenied, ValidationFailed
from origination.models import LoanImport, LoanProduct
from origination.selectors import product_current_version
from servicing import selectors as servicing_selectors
from servicing.services import MigrationPlan, loan_migration_check, loans_migrate
from servicing.types import (
    LoanBoarding,
    LoanMigration,
    MigratedBorrower,
    MigratedPayment,
)

S = LoanImport.Status
BATCH = 5000
MAX_ROWS = 200_000
ERRORS_KEPT = 10_000
MAX_BYTES = 100 * 1024 * 1024
HUNDRED = Decimal(100)


def _require(acting_user) -> None:
    if not user_can(acting_user, Action.IMPORT_LOANS):
        raise PermissionDenied(f"This action needs a staff role with: {Action.IMPORT_LOANS}")


def loan_import_create(
    *,
    content: bytes,
    acting_user,
    file_name: str = "",
    payments_content: bytes | None = None,
    valid_only: bool = False,
    dry_run: bool = False,
    enqueue: bool = True,
) -> LoanImport:
    """Record an upload and queue its task (on commit; `enqueue=False`: the caller runs it,
    as `manage.py import_loans` does). `acting_user` None: the server's operator (the
    command), who needs no role."""
    if acting_user is not None:
        _require(acting_user)
    for name, data in (("file", content), ("payments_file", payments_content)):
        if data is not None and len(data) > MAX_BYTES:
            raise ValidationFailed(
                f"At most {MAX_BYTES} bytes.", extra={"fields": {name: ["Too large."]}}
            )
    job = LoanImport.objects.create(
        content=content,
        payments_content=payments_content,
        file_name=file_name[:255],
        valid_only=valid_only,
        dry_run=dry_run,
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    if enqueue:
        effects.loan_import_on_commit(job.pk)
    return job


def loan_import_retry(*, job: LoanImport, acting_user) -> LoanImport:
    """Run a job again: only one that stopped on an unexpected failure (it resumes after the
    batches it boarded). A finished, running or invalid job is a 409."""
    _require(acting_user)
    if job.status != S.FAILED or (job.errors and not job.valid_only):
        raise Conflict(
            f"Import {job.pk} is {job.status}"
            + (" with errors in its file" if job.errors else "")
            + "; only an import that stopped on a failure runs again (upload a corrected "
            "file as a new import).",
            code=ErrorCode.INVALID_TRANSITION,
            extra={"from": job.status, "to": S.RUNNING},
        )
    job.status = S.PENDING
    job.save(update_fields=["status"])
    effects.loan_import_on_commit(job.pk)
    return job


# --------------------------------------------------------------------------- validation


def _boarding(row: dict[str, Any], product: LoanProduct, version) -> LoanBoarding:
    day_count = row.get("day_count") or version.day_count
    if day_count != version.day_count:
        raise _RowError("day_count", "not_allowed", f"{product.code} uses {version.day_count}.")
    if version.frequencies and row["frequency"] not in version.frequencies:
        raise _RowError(
            "frequency",
            "not_allowed",
            f"{product.code} allows {', '.join(version.frequencies)}.",
        )
    try:
        terms = LoanTerms(
            principal=row["principal"],
            annual_rate=row["annual_rate_pct"] / HUNDRED,
            n_periods=row["n_periods"],
            frequency=row["frequency"],
            disbursement_date=row["disbursement_date"],
            first_due_date=row.get("first_due_date"),
            amortization=version.amortization,
            interest_method=version.interest_method,
            day_count=day_count,
            payment_rounding=version.payment_rounding,
        )
    except ValueError as bad:
        text = str(bad)
        column = next((c for c in _TERM_COLUMNS if text.startswith(_TERM_COLUMNS[c])), "terms")
        raise _RowError(column, "invalid_terms", text) from None
    return pricing.loan_boarding_for(
        version, product=product, terms=terms, annual_rate_pct=row["annual_rate_pct"]
    )


_TERM_COLUMNS = {
    "principal": "principal",
    "n_periods": "n_periods",
    "frequency": "frequency",
    "first_due_date": "first_due_date",
    "annual_rate_pct": "annual_rate",
}


class _RowError(Exception):
    def __init__(self, column: str, code: str, message: str) -> None:
        super().__init__(message)
        self.column, self.code, self.message = column, code, message


def _payments(
    parsed: fmt.Parsed, loan_ids: set[str], errors: list[dict[str, Any]]
) -> dict[str, list[MigratedPayment]]:
    bad_rows = {e["row"] for e in parsed.errors}
    history: dict[str, list[MigratedPayment]] = defaultdict(list)
    for row, cells in parsed.rows:
        if row in bad_rows:
            continue
        loan_id = cells["loan_external_id"]
        if loan_id not in loan_ids:
            errors.append(
                fmt.error(
                    fmt.PAYMENTS, row, "loan_external_id", "unknown_loan", "No such loan row."
                )
            )
            continue
        fees = cells.get("fees") or Decimal("0.00")
        if cells["principal"] + cells["interest"] + fees != cells["amount"]:
            errors.append(
                fmt.error(
                    fmt.PAYMENTS,
                    row,
                    "amount",
                    "split_mismatch",
                    "principal + interest + fees is not the amount.",
                )
            )
            continue
        history[loan_id].append(
            MigratedPayment(
                paid_on=cells["paid_on"],
                amount=cells["amount"],
                principal=cells["principal"],
                interest=cells["interest"],
                fees=fees,
            )
        )
    return history


def loan_import_validate(
    *,
    content: bytes,
    payments_content: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    resuming: str | None = None,
) -> tuple[list[tuple[int, LoanMigration, MigrationPlan]], list[dict[str, Any]], int]:
    """(valid rows as (row, migration, its boarding plan), every error, number of loan rows).
    Writes nothing. `resuming`: the job's own ref prefix, whose loans (boarded before its
    worker died) are not "a loan with this external id exists" (boarding skips them)."""
    loans = fmt.parse(content, fmt.LOANS, fmt.LOAN_COLUMNS, max_rows=MAX_ROWS)
    errors = list(loans.errors)
    payments = None
    if payments_content is not None:
        payments = fmt.parse(payments_content, fmt.PAYMENTS, fmt.PAYMENT_COLUMNS, max_rows=10**7)
        errors += payments.errors
    bad_rows = {e["row"] for e in loans.errors}
    seen: dict[str, int] = {}
    for row, cells in loans.rows:
        ext = cells.get("external_id")
        if ext is None:
            continue
        if ext in seen:
            errors.append(
                fmt.error(
                    fmt.LOANS,
                    row,
                    "external_id",
                    "duplicate",
                    f"Also on row {seen[ext]} of this file.",
                )
            )
            bad_rows.add(row)
        else:
            seen[ext] = row
    existing = set()
    ids = list(seen)
    for start in range(0, len(ids), 5000):
        existing |= servicing_selectors.loan_external_ids_existing(ids[start : start + 5000])
    if resuming:
        existing -= servicing_selectors.loan_external_ids_under_prefix(resuming)
    products = {
        p.code: (p, product_current_version(p))
        for p in LoanProduct.objects.all()
        if p.versions.exists()
    }
    history = _payments(payments, set(seen), errors) if payments is not None else None
    bd = servicing_selectors.business_date_get()
    valid: list[tuple[int, LoanMigration, MigrationPlan]] = []
    for n, (row, cells) in enumerate(loans.rows, 1):
        if progress is not None and n % BATCH == 0:
            progress(n)
        if row in bad_rows:
            continue
        problem = _row_problem(cells, products, existing)
        migration, plan = None, None
        if problem is None:
            try:
                migration = _migration(cells, products, history)
            except _RowError as bad:
                problem = bad
        if problem is None and migration is not None:
            plan, found = loan_migration_check(migration, business_date=bd)
            if found:
                problem = _RowError(found[0].field, found[0].code, found[0].message)
        if problem is not None:
            errors.append(fmt.error(fmt.LOANS, row, problem.column, problem.code, problem.message))
            continue
        assert migration is not None
        assert plan is not None
        valid.append((row, migration, plan))
    errors.sort(key=lambda e: (e["file"] != fmt.LOANS, e["row"]))
    return valid, errors, len(loans.rows)


def _row_problem(cells, products, existing) -> _RowError | None:
    if cells["external_id"] in existing:
        return _RowError("external_id", "exists", "A loan with this external id exists.")
    if cells["product_code"] not in products:
        return _RowError(
            "product_code", "unknown_product", f"No product {cells['product_code']!r}."
        )
    return None


def _migration(cells, products, history) -> LoanMigration:
    ext = cells["external_id"]
    return LoanMigration(
        external_id=ext,
        boarding=_boarding(cells, *products[cells["product_code"]]),
        borrower=MigratedBorrower(
            first_name=cells["borrower_first_name"],
            last_name=cells["borrower_last_name"],
            email=cells["borrower_email"],
            phone=cells.get("borrower_phone") or "",
            ref=cells.get("borrower_ref") or "",
        ),
        as_of_date=cells["as_of_date"],
        principal_outstanding=cells["principal_outstanding"],
        interest_accrued=cells["interest_accrued"],
        fees_outstanding=cells.get("fees_outstanding") or Decimal("0.00"),
        installments_paid=cells["installments_paid"],
        payments=None if history is None else tuple(history.get(ext, ())),
    )


# --------------------------------------------------------------------------- the job


def _save(job: LoanImport, *fields: str) -> None:
    job.save(update_fields=list(fields))


def loan_import_run(*, import_id: int) -> LoanImport:
    """Validate the job's files and board them (the Celery task's one call). Python's cyclic
    garbage collector is paused meanwhile: the job holds every row's migration and plan (a few
    million small objects at 100,000 rows) and each collection would walk them all."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(import_id)
    finally:
        if enabled:
            gc.enable()


def _run(import_id: int) -> LoanImport:
    job = LoanImport.objects.get(pk=import_id)
    if job.status == S.SUCCEEDED:
        return job
    job.status, job.started_at = S.RUNNING, timezone.now()
    _save(job, "status", "started_at")

    def progress(n: int) -> None:
        job.validated_rows = n
        _save(job, "validated_rows")

    valid, errors, total = loan_import_validate(
        content=bytes(job.content),
        payments_content=None if job.payments_content is None else bytes(job.payments_content),
        progress=progress,
        resuming=_ref_prefix(job),
    )
    job.total_rows, job.validated_rows = total, total
    job.errors = errors[:ERRORS_KEPT]
    job.error_rows = len({(e["file"], e["row"]) for e in errors})
    if errors and (not job.valid_only or not valid):
        return _finish(job, S.FAILED, f"{len(errors)} errors; nothing imported.")
    if job.dry_run:
        return _finish(job, S.SUCCEEDED, f"Dry run: {len(valid)} rows valid; nothing imported.")
    _save(job, "total_rows", "validated_rows", "errors", "error_rows")
    _board(job, valid)
    return _finish(job, S.SUCCEEDED, f"{job.imported_rows} loans imported.")


def _ref_prefix(job: LoanImport) -> str:
    """Each loan a job boards has the application ref `IMP<job>-<row>`: a resumed job knows
    its own loans by it."""
    return f"IMP{job.pk}-"


def _board(job: LoanImport, valid: list[tuple[int, LoanMigration, MigrationPlan]]) -> None:
    prefix = _ref_prefix(job)
    done = servicing_selectors.application_refs_with_prefix(prefix)
    todo = [(f"{prefix}{row}", m, p) for row, m, p in valid if f"{prefix}{row}" not in done]
    job.imported_rows = len(valid) - len(todo)
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        with transaction.atomic():
            loans_migrate(
                migrations=[m for _, m, _ in batch],
                refs=[ref for ref, _, _ in batch],
                acting_user=job.created_by,
                plans=[p for _, _, p in batch],
            )
            job.imported_rows += len(batch)
            _save(job, "imported_rows")


def _finish(job: LoanImport, status: str, message: str) -> LoanImport:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    job.save(
        update_fields=[
            "status",
            "message",
            "finished_at",
            "total_rows",
            "validated_rows",
            "imported_rows",
            "error_rows",
            "errors",
        ]
    )
    return job


def loan_import_run_failed(*, import_id: int, reason: str) -> None:
    """Record an unexpected failure of the task (the batches boarded so far stay boarded)."""
    LoanImport.objects.filter(pk=import_id).update(
        status=S.FAILED, message=reason[:255], finished_at=timezone.now()
    )
