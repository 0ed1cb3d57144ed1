from django.apps import AppConfig


class OriginationConfig(AppConfig):
    name = "origination"
    verbose_name = "Origination"

    def ready(self) -> None:
        # Register the Celery tasks in every process (web included), so that
        # `origination.effects` finds them by name; Celery's autodiscovery runs in workers only.
        from . import tasks  # noqa: F401
