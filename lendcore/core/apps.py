from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel's tables: idempotency records (and, later, other cross-app rows)."""

    name = "lendcore.core"
    label = "core"
    verbose_name = "Shared kernel"
