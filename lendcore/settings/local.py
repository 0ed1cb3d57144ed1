"""Embedded developer mode: what `make run` serves."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
LENDCORE_ENVIRONMENT = "local"
