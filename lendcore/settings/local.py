"""Embedded developer mode: what `make run` serves."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
LENDCORE_ENVIRONMENT = "local"
# Webhook receivers on this machine (loopback) are allowed here, never in production.
WEBHOOK_ALLOW_PRIVATE_URLS = True
