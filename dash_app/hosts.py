"""DNS rebinding: answer only requests whose `Host` names this server; anything else gets 421.

A hostile page whose domain resolves to 127.0.0.1 sends its own name in `Host` (and in `Origin`),
so comparing the two proves nothing. Rebinding needs a *name*: an address literal in `Host` names
the machine the browser connected to, so address literals are accepted (loopback ones only on a
loopback bind), names only when configured (`auth.allowed_hosts`, the hosts of
`auth.allowed_origins`) or loopback (`localhost`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, request

from dash_app.errors import error_response

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def host_name(host: str) -> str | None:
    """The name or address in a Host header, lowercased, without port or brackets; None if malformed."""
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:
        return None
    return name.rstrip(".") if name else None


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


class HostPolicy:
    """Which `Host` values are this server's; `bind()` tells it the address it listens on."""

    def __init__(self, allowed_hosts: Iterable[str] = (), allowed_origins: Iterable[str] = ()) -> None:
        names = {h.strip("[]").lower() for h in allowed_hosts}
        names |= {urlsplit(o).hostname for o in allowed_origins if urlsplit(o).hostname}
        self.names = frozenset(names)
        self.loopback_bind = True

    def bind(self, host: str) -> None:
        address = _address(host.strip("[]"))
        self.loopback_bind = host in LOOPBACK_NAMES or bool(address and address.is_loopback)
        if address is None and host not in LOOPBACK_NAMES:
            self.names |= {host.lower()}  # bound by name: that name is how clients reach it

    def allows(self, host: str | None) -> bool:
        if host is None:
            return True  # no Host header: not a browser, so not a rebinding page
        name = host_name(host)
        if not name:
            return False
        if name in LOOPBACK_NAMES or name.endswith(".localhost") or name in self.names:
            return True
        address = _address(name)
        if address is None:
            return False
        return address.is_loopback or not self.loopback_bind


def install_host_guard(app: Flask, policy: HostPolicy) -> None:
    """Refuse (421, the JSON error shape) every request for a host this server is not; install first."""

    @app.before_request
    def _known_host_only() -> Response | None:
        host = request.headers.get("Host")
        if policy.allows(host):
            return None
        return error_response(
            421, "unknown host", {"host": host, "how": "reach the server by an address or add it to auth.allowed_hosts"}
        )
