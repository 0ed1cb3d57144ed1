"""Sync the role groups with `roles.ROLE_PERMISSIONS`, for data migrations (historical models)."""

from django.contrib.auth.management import create_permissions

from .roles import ROLE_PERMISSIONS


def sync_roles(apps, schema_editor) -> None:
    # Permissions are normally created after all migrations; the groups need them now.
    app_config = apps.get_app_config("accounts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        # exactly the row: an action taken out of a role is taken from its group too
        accounts = Permission.objects.filter(content_type__app_label="accounts")
        group.permissions.remove(*accounts.exclude(codename__in=codenames))
        group.permissions.add(*accounts.filter(codename__in=codenames))
