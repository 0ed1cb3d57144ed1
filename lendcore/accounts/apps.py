from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed


class AccountsConfig(AppConfig):
    name = "lendcore.accounts"
    label = "accounts"
    verbose_name = "Users, roles and borrowers"

    def ready(self) -> None:
        # models are ready only now
        from .middleware import session_staff_stamp
        from .signals import audit_login, audit_login_failed, audit_logout
        from .two_factor import session_two_factor_mark

        user_logged_in.connect(session_staff_stamp, dispatch_uid="lendcore-staff-idle-stamp")
        user_logged_in.connect(session_two_factor_mark, dispatch_uid="lendcore-two-factor-mark")
        user_logged_in.connect(audit_login, dispatch_uid="lendcore-audit-login")
        user_login_failed.connect(audit_login_failed, dispatch_uid="lendcore-audit-login-failed")
        user_logged_out.connect(audit_logout, dispatch_uid="lendcore-audit-logout")
