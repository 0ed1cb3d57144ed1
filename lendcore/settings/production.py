"""Production: PostgreSQL, Redis, S3-compatible storage, SMTP; no insecure defaults."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # required: no default in production
DEBUG = env.bool("DJANGO_DEBUG", default=False)
LENDCORE_ENVIRONMENT = "production"
LENDCORE_STAFF_2FA_REQUIRED = env.bool("LENDCORE_STAFF_2FA_REQUIRED", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
# e-mailed links must reach the real site: the first allowed host over HTTPS unless said
SITE_URL = env.str("SITE_URL", default=f"https://{ALLOWED_HOSTS[0]}").rstrip("/")
# Required: personal data is encrypted under these (lendcore/core/crypto.py); no derived keys.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
if not (FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEY):
    raise ImproperlyConfigured("Set FIELD_ENCRYPTION_KEYS (Fernet keys, newest first).")
FIELD_ENCRYPTION_ACCEPT_DERIVED = False

STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS only: plain HTTP is redirected, and browsers remember it (HSTS) for a year.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=True)
# ... but not the health probes: docker and load balancers call them over plain HTTP inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
# Webhook URLs on private, loopback or reserved addresses are refused (SSRF), whatever the
# environment says.
WEBHOOK_ALLOW_PRIVATE_URLS = False
