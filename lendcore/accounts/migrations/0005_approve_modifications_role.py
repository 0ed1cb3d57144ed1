"""Give the admin role the new approve_modifications permission."""

from django.db import migrations

from lendcore.accounts.role_sync import sync_roles


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_lending_permission_approve_modifications")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
