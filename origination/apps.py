from django.apps import AppConfig


class OriginationConfig(AppConfig):
    name = "origination"
    verbose_name = "Origination"

    def ready(self) -> None:
        # Register the Celery tasks in every process (web included), so that
        # `origination.effects` finds them by name; Celery's autodiscovery runs in workers only.
        from lendcore.core import panels

        from . import tasks  # noqa: F401
        from .panels import loan_documents_panel

        panels.register("loan", name="documents", title="Documents", render=loan_documents_panel)
