"""Inspection of servicing rows; nothing is edited here. Actions call services."""

from __future__ import annotations

from django.contrib import admin, messages

from lendcore.errors import ApplicationError

from . import services
from .ledger import ledger_problems
from .models import (
    BusinessDate,
    ChargeOff,
    Fee,
    FeeWaiver,
    Installment,
    InterestAccrual,
    JournalEntry,
    JournalLine,
    Loan,
    LoanEvent,
    Modification,
    Payment,
    PaymentApplication,
    ScheduleVersion,
    Statement,
)
from .selectors import business_date_get


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InstallmentInline(admin.TabularInline):
    model = Installment
    extra = 0
    can_delete = False
    fields = (
        "number",
        "due_date",
        "principal_due",
        "interest_due",
        "principal_paid",
        "interest_paid",
        "cancelled",
        "status",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    extra = 0
    can_delete = False
    fields = ("account", "debit", "credit", "loan")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Loan)
class LoanAdmin(ReadOnlyAdmin):
    list_display = (
        "loan_number",
        "borrower",
        "status",
        "product_code",
        "interest_model",
        "principal_balance",
        "interest_balance",
        "fees_balance",
        "credit_balance",
        "delinquent",
        "last_accrual_date",
    )
    list_filter = ("status", "product_code", "interest_model", "delinquent", "non_accrual")
    search_fields = ("loan_number", "application_ref", "borrower__last_name", "borrower__email")
    list_select_related = ("borrower",)
    actions = ["accrue_to_business_date", "check_ledger"]

    @admin.action(description="Accrue interest through the business date")
    def accrue_to_business_date(self, request, queryset):
        written = services.accrue_interest(
            list(queryset.values_list("pk", flat=True)),
            business_date_get(),
            acting_user=request.user,
        )
        self.message_user(request, f"{written} accrual row(s) written.")

    @admin.action(description="Run the ledger check")
    def check_ledger(self, request, queryset):
        problems = ledger_problems()
        if problems:
            for line in problems[:20]:
                self.message_user(request, line, level=messages.ERROR)
        else:
            self.message_user(request, "The ledger reconciles.")


@admin.register(ScheduleVersion)
class ScheduleVersionAdmin(ReadOnlyAdmin):
    list_display = ("loan", "version", "is_current", "regular_payment", "effective_date", "reason")
    list_select_related = ("loan",)
    inlines = [InstallmentInline]


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "entry_type",
        "loan",
        "business_date",
        "effective_date",
        "reference",
        "reverses",
    )
    list_filter = ("entry_type", "business_date")
    search_fields = ("reference", "loan__loan_number")
    list_select_related = ("loan", "reverses")
    inlines = [JournalLineInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "loan",
        "amount",
        "effective_date",
        "method",
        "status",
        "alloc_fees",
        "alloc_interest",
        "alloc_principal",
        "alloc_excess",
    )
    list_filter = ("status", "method", "is_recovery")
    search_fields = ("loan__loan_number", "reference")
    list_select_related = ("loan",)
    actions = ["reverse_payments"]

    @admin.action(description="Reverse (returned payment, no NSF fee)")
    def reverse_payments(self, request, queryset):
        for payment in queryset:
            try:
                services.payment_reverse(
                    payment=payment, reason="Reversed in admin", acting_user=request.user
                )
            except ApplicationError as error:
                self.message_user(request, f"Payment {payment.pk}: {error.message}", messages.ERROR)


@admin.register(Fee)
class FeeAdmin(ReadOnlyAdmin):
    list_display = ("id", "loan", "kind", "amount", "paid_amount", "waived_amount", "assessed_on")
    list_filter = ("kind",)
    list_select_related = ("loan",)
    actions = ["waive_fees"]

    @admin.action(description="Waive what is outstanding")
    def waive_fees(self, request, queryset):
        for fee in queryset:
            try:
                services.fee_waive(
                    fee=fee, amount=None, reason="Waived in admin", acting_user=request.user
                )
            except ApplicationError as error:
                self.message_user(request, f"Fee {fee.pk}: {error.message}", messages.ERROR)


for model, fields in (
    (LoanEvent, ("loan", "kind", "from_status", "to_status", "business_date", "actor")),
    (InterestAccrual, ("loan", "date", "amount_exact", "posted", "cumulative_posted", "reversed")),
    (PaymentApplication, ("payment", "effective_date", "interest", "principal", "reversed")),
    (FeeWaiver, ("fee", "amount", "reason", "effective_date")),
    (ChargeOff, ("loan", "status", "requested_by", "decided_by", "principal", "interest")),
    (Modification, ("loan", "status", "requested_by", "decided_by", "reason")),
    (Statement, ("loan", "period_start", "period_end", "closing_balance", "pdf")),
):
    admin.site.register(
        model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), {"list_display": fields})
    )


@admin.register(BusinessDate)
class BusinessDateAdmin(admin.ModelAdmin):
    """Admins set the business date here; saving goes through `business_date_set`."""

    list_display = ("business_date", "updated_by", "updated_at")
    fields = ("business_date",)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return not BusinessDate.objects.exists()

    def save_model(self, request, obj, form, change):
        services.business_date_set(business_date=obj.business_date, acting_user=request.user)
