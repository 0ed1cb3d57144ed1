"""Rotate the field-encryption keys: optionally put a new key in front, re-encrypt every
registered column under the newest key, optionally retire the old keys (key file only)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from lendcore.core import crypto
from lendcore.core.audit import Action, audit_record


class Command(BaseCommand):
    help = "Re-encrypt personal data under the newest field-encryption key (see README, Security)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new-key",
            action="store_true",
            help="First put a new key in front of the ring (key file), or print one to deploy.",
        )
        parser.add_argument(
            "--retire-old",
            action="store_true",
            help="After a clean re-encryption, keep only the newest key in the key file.",
        )
        parser.add_argument("--batch", type=int, default=500, help="Rows per transaction.")

    def handle(self, *args: Any, new_key: bool, retire_old: bool, batch: int, **options: Any):
        _, key_file = crypto.keys_in_use()
        if new_key:
            if key_file is None:
                self.stdout.write(
                    "The keys come from FIELD_ENCRYPTION_KEYS. Put this key first there, deploy, "
                    "then run `rotate_field_keys` again:\n" + crypto.Fernet.generate_key().decode()
                )
                return
            path, _ = crypto.key_file_add_key()
            self.stdout.write(f"A new key is first in {path}.")
        crypto.reset_cache()
        rotated = 0
        unreadable: list[str] = []
        for field in crypto.encrypted_fields():
            count, bad = self._rotate_field(field, batch)
            rotated += count
            unreadable += bad
            self.stdout.write(f"{field.model_label}.{field.field_name}: {count} re-encrypted")
        audit_record(
            action=Action.FIELD_KEYS_ROTATED,
            actor_name="manage.py rotate_field_keys",
            rotated=rotated,
            unreadable=len(unreadable),
            new_key=new_key,
        )
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} values decrypt under no key in the ring "
                f"(kept as they were): {', '.join(unreadable[:20])}"
            )
        if retire_old:
            dropped = crypto.key_file_retire_keys()
            self.stdout.write(f"Retired {dropped} old key(s).")
        self.stdout.write(self.style.SUCCESS(f"{rotated} values under the newest key."))

    def _rotate_field(self, field: crypto.EncryptedField, batch: int) -> tuple[int, list[str]]:
        model = apps.get_model(field.model_label)
        name = field.field_name
        rows = model._default_manager.exclude(**{name: ""}).order_by("pk")
        count, last_pk = 0, None
        unreadable: list[str] = []
        while True:
            page = rows if last_pk is None else rows.filter(pk__gt=last_pk)
            chunk = list(page.values_list("pk", name)[:batch])
            if not chunk:
                return count, unreadable
            last_pk = chunk[-1][0]
            changed = []
            for pk, token in chunk:
                try:
                    changed.append(model(pk=pk, **{name: crypto.rotate(token)}))
                except crypto.InvalidToken:
                    unreadable.append(f"{field.model_label}#{pk}.{name}")
            with transaction.atomic():
                model._default_manager.bulk_update(changed, [name])
            count += len(changed)
