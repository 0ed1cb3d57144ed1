from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "lendcore.accounts"
    label = "accounts"
    verbose_name = "Users, roles and borrowers"
