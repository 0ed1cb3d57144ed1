"""One field-encryption helper (issue 10, point 10): a key ring outside the repository, old
values still readable, rotation by a command that re-encrypts every `*_encrypted` column."""

from __future__ import annotations

import base64
import hashlib
import os
import stat

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from lendcore.core import crypto
from lendcore.core.models import AuditEvent
from origination.models import Applicant
from tests.origination.factories import ApplicantFactory


@pytest.fixture
def key_file(settings, tmp_path):
    path = tmp_path / "keys" / "field-keys"
    settings.FIELD_ENCRYPTION_KEY_FILE = str(path)
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.FIELD_ENCRYPTION_KEY = ""
    settings.FIELD_ENCRYPTION_ACCEPT_DERIVED = False
    crypto.reset_cache()
    yield path
    crypto.reset_cache()


def _legacy_token(value: str, secret_key: str) -> str:
    """A value as an earlier release wrote it: under a key derived from SECRET_KEY."""
    digest = hashlib.sha256(f"lendcore-field-encryption:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest)).encrypt(value.encode()).decode()


def test_the_key_file_is_made_on_first_use_for_its_owner_only(key_file):
    assert not key_file.exists()
    token = crypto.encrypt("123-45-6789")
    assert "6789" not in token
    assert crypto.decrypt(token) == "123-45-6789"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert len(key_file.read_text().split()) == 1


def test_a_copied_database_without_the_key_file_decrypts_nothing(key_file, settings, tmp_path):
    token = crypto.encrypt("123-45-6789")
    settings.FIELD_ENCRYPTION_KEY_FILE = str(tmp_path / "another-machine" / "field-keys")
    crypto.reset_cache()
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(token)


def test_values_of_earlier_releases_read_only_while_derived_keys_are_accepted(key_file, settings):
    old = _legacy_token("123-45-6789", settings.SECRET_KEY)
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(old)
    settings.FIELD_ENCRYPTION_ACCEPT_DERIVED = True
    crypto.reset_cache()
    assert crypto.decrypt(old) == "123-45-6789"
    # Nothing new is written under a derived key: without the key file it does not decrypt.
    new = crypto.encrypt("123-45-6789")
    derived = hashlib.sha256(f"lendcore-field-encryption:{settings.SECRET_KEY}".encode()).digest()
    with pytest.raises(crypto.InvalidToken):
        Fernet(base64.urlsafe_b64encode(derived)).decrypt(new.encode())


def test_keys_from_settings_are_a_ring_newest_first(key_file, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old_token = Fernet(old_key.encode()).encrypt(b"000123456789").decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    crypto.reset_cache()
    assert crypto.decrypt(old_token) == "000123456789"
    assert Fernet(new_key.encode()).decrypt(crypto.encrypt("x").encode()) == b"x"
    assert not key_file.exists()
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        crypto.key_file_add_key()


def test_a_key_that_is_not_a_fernet_key_is_named(key_file, settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    crypto.reset_cache()
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        crypto.encrypt("x")


@pytest.mark.django_db
def test_rotation_re_encrypts_every_value_under_a_new_key_and_retires_the_old(
    key_file, settings, capsys
):
    current = ApplicantFactory(last4="1111")
    settings.FIELD_ENCRYPTION_ACCEPT_DERIVED = True
    crypto.reset_cache()
    legacy = ApplicantFactory(last4="2222")
    Applicant.objects.filter(pk=legacy.pk).update(
        ssn_encrypted=_legacy_token("123452222", settings.SECRET_KEY)
    )
    old_keys = key_file.read_text().split()

    call_command("rotate_field_keys", "--new-key", "--retire-old")

    keys = key_file.read_text().split()
    assert len(keys) == 1
    assert keys[0] not in old_keys
    settings.FIELD_ENCRYPTION_ACCEPT_DERIVED = False
    crypto.reset_cache()
    only_new = Fernet(keys[0].encode())
    for applicant, ssn in ((current, "123451111"), (legacy, "123452222")):
        applicant.refresh_from_db()
        assert only_new.decrypt(applicant.ssn_encrypted.encode()).decode() == ssn
    assert "origination.Applicant.ssn_encrypted: 2 re-encrypted" in capsys.readouterr().out
    event = AuditEvent.objects.get(action="field_keys_rotated")
    assert event.detail["rotated"] == 4  # two SSNs and two dates of birth


@pytest.mark.django_db
def test_a_value_no_key_reads_stops_the_rotation_before_retiring(key_file):
    applicant = ApplicantFactory()
    stranger = Fernet(Fernet.generate_key()).encrypt(b"123-45-0000").decode()
    Applicant.objects.filter(pk=applicant.pk).update(ssn_encrypted=stranger)
    with pytest.raises(Exception, match="decrypt under no key") as error:
        call_command("rotate_field_keys", "--new-key", "--retire-old")
    assert type(error.value).__name__ == "CommandError"
    assert len(key_file.read_text().split()) == 2  # nothing retired
    applicant.refresh_from_db()
    assert applicant.ssn_encrypted == stranger


def test_every_encrypted_column_is_found_by_the_convention():
    found = {f"{f.model_label}.{f.field_name}" for f in crypto.encrypted_fields()}
    assert "origination.Applicant.ssn_encrypted" in found
    assert any(name.startswith("servicing.") for name in found)


@pytest.mark.parametrize(
    ("value", "masked"),
    [("123-45-6789", "•••••6789"), ("000123456789", "••••••••6789"), ("12", "••••"), ("", "")],
)
def test_mask_shows_the_last_four_only(value, masked):
    assert crypto.mask(value) == masked
