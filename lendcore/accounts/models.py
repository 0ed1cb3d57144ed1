from django.conf import settings
from django.db import models

from .roles import PERMISSIONS
from .tokens import SCOPE_LABELS


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


class ApiToken(models.Model):
    """A revocable, expiring API token of one user, limited to a scope.

    Only the SHA-256 of the key is stored (`lendcore.accounts.tokens`); `prefix` is its first
    characters, to tell tokens apart in lists."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=8)
    key_digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=20, choices=[(str(k), v) for k, v in SCOPE_LABELS.items()])
    password_stamp = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "API token"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=[str(s) for s in SCOPE_LABELS]),
                name="accounts_apitoken_scope_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.scope})"

    def is_live(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now
