from django.apps import AppConfig


class WebConfig(AppConfig):
    """The staff UI and portal shells, and the pages that belong to no single app."""

    name = "lendcore.web"
    label = "web"
    verbose_name = "Web shells"
