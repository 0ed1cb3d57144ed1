"""Collections workouts (issue 11): the collector may request a charge-off (a recommendation),
the collections manager approves hardship plans (modifications) and charge-offs."""

from django.db import migrations

from lendcore.accounts.role_sync import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_collections_manager"),
    ]

    operations = [
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
