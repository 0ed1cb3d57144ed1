from django.apps import AppConfig


class OriginationConfig(AppConfig):
    name = "origination"
    verbose_name = "Origination"

    def ready(self) -> None:
        from lendcore.core import panels

        from .panels import loan_documents_panel

        panels.register("loan", name="documents", title="Documents", render=loan_documents_panel)
