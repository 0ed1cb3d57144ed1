"""Create the staff role groups with their permissions (lendcore.accounts.roles)."""

from django.db import migrations

from lendcore.accounts.role_sync import sync_roles
from lendcore.accounts.roles import ROLE_PERMISSIONS


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=[str(role) for role in ROLE_PERMISSIONS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync_roles, remove_roles)]
