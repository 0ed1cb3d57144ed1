"""Server-side request forgery guard for webhook URLs.

A URL must be http(s) with a host and no credentials. Unless `WEBHOOK_ALLOW_PRIVATE_URLS`
(local and test settings only), every address the host resolves to must be public: loopback,
private, link-local, shared, reserved, multicast and unspecified addresses are refused, when
the URL is saved and again when it is posted to (the connection goes to the address that was
checked, so a DNS answer that changes in between cannot redirect it).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeUrl(ValueError):
    """The URL may not be posted to (the message says why)."""


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_parts(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; UnsafeUrl otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"Not a valid URL: {exc}.") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("Only http and https URLs are allowed.")
    if not parts.hostname:
        raise UnsafeUrl("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeUrl("The URL may not carry a user name or password.")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def private_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_URLS)


def addresses_checked(host: str, port: int) -> list[str]:
    """The addresses of `host` to connect to; UnsafeUrl when it does not resolve or (unless
    private addresses are allowed) any of them is not public."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [str(literal)]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise UnsafeUrl(f"The host {host!r} does not resolve.") from exc
        found = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not private_allowed():
        for address in found:
            if not _is_public(ipaddress.ip_address(address.split("%")[0])):
                raise UnsafeUrl(
                    f"The host {host!r} resolves to {address}, a private or reserved address."
                )
    return found


def url_check(url: str) -> str:
    """The URL if it may be subscribed; UnsafeUrl (with the reason) if not. Private hosts
    are checked by address only when they are refused (a test host need not resolve)."""
    _scheme, host, port = url_parts(url)
    if not private_allowed():
        addresses_checked(host, port)
    return url
