"""SSN encryption at rest: the project's one helper, `lendcore.core.crypto` (key ring, rotation)."""

from lendcore.core.crypto import decrypt as decrypt
from lendcore.core.crypto import encrypt as encrypt
