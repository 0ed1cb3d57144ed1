from django.apps import AppConfig


class ServicingConfig(AppConfig):
    name = "servicing"
    verbose_name = "Servicing"

    def ready(self) -> None:
        # The reports servicing's data answers (trial balance, journal, payments, ...), served
        # by the API and the staff pages through lendcore.core.reports.
        from lendcore.core import reports

        from .reports import SERVICING_REPORTS
        from .reports_month_end import MONTH_END_REPORTS
        from .reports_portfolio import PORTFOLIO_REPORTS

        for spec in (*PORTFOLIO_REPORTS, *MONTH_END_REPORTS, *SERVICING_REPORTS):
            reports.register(spec)
