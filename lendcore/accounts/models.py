from django.conf import settings
from django.db import models

from .roles import PERMISSIONS


class LendingPermission(models.Model):
    """Carries the staff permissions that belong to no single model. No table."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(PERMISSIONS.items())

    def __str__(self) -> str:
        return "LendCore staff permissions"


class Borrower(models.Model):
    """Someone who borrows. Origination links applicants to it; servicing, loans.

    `user` is the portal login; a borrower whom a loan officer served in the branch has
    none until they sign up.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="borrower",
        null=True,
        blank=True,
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)
    email_opt_out = models.BooleanField(default=False)
    sms_opt_out = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.full_name or (self.user.get_username() if self.user else f"#{self.pk}")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
