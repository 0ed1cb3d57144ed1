from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel's tables: idempotency records (and, later, other cross-app rows)."""

    name = "lendcore.core"
    label = "core"
    verbose_name = "Shared kernel"

    def ready(self) -> None:
        from django.urls import register_converter

        from .converters import ExternalIdConverter, IdConverter

        register_converter(IdConverter, "id")
        register_converter(ExternalIdConverter, "extid")
