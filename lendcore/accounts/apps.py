from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class AccountsConfig(AppConfig):
    name = "lendcore.accounts"
    label = "accounts"
    verbose_name = "Users, roles and borrowers"

    def ready(self) -> None:
        # models are ready only now
        from .middleware import session_staff_stamp
        from .two_factor import session_two_factor_mark

        user_logged_in.connect(session_staff_stamp, dispatch_uid="lendcore-staff-idle-stamp")
        user_logged_in.connect(session_two_factor_mark, dispatch_uid="lendcore-two-factor-mark")
