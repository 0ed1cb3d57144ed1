from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class AccountsConfig(AppConfig):
    name = "lendcore.accounts"
    label = "accounts"
    verbose_name = "Users, roles and borrowers"

    def ready(self) -> None:
        from .middleware import session_staff_stamp  # models are ready only now

        user_logged_in.connect(session_staff_stamp, dispatch_uid="lendcore-staff-idle-stamp")
